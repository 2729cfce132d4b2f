"""Queries on summary notices: members' choices, the recipients drawn up once, and each notice claimed once."""

from __future__ import annotations

from datetime import datetime

from bot.domain.notices import Choice, NoticeState, NoticeTally

from .connection import Database
from .timeutil import maybe_from_epoch, to_epoch

__all__ = (
    "attempts",
    "choice",
    "choice_counts",
    "claim",
    "claimed",
    "finish",
    "mark_reported",
    "next_batch",
    "notice_state",
    "plan",
    "release",
    "resume_at",
    "set_choice",
    "set_resume_at",
    "tally",
)

_PENDING = NoticeState.PENDING.value
_SENDING = NoticeState.SENDING.value


async def set_choice(db: Database, dialogue_id: int, user_id: int, choice: Choice, now: datetime) -> bool:
    """Record a member's press (the latest wins); an opt-out also withdraws a notice not yet sent.

    Return whether the choice changed (a repeated press changes nothing).
    """
    async with db.transaction():
        changed = await db.execute(
            "INSERT INTO notice_choices (dialogue_id, user_id, choice, chosen_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (dialogue_id, user_id) DO UPDATE SET choice = excluded.choice, chosen_at = excluded.chosen_at "
            "WHERE notice_choices.choice <> excluded.choice",
            (dialogue_id, user_id, choice.value, to_epoch(now)),
        )
        if choice is Choice.OPT_OUT:
            await db.execute(
                "UPDATE notices SET state = ?, updated_at = ? WHERE dialogue_id = ? AND user_id = ? AND state = ?",
                (NoticeState.SKIPPED.value, to_epoch(now), dialogue_id, user_id, _PENDING),
            )
    return changed == 1


async def choice(db: Database, dialogue_id: int, user_id: int) -> Choice | None:
    """Return a member's latest press for a dialogue, if any."""
    row = await db.fetchone(
        "SELECT choice FROM notice_choices WHERE dialogue_id = ? AND user_id = ?", (dialogue_id, user_id)
    )
    return Choice(row["choice"]) if row else None


async def choice_counts(db: Database, dialogue_id: int) -> tuple[int, int]:
    """Return how many members asked to be told by the button, and how many opted out."""
    rows = await db.fetchall(
        "SELECT choice, COUNT(*) AS n FROM notice_choices WHERE dialogue_id = ? GROUP BY choice", (dialogue_id,)
    )
    counts = {row["choice"]: row["n"] for row in rows}
    return counts.get(Choice.NOTIFY.value, 0), counts.get(Choice.OPT_OUT.value, 0)


async def plan(db: Database, dialogue_id: int, bot_id: int, now: datetime) -> bool:
    """Draw up the recipients once: everyone who posted, and those who asked, but not those who opted out.

    Posters are the live authors of the dialogue's posts with a Discord user id: pseudo-authors (webhook and
    proxy posts, negative ids) and the bot are left out. One transaction with the run's row, so a crash leaves
    either both or neither; return False when the recipients were already drawn up (nothing is added then).
    """
    async with db.transaction():
        started = await db.execute(
            "INSERT INTO notice_runs (dialogue_id, planned_at) VALUES (?, ?) ON CONFLICT (dialogue_id) DO NOTHING",
            (dialogue_id, to_epoch(now)),
        )
        if started != 1:
            return False
        await db.execute(
            "INSERT INTO notices (dialogue_id, user_id, state, attempts, updated_at) "
            "SELECT ?, r.user_id, ?, 0, ? FROM ("
            "  SELECT t.author_id AS user_id FROM post_tallies t WHERE t.dialogue_id = ? AND t.posts > 0"
            "  AND t.author_id > 0 AND EXISTS (SELECT 1 FROM posts p"
            "    WHERE p.dialogue_id = t.dialogue_id AND p.author_id = t.author_id AND p.withdrawn_at IS NULL)"
            "  UNION"
            "  SELECT user_id FROM notice_choices WHERE dialogue_id = ? AND choice = ?"
            ") r "
            "WHERE r.user_id <> ? AND NOT EXISTS (SELECT 1 FROM notice_choices c "
            "  WHERE c.dialogue_id = ? AND c.user_id = r.user_id AND c.choice = ?) "
            "ON CONFLICT (dialogue_id, user_id) DO NOTHING",
            (
                dialogue_id,
                _PENDING,
                to_epoch(now),
                dialogue_id,
                dialogue_id,
                Choice.NOTIFY.value,
                bot_id,
                dialogue_id,
                Choice.OPT_OUT.value,
            ),
        )
    return True


