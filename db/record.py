"""Queries that read a dialogue's record for an export: its threads in reading order and its posts, page by page."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.domain.models import Attachment, ThreadOrigin

from .connection import Database
from .timeutil import from_epoch, maybe_from_epoch

__all__ = (
    "Author",
    "RecordedPost",
    "RecordedThread",
    "attachments",
    "authors",
    "leader_ids",
    "posts",
    "threads",
    "withdrawn_author_ids",
)


def _shown(alias: str) -> str:
    """The condition for a post an export shows: not deleted, not withdrawn by its author."""
    return f"{alias}.deleted_at IS NULL AND {alias}.withdrawn_at IS NULL"


@dataclass(frozen=True, slots=True)
class RecordedThread:
    """A public thread of a dialogue, with the seed question it belongs to and when its first post was made."""

    thread_id: int
    origin: ThreadOrigin
    title: str
    question: int | None  # the seed question's position
    started_at: datetime


@dataclass(frozen=True, slots=True)
class RecordedPost:
    """One shown post, with the shown post it answers (if it answers one)."""

    message_id: int
    thread_id: int | None
    author_id: int
    author_name: str
    content: str
    created_at: datetime
    edited_at: datetime | None
    reply_to_id: int | None
    reply_to_author_id: int | None
    reply_to_author_name: str | None


@dataclass(frozen=True, slots=True)
class Author:
    """A name someone posted under in a dialogue (one person may have posted under several)."""

    author_id: int
    name: str


async def threads(db: Database, dialogue_id: int) -> list[RecordedThread]:
    """The public threads in reading order: seed threads by question, then the others by their first post.

    A thread's start is its first recorded post (a thread adopted during catch-up is recorded later than it
    began), or when it was recorded if it has none; the first post is an index seek per thread.
    """
    rows = await db.fetchall(
        "SELECT t.thread_id, t.origin, t.title, q.position, COALESCE("
        "(SELECT p.created_at FROM posts p WHERE p.thread_id = t.thread_id ORDER BY p.message_id LIMIT 1), "
        "t.created_at) AS started_at "
        "FROM threads t LEFT JOIN questions q ON q.dialogue_id = t.dialogue_id AND q.thread_id = t.thread_id "
        "WHERE t.dialogue_id = ? AND t.origin <> ?",
        (dialogue_id, ThreadOrigin.LEADERS.value),
    )
    found = [
        RecordedThread(
            thread_id=row["thread_id"],
            origin=ThreadOrigin(row["origin"]),
            title=row["title"],
            question=row["position"],
            started_at=from_epoch(row["started_at"]),
        )
        for row in rows
    ]
    return sorted(
        found,
        key=lambda t: (
            t.question is None,
            t.question or 0,
            t.started_at,
            t.thread_id,
        ),
    )


async def posts(
    db: Database, dialogue_id: int, thread_id: int | None, *, after: int = 0, limit: int = 500
) -> list[RecordedPost]:
    """One page of a thread's shown posts (``thread_id`` None: top-level posts), oldest first, after a post id.

    Keyset pages: each page is an index range read, and no page holds the database past its own statement.
    """
    where = "p.thread_id = ?" if thread_id is not None else "p.dialogue_id = ? AND p.thread_id IS NULL"
    rows = await db.fetchall(
        "SELECT p.message_id, p.thread_id, p.author_id, p.author_name, p.content, p.created_at, p.edited_at, "
        "r.message_id AS reply_id, r.author_id AS reply_author_id, r.author_name AS reply_author_name "
        "FROM posts p LEFT JOIN posts r ON r.message_id = p.reply_to_id AND r.dialogue_id = p.dialogue_id "
        f"AND {_shown('r')} "
        f"WHERE {where} AND p.dialogue_id = ? AND {_shown('p')} AND p.message_id > ? "
        "ORDER BY p.message_id LIMIT ?",
        (thread_id if thread_id is not None else dialogue_id, dialogue_id, after, limit),
    )
    return [
        RecordedPost(
            message_id=row["message_id"],
            thread_id=row["thread_id"],
            author_id=row["author_id"],
            author_name=row["author_name"],
            content=row["content"],
            created_at=from_epoch(row["created_at"]),
            edited_at=maybe_from_epoch(row["edited_at"]),
            reply_to_id=row["reply_id"],
            reply_to_author_id=row["reply_author_id"],
            reply_to_author_name=row["reply_author_name"],
        )
        for row in rows
    ]


async def attachments(db: Database, message_ids: Sequence[int]) -> dict[int, tuple[Attachment, ...]]:
    """The attachments of some posts, by post, in the order they were attached."""
    found: dict[int, list[Attachment]] = {}
    for start in range(0, len(message_ids), _CHUNK):
        chunk = list(message_ids[start : start + _CHUNK])
        marks = ", ".join("?" for _ in chunk)
        rows = await db.fetchall(
            "SELECT message_id, filename, url, content_type, size FROM post_attachments "
            f"WHERE message_id IN ({marks}) ORDER BY message_id, position",
            chunk,
        )
        for row in rows:
            found.setdefault(row["message_id"], []).append(
                Attachment(row["filename"], row["url"], row["content_type"], row["size"])
            )
    return {message_id: tuple(items) for message_id, items in found.items()}


# Bound on the ids bound to one statement.
_CHUNK = 500


async def authors(db: Database, dialogue_id: int) -> list[Author]:
    """Every (author, name) pair among the dialogue's posts, in order of first appearance, withdrawn ones included.

    Names of removed posts still count: pseudonymisation must replace them wherever other posts mention them.
    """
    rows = await db.fetchall(
        "SELECT author_id, author_name, MIN(message_id) AS first FROM posts "
        "WHERE dialogue_id = ? AND author_name <> '' GROUP BY author_id, author_name ORDER BY first",
        (dialogue_id,),
    )
    return [Author(row["author_id"], row["author_name"]) for row in rows]


async def withdrawn_author_ids(db: Database, dialogue_id: int) -> list[int]:
    """Everyone who withdrew posts from the dialogue (their names are erased; others' posts may still name them)."""
    rows = await db.fetchall(
        "SELECT DISTINCT author_id FROM posts WHERE dialogue_id = ? AND withdrawn_at IS NOT NULL ORDER BY author_id",
        (dialogue_id,),
    )
    return [row["author_id"] for row in rows]


async def leader_ids(db: Database, dialogue_id: int) -> list[int]:
    """Everyone who was a conversation leader of the dialogue at any time."""
    rows = await db.fetchall("SELECT user_id FROM leaders WHERE dialogue_id = ? ORDER BY added_at", (dialogue_id,))
    return [row["user_id"] for row in rows]
