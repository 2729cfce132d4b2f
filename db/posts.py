"""Queries on the posts recorded in dialogues, and the statistics drawn from them."""

from __future__ import annotations

from datetime import datetime

from bot.domain.models import PostStats, ThreadOrigin, ThreadStats

from .connection import Database
from .timeutil import to_epoch

__all__ = (
    "clear",
    "content",
    "edit",
    "last_in_thread",
    "last_top_level",
    "mark_read",
    "record",
    "stats",
    "watermarks",
)

# A dialogue takes posts while open, and after its close until the channel lock has really taken effect.
_RECORDING = "d.state = 'open' OR (d.state = 'closed' AND d.locked_at IS NULL)"


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
    """Record a post once, only while its dialogue takes posts; return whether it was recorded now.

    One statement: the dialogue's state is checked by the same INSERT (so no cached state can let a post in
    after the lock), and the per-author tally follows by trigger in the same implicit transaction.
    """
    written = await db.returning(
        "INSERT INTO posts (message_id, dialogue_id, thread_id, author_id, author_name, content, "
        "created_at, reply_to_id) SELECT ?, ?, ?, ?, ?, ?, ?, ? "
        f"WHERE EXISTS (SELECT 1 FROM dialogues d WHERE d.id = ? AND ({_RECORDING})) "
        "ON CONFLICT (message_id) DO NOTHING RETURNING message_id",
        (
            message_id,
            dialogue_id,
            thread_id,
            author_id,
            author_name,
            content,
            to_epoch(created_at),
            reply_to_id,
            dialogue_id,
        ),
    )
    return bool(written)


async def edit(db: Database, message_id: int, content: str, edited_at: datetime) -> bool:
    """Replace a live post's text unless its dialogue is locked (the record is final then); return if changed."""
    changed = await db.execute(
        "UPDATE posts SET content = ?, edited_at = ? WHERE message_id = ? AND deleted_at IS NULL "
        "AND EXISTS (SELECT 1 FROM dialogues d WHERE d.id = posts.dialogue_id AND d.locked_at IS NULL)",
        (content, to_epoch(edited_at), message_id),
    )
    return changed == 1


async def clear(db: Database, message_ids: list[int], deleted_at: datetime) -> int:
    """Remove the text of deleted posts, keeping only that a post existed; return how many matched.

    Always honoured, even after the close: a moderator's purge or an author's deletion is never undone.
    """
    total = 0
    for start in range(0, len(message_ids), _CHUNK):
        chunk = message_ids[start : start + _CHUNK]
        marks = ", ".join("?" for _ in chunk)
        total += await db.execute(
            "UPDATE posts SET content = '', author_name = '', deleted_at = ? "
            f"WHERE message_id IN ({marks}) AND deleted_at IS NULL",
            (to_epoch(deleted_at), *chunk),
        )
    return total


# Bound on the ids bound to one statement (SQLite's default limit on variables is far above it).
_CHUNK = 500


async def watermarks(db: Database, dialogue_id: int, channel_id: int) -> dict[int, int]:
    """Return {channel or thread id: newest message id known handled} from recorded posts and read marks.

    The channel's own mark counts top-level posts (each starts a thread of its own id). Per-thread maxima are
    index seeks (posts by thread and message id), never a scan of the dialogue's posts.
    """
    rows = await db.fetchall(
        "SELECT t.thread_id AS channel_id, "
        "(SELECT MAX(p.message_id) FROM posts p WHERE p.thread_id = t.thread_id) AS recorded "
        "FROM threads t WHERE t.dialogue_id = ?",
        (dialogue_id,),
    )
    marks = {row["channel_id"]: row["recorded"] or 0 for row in rows}
    top = await db.fetchone(
        "SELECT MAX(starter_message_id) AS last FROM threads WHERE dialogue_id = ? AND origin = 'participant'",
        (dialogue_id,),
    )
    loose = await db.fetchone(
        "SELECT MAX(message_id) AS last FROM posts WHERE dialogue_id = ? AND thread_id IS NULL", (dialogue_id,)
    )
    marks[channel_id] = max((top["last"] if top else None) or 0, (loose["last"] if loose else None) or 0)
    for row in await db.fetchall("SELECT channel_id, message_id FROM read_marks WHERE dialogue_id = ?", (dialogue_id,)):
        marks[row["channel_id"]] = max(marks.get(row["channel_id"], 0), row["message_id"])
    return marks


async def mark_read(db: Database, dialogue_id: int, channel_id: int, message_id: int) -> None:
    """Remember that a channel or thread was read up to ``message_id`` (bot and system messages included)."""
    await db.execute(
        "INSERT INTO read_marks (channel_id, dialogue_id, message_id) VALUES (?, ?, ?) "
        "ON CONFLICT (channel_id) DO UPDATE SET message_id = excluded.message_id "
        "WHERE excluded.message_id > read_marks.message_id",
        (channel_id, dialogue_id, message_id),
    )


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

    Read from the tallies the triggers keep per (thread, author), so the cost follows the number of threads
    and authors, not of posts. The leaders' private thread is backstage: never recorded, never listed.
    """
    total = await db.fetchone(
        "SELECT COALESCE(SUM(posts), 0) AS posts, COUNT(DISTINCT author_id) AS participants FROM post_tallies "
        "WHERE dialogue_id = ? AND posts > 0",
        (dialogue_id,),
    )
    rows = await db.fetchall(
        "SELECT t.thread_id, t.title, t.origin, COALESCE(SUM(c.posts), 0) AS posts, "
        "COUNT(c.author_id) AS participants "
        "FROM threads t LEFT JOIN post_tallies c "
        "ON c.dialogue_id = t.dialogue_id AND c.thread_id = t.thread_id AND c.posts > 0 "
        "WHERE t.dialogue_id = ? AND t.origin <> 'leaders' GROUP BY t.thread_id, t.title, t.origin, t.created_at "
        "ORDER BY t.created_at, t.thread_id",
        (dialogue_id,),
    )
    # Posts written after the window's close (kept while comments stay open until the summary): counted apart.
    # Whole seconds: a post in the very second of the close counts as the window's.
    after = await db.fetchone(
        "SELECT COUNT(*) AS posts, COUNT(DISTINCT p.author_id) AS participants FROM posts p "
        "JOIN dialogues d ON d.id = p.dialogue_id "
        "WHERE p.dialogue_id = ? AND p.deleted_at IS NULL AND d.closed_at IS NOT NULL AND p.created_at > d.closed_at",
        (dialogue_id,),
    )
    assert total is not None and after is not None
    return PostStats(
        posts=total["posts"],
        participants=total["participants"],
        posts_after=after["posts"],
        participants_after=after["participants"],
        threads=tuple(
            ThreadStats(
                thread_id=row["thread_id"],
                title=row["title"],
                origin=ThreadOrigin(row["origin"]),
                posts=row["posts"],
                participants=row["participants"],
            )
            for row in rows
        ),
    )
