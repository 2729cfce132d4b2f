"""Queries on dialogues, their questions, threads and the bot's own messages."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import NamedTuple

from bot.domain.models import AfterClose, BotMessageKind, Dialogue, DialogueDraft, Question, State, ThreadOrigin
from bot.domain.progress import Progress

from .connection import Database, Row
from .shards import Ownership, owned
from .timeutil import from_epoch, maybe_from_epoch, to_epoch

__all__ = (
    "ThreadOwner",
    "add_bot_message",
    "add_thread",
    "bot_messages",
    "by_channel",
    "clear_pending",
    "close_if_due",
    "create",
    "due_for_wake",
    "earliest_release",
    "earliest_wake",
    "get",
    "in_guild",
    "in_states",
    "is_ready",
    "mark_intro_pinned",
    "mark_locked",
    "mark_ready",
    "mark_thread_locked",
    "progress",
    "progress_in_states",
    "questions",
    "resume_all",
    "set_channel",
    "set_closes_at",
    "set_comments_until",
    "set_pending",
    "set_question_thread",
    "set_wake",
    "set_wrapup_parts",
    "thread_ids",
    "thread_origin",
    "thread_titles",
    "transition",
    "wake_at",
)

_COLUMNS = (
    "id, guild_id, title, framing, timezone, opens_at, closes_at, state, failure_reason, channel_id, "
    "created_by, created_at, opened_at, closed_at, locked_at, intro_pinned, after_close, comments_until, "
    "summary_posted_at"
)


def _dialogue(row: Row) -> Dialogue:
    return Dialogue(
        id=row["id"],
        guild_id=row["guild_id"],
        title=row["title"],
        framing=row["framing"],
        timezone=row["timezone"],
        opens_at=from_epoch(row["opens_at"]),
        closes_at=from_epoch(row["closes_at"]),
        state=State(row["state"]),
        failure_reason=row["failure_reason"],
        channel_id=row["channel_id"],
        created_by=row["created_by"],
        created_at=from_epoch(row["created_at"]),
        opened_at=maybe_from_epoch(row["opened_at"]),
        closed_at=maybe_from_epoch(row["closed_at"]),
        locked_at=maybe_from_epoch(row["locked_at"]),
        after_close=AfterClose(row["after_close"]),
        comments_until=maybe_from_epoch(row["comments_until"]),
        summary_posted_at=maybe_from_epoch(row["summary_posted_at"]),
    )


async def create(db: Database, guild_id: int, created_by: int, draft: DialogueDraft, now: datetime) -> Dialogue:
    """Store a new scheduled dialogue and its seed questions in one transaction."""
    stamp = to_epoch(now)
    async with db.transaction():
        dialogue_id = await db.insert(
            "INSERT INTO dialogues (guild_id, title, framing, timezone, opens_at, closes_at, state, "
            "created_by, created_at, updated_at, wake_at, after_close) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                guild_id,
                draft.title,
                draft.framing,
                draft.timezone,
                to_epoch(draft.opens_at),
                to_epoch(draft.closes_at),
                State.SCHEDULED.value,
                created_by,
                stamp,
                stamp,
                # A scheduled dialogue wakes at its opening: written with the row, so a crash cannot lose it.
                to_epoch(draft.opens_at),
                draft.after_close.value,
            ),
        )
        releases = list(draft.releases) + [None] * (len(draft.questions) - len(draft.releases))
        await db.executemany(
            "INSERT INTO questions (dialogue_id, position, text, release_at) VALUES (?, ?, ?, ?)",
            [
                (dialogue_id, position, text, None if release is None else to_epoch(release))
                for position, (text, release) in enumerate(zip(draft.questions, releases, strict=True), 1)
            ],
        )
    dialogue = await get(db, dialogue_id)
    assert dialogue is not None
    return dialogue


async def get(db: Database, dialogue_id: int) -> Dialogue | None:
    """Return one dialogue by id."""
    row = await db.fetchone(f"SELECT {_COLUMNS} FROM dialogues WHERE id = ?", (dialogue_id,))
    return _dialogue(row) if row else None


async def intro_pinned(db: Database, dialogue_id: int) -> bool:
    """Return whether the intro message has been pinned."""
    row = await db.fetchone("SELECT intro_pinned FROM dialogues WHERE id = ?", (dialogue_id,))
    return bool(row and row["intro_pinned"])


async def in_guild(db: Database, guild_id: int) -> list[Dialogue]:
    """Return a guild's dialogues, newest first."""
    rows = await db.fetchall(f"SELECT {_COLUMNS} FROM dialogues WHERE guild_id = ? ORDER BY id DESC", (guild_id,))
    return [_dialogue(row) for row in rows]


