"""Queries on the posts recorded in dialogues, and the statistics drawn from them."""

from __future__ import annotations

from datetime import datetime

from bot.domain.models import PostStats, ThreadStats

from .connection import Database
from .timeutil import to_epoch

__all__ = ("clear", "content", "edit", "last_in_thread", "last_top_level", "record", "stats")


async def record(
    db: Database,
    *,
    message_id: int,
    dialogue_id: int,
    thread_id: int | None,
    author_id: int,
    author_name: str,
    content: str,
    created_at: datetime,
    reply_to_id: int | None,
) -> bool:
    """Record a post once; return False if it was already recorded."""
    changed = await db.execute(
        "INSERT INTO posts (message_id, dialogue_id, thread_id, author_id, author_name, content, "
        "created_at, reply_to_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (message_id) DO NOTHING",
        (
            message_id,
            dialogue_id,
            thread_id,
            author_id,
            author_name,
            content,
            to_epoch(created_at),
            reply_to_id,
        ),
    )
    return changed == 1


async def edit(db: Database, message_id: int, content: str, edited_at: datetime) -> bool:
    """Replace a live post's text; return whether the post is known."""
    changed = await db.execute(
        "UPDATE posts SET content = ?, edited_at = ? WHERE message_id = ? AND deleted_at IS NULL",
        (content, to_epoch(edited_at), message_id),
    )
    return changed == 1


async def clear(db: Database, message_ids: list[int], deleted_at: datetime) -> int:
    """Remove the text of deleted posts, keeping only that a post existed; return how many matched."""
    total = 0
    for message_id in message_ids:
        total += await db.execute(
            "UPDATE posts SET content = '', author_name = '', deleted_at = ? "
            "WHERE message_id = ? AND deleted_at IS NULL",
            (to_epoch(deleted_at), message_id),
        )
    return total


async def last_in_thread(db: Database, thread_id: int) -> int | None:
    """Return the id of the newest recorded post in a thread."""
    row = await db.fetchone("SELECT MAX(message_id) AS last FROM posts WHERE thread_id = ?", (thread_id,))
    return row["last"] if row else None


async def last_top_level(db: Database, dialogue_id: int) -> int | None:
    """Return the id of the newest recorded top-level post (each one starts a participant thread)."""
    row = await db.fetchone(
        "SELECT MAX(starter_message_id) AS last FROM threads WHERE dialogue_id = ? AND origin = 'participant'",
        (dialogue_id,),
    )
    return row["last"] if row else None


async def content(db: Database, message_id: int) -> str | None:
    """Return the recorded text of a post."""
    row = await db.fetchone("SELECT content FROM posts WHERE message_id = ?", (message_id,))
    return row["content"] if row else None


async def stats(db: Database, dialogue_id: int) -> PostStats:
    """Count live posts and distinct participants, in total and per public thread (in creation order).

    The leaders' private thread is backstage: its messages are never recorded, and it is not listed.
    """
    total = await db.fetchone(
        "SELECT COUNT(*) AS posts, COUNT(DISTINCT author_id) AS participants FROM posts "
        "WHERE dialogue_id = ? AND deleted_at IS NULL",
        (dialogue_id,),
    )
    rows = await db.fetchall(
        "SELECT t.thread_id, t.title, t.origin, COUNT(p.message_id) AS posts, "
        "COUNT(DISTINCT p.author_id) AS participants "
        "FROM threads t LEFT JOIN posts p ON p.thread_id = t.thread_id AND p.deleted_at IS NULL "
        "WHERE t.dialogue_id = ? AND t.origin <> 'leaders' GROUP BY t.thread_id, t.title, t.origin, t.created_at "
        "ORDER BY t.created_at, t.thread_id",
        (dialogue_id,),
    )
    assert total is not None
    return PostStats(
        posts=total["posts"],
        participants=total["participants"],
        threads=tuple(
            ThreadStats(
                thread_id=row["thread_id"],
                title=row["title"],
                origin=row["origin"],
                posts=row["posts"],
                participants=row["participants"],
            )
            for row in rows
        ),
    )
