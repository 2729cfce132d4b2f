"""Queries on a dialogue's summary: its text and revision, and the record of each step that posts it."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from bot.domain.models import BotMessageKind

from .connection import Database
from .timeutil import to_epoch

__all__ = (
    "SummaryPart",
    "SummaryRecord",
    "begin",
    "complete",
    "forget_part",
    "get",
    "mark_linked",
    "mark_pinned",
    "parts",
    "record_part",
)


class SummaryRecord(NamedTuple):
    """The current summary of a dialogue and what its steps recorded."""

    text: str
    revision: int
    parts: int
    pinned_id: int | None
    linked_id: int | None
    posted_at: int | None  # epoch seconds; None while a part of this revision is missing


class SummaryPart(NamedTuple):
    """One posted summary message: its part number, where it is, and the revision it shows."""

    part: int
    channel_id: int
    message_id: int
    revision: int | None


async def get(db: Database, dialogue_id: int) -> SummaryRecord | None:
    """Return the dialogue's current summary, or None if none was ever submitted."""
    row = await db.fetchone(
        "SELECT summary_text, summary_revision, summary_parts, summary_pinned_id, summary_linked_id, "
        "summary_posted_at FROM dialogues WHERE id = ? AND summary_text IS NOT NULL",
        (dialogue_id,),
    )
    if row is None:
        return None
    return SummaryRecord(
        text=row["summary_text"],
        revision=row["summary_revision"],
        parts=row["summary_parts"],
        pinned_id=row["summary_pinned_id"],
        linked_id=row["summary_linked_id"],
        posted_at=row["summary_posted_at"],
    )


async def begin(db: Database, dialogue_id: int, text: str, parts: int, wake_at: datetime) -> int:
    """Store a new summary text as the next revision, not yet posted, due at ``wake_at``; return the revision.

    One statement: a crash after it leaves the record saying what is to post, and the timer comes back for it.
    """
    rows = await db.returning(
        "UPDATE dialogues SET summary_text = ?, summary_revision = summary_revision + 1, summary_parts = ?, "
        "summary_posted_at = NULL, wake_at = ? WHERE id = ? RETURNING summary_revision",
        (text, parts, to_epoch(wake_at), dialogue_id),
    )
    revision: int = rows[0]["summary_revision"]
    return revision


async def parts(db: Database, dialogue_id: int) -> dict[int, SummaryPart]:
    """Return {part: posted message} of every summary message recorded, whatever its revision."""
    rows = await db.fetchall(
        "SELECT part, channel_id, message_id, revision FROM bot_messages WHERE dialogue_id = ? AND kind = ? "
        "ORDER BY part",
        (dialogue_id, BotMessageKind.SUMMARY),
    )
    return {
        row["part"]: SummaryPart(row["part"], row["channel_id"], row["message_id"], row["revision"]) for row in rows
    }


async def record_part(
    db: Database, dialogue_id: int, part: int, channel_id: int, message_id: int, revision: int, now: datetime
) -> None:
    """Record that a summary part shows ``revision`` (a new message, or one edited in place)."""
    await db.execute(
        "INSERT INTO bot_messages (dialogue_id, kind, part, channel_id, message_id, posted_at, revision) "
        "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (dialogue_id, kind, part) DO UPDATE SET "
        "channel_id = excluded.channel_id, message_id = excluded.message_id, revision = excluded.revision",
        (dialogue_id, BotMessageKind.SUMMARY, part, channel_id, message_id, to_epoch(now), revision),
    )


async def forget_part(db: Database, dialogue_id: int, part: int) -> None:
    """Forget a surplus summary part once its message is deleted."""
    await db.execute(
        "DELETE FROM bot_messages WHERE dialogue_id = ? AND kind = ? AND part = ?",
        (dialogue_id, BotMessageKind.SUMMARY, part),
    )


async def mark_pinned(db: Database, dialogue_id: int, message_id: int) -> None:
    """Record which message is pinned as the summary's first part."""
    await db.execute("UPDATE dialogues SET summary_pinned_id = ? WHERE id = ?", (message_id, dialogue_id))


async def mark_linked(db: Database, dialogue_id: int, message_id: int) -> None:
    """Record that the wrap-up links to this message (the summary's first part)."""
    await db.execute("UPDATE dialogues SET summary_linked_id = ? WHERE id = ?", (message_id, dialogue_id))


async def complete(db: Database, dialogue_id: int, revision: int, now: datetime) -> bool:
    """Record that every part of ``revision`` is posted (only if it is still the current one); return if now."""
    changed = await db.execute(
        "UPDATE dialogues SET summary_posted_at = ? "
        "WHERE id = ? AND summary_revision = ? AND summary_posted_at IS NULL",
        (to_epoch(now), dialogue_id, revision),
    )
    return changed == 1
