"""A dialogue's activity: posts per local day per thread, and where its window falls on those days."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

__all__ = ("Activity", "ActivityCount", "ThreadActivity", "ThreadLabel", "build_activity")

# Posts are counted in buckets of this many seconds: every time zone's offset is a multiple of 15 minutes, so a
# bucket never straddles a local midnight and the day of each bucket is exact.
BUCKET_SECONDS = 900


@dataclass(frozen=True, slots=True)
class ActivityCount:
    """How many posts a thread (None: the channel itself) received in one bucket starting at ``start``."""

    thread_id: int | None
    start: datetime
    posts: int


@dataclass(frozen=True, slots=True)
class ThreadLabel:
    """A thread as the chart names it, in the order threads were made."""

    thread_id: int | None
    label: str


@dataclass(frozen=True, slots=True)
class ThreadActivity:
    """One thread's posts on each day of the chart."""

    label: str
    per_day: tuple[int, ...]

    @property
    def total(self) -> int:
        """All its posts."""
        return sum(self.per_day)


@dataclass(frozen=True, slots=True)
class Activity:
    """Posts per local day for each thread, and the window as fractional days from the first day's midnight."""

    title: str
    days: tuple[date, ...]
    threads: tuple[ThreadActivity, ...]
    window_start: float
    window_end: float

    @property
    def per_day(self) -> tuple[int, ...]:
        """All threads' posts on each day."""
        return tuple(sum(column) for column in zip(*(t.per_day for t in self.threads), strict=True)) or tuple(
            0 for _ in self.days
        )

    @property
    def total(self) -> int:
        """All posts."""
        return sum(t.total for t in self.threads)


def build_activity(
    *,
    title: str,
    timezone: str,
    opens_at: datetime,
    closes_at: datetime,
    threads: Sequence[ThreadLabel],
    counts: Iterable[ActivityCount],
) -> Activity:
    """Put each count on its local day in the dialogue's zone; the days run from the opening to the close.

    Days before the opening or after the close appear only if they hold posts. A count for a thread not in
    ``threads`` is added to a row of its own, after the others.
    """
    zone = ZoneInfo(timezone)
    by_thread: dict[int | None, dict[date, int]] = {t.thread_id: {} for t in threads}
    labels = {t.thread_id: t.label for t in threads}
    for count in counts:
        day = count.start.astimezone(zone).date()
        tally = by_thread.setdefault(count.thread_id, {})
        tally[day] = tally.get(day, 0) + count.posts
    first = opens_at.astimezone(zone).date()
    # A window ending exactly at midnight does not reach into the next day.
    last = (closes_at.astimezone(zone) - timedelta(microseconds=1)).date()
    seen = [day for tally in by_thread.values() for day in tally]
    first, last = min([first, *seen]), max([last, first, *seen])
    days = tuple(first + timedelta(days=n) for n in range((last - first).days + 1))
    rows = tuple(
        ThreadActivity(labels.get(thread_id, "Other posts"), tuple(tally.get(day, 0) for day in days))
        for thread_id, tally in by_thread.items()
    )
    return Activity(
        title=title,
        days=days,
        threads=rows,
        window_start=_days_since(first, opens_at, zone),
        window_end=_days_since(first, closes_at, zone),
    )


def _days_since(first: date, moment: datetime, zone: ZoneInfo) -> float:
    """Where a moment falls on the chart's day axis (local wall-clock time, so bars and window agree)."""
    local = moment.astimezone(zone).replace(tzinfo=None)
    return (local - datetime(first.year, first.month, first.day)) / timedelta(days=1)
