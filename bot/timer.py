"""A durable timer: one scheduler job at the earliest due row of a table; each wake handles every due row, re-arms.

Durable timers as RoboDanny keeps them: the rows are the truth (each carries the instant it is next due), the
scheduler holds a single job placed at the earliest of them. Whatever writes a due instant calls ``poke`` with
it, which re-arms the job only if that is earlier. A wake hands the due rows to the owner (``Dispatcher`` starts
each in a task of its own), then re-arms at the earliest instant left in the record. A run never overlaps
another: a row written while one is running is picked up by that run (another pass) or by the re-arming, never
dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from .clock import Clock
from .scheduler import Scheduler

__all__ = ("Dispatcher", "DurableTimer", "SpinGuard")

log = logging.getLogger(__name__)

# A run that raised (say the database was busy) is tried again after this long.
AFTER_ERROR = timedelta(minutes=10)


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


class Dispatcher:
    """Hands each due row to ``handle`` in a task of its own, at most ``concurrency`` at once, never one row twice.

    A dispatch reads the rows due by its moment, leaving out those being handled, and starts a task for each as a
    slot frees; it does not wait for them to finish, so a slow row holds one slot, never the rows that fall due
    after it. ``handle`` is expected to move its row's due instant past the moment it was dispatched for: one
    that stays due is postponed with back-off and logged rather than handled again at once. An error in one row
    is logged and the row postponed; the others go on.
    """

    def __init__(
        self,
        *,
        due: Callable[[datetime, int, frozenset[int]], Awaitable[list[int]]],
        due_at: Callable[[int], Awaitable[datetime | None]],
        handle: Callable[[int], Awaitable[object]],
        postpone: Callable[[int, datetime], Awaitable[object]],
        poke: Callable[[datetime], object],
        what: str,
        concurrency: int = 1,
        guard: SpinGuard | None = None,
    ) -> None:
        self._due = due
        self._poke = poke
        self._due_at = due_at
        self._handle = handle
        self._postpone = postpone
        self._what = what
        self._slots = asyncio.Semaphore(concurrency)
        self._guard = guard or SpinGuard()
        self._in_flight: set[int] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def in_flight(self) -> frozenset[int]:
        """The rows being handled now (the timer re-arms for the others)."""
        return frozenset(self._in_flight)

    async def dispatch(self, now: datetime, stopping: Callable[[], bool] = lambda: False) -> int:
        """Start handling every row due by ``now`` that is not being handled; return how many were started."""
        started = 0
        while not stopping():
            rows = await self._due(now, 1, self.in_flight)
            if not rows:
                break
            await self._slots.acquire()
            if stopping():
                self._slots.release()
                break
            (row_id,) = rows
            self._in_flight.add(row_id)
            task = asyncio.create_task(self._one(row_id, now), name=f"{self._what} {row_id}")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            started += 1
        return started

    async def wait(self, timeout: float | None = None) -> bool:
        """Wait (at most ``timeout`` seconds) for every row being handled, never cancelling one; return if all ended."""
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while self._tasks:
            left = None if deadline is None else deadline - loop.time()
            if left is not None and left <= 0:
                return False
            await asyncio.wait(set(self._tasks), timeout=left)
        return True

    async def _one(self, row_id: int, now: datetime) -> None:
        wake: datetime | None = None
        try:
            try:
                await self._handle(row_id)
            except Exception:
                delay = self._guard.delay(row_id)
                log.exception("%s %s: handling it failed; looking again in %s", self._what, row_id, delay)
                wake = now + delay
                await self._postpone(row_id, wake)
                return
            wake = await self._due_at(row_id)
            if wake is not None and wake <= now:
                delay = self._guard.delay(row_id)
                log.warning("%s %s is still due after it was handled; looking again in %s", self._what, row_id, delay)
                wake = now + delay
                await self._postpone(row_id, wake)
            else:
                self._guard.forget({row_id})
        except Exception:
            log.exception("%s %s: could not read or postpone it; looking again later", self._what, row_id)
            wake = now + AFTER_ERROR
        finally:
            # Still counted as being handled while postponing, so a wake meanwhile does not take it up again;
            # the timer left it out when it re-armed, so it is told the row's next instant now.
            self._in_flight.discard(row_id)
            self._slots.release()
            if wake is not None:
                self._poke(wake)
