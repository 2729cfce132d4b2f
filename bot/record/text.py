"""Small pieces of text every export format shares."""

from __future__ import annotations

from datetime import UTC, datetime

from .transcript import Record

__all__ = ("local_time", "plural", "utc_time")


def local_time(record: Record, moment: datetime) -> str:
    """A moment in the dialogue's time zone, named."""
    return f"{record.local(moment):%a %Y-%m-%d %H:%M} {record.timezone}"


def utc_time(moment: datetime) -> str:
    """A moment in UTC."""
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def plural(count: int, word: str) -> str:
    """``1 post``, ``2 posts``."""
    return f"{count:,} {word}{'' if count == 1 else 's'}"
