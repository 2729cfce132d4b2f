"""Retention: which closed dialogues' post texts are due to be purged, purging them, and when it happened."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from .connection import Database
from .shards import Ownership, owned
from .timeutil import maybe_from_epoch, to_epoch

__all__ = ("Retention", "due", "next_due", "purge", "retention")

# A closed dialogue whose closing steps are recorded (the channel lock took effect, so no post arrives any more)
# and whose text is still kept.
_KEPT = "state = 'closed' AND locked_at IS NOT NULL AND closed_at IS NOT NULL AND transcript_purged_at IS NULL"


@dataclass(frozen=True, slots=True)
class Retention:
    """A dialogue's transcript: when it was purged, and the instant its retention counts from (None: not yet)."""

    purged_at: datetime | None
    counted_from: datetime | None


# Retention counts from the summary once it is posted, else from the close.
_BASE = "COALESCE(summary_posted_at, closed_at)"


async def next_due(db: Database, keep: timedelta, ownership: Ownership | None = None) -> datetime | None:
    """The earliest instant a kept transcript (of an owned guild) falls due for purging."""
    base = _BASE
    mine, params = owned(ownership)
    row = await db.fetchone(f"SELECT MIN({base}) AS earliest FROM dialogues WHERE {_KEPT}{mine}", params)
    earliest = maybe_from_epoch(row["earliest"] if row else None)
    return None if earliest is None else earliest + keep


async def due(db: Database, now: datetime, keep: timedelta, ownership: Ownership | None = None) -> list[int]:
    """The dialogues (of owned guilds) whose transcript is due for purging at ``now``, oldest first."""
    base = _BASE
    mine, params = owned(ownership)
    rows = await db.fetchall(
        f"SELECT id FROM dialogues WHERE {_KEPT} AND {base} <= ?{mine} ORDER BY {base}, id",
        (to_epoch(now - keep), *params),
    )
    return [row["id"] for row in rows]


async def purge(db: Database, dialogue_id: int, now: datetime) -> int | None:
    """Empty the text of every post of a dialogue and record when, in one transaction.

    Compare-and-set: a dialogue already purged (or not closed and locked) is left alone and None is returned;
    otherwise the number of posts whose text was emptied. Counts are kept by the tallies, which follow deletions
    only, so they stay.
    """
    async with db.transaction():
        marked = await db.execute(
            f"UPDATE dialogues SET transcript_purged_at = ? WHERE id = ? AND {_KEPT}", (to_epoch(now), dialogue_id)
        )
        if not marked:
            return None
        # Attachment links go with the text (migration 0015 keeps them per post).
        await db.execute(
            "DELETE FROM post_attachments WHERE message_id IN (SELECT message_id FROM posts WHERE dialogue_id = ?)",
            (dialogue_id,),
        )
        # A post on someone's behalf keeps its text as written down for its step (migration 0014): it goes too.
        await db.execute("UPDATE proxy_posts SET content = '' WHERE dialogue_id = ? AND content <> ''", (dialogue_id,))
        # The survey's written answers are text too; its ratings (the aggregates) stay.
        await db.execute(
            "UPDATE survey_responses SET answer_1 = '', answer_2 = '', answer_3 = '' WHERE dialogue_id = ?",
            (dialogue_id,),
        )
        return await db.execute("UPDATE posts SET content = '' WHERE dialogue_id = ? AND content <> ''", (dialogue_id,))


async def retention(db: Database, dialogue_id: int) -> Retention:
    """When a dialogue's transcript was purged, and the instant its retention counts from."""
    base = _BASE
    row = await db.fetchone(
        f"SELECT transcript_purged_at, CASE WHEN state = 'closed' THEN {base} END AS counted_from "
        "FROM dialogues WHERE id = ?",
        (dialogue_id,),
    )
    if row is None:
        return Retention(None, None)
    return Retention(maybe_from_epoch(row["transcript_purged_at"]), maybe_from_epoch(row["counted_from"]))
