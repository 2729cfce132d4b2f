"""The reminder timer: one scheduler job that wakes at the earliest pending reminder, delivers what is due, re-arms.

Durable timers as RoboDanny keeps them: the rows are the truth (``reminders.wake_at``), the scheduler holds a
single job, ``leaders:reminders``, placed at the earliest row that has to be tried. Whatever adds or moves a
row calls ``poke`` with its time, which re-arms the job only if that is earlier. At start-up one indexed
query arms it; a month of reminders costs one job, not one per row.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

import db.reminders as reminders_db
from db import Database

from ..clock import Clock
from ..scheduler import Scheduler

__all__ = ("JOB_ID", "ReminderTimer")

log = logging.getLogger(__name__)

JOB_ID = "leaders:reminders"
# Due rows read per query while delivering; the timer keeps reading until none is due.
_BATCH = 200
# A reminder whose delivery raised before it was claimed is tried again after this long.
_AFTER_ERROR = timedelta(minutes=10)


class ReminderTimer:
    """Wakes when the earliest pending reminder is due; hands every due row to ``deliver``, then re-arms."""

    def __init__(
        self,
        database: Database,
        scheduler: Scheduler,
        clock: Clock,
        deliver: Callable[[int], Awaitable[object]],
    ) -> None:
        self.db = database
        self.scheduler = scheduler
        self.clock = clock
        self._deliver = deliver
        self._armed_at: datetime | None = None  # when the job is placed; None when no job is placed
        self._again = False
        self._task: asyncio.Task[None] | None = None

    @property
    def armed_at(self) -> datetime | None:
        """When the timer will next wake, or None."""
        return self._armed_at

    def poke(self, when: datetime) -> None:
        """A row is due at ``when``: wake then, unless the timer already wakes earlier."""
        if self._armed_at is None or when < self._armed_at:
            self._armed_at = when
            self.scheduler.place(JOB_ID, when, self._fire)

    async def arm(self) -> None:
        """Arm for the earliest pending row in the record (at start-up, and after each wake)."""
        earliest = await reminders_db.next_wake(self.db)
        if earliest is not None:
            self.poke(earliest)

    async def _fire(self) -> None:
        """The job: start delivering in a task of its own, so the job ends at once and can be placed again."""
        self._armed_at = None
        self._again = True
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="leader reminders")

    async def _run(self) -> None:
        try:
            while self._again:
                self._again = False
                await self._deliver_due()
            await self.arm()
        except Exception:
            # A database error must not stop reminders for good: wake again later and try.
            log.exception("Leader reminders: delivering due rows failed")
            self.poke(self.clock() + _AFTER_ERROR)

    async def _deliver_due(self) -> None:
        tried: set[int] = set()
        while rows := await reminders_db.due(self.db, self.clock(), _BATCH):
            for row in rows:
                if row.id in tried:
                    # Delivery left it due (it should not): try it later rather than spin.
                    await reminders_db.postpone(self.db, row.id, self.clock() + _AFTER_ERROR)
                    continue
                tried.add(row.id)
                try:
                    await self._deliver(row.id)
                except Exception:
                    log.exception("Leader reminder %s: delivery failed; trying again later", row.id)
                    await reminders_db.postpone(self.db, row.id, self.clock() + _AFTER_ERROR)

    async def stop(self) -> None:
        """Stop a delivery run in progress (the record keeps what is still owed)."""
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
