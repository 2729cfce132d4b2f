"""Retention: purge the post texts of dialogues closed more than ``keep_transcripts_days`` ago, restart-safely.

One durable timer (``bot/timer.py``), job ``record:retention``, wakes at the earliest instant a kept transcript
falls due, and at least once a day: a dialogue that closes meanwhile is found at the next daily wake, long
before its own instant (at least a day away), so closing has nothing to tell the timer. The record is the
truth: each purge empties the texts and writes ``transcript_purged_at`` in one transaction, so a crash leaves
a dialogue either purged or due, and the timer armed at start-up purges whatever fell due while the bot was down.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta

import db.retention as retention_db
from db import Database

from ..clock import Clock
from ..config import Settings
from ..domain.models import Dialogue
from ..render_retention import retention_line
from ..scheduler import Scheduler
from ..timer import DurableTimer

__all__ = ("JOB_ID", "RetentionService")

log = logging.getLogger(__name__)

JOB_ID = "record:retention"
# The timer wakes at least this often, so a newly closed dialogue is never missed.
DAILY = timedelta(days=1)


class RetentionService:
    """Keeps transcripts for ``keep_transcripts_days`` after the close (or the summary), then purges their text."""

    def __init__(
        self,
        database: Database,
        scheduler: Scheduler,
        clock: Clock,
        settings: Settings,
        daily: Sequence[Callable[[], Awaitable[object]]] = (),
    ) -> None:
        self._db = database
        # Other once-a-day upkeep that must happen even if nobody looks (ending surveys forgets their secrets).
        self._daily = tuple(daily)
        self._clock = clock
        days = settings.keep_transcripts_days
        self.keep: timedelta | None = None if days is None else timedelta(days=days)
        # Only the dialogues of this process's shards' guilds (another process purges the others).
        self.ownership = settings.ownership
        self.timer = DurableTimer(JOB_ID, scheduler, clock, next_due=self._next_due, run_due=self._purge_due)

    async def start(self) -> None:
        """At start-up: arm the timer (at once if a purge fell due while the bot was down).

        With transcripts kept for ever and no daily upkeep, there is nothing to wake for.
        """
        if self.keep is not None or self._daily:
            await self.timer.arm()

    async def drain(self, timeout: float) -> bool:
        """Stop the timer and wait (at most ``timeout`` s) for a purge in progress to end; return if it did."""
        self.timer.stop()
        try:
            await asyncio.wait_for(self.timer.wait(), timeout)
        except TimeoutError:
            log.warning("A transcript purge still running after %.0f s; closing anyway", timeout)
            return False
        return True

    async def status_section(self, dialogue: Dialogue) -> str | None:
        """The transcript's line in /dialogue status: purged on, or to be purged on; None while kept for ever."""
        record = await retention_db.retention(self._db, dialogue.id)
        return retention_line(record.purged_at, record.counted_from, self.keep)

    async def _next_due(self) -> datetime | None:
        if self.keep is None:
            return self._clock() + DAILY if self._daily else None
        earliest = await retention_db.next_due(self._db, self.keep, self.ownership)
        daily = self._clock() + DAILY
        return daily if earliest is None else min(earliest, daily)

    async def _purge_due(self, now: datetime) -> None:
        for chore in self._daily:
            await chore()
        if self.keep is None:
            return
        for dialogue_id in await retention_db.due(self._db, now, self.keep, self.ownership):
            if self.timer.stopping:
                return
            emptied = await retention_db.purge(self._db, dialogue_id, self._clock())
            if emptied is not None:
                # Counts only: never what was written.
                log.info("Dialogue %s: transcript purged (%d posts emptied)", dialogue_id, emptied)
