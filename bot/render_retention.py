"""Texts about keeping and purging transcripts (``keep_transcripts_days``)."""

from __future__ import annotations

from datetime import datetime, timedelta

from .render import plural, timestamp

__all__ = ("retention_line",)


def retention_line(purged_at: datetime | None, counted_from: datetime | None, keep: timedelta | None) -> str | None:
    """One line for /dialogue status: when the transcript was purged, or when it will be; None if kept for ever."""
    if purged_at is not None:
        return f"Transcript purged on {timestamp(purged_at, 'F')}: the posts' text is gone, the counts stay."
    if keep is None:
        return None
    if counted_from is None:
        return f"Transcript: its text is purged {plural(keep.days, 'day')} after the dialogue closes."
    return f"Transcript: its text will be purged on {timestamp(counted_from + keep, 'F')}."
