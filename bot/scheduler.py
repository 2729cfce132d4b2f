"""APScheduler on the bot's clock: a cache of due work, rebuilt from the database at start-up."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, tzinfo

import apscheduler.executors.base
import apscheduler.schedulers.base
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger

from .clock import Clock

__all__ = ("Scheduler",)

log = logging.getLogger(__name__)

_active_clock: list[Clock] = []


class _ClockDatetime(datetime):
    """APScheduler reads ``datetime.now``; this makes it read the bot's clock instead.

    APScheduler 3 has no clock hook, so the two modules that ask for "now" get this class. It is bound
    here, once, by ``Scheduler.start``; without a bound clock it behaves like ``datetime``.
    """

    @classmethod
    def now(cls, tz: tzinfo | None = None) -> datetime:  # type: ignore[override]
        if not _active_clock:
            return datetime.now(tz)
        current = _active_clock[-1]()
        return current.astimezone(tz) if tz else current.replace(tzinfo=None)


def _bind_clock(clock: Clock) -> None:
    _active_clock.append(clock)
    apscheduler.schedulers.base.datetime = _ClockDatetime
    apscheduler.executors.base.datetime = _ClockDatetime


def _unbind_clock(clock: Clock) -> None:
    if clock in _active_clock:
        _active_clock.remove(clock)


class Scheduler:
    """One job per (subject, step) with a deterministic id; re-placing a job replaces it."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._scheduler = AsyncIOScheduler(
            timezone="UTC",
            # Overdue work still runs, once: the callbacks re-read the record before acting.
            job_defaults={"misfire_grace_time": None, "coalesce": True, "max_instances": 1},
        )

    def start(self) -> None:
        """Start dispatching jobs on the running event loop."""
        _bind_clock(self._clock)
        self._scheduler.start()

    @property
    def running(self) -> bool:
        """Whether jobs are being dispatched."""
        return bool(self._scheduler.running)

    def shutdown(self) -> None:
        """Stop dispatching; pending jobs are dropped (they are derived from the database)."""
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        _unbind_clock(self._clock)

    def place(self, job_id: str, when: datetime, func: Callable[..., Awaitable[object]], *args: object) -> None:
        """Await ``func(*args)`` at ``when`` (at once if that has passed), replacing any job with this id."""
        run_at = max(when, self._clock())
        self._scheduler.add_job(
            func,
            DateTrigger(run_date=run_at, timezone="UTC"),
            args=args,
            id=job_id,
            replace_existing=True,
        )
        log.debug("Placed job %s at %s", job_id, run_at.isoformat())

    def remove(self, job_id: str) -> None:
        """Drop a job if it exists."""
        with contextlib.suppress(JobLookupError):
            self._scheduler.remove_job(job_id)

    def remove_prefix(self, prefix: str) -> None:
        """Drop every job whose id starts with ``prefix``."""
        for job in self._scheduler.get_jobs():
            if job.id.startswith(prefix):
                self._scheduler.remove_job(job.id)

    def next_run(self, job_id: str) -> datetime | None:
        """Return when a job will run, or None."""
        job = self._scheduler.get_job(job_id)
        return job.next_run_time if job else None

    def job_ids(self) -> list[str]:
        """Return the ids of every pending job."""
        return sorted(job.id for job in self._scheduler.get_jobs())
