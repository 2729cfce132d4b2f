"""Queries on the feedback survey: its settings and secret per dialogue, and the anonymous responses."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime

from bot.domain.survey import SurveyConfig, SurveyResponse

from .connection import Database
from .shards import Ownership, owned
from .timeutil import to_epoch

__all__ = (
    "end_surveys",
    "ensure_secret",
    "get_settings",
    "responses",
    "save_response",
    "set_settings",
)

_QUESTION_COLUMNS = ("question_1", "question_2", "question_3")
_ANSWER_COLUMNS = ("answer_1", "answer_2", "answer_3")
# Random row ids fit PostgreSQL's INTEGER too; a collision (rare) just draws again.
_ID_LIMIT = 2**31 - 1
_ID_ATTEMPTS = 8


async def set_settings(db: Database, dialogue_id: int, settings: SurveyConfig, secret: bytes) -> None:
    """Store (or replace) a dialogue's survey settings; ``secret`` is kept only if the row is new."""
    questions = list(settings.questions or ())[:3]
    padded = questions + [None] * (3 - len(questions))
    count = None if settings.questions is None else len(questions)
    await db.execute(
        "INSERT INTO surveys (dialogue_id, secret, days, question_count, question_1, question_2, question_3) "
        "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (dialogue_id) DO UPDATE SET days = excluded.days, "
        "question_count = excluded.question_count, question_1 = excluded.question_1, "
        "question_2 = excluded.question_2, question_3 = excluded.question_3",
        (dialogue_id, secret.hex(), settings.days, count, *padded),
    )


async def get_settings(db: Database, dialogue_id: int) -> SurveyConfig:
    """Return a dialogue's survey settings (all None when its plan set none)."""
    row = await db.fetchone(
        "SELECT days, question_count, question_1, question_2, question_3 FROM surveys WHERE dialogue_id = ?",
        (dialogue_id,),
    )
    if row is None:
        return SurveyConfig()
    count = row["question_count"]
    questions = None if count is None else tuple(row[column] for column in _QUESTION_COLUMNS[:count])
    return SurveyConfig(questions, row["days"])


async def ensure_secret(db: Database, dialogue_id: int, fresh: bytes) -> bytes | None:
    """Return the dialogue's survey secret, storing ``fresh`` if it has none yet; None once the survey ended."""
    await db.execute(
        "INSERT INTO surveys (dialogue_id, secret) VALUES (?, ?) ON CONFLICT (dialogue_id) DO NOTHING",
        (dialogue_id, fresh.hex()),
    )
    row = await db.fetchone("SELECT secret FROM surveys WHERE dialogue_id = ?", (dialogue_id,))
    if row is None or row["secret"] is None:
        return None
    return bytes.fromhex(row["secret"])


async def save_response(
    db: Database, dialogue_id: int, respondent: str, rating: int | None, texts: Sequence[str]
) -> bool:
    """Store a response, replacing the same respondent's earlier one; True if it replaced one."""
    answers = list(texts)[:3] + [""] * (3 - len(texts))
    async with db.transaction():
        earlier = await db.fetchone(
            "SELECT id FROM survey_responses WHERE dialogue_id = ? AND respondent = ?", (dialogue_id, respondent)
        )
        if earlier is not None:
            await db.execute(
                "UPDATE survey_responses SET rating = ?, answer_1 = ?, answer_2 = ?, answer_3 = ? WHERE id = ?",
                (rating, *answers, earlier["id"]),
            )
            return True
        for attempt in range(_ID_ATTEMPTS):
            # A random id already taken inserts nothing (rather than failing, which on PostgreSQL would abort
            # the transaction): draw another.
            inserted = await db.execute(
                "INSERT INTO survey_responses (id, dialogue_id, respondent, rating, answer_1, answer_2, answer_3) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
                (secrets.randbelow(_ID_LIMIT) + 1, dialogue_id, respondent, rating, *answers),
            )
            if inserted == 1:
                break
            if attempt == _ID_ATTEMPTS - 1:
                raise RuntimeError("no free survey response id after several draws")
    return False


async def responses(db: Database, dialogue_id: int) -> list[SurveyResponse]:
    """Every response of a dialogue (in the random order of their ids, which says nothing about who or when)."""
    rows = await db.fetchall(
        f"SELECT rating, {', '.join(_ANSWER_COLUMNS)} FROM survey_responses WHERE dialogue_id = ?", (dialogue_id,)
    )
    return [SurveyResponse(row["rating"], (row["answer_1"], row["answer_2"], row["answer_3"])) for row in rows]


async def end_surveys(db: Database, now: datetime, default_days: int, ownership: Ownership | None = None) -> int:
    """Forget the secret and respondent hashes of every survey that has ended; return how many surveys.

    A survey ends ``days`` (its own, else ``default_days``) after its dialogue closed. Afterwards nothing stored
    can be matched to a member, not even by someone holding the database.
    """
    ended = (
        "SELECT s.dialogue_id FROM surveys s JOIN dialogues d ON d.id = s.dialogue_id "
        "WHERE s.secret IS NOT NULL AND d.closed_at IS NOT NULL "
        "AND d.closed_at + COALESCE(s.days, ?) * 86400 <= ?"
    )
    mine, owned_params = owned(ownership, "d.guild_id")
    ended += mine
    params = (default_days, to_epoch(now), *owned_params)
    async with db.transaction():
        await db.execute(
            f"UPDATE survey_responses SET respondent = NULL WHERE respondent IS NOT NULL AND dialogue_id IN ({ended})",
            params,
        )
        return await db.execute(f"UPDATE surveys SET secret = NULL WHERE dialogue_id IN ({ended})", params)
