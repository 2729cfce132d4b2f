"""Queries on posts made on someone's behalf: each one a step, written before it is sent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .connection import Database, Row
from .timeutil import from_epoch, to_epoch

__all__ = ("ProxyPost", "add", "forget", "get", "mark_posted", "open_threads", "pending", "thread_locked")


@dataclass(frozen=True, slots=True)
class ProxyPost:
    """One post on someone's behalf; ``message_id`` is None until it is posted and recorded."""

    id: int
    dialogue_id: int
    thread_id: int
    name: str
    content: str
    facilitator_id: int
    created_at: datetime
    message_id: int | None


_COLUMNS = "id, dialogue_id, thread_id, name, content, facilitator_id, created_at, message_id"


def _proxy(row: Row) -> ProxyPost:
    return ProxyPost(
        id=row["id"],
        dialogue_id=row["dialogue_id"],
        thread_id=row["thread_id"],
        name=row["name"],
        content=row["content"],
        facilitator_id=row["facilitator_id"],
        created_at=from_epoch(row["created_at"]),
        message_id=row["message_id"],
    )


async def add(
    db: Database, dialogue_id: int, thread_id: int, name: str, content: str, facilitator_id: int, now: datetime
) -> ProxyPost:
    """Write down a post to make on someone's behalf, before it is sent; return it with its id."""
    proxy_id = await db.insert(
        "INSERT INTO proxy_posts (dialogue_id, thread_id, name, content, facilitator_id, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (dialogue_id, thread_id, name, content, facilitator_id, to_epoch(now)),
    )
    found = await get(db, proxy_id)
    assert found is not None
    return found


async def get(db: Database, proxy_id: int) -> ProxyPost | None:
    """Return one post on someone's behalf by id."""
    row = await db.fetchone(f"SELECT {_COLUMNS} FROM proxy_posts WHERE id = ?", (proxy_id,))
    return _proxy(row) if row else None


async def pending(db: Database, dialogue_id: int) -> list[ProxyPost]:
    """Return the dialogue's posts on someone's behalf that are written down but not yet recorded as posted."""
    rows = await db.fetchall(
        f"SELECT {_COLUMNS} FROM proxy_posts WHERE dialogue_id = ? AND message_id IS NULL ORDER BY id",
        (dialogue_id,),
    )
    return [_proxy(row) for row in rows]


async def mark_posted(db: Database, proxy_id: int, message_id: int) -> None:
    """Record the message that carries a post on someone's behalf."""
    await db.execute("UPDATE proxy_posts SET message_id = ? WHERE id = ?", (message_id, proxy_id))


async def forget(db: Database, proxy_id: int) -> None:
    """Drop a post that Discord refused (nothing was posted): the facilitator was told and may try again."""
    await db.execute("DELETE FROM proxy_posts WHERE id = ? AND message_id IS NULL", (proxy_id,))


async def thread_locked(db: Database, thread_id: int) -> bool:
    """Return whether a recorded thread was locked by the dialogue's closing."""
    row = await db.fetchone("SELECT locked_at FROM threads WHERE thread_id = ?", (thread_id,))
    return bool(row and row["locked_at"] is not None)


async def open_threads(db: Database, dialogue_id: int) -> list[tuple[int, str]]:
    """Return (thread id, title) of the dialogue's public threads that are not locked, oldest first."""
    rows = await db.fetchall(
        "SELECT thread_id, title FROM threads WHERE dialogue_id = ? AND origin <> 'leaders' AND locked_at IS NULL "
        "ORDER BY created_at, thread_id",
        (dialogue_id,),
    )
    return [(row["thread_id"], row["title"]) for row in rows]
