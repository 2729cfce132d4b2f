"""Queries on leader reminders: one row per message owed to one leader, claimed by compare-and-set."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from bot.domain.reminders import PLANNED_KINDS, Kind, Owed, Reminder, ReminderState, Via

from .connection import Database, Row
from .shards import Ownership, owned
from .timeutil import from_epoch, maybe_from_epoch, to_epoch

__all__ = (
    "add_many",
    "add_reminder",
    "apply_plan",
    "claim",
    "delete_future",
    "due",
    "get_reminder",
    "held",
    "hold",
    "last_sent",
    "next_due",
    "next_wake",
    "pending",
    "planned_rows",
    "postpone",
    "release",
    "reminders_for",
    "set_via",
    "skip",
)

_COLUMNS = "id, dialogue_id, user_id, kind, reminder_key, due_at, state, sent_at, via, body, note"
_INSERT = (
    "INSERT INTO reminders (dialogue_id, user_id, kind, reminder_key, due_at, wake_at, state, body) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (dialogue_id, user_id, reminder_key) DO NOTHING"
)
_PENDING = ReminderState.PENDING.value
_CHUNK = 500  # dialogue ids per IN (...) list: well under every database's limit on parameters


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
        via=None if row["via"] is None else Via(row["via"]),
        body=row["body"],
        note=row["note"],
    )


def _insert_row(owed: Owed, body: str | None = None) -> tuple[object, ...]:
    due = to_epoch(owed.due_at)
    return (owed.dialogue_id, owed.user_id, owed.kind.value, owed.key, due, due, _PENDING, body)


def _who(dialogue_id: int, user_id: int | None) -> tuple[str, list[object]]:
    if user_id is None:
        return "dialogue_id = ?", [dialogue_id]
    return "dialogue_id = ? AND user_id = ?", [dialogue_id, user_id]


# ----- making rows ---------------------------------------------------------------------------------


async def add_reminder(db: Database, owed: Owed, body: str | None = None) -> Reminder:
    """Make a pending reminder unless one with this key exists; return the row either way."""
    await db.execute(_INSERT, _insert_row(owed, body))
    row = await db.fetchone(
        f"SELECT {_COLUMNS} FROM reminders WHERE dialogue_id = ? AND user_id = ? AND reminder_key = ?",
        (owed.dialogue_id, owed.user_id, owed.key),
    )
    assert row is not None
    return _reminder(row)


async def add_many(db: Database, rows: Sequence[Owed]) -> None:
    """Make pending reminders in one statement batch; rows whose key exists are left as they are."""
    if rows:
        await db.executemany(_INSERT, [_insert_row(owed) for owed in rows])


async def planned_rows(
    db: Database, since: datetime, dialogue_ids: Sequence[int], *, user_id: int | None = None
) -> list[Reminder]:
    """Return the stored time-driven rows of these dialogues (of one leader) due from ``since``.

    What re-planning compares its wanted rows with, for many leaders at once (a few statements in all).
    """
    kinds = [kind.value for kind in PLANNED_KINDS]
    found: list[Reminder] = []
    for start in range(0, len(dialogue_ids), _CHUNK):
        chunk = list(dialogue_ids[start : start + _CHUNK])
        condition = (
            f"dialogue_id IN ({', '.join('?' for _ in chunk)}) AND due_at >= ? "
            f"AND kind IN ({', '.join('?' for _ in kinds)})"
        )
        params: list[object] = [*chunk, to_epoch(since), *kinds]
        if user_id is not None:
            condition += " AND user_id = ?"
            params.append(user_id)
        rows = await db.fetchall(f"SELECT {_COLUMNS} FROM reminders WHERE {condition}", params)
        found += [_reminder(row) for row in rows]
    return found


async def apply_plan(
    db: Database, drop: Sequence[int], add: Sequence[Owed], planned_with: Mapping[tuple[int, int], str]
) -> None:
    """Drop rows no longer wanted, add the missing ones and note each leader's plan inputs, in one transaction.

    ``planned_with`` maps (dialogue id, user id) to the key of the inputs the leader was planned from.
    """
    async with db.transaction():
        if drop:
            await db.executemany(
                "DELETE FROM reminders WHERE id = ? AND state = ?", [(reminder_id, _PENDING) for reminder_id in drop]
            )
        if add:
            await db.executemany(_INSERT, [_insert_row(owed) for owed in add])
        if planned_with:
            await db.executemany(
                "UPDATE leaders SET planned_with = ? WHERE dialogue_id = ? AND user_id = ?",
                [(key, dialogue_id, user_id) for (dialogue_id, user_id), key in planned_with.items()],
            )


async def delete_future(db: Database, dialogue_id: int, user_id: int, now: datetime) -> int:
    """Drop a leader's pending reminders due after ``now`` (they never happened); return how many."""
    return await db.execute(
        "DELETE FROM reminders WHERE dialogue_id = ? AND user_id = ? AND state = ? AND due_at > ?",
        (dialogue_id, user_id, _PENDING, to_epoch(now)),
    )


