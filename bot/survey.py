"""The feedback survey as a use-case: who may answer when, storing an answer anonymously, the results."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

import db.dialogues as dialogues_db
import db.survey as survey_db
from db import Database
from db.shards import Ownership

from . import render_survey
from .clock import Clock
from .domain.errors import DialogueError, DialogueNotFound
from .domain.models import Dialogue, State
from .domain.survey import (
    SurveyConfig,
    SurveyPhase,
    SurveyResults,
    aggregate,
    check_answer,
    new_secret,
    respondent_key,
    survey_deadline,
    survey_phase,
)

__all__ = ("SurveyForm", "SurveySaved", "SurveyService", "SurveySummary")

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SurveyForm:
    """What the feedback form asks for one dialogue."""

    dialogue: Dialogue
    questions: tuple[str, ...]
    deadline: datetime


@dataclass(frozen=True, slots=True)
class SurveySaved:
    """A stored answer: whether it replaced the member's earlier one, and until when it can be changed."""

    replaced: bool
    deadline: datetime


@dataclass(frozen=True, slots=True)
class SurveySummary:
    """A dialogue's survey results with its window, for facilitators."""

    dialogue: Dialogue
    results: SurveyResults
    phase: SurveyPhase
    deadline: datetime | None


class SurveyService:
    """Takes anonymous feedback after a dialogue closes and sums it up for facilitators."""

    def __init__(self, database: Database, clock: Clock, default_days: int, ownership: Ownership | None = None) -> None:
        self.db = database
        self.clock = clock
        self.default_days = default_days
        # Only the surveys of this process's shards' guilds (another process ends the others).
        self.ownership = ownership

    # ----- the plan's settings -------------------------------------------------------------------

    async def configure(self, dialogue_id: int, config: SurveyConfig) -> None:
        """Keep the survey questions and days a plan gave its dialogue."""
        await survey_db.set_settings(self.db, dialogue_id, config, new_secret())

    async def config(self, dialogue_id: int) -> SurveyConfig:
        """The survey settings a dialogue got from its plan (None fields: the defaults)."""
        return await survey_db.get_settings(self.db, dialogue_id)

    # ----- answering -----------------------------------------------------------------------------

    async def form(self, dialogue_id: int, guild_id: int | None) -> SurveyForm:
        """The questions to ask, or a ``DialogueError`` saying why the survey takes no answers now.

        ``guild_id`` is where the press or the form came from: only that server's dialogues take its answers.
        """
        dialogue = await dialogues_db.get(self.db, dialogue_id)
        if dialogue is None or dialogue.guild_id != guild_id:
            raise DialogueNotFound("This survey belongs to no dialogue of this server. Nothing was saved.")
        config = await self.config(dialogue_id)
        days = config.resolved_days(self.default_days)
        closed_at = dialogue.closed_at if dialogue.state is State.CLOSED else None
        phase = survey_phase(closed_at, days, self.clock())
        if phase is SurveyPhase.NOT_YET or closed_at is None:
            raise DialogueError(render_survey.not_open_yet(dialogue))
        deadline = survey_deadline(closed_at, days)
        if phase is SurveyPhase.ENDED:
            raise DialogueError(render_survey.survey_ended(dialogue, deadline))
        return SurveyForm(dialogue, config.resolved_questions(), deadline)

    async def submit(
        self, dialogue_id: int, guild_id: int | None, user_id: int, rating: str | None, texts: list[str]
    ) -> SurveySaved:
        """Store one member's answer anonymously, replacing their earlier one.

        The window is checked again here: a form opened in time may be sent after the survey ended.
        """
        form = await self.form(dialogue_id, guild_id)
        answer = check_answer(rating, texts, len(form.questions))
        secret = await survey_db.ensure_secret(self.db, dialogue_id, new_secret())
        if secret is None:
            raise DialogueError(render_survey.survey_ended(form.dialogue, form.deadline))
        replaced = await survey_db.save_response(
            self.db, dialogue_id, respondent_key(secret, user_id), answer.rating, answer.texts
        )
        # Nothing is logged: a log line's time could be matched with the member's other activity.
        return SurveySaved(replaced, form.deadline)

    # ----- results -------------------------------------------------------------------------------

    async def summary(self, dialogue: Dialogue) -> SurveySummary:
        """The results so far, with whether the survey is open; ending surveys lose their hashes first."""
        await self.end_due()
        config = await self.config(dialogue.id)
        days = config.resolved_days(self.default_days)
        closed_at = dialogue.closed_at if dialogue.state is State.CLOSED else None
        responses = await survey_db.responses(self.db, dialogue.id)
        return SurveySummary(
            dialogue=dialogue,
            results=aggregate(responses, config.resolved_questions()),
            phase=survey_phase(closed_at, days, self.clock()),
            deadline=None if closed_at is None else survey_deadline(closed_at, days),
        )

    async def status_section(self, dialogue: Dialogue) -> str:
        """The survey's part of /dialogue status ('' before the close)."""
        if dialogue.state is not State.CLOSED:
            return ""
        return render_survey.status_section(await self.summary(dialogue))

    async def end_due(self) -> int:
        """Forget the secret and respondent hashes of every survey that has ended (one statement each)."""
        ended = await survey_db.end_surveys(self.db, self.clock(), self.default_days, self.ownership)
        if ended:
            log.info("Survey hashes forgotten for %d ended surveys", ended)
        return ended
