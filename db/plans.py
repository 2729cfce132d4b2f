"""Queries on the reminder settings a dialogue got from its plan file, and on imports awaiting an answer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from .connection import Database, Row
from .timeutil import from_epoch, to_epoch

__all__ = (
    "PendingImport",
    "PlanSettings",
    "add_pending",
    "get_pending",
    "get_settings",
    "remove_expired",
    "set_settings",
    "take_pending",
)


@dataclass(frozen=True, slots=True)
class PlanSettings:
    """The reminder settings a plan gave its dialogue (None: the configured default)."""

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


# ----- imports awaiting the facilitator's answer ----------------------------------------------------


@dataclass(frozen=True, slots=True)
class PendingImport:
    """A plan import held until the facilitator who uploaded it answers (or it expires)."""

    id: int
    guild_id: int
    user_id: int
    plan_text: str
    created_at: datetime
    expires_at: datetime


_PENDING_COLUMNS = "id, guild_id, user_id, plan_text, created_at, expires_at"


def _pending(row: Row) -> PendingImport:
    return PendingImport(
        id=row["id"],
        guild_id=row["guild_id"],
        user_id=row["user_id"],
        plan_text=row["plan_text"],
        created_at=from_epoch(row["created_at"]),
        expires_at=from_epoch(row["expires_at"]),
    )


async def add_pending(
    db: Database, guild_id: int, user_id: int, plan_text: str, now: datetime, expires_at: datetime
) -> PendingImport:
    """Hold a plan import until its answer; return it with its id."""
    pending_id = await db.insert(
        "INSERT INTO pending_imports (guild_id, user_id, plan_text, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
        (guild_id, user_id, plan_text, to_epoch(now), to_epoch(expires_at)),
    )
    return PendingImport(pending_id, guild_id, user_id, plan_text, from_epoch(to_epoch(now)), expires_at)


async def get_pending(db: Database, pending_id: int) -> PendingImport | None:
    """Return a held import, or None if it was answered or removed."""
    row = await db.fetchone(f"SELECT {_PENDING_COLUMNS} FROM pending_imports WHERE id = ?", (pending_id,))
    return None if row is None else _pending(row)


async def take_pending(db: Database, pending_id: int) -> bool:
    """Remove a held import; True only for the one caller that removed it (a second press finds nothing)."""
    return await db.execute("DELETE FROM pending_imports WHERE id = ?", (pending_id,)) == 1


async def remove_expired(db: Database, now: datetime) -> int:
    """Remove the held imports whose time has passed; return how many."""
    return await db.execute("DELETE FROM pending_imports WHERE expires_at <= ?", (to_epoch(now),))
