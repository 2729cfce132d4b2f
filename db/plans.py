"""Queries on the reminder settings a dialogue got from its plan file."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from .connection import Database

__all__ = ("PlanSettings", "get_settings", "set_settings")


@dataclass(frozen=True, slots=True)
class PlanSettings:
    """The reminder settings a dialogue got from its plan file (None: the bot's defaults)."""

    checkin_hour: int | None = None
    unanswered_after: timedelta | None = None


async def set_settings(db: Database, dialogue_id: int, settings: PlanSettings) -> None:
    """Store (or replace) a dialogue's plan settings."""
    after = None if settings.unanswered_after is None else int(settings.unanswered_after.total_seconds())
    await db.execute(
        "INSERT INTO plan_settings (dialogue_id, checkin_hour, unanswered_after) VALUES (?, ?, ?) "
        "ON CONFLICT (dialogue_id) DO UPDATE SET checkin_hour = excluded.checkin_hour, "
        "unanswered_after = excluded.unanswered_after",
        (dialogue_id, settings.checkin_hour, after),
    )


async def get_settings(db: Database, dialogue_id: int) -> PlanSettings:
    """Return a dialogue's plan settings (all None when it was not created from a plan)."""
    row = await db.fetchone(
        "SELECT checkin_hour, unanswered_after FROM plan_settings WHERE dialogue_id = ?", (dialogue_id,)
    )
    if row is None:
        return PlanSettings()
    after = row["unanswered_after"]
    return PlanSettings(row["checkin_hour"], None if after is None else timedelta(seconds=after))