async def in_states(db: Database, states: Sequence[State]) -> list[Dialogue]:
    """Return every dialogue in one of ``states`` (used to rebuild the schedule)."""
    marks = ", ".join("?" for _ in states)
    rows = await db.fetchall(
        f"SELECT {_COLUMNS} FROM dialogues WHERE state IN ({marks}) ORDER BY id",
        [state.value for state in states],
    )
    return [_dialogue(row) for row in rows]


async def by_channel(db: Database, channel_id: int) -> Dialogue | None:
    """Return the dialogue whose channel this is."""
    row = await db.fetchone(f"SELECT {_COLUMNS} FROM dialogues WHERE channel_id = ?", (channel_id,))
    return _dialogue(row) if row else None


async def transition(
    db: Database,
    dialogue_id: int,
    sources: Sequence[State],
    target: State,
    now: datetime,
    *,
    reason: str | None = None,
) -> bool:
    """Move a dialogue to ``target`` only if it is in one of ``sources``; return whether this call won."""
    marks = ", ".join("?" for _ in sources)
    stamp = to_epoch(now)
    extra = ""
    if target is State.OPEN:
        # Opened early by hand: the window starts now.
        extra = ", opened_at = COALESCE(opened_at, ?), opens_at = CASE WHEN opens_at > ? THEN ? ELSE opens_at END"
    elif target is State.CLOSED:
        extra = ", closed_at = ?"
    params: list[object] = [target.value, reason, stamp]
    if target is State.OPEN:
        params += [stamp, stamp, stamp]
    elif extra:
        params.append(stamp)
    params += [dialogue_id, *(state.value for state in sources)]
    changed = await db.execute(
        f"UPDATE dialogues SET state = ?, failure_reason = ?, updated_at = ?{extra} "
        f"WHERE id = ? AND state IN ({marks})",
        params,
    )
    return changed == 1


async def set_closes_at(
    db: Database, dialogue_id: int, closes_at: datetime, states: Sequence[State], now: datetime
) -> bool:
    """Move the closing time, only while the dialogue is in one of ``states``."""
    marks = ", ".join("?" for _ in states)
    changed = await db.execute(
        f"UPDATE dialogues SET closes_at = ?, updated_at = ? WHERE id = ? AND state IN ({marks})",
        [to_epoch(closes_at), to_epoch(now), dialogue_id, *(s.value for s in states)],
    )
    return changed == 1


async def set_comments_until(db: Database, dialogue_id: int, until: datetime) -> None:
    """Fix, once, when a comments-until-summary dialogue locks if no summary comes."""
    await db.execute(
        "UPDATE dialogues SET comments_until = ? WHERE id = ? AND comments_until IS NULL",
        (to_epoch(until), dialogue_id),
    )


async def set_channel(db: Database, dialogue_id: int, channel_id: int, now: datetime) -> None:
    """Record the dialogue's channel."""
    await db.execute(
        "UPDATE dialogues SET channel_id = ?, updated_at = ? WHERE id = ?",
        (channel_id, to_epoch(now), dialogue_id),
    )


