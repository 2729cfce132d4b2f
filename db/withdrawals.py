"""Withdrawal: erasing the text of a member's posts at their request, and the content-free log of it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from . import search as search_db
from .connection import Database
from .timeutil import from_epoch, to_epoch

__all__ = ("Withdrawal", "WithdrawnDialogue", "log_entries", "withdraw", "withdrawable")


@dataclass(frozen=True, slots=True)
class WithdrawnDialogue:
    """How many of a member's posts in one dialogue are (or would be) withdrawn."""

    dialogue_id: int
    title: str
    posts: int
    still_open: bool


@dataclass(frozen=True, slots=True)
class Withdrawal:
    """One row of the withdrawal log: no content and no member, only when, where, how many and who asked."""

    dialogue_id: int
    posts: int
    by_facilitator: bool
    withdrawn_at: datetime


# Posts that can still be withdrawn: recorded, not deleted (already erased) and not withdrawn before.
_WITHDRAWABLE = "p.author_id = ? AND p.deleted_at IS NULL AND p.withdrawn_at IS NULL"


async def withdrawable(
    db: Database, guild_id: int, author_id: int, dialogue_id: int | None = None
) -> list[WithdrawnDialogue]:
    """Count, per dialogue of this server, a member's posts that withdrawing would erase (oldest dialogue first)."""
    only, params = _one_dialogue(dialogue_id)
    rows = await db.fetchall(
        "SELECT d.id, d.title, d.state, COUNT(*) AS posts FROM dialogues d "
        "JOIN posts p ON p.dialogue_id = d.id "
        f"WHERE d.guild_id = ?{only} AND {_WITHDRAWABLE} GROUP BY d.id, d.title, d.state ORDER BY d.id",
        (guild_id, *params, author_id),
    )
    return [WithdrawnDialogue(row["id"], row["title"], row["posts"], row["state"] == "open") for row in rows]


async def withdraw(
    db: Database,
    guild_id: int,
    author_id: int,
    dialogue_id: int | None,
    now: datetime,
    *,
    by_facilitator: bool,
) -> list[WithdrawnDialogue]:
    """Erase the text and name of a member's posts in one or every dialogue of this server; log each dialogue.

    One transaction: the posts are marked withdrawn (the search index follows by trigger) and each dialogue's
    count is logged, or nothing happens; then the index is merged so no trace of the words stays in the file.
    Posts written later are recorded as usual.
    """
    async with db.transaction():
        found = await withdrawable(db, guild_id, author_id, dialogue_id)
        if not found:
            return []
        ids = [entry.dialogue_id for entry in found]
        marks = ", ".join("?" for _ in ids)
        await db.execute(
            "UPDATE posts SET content = '', author_name = '', withdrawn_at = ? "
            f"WHERE dialogue_id IN ({marks}) AND author_id = ? AND deleted_at IS NULL AND withdrawn_at IS NULL",
            (to_epoch(now), *ids, author_id),
        )
        # The withdrawn posts' attachment links go with their text.
        await db.execute(
            "DELETE FROM post_attachments WHERE message_id IN (SELECT message_id FROM posts "
            f"WHERE dialogue_id IN ({marks}) AND author_id = ? AND withdrawn_at = ?)",
            (*ids, author_id, to_epoch(now)),
        )
        # Whoever withdrew is no longer kept to be told when a summary is out, nor asked about it.
        for table in ("notice_choices", "notices"):
            await db.execute(f"DELETE FROM {table} WHERE dialogue_id IN ({marks}) AND user_id = ?", (*ids, author_id))
        await db.executemany(
            "INSERT INTO withdrawals (guild_id, dialogue_id, posts, by_facilitator, withdrawn_at) "
            "VALUES (?, ?, ?, ?, ?)",
            [(guild_id, entry.dialogue_id, entry.posts, int(by_facilitator), to_epoch(now)) for entry in found],
        )
    # The triggers took the posts out of the index's results; merging it takes their words out of its pages.
    await search_db.forget_erased(db)
    return found


async def log_entries(db: Database, dialogue_id: int) -> list[Withdrawal]:
    """Return a dialogue's withdrawals, oldest first."""
    rows = await db.fetchall(
        "SELECT dialogue_id, posts, by_facilitator, withdrawn_at FROM withdrawals WHERE dialogue_id = ? ORDER BY id",
        (dialogue_id,),
    )
    return [
        Withdrawal(row["dialogue_id"], row["posts"], bool(row["by_facilitator"]), from_epoch(row["withdrawn_at"]))
        for row in rows
    ]


def _one_dialogue(dialogue_id: int | None) -> tuple[str, tuple[int, ...]]:
    return (" AND d.id = ?", (dialogue_id,)) if dialogue_id is not None else ("", ())
