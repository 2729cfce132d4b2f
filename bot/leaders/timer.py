"""The reminder timer: the generic durable timer (``bot/timer.py``) over the reminders table.

The rows are the truth (``reminders.wake_at``); the scheduler holds a single job, ``leaders:reminders``, at the
earliest row that has to be tried. Whatever adds or moves a row pokes the timer with its time. At start-up one
indexed query arms it: a month of reminders costs one job, not one per row. A wake delivers the due rows one by
one (each is claimed by compare-and-set before it is sent), in batches, until none is due.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

import db.reminders as reminders_db
from db import Database
from db.shards import Ownership

from ..clock import Clock
from ..domain.reminders import Reminder
from ..leasing import LEASE_TTL
from ..scheduler import Scheduler
from ..timer import DurableTimer

__all__ = ("JOB_ID", "ReminderTimer")

log = logging.getLogger(__name__)

JOB_ID = "leaders:reminders"
# Due rows read per query while delivering; the timer keeps reading until none is due.
_BATCH = 200
# A reminder whose delivery raised before it was claimed is tried again after this long.
_AFTER_ERROR = timedelta(minutes=10)


class ReminderTimer(DurableTimer):
    """Wakes when the earliest pending reminder is due; hands every due row to ``deliver``, then re-arms."""

    def __init__(
        self,
        database: Database,
        scheduler: Scheduler,
        clock: Clock,
        deliver: Callable[[int], Awaitable[object]],
        ownership: Ownership | None = None,
    ) -> None:
        super().__init__(
            JOB_ID,
            scheduler,
            clock,
            next_due=lambda: reminders_db.next_wake(database, ownership),
            run_due=self._deliver_due,
            after_error=_AFTER_ERROR,
        )
        self.db = database
        self._deliver = deliver
        # Only the reminders of this process's shards' guilds; each batch is leased (its rows' wake_at moved on)
        # so that a process running the same shards by mistake never takes the same rows at the same time.
        self.ownership = ownership

    async def _deliver_due(self, now: datetime) -> None:
        tried: set[int] = set()
        while not self.stopping and (rows := await self._claim()):
            for row in rows:
                if self.stopping:
                    return
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

    async def _claim(self) -> list[Reminder]:
        """Lease the next batch of due rows to this process (a crash leaves them due again when it runs out)."""
        now = self.clock()
        return await reminders_db.claim_due(self.db, now, now + LEASE_TTL, _BATCH, self.ownership)