async def mark_intro_pinned(db: Database, dialogue_id: int) -> None:
    """Record that the intro message is pinned."""
    await db.execute("UPDATE dialogues SET intro_pinned = 1 WHERE id = ?", (dialogue_id,))


async def mark_ready(db: Database, dialogue_id: int, now: datetime) -> bool:
    """Record that every opening step is done; return True only for the first call."""
    changed = await db.execute(
        "UPDATE dialogues SET ready_at = ? WHERE id = ? AND ready_at IS NULL", (to_epoch(now), dialogue_id)
    )
    return changed == 1


async def is_ready(db: Database, dialogue_id: int) -> bool:
    """Return whether every opening step was once completed (the dialogue went live)."""
    row = await db.fetchone("SELECT ready_at FROM dialogues WHERE id = ?", (dialogue_id,))
    return bool(row and row["ready_at"] is not None)


async def mark_locked(db: Database, dialogue_id: int, now: datetime) -> None:
    """Record that the channel's closing overwrites are in place."""
    await db.execute(
        "UPDATE dialogues SET locked_at = ?, updated_at = ? WHERE id = ?",
        (to_epoch(now), to_epoch(now), dialogue_id),
    )


async def questions(db: Database, dialogue_id: int) -> list[Question]:
    """Return the seed questions in order."""
    rows = await db.fetchall(
        "SELECT dialogue_id, position, text, release_at, thread_id FROM questions "
        "WHERE dialogue_id = ? ORDER BY position",
        (dialogue_id,),
    )
    return [
        Question(
            dialogue_id=row["dialogue_id"],
            position=row["position"],
            text=row["text"],
            release_at=maybe_from_epoch(row["release_at"]),
            thread_id=row["thread_id"],
        )
        for row in rows
    ]


async def set_question_thread(
    db: Database, dialogue_id: int, position: int, thread_id: int, title: str, now: datetime
) -> None:
    """Record the thread created for a seed question, in the questions and threads tables at once."""
    async with db.transaction():
        await db.execute(
            "UPDATE questions SET thread_id = ? WHERE dialogue_id = ? AND position = ?",
            (thread_id, dialogue_id, position),
        )
        await add_thread(db, dialogue_id, thread_id, ThreadOrigin.SEED, title, thread_id, now)


async def add_thread(
    db: Database,
    dialogue_id: int,
    thread_id: int,
    origin: ThreadOrigin,
    title: str,
    starter_message_id: int | None,
    now: datetime,
) -> None:
    """Record a thread of the dialogue (once)."""
    await db.execute(
        "INSERT INTO threads (thread_id, dialogue_id, origin, title, starter_message_id, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (thread_id) DO NOTHING",
        (thread_id, dialogue_id, origin, title, starter_message_id, to_epoch(now)),
    )


class ThreadOwner(NamedTuple):
    """Whose a recorded thread is, and who made it."""

    dialogue_id: int
    origin: ThreadOrigin


async def thread_origin(db: Database, thread_id: int) -> ThreadOwner | None:
    """Return the dialogue and origin of a known thread."""
    row = await db.fetchone("SELECT dialogue_id, origin FROM threads WHERE thread_id = ?", (thread_id,))
    return ThreadOwner(row["dialogue_id"], ThreadOrigin(row["origin"])) if row else None


async def thread_ids(
    db: Database, dialogue_id: int, *, unlocked_only: bool = False, origin_not: ThreadOrigin | None = None
) -> list[int]:
    """Return the ids of the dialogue's threads, oldest first."""
    condition = " AND locked_at IS NULL" if unlocked_only else ""
    params: list[object] = [dialogue_id]
    if origin_not is not None:
        condition += " AND origin <> ?"
        params.append(origin_not)
    rows = await db.fetchall(
        f"SELECT thread_id FROM threads WHERE dialogue_id = ?{condition} ORDER BY created_at, thread_id", params
    )
    return [row["thread_id"] for row in rows]


