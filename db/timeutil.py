"""Convert between aware datetimes and the stored UTC epoch seconds."""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ("from_epoch", "maybe_from_epoch", "to_epoch")


def to_epoch(moment: datetime) -> int:
    """Return whole UTC seconds since the epoch for an aware datetime."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime given to the database")
    return int(moment.timestamp())


def from_epoch(seconds: int) -> datetime:
    """Return an aware UTC datetime."""
    return datetime.fromtimestamp(seconds, UTC)


def maybe_from_epoch(seconds: int | None) -> datetime | None:
    """Return an aware UTC datetime, or None for NULL."""
    return None if seconds is None else from_epoch(seconds)
