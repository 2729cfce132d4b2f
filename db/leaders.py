"""Queries on conversation leaders, members' time zones, leader reminders and the counts check-ins report."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.domain.reminders import Kind, Leader, Planned, Reminder, ReminderState, UnansweredPost

from .connection import Database, Row
from .timeutil import from_epoch, maybe_from_epoch, to_epoch

__all__ = (
    "active_leaderships",
    "add_leader",
    "add_reminder",
    "claim",
    "delete_future",
    "get_leader",
    "get_member",
    "get_reminder",
    "has_reminder",
    "held",
    "hold",
    "last_sent",
    "leaders",
    "leaders_thread",
    "pending",
    "post_count",
    "release",
    "reminders_for",
    "remove_leader",
    "replan",
    "set_member",
    "set_reachable",
    "set_via",
    "skip",
    "unanswered",
)

_REMINDER_COLUMNS = "id, dialogue_id, user_id, kind, reminder_key, due_at, state, sent_at, via, body, note"
# Posts in the Leaders thread are backstage talk: they count neither as dialogue posts nor as unanswered.
_NOT_BACKSTAGE = "(p.thread_id IS NULL OR p.thread_id NOT IN (SELECT thread_id FROM threads WHERE origin = 'leaders'))"


def _leader(row: Row) -> Leader:
    return Leader(
        dialogue_id=row["dialogue_id"],
        user_id=row["user_id"],
        commitment=row["commitment"],
        added_at=from_epoch(row["added_at"]),
        removed_at=maybe_from_epoch(row["removed_at"]),
        reachable=bool(row["reachable"]),
    )


def _reminder(row: Row) -> Reminder:
    return Reminder(
        id=row["id"],
        dialogue_id=row["dialogue_id"],
        user_id=row["user_id"],
        kind=Kind(row["kind"]),
        key=row["reminder_key"],
        due_at=from_epoch(row["due_at"]),
        state=ReminderState(row["state"]),
        sent_at=maybe_from_epoch(row["sent_at"]),
        via=row["via"],
        body=row["body"],
        note=row["note"],
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
        "SELECT dialogue_id, user_id, commitment, added_at, removed_at, reachable FROM leaders "
        "WHERE dialogue_id = ? AND user_id = ?",
        (dialogue_id, user_id),
    )
    return _leader(row) if row else None


async def leaders(db: Database, dialogue_id: int) -> list[Leader]:
    """Return a dialogue's active leaders in the order they were added."""
    rows = await db.fetchall(
        "SELECT dialogue_id, user_id, commitment, added_at, removed_at, reachable FROM leaders "
        "WHERE dialogue_id = ? AND removed_at IS NULL ORDER BY added_at, user_id",
        (dialogue_id,),
    )
    return [_leader(row) for row in rows]


async def active_leaderships(db: Database, guild_id: int, user_id: int, states: Sequence[str]) -> list[int]:
    """Return the ids of this guild's dialogues (in ``states``) where the user is an active leader."""
    marks = ", ".join("?" for _ in states)
    rows = await db.fetchall(
        "SELECT l.dialogue_id FROM leaders l JOIN dialogues d ON d.id = l.dialogue_id "
        f"WHERE d.guild_id = ? AND l.user_id = ? AND l.removed_at IS NULL AND d.state IN ({marks}) "
        "ORDER BY l.dialogue_id",
        [guild_id, user_id, *states],
    )
    return [row["dialogue_id"] for row in rows]


async def set_reachable(db: Database, dialogue_id: int, user_id: int, reachable: bool) -> bool:
    """Record whether direct messages reach this leader; return whether that changed."""
    changed = await db.execute(
        "UPDATE leaders SET reachable = ? WHERE dialogue_id = ? AND user_id = ? AND reachable <> ?",
        (int(reachable), dialogue_id, user_id, int(reachable)),
    )
    return changed == 1


# ----- members' own time zones ---------------------------------------------------------------------


