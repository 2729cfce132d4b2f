"""What the activity chart reads: posts per thread per quarter hour, the threads in order, who wrote."""

from __future__ import annotations

from bot.domain.activity import BUCKET_SECONDS, ActivityCount, ThreadLabel

from .connection import Database
from .timeutil import from_epoch

__all__ = ("activity_counts", "authors", "thread_titles")


async def activity_counts(db: Database, dialogue_id: int) -> list[ActivityCount]:
    """Live posts per thread per quarter hour (integer division of the epoch: portable SQL, one grouped scan).

    The days are bucketed by the caller in the dialogue's zone; a quarter hour never straddles a local midnight.
    """
    rows = await db.fetchall(
        f"SELECT thread_id, created_at / {BUCKET_SECONDS} AS bucket, COUNT(*) AS posts FROM posts "
        f"WHERE dialogue_id = ? AND deleted_at IS NULL GROUP BY thread_id, created_at / {BUCKET_SECONDS}",
        (dialogue_id,),
    )
    return [ActivityCount(row["thread_id"], from_epoch(row["bucket"] * BUCKET_SECONDS), row["posts"]) for row in rows]


async def thread_titles(db: Database, dialogue_id: int) -> list[ThreadLabel]:
    """The dialogue's public threads with their titles, in the order they were made (the leaders' room left out)."""
    rows = await db.fetchall(
        "SELECT thread_id, title FROM threads WHERE dialogue_id = ? AND origin <> 'leaders' "
        "ORDER BY created_at, thread_id",
        (dialogue_id,),
    )
    return [ThreadLabel(row["thread_id"], row["title"]) for row in rows]


async def authors(db: Database, dialogue_id: int) -> list[tuple[int, str]]:
    """Everyone who posted, with each name they posted under, in order of their first post."""
    rows = await db.fetchall(
        "SELECT author_id, author_name, MIN(message_id) AS first FROM posts "
        "WHERE dialogue_id = ? AND author_name <> '' GROUP BY author_id, author_name ORDER BY first",
        (dialogue_id,),
    )
    return [(row["author_id"], row["author_name"]) for row in rows]