async def thread_titles(db: Database, dialogue_id: int) -> set[str]:
    """Return the titles of every thread recorded for the dialogue (seed, participant and Leaders)."""
    rows = await db.fetchall("SELECT title FROM threads WHERE dialogue_id = ?", (dialogue_id,))
    return {row["title"] for row in rows}


async def mark_thread_locked(db: Database, thread_id: int, now: datetime) -> None:
    """Record that a thread has been locked and archived."""
    await db.execute("UPDATE threads SET locked_at = ? WHERE thread_id = ?", (to_epoch(now), thread_id))


async def bot_messages(db: Database, dialogue_id: int, kind: BotMessageKind) -> dict[int, int]:
    """Return {part: message id} of what the bot has posted of one kind."""
    rows = await db.fetchall(
        "SELECT part, message_id FROM bot_messages WHERE dialogue_id = ? AND kind = ? ORDER BY part",
        (dialogue_id, kind),
    )
    return {row["part"]: row["message_id"] for row in rows}


async def add_bot_message(
    db: Database, dialogue_id: int, kind: BotMessageKind, part: int, channel_id: int, message_id: int, now: datetime
) -> None:
    """Record one message the bot posted."""
    await db.execute(
        "INSERT INTO bot_messages (dialogue_id, kind, part, channel_id, message_id, posted_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (dialogue_id, kind, part, channel_id, message_id, to_epoch(now)),
    )


async def close_if_due(db: Database, dialogue_id: int, now: datetime) -> bool:
    """Close an open dialogue only if its closing time has passed (the timer's compare-and-set).

    An extension that landed after the timer fired moved ``closes_at`` later, so this changes nothing.
    """
    stamp = to_epoch(now)
    changed = await db.execute(
        "UPDATE dialogues SET state = ?, failure_reason = NULL, updated_at = ?, closed_at = ? "
        "WHERE id = ? AND state = ? AND closes_at <= ?",
        (State.CLOSED.value, stamp, stamp, dialogue_id, State.OPEN.value, stamp),
    )
    return changed == 1


async def set_pending(db: Database, dialogue_id: int, step: str, reason: str, retry_at: datetime) -> None:
    """Record the step a retry is waiting on, why it failed, and when it is tried again."""
    await db.execute(
        "UPDATE dialogues SET pending_step = ?, pending_reason = ?, retry_at = ? WHERE id = ?",
        (step, reason, to_epoch(retry_at), dialogue_id),
    )


async def clear_pending(db: Database, dialogue_id: int) -> None:
    """Forget a pending step once the steps have all succeeded."""
    await db.execute(
        "UPDATE dialogues SET pending_step = NULL, pending_reason = NULL, retry_at = NULL "
        "WHERE id = ? AND pending_step IS NOT NULL",
        (dialogue_id,),
    )


async def set_wrapup_parts(db: Database, dialogue_id: int, parts: int, *, replace: bool = False) -> bool:
    """Record how many parts the wrap-up has, before its first part is posted; return if this call set it.

    Without ``replace`` only the first call writes (a retry learns it is one from the False it gets).
    """
    condition = "" if replace else " AND wrapup_parts IS NULL"
    changed = await db.execute(f"UPDATE dialogues SET wrapup_parts = ? WHERE id = ?{condition}", (parts, dialogue_id))
    return changed == 1


