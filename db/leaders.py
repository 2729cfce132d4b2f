"""Queries on conversation leaders, members' own time zones and the private Leaders thread's record."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.domain.models import State
from bot.domain.reminders import Leader, Leadership, MemberZone, ZoneSource

from .connection import Database, Row
from .shards import Ownership, owned
from .timeutil import from_epoch, maybe_from_epoch, to_epoch

__all__ = (
    "add_leader",
    "get_leader",
    "get_member",
    "leaders",
    "leaders_intro_posted",
    "leaders_thread",
    "leaderships",
    "record_leaders_intro",
    "record_leaders_thread",
    "remove_leader",
    "set_member",
    "set_reachable",
)

_LEADER_COLUMNS = "dialogue_id, user_id, commitment, added_at, removed_at, reachable"
LEADERS_ORIGIN = "leaders"  # threads.origin of the private Leaders thread
_INTRO_KIND = "leaders_intro"  # bot_messages.kind of its first message, written once its members are in


def _leader(row: Row) -> Leader:
    return Leader(
        dialogue_id=row["dialogue_id"],
        user_id=row["user_id"],
        commitment=row["commitment"],
        added_at=from_epoch(row["added_at"]),
        removed_at=maybe_from_epoch(row["removed_at"]),
        reachable=bool(row["reachable"]),
    )


# ----- leaders -------------------------------------------------------------------------------------


async def add_leader(db: Database, dialogue_id: int, user_id: int, commitment: int, now: datetime) -> bool:
    """Make a member a leader (or update their commitment); return True if they were not an active leader."""
    existing = await get_leader(db, dialogue_id, user_id)
    if existing is not None and existing.active:
        await db.execute(
            "UPDATE leaders SET commitment = ? WHERE dialogue_id = ? AND user_id = ?",
            (commitment, dialogue_id, user_id),
        )
        return False
    await db.execute(
        "INSERT INTO leaders (dialogue_id, user_id, commitment, added_at, removed_at, reachable) "
        "VALUES (?, ?, ?, ?, NULL, 1) ON CONFLICT (dialogue_id, user_id) DO UPDATE SET "
        "commitment = excluded.commitment, added_at = excluded.added_at, removed_at = NULL",
        (dialogue_id, user_id, commitment, to_epoch(now)),
    )
    return True


async def remove_leader(db: Database, dialogue_id: int, user_id: int, now: datetime) -> bool:
    """Mark an active leader removed; return whether they were one."""
    changed = await db.execute(
        "UPDATE leaders SET removed_at = ? WHERE dialogue_id = ? AND user_id = ? AND removed_at IS NULL",
        (to_epoch(now), dialogue_id, user_id),
    )
    return changed == 1


async def get_leader(db: Database, dialogue_id: int, user_id: int) -> Leader | None:
    """Return one leader record, active or removed."""
    row = await db.fetchone(
        f"SELECT {_LEADER_COLUMNS} FROM leaders WHERE dialogue_id = ? AND user_id = ?", (dialogue_id, user_id)
    )
    return _leader(row) if row else None


async def leaders(db: Database, dialogue_id: int) -> list[Leader]:
    """Return a dialogue's active leaders in the order they were added."""
    rows = await db.fetchall(
        f"SELECT {_LEADER_COLUMNS} FROM leaders WHERE dialogue_id = ? AND removed_at IS NULL "
        "ORDER BY added_at, user_id",
        (dialogue_id,),
    )
    return [_leader(row) for row in rows]


async def set_reachable(db: Database, dialogue_id: int, user_id: int, reachable: bool) -> bool:
    """Record whether direct messages reach this leader; return whether that changed."""
    changed = await db.execute(
        "UPDATE leaders SET reachable = ? WHERE dialogue_id = ? AND user_id = ? AND reachable <> ?",
        (int(reachable), dialogue_id, user_id, int(reachable)),
    )
    return changed == 1


