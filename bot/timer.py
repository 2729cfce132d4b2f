"""A durable timer: one scheduler job at the earliest due row of a table; each wake handles every due row, re-arms.

Durable timers as RoboDanny keeps them: the rows are the truth (each carries the instant it is next due), the
scheduler holds a single job placed at the earliest of them. Whatever writes a due instant calls ``poke`` with
it, which re-arms the job only if that is earlier. A wake reads the due rows in batches and hands each to the
owner, then re-arms at the earliest instant left in the record. A run never overlaps another: a row written
while one is running is picked up by that run (another pass) or by the re-arming, never dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from .clock import Clock
from .scheduler import Scheduler

__all__ = ("DurableTimer", "SpinGuard", "drain")

log = logging.getLogger(__name__)

# A run that raised (say the database was busy) is tried again after this long.
AFTER_ERROR = timedelta(minutes=10)
# Due rows read per query while draining; the run keeps reading until none is due.
BATCH = 200


class DurableTimer:
    """Wakes at the earliest due row (``next_due``), hands the moment to ``run_due``, then re-arms from the record."""

    def __init__(
        self,
        job_id: str,
        scheduler: Scheduler,
        clock: Clock,
        *,
        next_due: Callable[[], Awaitable[datetime | None]],
        run_due: Callable[[datetime], Awaitable[object]],
        after_error: timedelta = AFTER_ERROR,
    ) -> None:
        self.job_id = job_id
        self.scheduler = scheduler
        self.clock = clock
        self._next_due = next_due
        self._run_due = run_due
        self._after_error = after_error
        self._armed_at: datetime | None = None  # when the job is placed; None while no job is placed
        self._running = False
        self._poked: datetime | None = None  # the earliest poke received during the current run
        self._stopping = False
        self._task: asyncio.Task[None] | None = None

    @property
    def armed_at(self) -> datetime | None:
        """When the timer will next wake, or None (not armed, or running)."""
        return self._armed_at

    @property
    def running(self) -> bool:
        """Whether a run is handling due rows now."""
        return self._running

    @property
    def stopping(self) -> bool:
        """Whether the timer was stopped: a run in progress ends before its next row."""
        return self._stopping

    def poke(self, when: datetime) -> None:
        """A row is due at ``when``: wake then, unless the timer already wakes earlier."""
        if self._stopping:
            return
        if self._running:
            # The run reads the record again before it re-arms; it only has to learn of rows written meanwhile.
            self._poked = when if self._poked is None else min(self._poked, when)
            return
        if self._armed_at is None or when < self._armed_at:
            self._armed_at = when
            self.scheduler.place(self.job_id, when, self._fire)

    async def arm(self) -> None:
        """Arm at the earliest due row in the record (at start-up)."""
        earliest = await self._next_due()
        if earliest is not None:
            self.poke(earliest)

    def stop(self) -> None:
        """Stop waking: a run in progress ends before its next row, and nothing is placed again."""
        self._stopping = True
        self._armed_at = None
        self.scheduler.remove(self.job_id)

    async def wait(self) -> None:
        """Wait for a run in progress to end."""
        if self._task is not None and not self._task.done():
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.shield(self._task)

    async def _fire(self) -> None:
        """The job: start a run in a task of its own, so the job ends at once and can be placed again."""
        self._armed_at = None
        if self._running:  # cannot happen (a run takes pokes itself), but then the run makes another pass
            self.poke(self.clock())
            return
        self._running = True
        self._poked = None
        self._task = asyncio.create_task(self._run(), name=f"timer {self.job_id}")

    async def _run(self) -> None:
        earliest: datetime | None = None
        try:
            while not self._stopping:
                self._poked = None
                await self._run_due(self.clock())
                earliest = await self._next_due()
                # No await between reading the pokes and leaving ``_running``: none can slip between the two.
                poked = self._poked
                if poked is not None and poked <= self.clock():
                    continue  # a row became due while this pass ran: another pass
                if poked is not None:
                    earliest = poked if earliest is None else min(earliest, poked)
                break
        except Exception:
            log.exception("Timer %s: handling the due rows failed; trying again later", self.job_id)
            earliest = self.clock() + self._after_error
        finally:
            self._running = False
        if earliest is not None:
            self.poke(earliest)


class SpinGuard:
    """Rows that stay due after they were handled: postponed with back-off (doubling, capped) instead of spinning."""

    def __init__(self, first: timedelta = timedelta(minutes=5), most: timedelta = timedelta(hours=1)) -> None:
        self._first = first
        self._most = most
        self._stuck: dict[int, int] = {}

    def delay(self, row_id: int) -> timedelta:
        """Count one more time ``row_id`` stayed due and return how long to postpone it."""
        times = self._stuck.get(row_id, 0)
        self._stuck[row_id] = times + 1
        delay: timedelta = self._first * 2**times
        return min(delay, self._most)

    def forget(self, row_ids: set[int]) -> None:
        """Forget rows that were handled and did not stay due."""
        for row_id in row_ids:
            self._stuck.pop(row_id, None)


async def drain(
    now: datetime,
    *,
    due: Callable[[datetime, int], Awaitable[list[int]]],
    handle: Callable[[int], Awaitable[object]],
    postpone: Callable[[int, datetime], Awaitable[object]],
    guard: SpinGuard,
    what: str,
    stopping: Callable[[], bool] = lambda: False,
    batch: int = BATCH,
    concurrency: int = 1,
) -> int:
    """Hand every row due by ``now`` to ``handle``, once each, in batches; return how many were handled.

    ``handle`` is expected to move its row's due instant past ``now``: a row that comes back due in the same
    drain is postponed with back-off and logged, never handled twice. An error in one row is logged, the row
    postponed, and the others go on. Up to ``concurrency`` rows of a batch are handled at once (in due order
    when 1), so one slow row does not hold up the rest of its batch.
    """
    tried: set[int] = set()
    stuck: set[int] = set()
    handled = 0
    slots = asyncio.Semaphore(concurrency)

    async def one(row_id: int) -> None:
        nonlocal handled
        async with slots:
            if stopping():
                return  # still due in the record: the next start-up or wake finds it
            handled += 1
            try:
                await handle(row_id)
            except Exception:
                delay = guard.delay(row_id)
                stuck.add(row_id)
                log.exception("%s %s: handling it failed; looking again in %s", what, row_id, delay)
                await postpone(row_id, now + delay)

    while not stopping() and (row_ids := await due(now, batch)):
        fresh: list[int] = []
        for row_id in row_ids:
            if row_id in tried:
                delay = guard.delay(row_id)
                stuck.add(row_id)
                log.warning("%s %s is still due after it was handled; looking again in %s", what, row_id, delay)
                await postpone(row_id, now + delay)
            else:
                tried.add(row_id)
                fresh.append(row_id)
        # Every row of the batch ends before the next read, so none is read again while it is being handled.
        outcomes = await asyncio.gather(*(one(row_id) for row_id in fresh), return_exceptions=True)
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome
    guard.forget(tried - stuck)
    return handled