# One statement reads every step of any number of dialogues: per-dialogue counts are index lookups.
_PROGRESS = """
SELECT d.id, d.state, d.channel_id, d.intro_pinned, d.ready_at, d.locked_at, d.wrapup_parts,
       d.pending_step, d.pending_reason, d.retry_at,
       (d.summary_text IS NOT NULL AND d.summary_posted_at IS NULL) AS summary_pending,
       d.after_close, d.comments_until,
       (d.after_close = 'comments-until-summary' AND d.locked_at IS NULL AND d.summary_text IS NULL
            AND (d.comments_until IS NULL OR d.comments_until > ?)) AS comments_open,
       (d.after_close = 'comments-until-summary' AND d.summary_text IS NULL AND d.comments_until <= ?
            AND NOT EXISTS (SELECT 1 FROM bot_messages b WHERE b.dialogue_id = d.id AND b.kind = 'comments_closed'))
            AS comments_notice_due,
       (SELECT COUNT(*) FROM threads t WHERE t.dialogue_id = d.id AND t.locked_at IS NULL) AS threads_unlocked,
       (SELECT COUNT(*) FROM bot_messages b WHERE b.dialogue_id = d.id AND b.kind = 'wrapup') AS wrapup_posted,
       (SELECT COUNT(*) FROM bot_messages b WHERE b.dialogue_id = d.id AND b.kind = 'intro') AS intro_posted,
       (SELECT COUNT(*) FROM questions q WHERE q.dialogue_id = d.id
            AND (q.release_at IS NULL OR q.release_at <= ?)) AS questions_due,
       (SELECT COUNT(*) FROM questions q WHERE q.dialogue_id = d.id AND q.thread_id IS NOT NULL) AS questions_made,
       (SELECT COUNT(*) FROM notices n WHERE n.dialogue_id = d.id AND n.state IN ('pending', 'sending'))
            AS notices_pending,
       (SELECT r.resume_at FROM notice_runs r WHERE r.dialogue_id = d.id) AS notices_resume_at,
       (d.summary_posted_at IS NOT NULL AND NOT EXISTS (SELECT 1 FROM notice_runs r WHERE r.dialogue_id = d.id))
            AS notices_unplanned
FROM dialogues d
"""


def _progress(row: Row) -> Progress:
    return Progress(
        dialogue_id=row["id"],
        state=State(row["state"]),
        has_channel=row["channel_id"] is not None,
        intro_posted=row["intro_posted"] > 0,
        intro_pinned=bool(row["intro_pinned"]),
        questions_due=row["questions_due"],
        questions_made=row["questions_made"],
        ready=row["ready_at"] is not None,
        channel_locked=row["locked_at"] is not None,
        threads_unlocked=row["threads_unlocked"],
        wrapup_expected=row["wrapup_parts"],
        wrapup_posted=row["wrapup_posted"],
        pending_step=row["pending_step"],
        pending_reason=row["pending_reason"],
        retry_at=maybe_from_epoch(row["retry_at"]),
        notices_pending=row["notices_pending"],
        notices_resume_at=maybe_from_epoch(row["notices_resume_at"]),
        notices_unplanned=bool(row["notices_unplanned"]),
        summary_pending=bool(row["summary_pending"]),
        comments_open=bool(row["comments_open"]),
        comments_until=maybe_from_epoch(row["comments_until"]) if row["after_close"] != AfterClose.LOCK else None,
        comments_notice_due=bool(row["comments_notice_due"]),
    )


async def progress(db: Database, dialogue_id: int, now: datetime) -> Progress | None:
    """Return one dialogue's progress: which steps are done, which is pending, why and until when."""
    stamp = to_epoch(now)
    row = await db.fetchone(_PROGRESS + "WHERE d.id = ?", (stamp, stamp, stamp, dialogue_id))
    return _progress(row) if row else None


async def progress_in_states(db: Database, states: Sequence[State], now: datetime) -> list[Progress]:
    """Return the progress of every dialogue in one of ``states``, in one query (used at start-up)."""
    marks = ", ".join("?" for _ in states)
    rows = await db.fetchall(
        _PROGRESS + f"WHERE d.state IN ({marks}) ORDER BY d.id",
        [to_epoch(now), to_epoch(now), to_epoch(now), *(s.value for s in states)],
    )
    return [_progress(row) for row in rows]


# ----- the dialogue timer: when each dialogue must next be looked at ----------------------------------------