async def leaderships(
    db: Database,
    states: Sequence[State],
    *,
    dialogue_id: int | None = None,
    guild_id: int | None = None,
    user_id: int | None = None,
    closed_since: datetime | None = None,
    ownership: Ownership | None = None,
) -> list[Leadership]:
    """Return active leaders of dialogues in ``states`` with everything planning needs, in one query.

    Narrowed to one dialogue, or to one member's leaderships in one server; ``closed_since`` adds the
    dialogues closed at or after that instant (their thank-you may still be owed); ``ownership`` keeps the
    guilds of this process's shards.
    """
    marks = ", ".join("?" for _ in states)
    condition = f"(d.state IN ({marks})"
    params: list[object] = [state.value for state in states]
    if closed_since is not None:
        condition += " OR (d.state = ? AND d.closed_at >= ?)"
        params += [State.CLOSED.value, to_epoch(closed_since)]
    condition += ")"
    if dialogue_id is not None:
        condition += " AND d.id = ?"
        params.append(dialogue_id)
    if guild_id is not None:
        condition += " AND d.guild_id = ?"
        params.append(guild_id)
    if user_id is not None:
        condition += " AND l.user_id = ?"
        params.append(user_id)
    mine, owned_params = owned(ownership, "d.guild_id")
    condition += mine
    params += owned_params
    rows = await db.fetchall(
        "SELECT l.dialogue_id, d.guild_id, l.user_id, l.added_at, d.state, d.opens_at, d.closes_at, d.opened_at, "
        "d.closed_at, d.timezone, m.timezone AS member_timezone, m.checkin_hour AS member_hour, "
        "s.checkin_hour AS plan_hour, t.thread_id AS leaders_thread_id, l.planned_with "
        "FROM leaders l JOIN dialogues d ON d.id = l.dialogue_id "
        "LEFT JOIN members m ON m.guild_id = d.guild_id AND m.user_id = l.user_id "
        "LEFT JOIN plan_settings s ON s.dialogue_id = d.id "
        "LEFT JOIN threads t ON t.dialogue_id = d.id AND t.origin = ? "
        f"WHERE l.removed_at IS NULL AND {condition} ORDER BY l.dialogue_id, l.added_at, l.user_id",
        [LEADERS_ORIGIN, *params],
    )
    return [
        Leadership(
            dialogue_id=row["dialogue_id"],
            guild_id=row["guild_id"],
            user_id=row["user_id"],
            added_at=from_epoch(row["added_at"]),
            state=State(row["state"]),
            opens_at=from_epoch(row["opens_at"]),
            closes_at=from_epoch(row["closes_at"]),
            opened_at=maybe_from_epoch(row["opened_at"]),
            closed_at=maybe_from_epoch(row["closed_at"]),
            dialogue_timezone=row["timezone"],
            member_timezone=row["member_timezone"],
            member_hour=row["member_hour"],
            plan_hour=row["plan_hour"],
            leaders_thread_id=row["leaders_thread_id"],
            planned_with=row["planned_with"],
        )
        for row in rows
    ]


# ----- members' own time zones ---------------------------------------------------------------------


async def set_member(
    db: Database,
    guild_id: int,
    user_id: int,
    timezone: str,
    hour: int,
    now: datetime,
    source: ZoneSource = ZoneSource.SELF,
) -> None:
    """Store a member's time zone and check-in hour for one server, and who chose it."""
    await db.execute(
        "INSERT INTO members (guild_id, user_id, timezone, checkin_hour, updated_at, source) "
        "VALUES (?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (guild_id, user_id) DO UPDATE SET timezone = excluded.timezone, "
        "checkin_hour = excluded.checkin_hour, updated_at = excluded.updated_at, source = excluded.source",
        (guild_id, user_id, timezone, hour, to_epoch(now), source.value),
    )


async def get_member(db: Database, guild_id: int, user_id: int) -> MemberZone | None:
    """Return the time zone and check-in hour stored for a member, and who chose them; None if nothing is."""
    row = await db.fetchone(
        "SELECT timezone, checkin_hour, source FROM members WHERE guild_id = ? AND user_id = ?", (guild_id, user_id)
    )
    return MemberZone(row["timezone"], row["checkin_hour"], ZoneSource(row["source"])) if row else None


# ----- the private Leaders thread ------------------------------------------------------------------


async def leaders_thread(db: Database, dialogue_id: int) -> int | None:
    """Return the id of the dialogue's private Leaders thread, if it was made."""
    row = await db.fetchone(
        "SELECT thread_id FROM threads WHERE dialogue_id = ? AND origin = ?", (dialogue_id, LEADERS_ORIGIN)
    )
    return row["thread_id"] if row else None


async def record_leaders_thread(db: Database, dialogue_id: int, thread_id: int, title: str, now: datetime) -> None:
    """Record the dialogue's Leaders thread (once)."""
    await db.execute(
        "INSERT INTO threads (thread_id, dialogue_id, origin, title, starter_message_id, created_at) "
        "VALUES (?, ?, ?, ?, NULL, ?) ON CONFLICT (thread_id) DO NOTHING",
        (thread_id, dialogue_id, LEADERS_ORIGIN, title, to_epoch(now)),
    )


async def leaders_intro_posted(db: Database, dialogue_id: int) -> bool:
    """Return whether the Leaders thread's first message was posted (its members were added before it)."""
    row = await db.fetchone(
        "SELECT message_id FROM bot_messages WHERE dialogue_id = ? AND kind = ?", (dialogue_id, _INTRO_KIND)
    )
    return row is not None


async def record_leaders_intro(db: Database, dialogue_id: int, thread_id: int, message_id: int, now: datetime) -> None:
    """Record the Leaders thread's first message."""
    await db.execute(
        "INSERT INTO bot_messages (dialogue_id, kind, part, channel_id, message_id, posted_at) "
        "VALUES (?, ?, 0, ?, ?, ?) ON CONFLICT (dialogue_id, kind, part) DO NOTHING",
        (dialogue_id, _INTRO_KIND, thread_id, message_id, to_epoch(now)),
    )