async def set_member(
    db: Database, guild_id: int, user_id: int, timezone: str, hour: int, now: datetime, source: str = "self"
) -> None:
    """Store a member's time zone and check-in hour for one server (``source``: 'self' or 'plan')."""
    await db.execute(
        "INSERT INTO members (guild_id, user_id, timezone, checkin_hour, updated_at, source) "
        "VALUES (?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (guild_id, user_id) DO UPDATE SET timezone = excluded.timezone, "
        "checkin_hour = excluded.checkin_hour, updated_at = excluded.updated_at, source = excluded.source",
        (guild_id, user_id, timezone, hour, to_epoch(now), source),
    )


async def member_source(db: Database, guild_id: int, user_id: int) -> str | None:
    """Return who chose a member's stored zone: 'self' (the member) or 'plan'; None if nothing is stored."""
    row = await db.fetchone("SELECT source FROM members WHERE guild_id = ? AND user_id = ?", (guild_id, user_id))
    return row["source"] if row else None


async def get_member(db: Database, guild_id: int, user_id: int) -> tuple[str, int] | None:
    """Return (time zone, check-in hour) a member set, or None."""
    row = await db.fetchone(
        "SELECT timezone, checkin_hour FROM members WHERE guild_id = ? AND user_id = ?", (guild_id, user_id)
    )
    return (row["timezone"], row["checkin_hour"]) if row else None


# ----- reminders -----------------------------------------------------------------------------------


async def add_reminder(
    db: Database,
    dialogue_id: int,
    user_id: int,
    kind: Kind,
    key: str,
    due_at: datetime,
    body: str | None = None,
) -> Reminder:
    """Make a pending reminder unless one with this key exists; return the row either way."""
    await db.execute(
        "INSERT INTO reminders (dialogue_id, user_id, kind, reminder_key, due_at, state, body) "
        "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (dialogue_id, user_id, reminder_key) DO NOTHING",
        (dialogue_id, user_id, kind.value, key, to_epoch(due_at), ReminderState.PENDING.value, body),
    )
    row = await db.fetchone(
        f"SELECT {_REMINDER_COLUMNS} FROM reminders WHERE dialogue_id = ? AND user_id = ? AND reminder_key = ?",
        (dialogue_id, user_id, key),
    )
    assert row is not None
    return _reminder(row)


async def has_reminder(db: Database, dialogue_id: int, user_id: int, kind: Kind) -> bool:
    """Return whether any reminder of this kind exists for the leader, in any state."""
    row = await db.fetchone(
        "SELECT 1 AS found FROM reminders WHERE dialogue_id = ? AND user_id = ? AND kind = ?",
        (dialogue_id, user_id, kind.value),
    )
    return row is not None


async def replan(db: Database, dialogue_id: int, user_id: int, wanted: Sequence[Planned], now: datetime) -> list[int]:
    """Make the leader's future time-driven reminders exactly ``wanted``; return the ids of rows dropped.

    Only pending rows due at or after ``now`` are dropped: overdue ones are left for their job, which
    decides whether they are still worth sending.
    """
    keys = {planned.key for planned in wanted}
    kinds = [kind.value for kind in (Kind.OPENS_SOON, Kind.CHECKIN, Kind.CLOSES_SOON)]
    marks = ", ".join("?" for _ in kinds)
    rows = await db.fetchall(
        "SELECT id, reminder_key FROM reminders WHERE dialogue_id = ? AND user_id = ? AND state = ? "
        f"AND due_at >= ? AND kind IN ({marks})",
        [dialogue_id, user_id, ReminderState.PENDING.value, to_epoch(now), *kinds],
    )
    dropped = [row["id"] for row in rows if row["reminder_key"] not in keys]
    async with db.transaction():
        for reminder_id in dropped:
            await db.execute("DELETE FROM reminders WHERE id = ? AND state = ?", (reminder_id, "pending"))
        for planned in wanted:
            await db.execute(
                "INSERT INTO reminders (dialogue_id, user_id, kind, reminder_key, due_at, state) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (dialogue_id, user_id, reminder_key) DO NOTHING",
                (
                    dialogue_id,
                    user_id,
                    planned.kind.value,
                    planned.key,
                    to_epoch(planned.due_at),
                    ReminderState.PENDING.value,
                ),
            )
    return dropped