async def claimed(db: Database, dialogue_id: int) -> list[int]:
    """Return the recipients whose send was claimed but never confirmed (an interrupted send)."""
    rows = await db.fetchall(
        "SELECT user_id FROM notices WHERE dialogue_id = ? AND state = ? ORDER BY user_id", (dialogue_id, _SENDING)
    )
    return [row["user_id"] for row in rows]


async def next_batch(db: Database, dialogue_id: int, limit: int) -> list[int]:
    """Return up to ``limit`` recipients still owed their notice, those tried least first."""
    rows = await db.fetchall(
        "SELECT user_id FROM notices WHERE dialogue_id = ? AND state = ? ORDER BY attempts, user_id LIMIT ?",
        (dialogue_id, _PENDING, limit),
    )
    return [row["user_id"] for row in rows]


async def claim(db: Database, dialogue_id: int, user_id: int, now: datetime) -> bool:
    """Claim one pending notice before its DM is sent (compare-and-set); return whether this call claimed it."""
    changed = await db.execute(
        "UPDATE notices SET state = ?, attempts = attempts + 1, updated_at = ? "
        "WHERE dialogue_id = ? AND user_id = ? AND state = ?",
        (_SENDING, to_epoch(now), dialogue_id, user_id, _PENDING),
    )
    return changed == 1


async def finish(
    db: Database, dialogue_id: int, user_id: int, state: NoticeState, now: datetime, note: str | None = None
) -> None:
    """Record how a claimed notice ended: sent, DMs closed, or failed for good."""
    await db.execute(
        "UPDATE notices SET state = ?, updated_at = ?, note = ? WHERE dialogue_id = ? AND user_id = ? AND state = ?",
        (state.value, to_epoch(now), note, dialogue_id, user_id, _SENDING),
    )


async def release(db: Database, dialogue_id: int, user_id: int, now: datetime, note: str) -> None:
    """Give a claimed notice back (Discord failed, not refused): it is tried again with the next batch."""
    await db.execute(
        "UPDATE notices SET state = ?, updated_at = ?, note = ? WHERE dialogue_id = ? AND user_id = ? AND state = ?",
        (_PENDING, to_epoch(now), note, dialogue_id, user_id, _SENDING),
    )


async def notice_state(db: Database, dialogue_id: int, user_id: int) -> NoticeState | None:
    """Return where one recipient's notice is, or None if they are not a recipient."""
    row = await db.fetchone("SELECT state FROM notices WHERE dialogue_id = ? AND user_id = ?", (dialogue_id, user_id))
    return NoticeState(row["state"]) if row else None


async def set_resume_at(db: Database, dialogue_id: int, when: datetime | None) -> None:
    """Record when the next batch may go (pacing, or a retry after Discord failed); None: at once."""
    await db.execute(
        "UPDATE notice_runs SET resume_at = ? WHERE dialogue_id = ?",
        (None if when is None else to_epoch(when), dialogue_id),
    )


async def resume_at(db: Database, dialogue_id: int) -> datetime | None:
    """Return when the next batch may go (None: at once, or nothing drawn up)."""
    row = await db.fetchone("SELECT resume_at FROM notice_runs WHERE dialogue_id = ?", (dialogue_id,))
    return maybe_from_epoch(row["resume_at"]) if row else None


async def mark_reported(db: Database, dialogue_id: int, now: datetime) -> bool:
    """Record that the facilitators were told the outcome; return True only for the first call."""
    changed = await db.execute(
        "UPDATE notice_runs SET reported_at = ? WHERE dialogue_id = ? AND reported_at IS NULL",
        (to_epoch(now), dialogue_id),
    )
    return changed == 1


async def tally(db: Database, dialogue_id: int) -> NoticeTally:
    """Count a dialogue's notices by outcome (one grouped read along the index)."""
    run = await db.fetchone("SELECT 1 FROM notice_runs WHERE dialogue_id = ?", (dialogue_id,))
    rows = await db.fetchall(
        "SELECT state, COUNT(*) AS n FROM notices WHERE dialogue_id = ? GROUP BY state", (dialogue_id,)
    )
    counts = {NoticeState(row["state"]): row["n"] for row in rows}
    return NoticeTally(
        planned=run is not None,
        sent=counts.get(NoticeState.SENT, 0),
        dms_closed=counts.get(NoticeState.DMS_CLOSED, 0),
        failed=counts.get(NoticeState.FAILED, 0),
        pending=counts.get(NoticeState.PENDING, 0) + counts.get(NoticeState.SENDING, 0),
        skipped=counts.get(NoticeState.SKIPPED, 0),
    )


async def attempts(db: Database, dialogue_id: int, user_id: int) -> int:
    """Return how many times a recipient's notice was claimed for sending."""
    row = await db.fetchone(
        "SELECT attempts FROM notices WHERE dialogue_id = ? AND user_id = ?", (dialogue_id, user_id)
    )
    return row["attempts"] if row else 0