async def skip(
    db: Database,
    dialogue_id: int,
    user_id: int | None,
    now: datetime,
    note: str,
    *,
    reminder_id: int | None = None,
    kinds: Sequence[Kind] | None = None,
) -> int:
    """Record pending or held reminders as skipped (one, a leader's, or a dialogue's); return how many."""
    condition, params = _who(dialogue_id, user_id)
    if reminder_id is not None:
        condition += " AND id = ?"
        params.append(reminder_id)
    if kinds is not None:
        condition += f" AND kind IN ({', '.join('?' for _ in kinds)})"
        params += [kind.value for kind in kinds]
    return await db.execute(
        f"UPDATE reminders SET state = ?, sent_at = ?, note = ? WHERE {condition} AND state IN (?, ?)",
        [
            ReminderState.SKIPPED.value,
            to_epoch(now),
            note,
            *params,
            _PENDING,
            ReminderState.HELD.value,
        ],
    )


# ----- reading -------------------------------------------------------------------------------------


async def get_reminder(db: Database, reminder_id: int) -> Reminder | None:
    """Return one reminder."""
    row = await db.fetchone(f"SELECT {_COLUMNS} FROM reminders WHERE id = ?", (reminder_id,))
    return _reminder(row) if row else None


def _owned_dialogues(ownership: Ownership | None) -> tuple[str, list[int]]:
    """An ``AND dialogue_id IN (...)`` condition keeping reminders of owned guilds' dialogues (empty: all)."""
    if ownership is None:
        return "", []
    mine, params = owned(ownership)
    return f" AND dialogue_id IN (SELECT id FROM dialogues WHERE 1 = 1{mine})", params


async def due(db: Database, now: datetime, limit: int, ownership: Ownership | None = None) -> list[Reminder]:
    """Return up to ``limit`` pending reminders (of owned guilds) whose time to be tried has come, soonest first."""
    mine, params = _owned_dialogues(ownership)
    rows = await db.fetchall(
        f"SELECT {_COLUMNS} FROM reminders WHERE state = ? AND wake_at <= ?{mine} ORDER BY wake_at, id LIMIT ?",
        (_PENDING, to_epoch(now), *params, limit),
    )
    return [_reminder(row) for row in rows]


async def claim_due(
    db: Database, now: datetime, until: datetime, limit: int, ownership: Ownership | None = None
) -> list[Reminder]:
    """Lease up to ``limit`` due pending reminders to this process until ``until``, soonest first.

    The lease is the row's own ``wake_at``, moved to ``until``: no other process sees the row due before then,
    and if this one dies it falls due again then. Delivery itself still claims the row (pending -> sent) before
    sending, so a lease that runs out mid-delivery can never make a DM go twice. On PostgreSQL one statement
    takes the rows with ``FOR UPDATE SKIP LOCKED``; elsewhere each row is taken by compare-and-set.
    """
    mine, params = _owned_dialogues(ownership)
    if db.dialect == "postgresql":
        rows = await db.returning(
            f"UPDATE reminders SET wake_at = ? WHERE id IN (SELECT id FROM reminders "
            f"WHERE state = ? AND wake_at <= ?{mine} ORDER BY wake_at, id LIMIT ? FOR UPDATE SKIP LOCKED) "
            f"RETURNING {_COLUMNS}",
            (to_epoch(until), _PENDING, to_epoch(now), *params, limit),
        )
        return sorted((_reminder(row) for row in rows), key=lambda reminder: (reminder.due_at, reminder.id))
    taken: list[Reminder] = []
    for reminder in await due(db, now, limit, ownership):
        changed = await db.execute(
            "UPDATE reminders SET wake_at = ? WHERE id = ? AND state = ? AND wake_at <= ?",
            (to_epoch(until), reminder.id, _PENDING, to_epoch(now)),
        )
        if changed == 1:
            taken.append(reminder)
    return taken


async def next_wake(db: Database, ownership: Ownership | None = None) -> datetime | None:
    """Return when the earliest pending reminder (of owned guilds) is to be tried, or None if nothing is pending."""
    mine, params = _owned_dialogues(ownership)
    row = await db.fetchone(f"SELECT MIN(wake_at) AS wake FROM reminders WHERE state = ?{mine}", (_PENDING, *params))
    return maybe_from_epoch(row["wake"]) if row else None