async def delete_future(db: Database, dialogue_id: int, user_id: int | None, now: datetime) -> list[int]:
    """Drop pending reminders due after ``now`` (they never happened); return their ids."""
    condition, params = _who(dialogue_id, user_id)
    rows = await db.fetchall(
        f"SELECT id FROM reminders WHERE {condition} AND state = 'pending' AND due_at > ?", [*params, to_epoch(now)]
    )
    ids = [row["id"] for row in rows]
    for reminder_id in ids:
        await db.execute("DELETE FROM reminders WHERE id = ? AND state = 'pending'", (reminder_id,))
    return ids


def _who(dialogue_id: int, user_id: int | None) -> tuple[str, list[object]]:
    if user_id is None:
        return "dialogue_id = ?", [dialogue_id]
    return "dialogue_id = ? AND user_id = ?", [dialogue_id, user_id]


async def skip(
    db: Database,
    dialogue_id: int,
    user_id: int | None,
    now: datetime,
    note: str,
    *,
    reminder_id: int | None = None,
    kinds: Sequence[Kind] | None = None,
) -> list[int]:
    """Record pending or held reminders as skipped (one, a leader's, or a dialogue's); return their ids."""
    condition, params = _who(dialogue_id, user_id)
    if reminder_id is not None:
        condition += " AND id = ?"
        params.append(reminder_id)
    if kinds is not None:
        condition += f" AND kind IN ({', '.join('?' for _ in kinds)})"
        params += [kind.value for kind in kinds]
    rows = await db.fetchall(f"SELECT id FROM reminders WHERE {condition} AND state IN ('pending', 'held')", params)
    ids = [row["id"] for row in rows]
    for found in ids:
        await db.execute(
            "UPDATE reminders SET state = 'skipped', sent_at = ?, note = ? "
            "WHERE id = ? AND state IN ('pending', 'held')",
            (to_epoch(now), note, found),
        )
    return ids


async def get_reminder(db: Database, reminder_id: int) -> Reminder | None:
    """Return one reminder."""
    row = await db.fetchone(f"SELECT {_REMINDER_COLUMNS} FROM reminders WHERE id = ?", (reminder_id,))
    return _reminder(row) if row else None


async def pending(db: Database) -> list[Reminder]:
    """Return every pending reminder, soonest first (to rebuild the schedule)."""
    rows = await db.fetchall(f"SELECT {_REMINDER_COLUMNS} FROM reminders WHERE state = 'pending' ORDER BY due_at, id")
    return [_reminder(row) for row in rows]


async def reminders_for(db: Database, dialogue_id: int, user_id: int | None = None) -> list[Reminder]:
    """Return a dialogue's (or one leader's) reminders in due order."""
    condition, params = _who(dialogue_id, user_id)
    rows = await db.fetchall(f"SELECT {_REMINDER_COLUMNS} FROM reminders WHERE {condition} ORDER BY due_at, id", params)
    return [_reminder(row) for row in rows]


async def held(db: Database, dialogue_id: int) -> list[Reminder]:
    """Return the reminders waiting for the Leaders thread."""
    rows = await db.fetchall(
        f"SELECT {_REMINDER_COLUMNS} FROM reminders WHERE dialogue_id = ? AND state = 'held' ORDER BY due_at, id",
        (dialogue_id,),
    )
    return [_reminder(row) for row in rows]


async def claim(db: Database, reminder_id: int, now: datetime, *, source: ReminderState) -> bool:
    """Compare-and-set a reminder from ``source`` to sent; return whether this call won it."""
    changed = await db.execute(
        "UPDATE reminders SET state = 'sent', sent_at = ?, via = NULL WHERE id = ? AND state = ?",
        (to_epoch(now), reminder_id, source.value),
    )
    return changed == 1


async def set_via(db: Database, reminder_id: int, via: str) -> None:
    """Record how a claimed reminder was delivered."""
    await db.execute("UPDATE reminders SET via = ? WHERE id = ?", (via, reminder_id))


