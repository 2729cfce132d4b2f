"""Queries on each dialogue's Discord scheduled event: its id and the state last applied to Discord."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.domain.events import EventState, EventStatus

from .connection import Database
from .timeutil import from_epoch, to_epoch

__all__ = (
    "EventRecord",
    "get",
    "mark_applied",
    "mark_creating",
    "mark_gone",
    "mark_noticed",
    "set_enabled",
    "set_event",
)

# Stored as applied_status when the event was deleted on Discord (by hand): nothing more is applied.
_GONE = "gone"


@dataclass(frozen=True, slots=True)
class EventRecord:
    """What the record says about a dialogue's event (a dialogue with no row has the defaults)."""

    enabled: bool = True
    event_id: int | None = None
    creating: bool = False  # a create was sent; its answer may have been lost
    applied: EventState | None = None
    gone: bool = False
    noticed: bool = False  # the facilitators were told the bot may not manage events


async def get(db: Database, dialogue_id: int) -> EventRecord:
    """Return a dialogue's event record (the defaults when there is none)."""
    row = await db.fetchone(
        "SELECT enabled, event_id, creating, applied_status, applied_start, applied_end, noticed_at "
        "FROM dialogue_events WHERE dialogue_id = ?",
        (dialogue_id,),
    )
    if row is None:
        return EventRecord()
    status = row["applied_status"]
    applied = None
    if status is not None and status != _GONE:
        applied = EventState(EventStatus(int(status)), from_epoch(row["applied_start"]), from_epoch(row["applied_end"]))
    return EventRecord(
        enabled=bool(row["enabled"]),
        event_id=row["event_id"],
        creating=bool(row["creating"]),
        applied=applied,
        gone=status == _GONE,
        noticed=row["noticed_at"] is not None,
    )


async def _ensure(db: Database, dialogue_id: int) -> None:
    await db.execute(
        "INSERT INTO dialogue_events (dialogue_id) VALUES (?) ON CONFLICT (dialogue_id) DO NOTHING", (dialogue_id,)
    )


async def set_enabled(db: Database, dialogue_id: int, enabled: bool) -> None:
    """Record whether the dialogue gets an event at all (a plan's ``event`` key)."""
    await _ensure(db, dialogue_id)
    await db.execute("UPDATE dialogue_events SET enabled = ? WHERE dialogue_id = ?", (int(enabled), dialogue_id))


async def mark_creating(db: Database, dialogue_id: int) -> None:
    """Record that a create is about to be sent: a later run first looks for an event that carries the marker."""
    await _ensure(db, dialogue_id)
    await db.execute("UPDATE dialogue_events SET creating = 1 WHERE dialogue_id = ?", (dialogue_id,))


async def set_event(db: Database, dialogue_id: int, event_id: int) -> None:
    """Record the event Discord made (or that was adopted) for the dialogue."""
    await _ensure(db, dialogue_id)
    await db.execute(
        "UPDATE dialogue_events SET event_id = ?, creating = 0 WHERE dialogue_id = ?", (event_id, dialogue_id)
    )


async def mark_applied(db: Database, dialogue_id: int, state: EventState) -> None:
    """Record the state last applied to Discord (a sync compares it with what the dialogue wants)."""
    await _ensure(db, dialogue_id)
    await db.execute(
        "UPDATE dialogue_events SET applied_status = ?, applied_start = ?, applied_end = ? WHERE dialogue_id = ?",
        (str(int(state.status)), to_epoch(state.start), to_epoch(state.end), dialogue_id),
    )


async def mark_gone(db: Database, dialogue_id: int) -> None:
    """Record that the event was deleted on Discord: it is never re-made or changed again."""
    await _ensure(db, dialogue_id)
    await db.execute("UPDATE dialogue_events SET applied_status = ? WHERE dialogue_id = ?", (_GONE, dialogue_id))


async def mark_noticed(db: Database, dialogue_id: int, now: datetime) -> bool:
    """Record that the facilitators were told events cannot be managed; True only for the first call."""
    await _ensure(db, dialogue_id)
    changed = await db.execute(
        "UPDATE dialogue_events SET noticed_at = ?, refused_at = ? WHERE dialogue_id = ? AND noticed_at IS NULL",
        (to_epoch(now), to_epoch(now), dialogue_id),
    )
    return changed == 1