# Closed, with a channel, and some closing step not recorded (the SQL form of ``Progress.closing_done``).
_CLOSING_UNFINISHED = """
state = 'closed' AND channel_id IS NOT NULL AND (
    locked_at IS NULL
    OR wrapup_parts IS NULL
    OR EXISTS (SELECT 1 FROM threads t WHERE t.dialogue_id = dialogues.id AND t.locked_at IS NULL)
    OR (SELECT COUNT(*) FROM bot_messages b WHERE b.dialogue_id = dialogues.id AND b.kind = 'wrapup') < wrapup_parts
)
"""


# Closed, and a submitted summary not yet wholly posted.
_SUMMARY_UNFINISHED = "state = 'closed' AND summary_text IS NOT NULL AND summary_posted_at IS NULL"


async def set_wake(db: Database, dialogue_id: int, wake_at: datetime | None) -> None:
    """Record when the timer must next look at a dialogue (None: nothing will ever be due)."""
    await db.execute(
        "UPDATE dialogues SET wake_at = ? WHERE id = ?", (None if wake_at is None else to_epoch(wake_at), dialogue_id)
    )


async def wake_at(db: Database, dialogue_id: int) -> datetime | None:
    """Return when the timer must next look at one dialogue (None: never)."""
    row = await db.fetchone("SELECT wake_at FROM dialogues WHERE id = ?", (dialogue_id,))
    return maybe_from_epoch(row["wake_at"]) if row else None


def _excluding(ids: Collection[int]) -> tuple[str, list[int]]:
    """An ``AND id NOT IN (...)`` condition for a few ids (the rows being handled), with its parameters."""
    if not ids:
        return "", []
    return f" AND id NOT IN ({', '.join('?' for _ in ids)})", sorted(ids)


async def earliest_wake(
    db: Database, excluding: Collection[int] = (), ownership: Ownership | None = None
) -> datetime | None:
    """Return the earliest wake-up of any owned dialogue but a few ``excluding`` ones (read along the index)."""
    condition, params = _excluding(excluding)
    mine, owned_params = owned(ownership)
    row = await db.fetchone(
        f"SELECT wake_at FROM dialogues WHERE wake_at IS NOT NULL{condition}{mine} ORDER BY wake_at LIMIT 1",
        [*params, *owned_params],
    )
    return maybe_from_epoch(row["wake_at"]) if row else None


async def due_for_wake(
    db: Database, now: datetime, limit: int, excluding: Collection[int] = (), ownership: Ownership | None = None
) -> list[int]:
    """Return the ids of at most ``limit`` owned dialogues due by ``now``, earliest first, but ``excluding`` ones."""
    condition, params = _excluding(excluding)
    mine, owned_params = owned(ownership)
    rows = await db.fetchall(
        f"SELECT id FROM dialogues WHERE wake_at <= ?{condition}{mine} ORDER BY wake_at, id LIMIT ?",
        [to_epoch(now), *params, *owned_params, limit],
    )
    return [row["id"] for row in rows]


async def earliest_release(db: Database, dialogue_id: int, after: datetime) -> datetime | None:
    """Return the earliest release time later than ``after`` of a seed question that has no thread yet."""
    row = await db.fetchone(
        "SELECT MIN(release_at) AS release_at FROM questions "
        "WHERE dialogue_id = ? AND thread_id IS NULL AND release_at > ?",
        (dialogue_id, to_epoch(after)),
    )
    return maybe_from_epoch(row["release_at"]) if row else None


async def resume_all(db: Database, now: datetime, ownership: Ownership | None = None) -> int:
    """Make every owned open dialogue, and every closed one whose closing is unfinished, due at ``now`` (start-up).

    One statement whatever the number of dialogues: open ones resume their opening steps and catch up on what
    was posted meanwhile, closed ones finish closing. Return how many rows it marked.
    """
    mine, owned_params = owned(ownership)
    return await db.execute(
        "UPDATE dialogues SET wake_at = ? "
        f"WHERE (state = 'open' OR ({_CLOSING_UNFINISHED}) OR ({_SUMMARY_UNFINISHED})){mine}",
        (to_epoch(now), *owned_params),
    )