async def hold(db: Database, reminder_id: int, body: str) -> None:
    """Keep a claimed reminder, with its text, for the Leaders thread that does not exist yet."""
    await db.execute(
        "UPDATE reminders SET state = 'held', sent_at = NULL, via = NULL, body = ? WHERE id = ? AND state = 'sent'",
        (body, reminder_id),
    )


async def release(db: Database, reminder_id: int, note: str) -> None:
    """Put a claimed reminder back to pending after Discord failed (it keeps its due time)."""
    await db.execute(
        "UPDATE reminders SET state = 'pending', sent_at = NULL, via = NULL, note = ? WHERE id = ? AND state = 'sent'",
        (note, reminder_id),
    )


async def last_sent(db: Database, dialogue_id: int, user_id: int, kind: Kind, before: int) -> datetime | None:
    """Return when the leader's previous reminder of ``kind`` (other than ``before``) was sent."""
    row = await db.fetchone(
        "SELECT MAX(sent_at) AS sent_at FROM reminders WHERE dialogue_id = ? AND user_id = ? AND kind = ? "
        "AND state = 'sent' AND id <> ?",
        (dialogue_id, user_id, kind.value, before),
    )
    return maybe_from_epoch(row["sent_at"]) if row else None


# ----- what check-ins and the status report count ---------------------------------------------------


async def leaders_thread(db: Database, dialogue_id: int) -> int | None:
    """Return the id of the dialogue's private Leaders thread, if it was made."""
    row = await db.fetchone(
        "SELECT thread_id FROM threads WHERE dialogue_id = ? AND origin = 'leaders'", (dialogue_id,)
    )
    return row["thread_id"] if row else None


async def post_count(
    db: Database, dialogue_id: int, *, author_id: int | None = None, since: datetime | None = None
) -> int:
    """Count live posts in the dialogue (not the Leaders thread), by one author and/or after ``since``."""
    sql = f"SELECT COUNT(*) AS n FROM posts p WHERE p.dialogue_id = ? AND p.deleted_at IS NULL AND {_NOT_BACKSTAGE}"
    params: list[object] = [dialogue_id]
    if author_id is not None:
        sql += " AND p.author_id = ?"
        params.append(author_id)
    if since is not None:
        sql += " AND p.created_at > ?"
        params.append(to_epoch(since))
    row = await db.fetchone(sql, params)
    return int(row["n"]) if row else 0


async def unanswered(db: Database, dialogue_id: int, channel_id: int, older_than: datetime) -> list[UnansweredPost]:
    """Return live posts made before ``older_than`` that nobody else has answered, oldest first.

    A post is answered when another person replied to it (Discord's reply) or posted after it in the same
    thread: in a thread the next voice is the answer, whether or not it used the reply button. So what is
    listed is where a conversation stopped on someone's words. Posts in the Leaders thread are not counted.
    """
    rows = await db.fetchall(
        "SELECT p.message_id, p.thread_id, p.author_name, p.created_at, t.title FROM posts p "
        "LEFT JOIN threads t ON t.thread_id = p.thread_id "
        f"WHERE p.dialogue_id = ? AND p.deleted_at IS NULL AND p.created_at <= ? AND {_NOT_BACKSTAGE} "
        "AND NOT EXISTS (SELECT 1 FROM posts r WHERE r.reply_to_id = p.message_id AND r.deleted_at IS NULL "
        "AND r.author_id <> p.author_id) "
        "AND NOT (p.thread_id IS NOT NULL AND EXISTS (SELECT 1 FROM posts o "
        "WHERE o.thread_id = p.thread_id AND o.message_id > p.message_id AND o.deleted_at IS NULL "
        "AND o.author_id <> p.author_id)) "
        "ORDER BY p.created_at, p.message_id",
        (dialogue_id, to_epoch(older_than)),
    )
    return [
        UnansweredPost(
            message_id=row["message_id"],
            channel_id=row["thread_id"] or channel_id,
            author_name=row["author_name"],
            where=row["title"] or "",
            created_at=from_epoch(row["created_at"]),
        )
        for row in rows
    ]