async def next_due(
    db: Database, user_id: int, dialogue_ids: Sequence[int], kind: Kind, now: datetime
) -> datetime | None:
    """Return the leader's next pending reminder of ``kind`` in these dialogues, due at or after ``now``."""
    if not dialogue_ids:
        return None
    marks = ", ".join("?" for _ in dialogue_ids)
    row = await db.fetchone(
        "SELECT MIN(due_at) AS due FROM reminders "
        f"WHERE dialogue_id IN ({marks}) AND user_id = ? AND kind = ? AND state = ? AND due_at >= ?",
        [*dialogue_ids, user_id, kind.value, _PENDING, to_epoch(now)],
    )
    return maybe_from_epoch(row["due"]) if row else None


async def pending(db: Database) -> list[Reminder]:
    """Return every pending reminder, soonest first."""
    rows = await db.fetchall(f"SELECT {_COLUMNS} FROM reminders WHERE state = ? ORDER BY wake_at, id", (_PENDING,))
    return [_reminder(row) for row in rows]


async def reminders_for(db: Database, dialogue_id: int, user_id: int | None = None) -> list[Reminder]:
    """Return a dialogue's (or one leader's) reminders in due order."""
    condition, params = _who(dialogue_id, user_id)
    rows = await db.fetchall(f"SELECT {_COLUMNS} FROM reminders WHERE {condition} ORDER BY due_at, id", params)
    return [_reminder(row) for row in rows]


async def held(db: Database, dialogue_id: int) -> list[Reminder]:
    """Return the reminders waiting for the Leaders thread."""
    rows = await db.fetchall(
        f"SELECT {_COLUMNS} FROM reminders WHERE dialogue_id = ? AND state = ? ORDER BY due_at, id",
        (dialogue_id, ReminderState.HELD.value),
    )
    return [_reminder(row) for row in rows]


async def last_sent(db: Database, dialogue_id: int, user_id: int, kind: Kind, before: int) -> datetime | None:
    """Return when the leader's previous reminder of ``kind`` (other than ``before``) was sent."""
    row = await db.fetchone(
        "SELECT MAX(sent_at) AS sent_at FROM reminders WHERE dialogue_id = ? AND user_id = ? AND kind = ? "
        "AND state = ? AND id <> ?",
        (dialogue_id, user_id, kind.value, ReminderState.SENT.value, before),
    )
    return maybe_from_epoch(row["sent_at"]) if row else None


# ----- delivering ----------------------------------------------------------------------------------


async def claim(db: Database, reminder_id: int, now: datetime, *, source: ReminderState) -> bool:
    """Compare-and-set a reminder from ``source`` to sent; return whether this call won it."""
    changed = await db.execute(
        "UPDATE reminders SET state = ?, sent_at = ?, via = NULL WHERE id = ? AND state = ?",
        (ReminderState.SENT.value, to_epoch(now), reminder_id, source.value),
    )
    return changed == 1


async def set_via(db: Database, reminder_id: int, via: Via) -> None:
    """Record how a claimed reminder was delivered."""
    await db.execute("UPDATE reminders SET via = ? WHERE id = ?", (via.value, reminder_id))


async def hold(db: Database, reminder_id: int, body: str) -> None:
    """Keep a claimed reminder, with its text, for the Leaders thread that does not exist yet."""
    await db.execute(
        "UPDATE reminders SET state = ?, sent_at = NULL, via = NULL, body = ? WHERE id = ? AND state = ?",
        (ReminderState.HELD.value, body, reminder_id, ReminderState.SENT.value),
    )


async def release(db: Database, reminder_id: int, note: str, retry_at: datetime) -> bool:
    """Put a claimed reminder back to pending after Discord failed, to be tried at ``retry_at``."""
    changed = await db.execute(
        "UPDATE reminders SET state = ?, sent_at = NULL, via = NULL, note = ?, wake_at = ? WHERE id = ? AND state = ?",
        (_PENDING, note, to_epoch(retry_at), reminder_id, ReminderState.SENT.value),
    )
    return changed == 1


async def postpone(db: Database, reminder_id: int, retry_at: datetime) -> None:
    """Try a pending reminder again later (its delivery failed before it could be claimed)."""
    await db.execute(
        "UPDATE reminders SET wake_at = ? WHERE id = ? AND state = ?", (to_epoch(retry_at), reminder_id, _PENDING)
    )
