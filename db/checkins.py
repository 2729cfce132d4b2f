"""What leaders' check-ins and the status report count: posts by leader, new posts, posts waiting for a reply.

Every query here is answered from indexes (see migration 0007 and tests/db/test_query_plans.py): none reads
all posts, and none reads the posts once per post.
"""

from __future__ import annotations

from datetime import datetime

from bot.domain.reminders import CheckinCounts, LeaderCounts, UnansweredPost

from .connection import Database
from .timeutil import from_epoch, to_epoch

__all__ = ("checkin_counts", "leader_counts", "unanswered")

# Posts in the Leaders thread are backstage talk: they count neither as dialogue posts nor as unanswered.
_NOT_BACKSTAGE = (
    "(p.thread_id IS NULL OR p.thread_id NOT IN "
    "(SELECT b.thread_id FROM threads b WHERE b.dialogue_id = ? AND b.origin = 'leaders'))"
)


async def checkin_counts(
    db: Database, dialogue_id: int, user_id: int, *, day_start: datetime, since: datetime
) -> CheckinCounts:
    """Count what one check-in reports, in one query of four index counts.

    The leader's own posts after ``day_start`` and in total (posts by author), the dialogue's posts in total
    and after ``since`` (live posts by time, read from the index alone).
    """
    live = f"SELECT COUNT(*) FROM posts p WHERE p.dialogue_id = ? AND p.deleted_at IS NULL AND {_NOT_BACKSTAGE}"
    own = f"{live} AND p.author_id = ?"
    row = await db.fetchone(
        f"SELECT ({live}) AS total, ({live} AND p.created_at > ?) AS new_since, ({own}) AS own_total, "
        f"({own} AND p.created_at > ?) AS own_last_day",
        (
            *(dialogue_id, dialogue_id),
            *(dialogue_id, dialogue_id, to_epoch(since)),
            *(dialogue_id, dialogue_id, user_id),
            *(dialogue_id, dialogue_id, user_id, to_epoch(day_start)),
        ),
    )
    assert row is not None
    return CheckinCounts(
        own_last_day=int(row["own_last_day"]),
        own_total=int(row["own_total"]),
        total=int(row["total"]),
        new_since_last=int(row["new_since"]),
    )


async def leader_counts(db: Database, dialogue_id: int, day_start: datetime) -> dict[int, LeaderCounts]:
    """Return every active leader's posts after ``day_start`` and in total, in one query (by leader id).

    Each count is an index seek on posts(dialogue_id, author_id, created_at): the cost follows the leaders'
    own posts, not the dialogue's.
    """
    own = (
        "SELECT COUNT(*) FROM posts p WHERE p.dialogue_id = l.dialogue_id AND p.author_id = l.user_id "
        f"AND p.deleted_at IS NULL AND {_NOT_BACKSTAGE}"
    )
    rows = await db.fetchall(
        f"SELECT l.user_id, ({own}) AS total, ({own} AND p.created_at > ?) AS last_day "
        "FROM leaders l WHERE l.dialogue_id = ? AND l.removed_at IS NULL",
        (dialogue_id, dialogue_id, to_epoch(day_start), dialogue_id),
    )
    return {row["user_id"]: LeaderCounts(last_day=int(row["last_day"]), total=int(row["total"])) for row in rows}


async def unanswered(db: Database, dialogue_id: int, channel_id: int, older_than: datetime) -> list[UnansweredPost]:
    """Return live posts made before ``older_than`` that nobody else has answered, oldest first.

    A post is answered when another person replied to it (Discord's reply) or posted after it in the same
    thread: in a thread the next voice is the answer, whether or not it used the reply button. So what is
    listed is where a conversation stopped on someone's words. Posts in the Leaders thread are not counted.

    Set-based: per thread, the last live post names its author; the last live post by anyone else is the
    boundary, and only the posts after it (that author's final run) can be waiting. Each step is an index
    seek from the end of the thread, so the cost follows the number of threads, not of posts.
    """
    older = to_epoch(older_than)
    rows = await db.fetchall(
        "WITH lasts AS ("
        " SELECT t.thread_id, t.title, (SELECT l.author_id FROM posts l WHERE l.thread_id = t.thread_id"
        " AND l.deleted_at IS NULL ORDER BY l.message_id DESC LIMIT 1) AS author_id"
        " FROM threads t WHERE t.dialogue_id = ? AND t.origin <> 'leaders'"
        "), bounds AS ("
        " SELECT s.thread_id, s.title, s.author_id, COALESCE((SELECT o.message_id FROM posts o"
        " WHERE o.thread_id = s.thread_id AND o.deleted_at IS NULL AND o.author_id <> s.author_id"
        " ORDER BY o.message_id DESC LIMIT 1), 0) AS after_id"
        " FROM lasts s WHERE s.author_id IS NOT NULL"
        ") "
        "SELECT p.message_id, p.thread_id, p.author_name, p.created_at, b.title FROM bounds b "
        # Reached from each thread's boundary through posts(thread_id, message_id): only the final runs are read.
        "JOIN posts p ON p.thread_id = b.thread_id AND p.message_id > b.after_id "
        "WHERE p.deleted_at IS NULL AND p.created_at <= ? "
        "AND NOT EXISTS (SELECT 1 FROM posts r WHERE r.reply_to_id = p.message_id AND r.deleted_at IS NULL "
        "AND r.author_id <> p.author_id) "
        "UNION ALL "
        # A top-level post keeps thread_id NULL only when giving it a thread failed: replies alone answer it.
        "SELECT p.message_id, p.thread_id, p.author_name, p.created_at, NULL AS title FROM posts p "
        "WHERE p.dialogue_id = ? AND p.thread_id IS NULL AND p.deleted_at IS NULL AND p.created_at <= ? "
        "AND NOT EXISTS (SELECT 1 FROM posts r WHERE r.reply_to_id = p.message_id AND r.deleted_at IS NULL "
        "AND r.author_id <> p.author_id) "
        "ORDER BY created_at, message_id",
        (dialogue_id, older, dialogue_id, older),
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
