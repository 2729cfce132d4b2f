"""Plan files as a use-case: create a dialogue from a plan, and write a dialogue back as a plan."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

import db.dialogues as dialogues_db
import db.plans as plans_db
from db import Database

from . import render
from .domain.errors import DialogueError, NotFacilitator
from .domain.models import Dialogue
from .domain.plan import Plan, PlanLeader, PlanQuestion
from .domain.reminders import ZoneSource
from .leaders import LeaderService
from .services import DialogueService

__all__ = ("PENDING_FOR", "PlanService", "ResolvedLeader")

log = logging.getLogger(__name__)

# How long the facilitator has to answer "create without the missing leaders?"; the question shows the limit.
PENDING_FOR = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class ResolvedLeader:
    """A plan's leader found among the server's members."""

    entry: PlanLeader
    user_id: int
    name: str


class PlanService:
    """Creates dialogues from plans and exports them; leaders go through the leaders feature."""

    def __init__(
        self, database: Database, dialogues: DialogueService, default_hour: int, leaders: LeaderService
    ) -> None:
        self.db = database
        self.dialogues = dialogues
        self.default_hour = default_hour
        self.leaders = leaders
        self.clock = dialogues.clock

    async def create(
        self, guild_id: int, created_by: int, plan: Plan, leaders: Sequence[ResolvedLeader] = ()
    ) -> Dialogue:
        """Schedule the plan's dialogue, keep its reminder settings and add the leaders that were found."""
        dialogue = await self.dialogues.create(guild_id, created_by, plan.draft())
        if plan.checkin_hour is not None or plan.unanswered_after is not None:
            await plans_db.set_settings(
                self.db, dialogue.id, plans_db.PlanSettings(plan.checkin_hour, plan.unanswered_after)
            )
        for leader in leaders:
            await self._add_leader(dialogue, leader, plan)
        log.info("Dialogue %s created from a plan with %d leaders", dialogue.id, len(leaders))
        return dialogue

    # ----- imports awaiting an answer ------------------------------------------------------------

    async def hold(self, guild_id: int, user_id: int, plan_text: str) -> plans_db.PendingImport:
        """Keep a plan until its facilitator answers (restarts included), for ``PENDING_FOR``."""
        now = self.clock()
        await plans_db.remove_expired(self.db, now)  # answers that never came
        pending = await plans_db.add_pending(self.db, guild_id, user_id, plan_text, now, now + PENDING_FOR)
        log.info("Plan import %s held for user %s in guild %s", pending.id, user_id, guild_id)
        return pending

    async def answer(self, pending_id: int, user_id: int) -> plans_db.PendingImport:
        """Take a held plan for its facilitator's answer; only one answer ever takes it.

        Raises ``NotFacilitator`` for anyone else (the plan stays held) and ``DialogueError`` when it was
        answered already or its time is up.
        """
        pending = await plans_db.get_pending(self.db, pending_id)
        if pending is None:
            raise DialogueError("This import was already answered or has expired. Import the plan again if needed.")
        if pending.user_id != user_id:
            raise NotFacilitator("Only the facilitator who imported this plan can answer.")
        taken = await plans_db.take_pending(self.db, pending_id)
        if pending.expires_at <= self.clock():
            raise DialogueError(render.import_expired(pending.expires_at))
        if not taken:
            raise DialogueError("This import was already answered. Nothing more was changed.")
        return pending

    async def export(self, dialogue_id: int) -> Plan:
        """Return the dialogue as a plan; importing it creates the same dialogue."""
        dialogue = await self.dialogues.get(dialogue_id)
        questions = await dialogues_db.questions(self.db, dialogue.id)
        settings = await plans_db.get_settings(self.db, dialogue.id)
        return Plan(
            title=dialogue.title,
            framing=dialogue.framing,
            timezone=dialogue.timezone,
            opens_at=dialogue.opens_at,
            closes_at=dialogue.closes_at,
            questions=tuple(PlanQuestion(q.text, q.release_at) for q in questions),
            leaders=tuple(await self._leaders_of(dialogue, settings.checkin_hour)),
            checkin_hour=settings.checkin_hour,
            unanswered_after=settings.unanswered_after,
            after_close=dialogue.after_close,
        )

    # ----- leaders -------------------------------------------------------------------------------

    async def _add_leader(self, dialogue: Dialogue, leader: ResolvedLeader, plan: Plan) -> None:
        service = self.leaders
        entry = leader.entry
        if entry.timezone is not None or entry.checkin_hour is not None:
            current = await service.zone_for(dialogue, leader.user_id)
            if await service.chose_own_zone(dialogue.guild_id, leader.user_id):
                # What the member set with /my-timezone is theirs: the plan does not overwrite it.
                log.info("Dialogue %s: leader %s keeps their own time zone", dialogue.id, leader.user_id)
            else:
                # current.hour is the plan's default hour ([reminders]) or the configured one.
                hour = current.hour if entry.checkin_hour is None else entry.checkin_hour
                await service.set_timezone(
                    dialogue.guild_id, leader.user_id, entry.timezone or plan.timezone, hour, source=ZoneSource.PLAN
                )
        await service.add(dialogue, leader.user_id, entry.commitment)

    async def _leaders_of(self, dialogue: Dialogue, checkin_hour: int | None) -> list[PlanLeader]:
        service = self.leaders
        default_hour = self.default_hour if checkin_hour is None else checkin_hour
        found = []
        for leader in await service.roster(dialogue.id):
            if not leader.active:
                continue
            zone = await service.zone_for(dialogue, leader.user_id)
            found.append(
                PlanLeader(
                    user=leader.user_id,
                    commitment=leader.commitment,
                    timezone=zone.timezone if zone.own else None,
                    checkin_hour=zone.hour if zone.own and zone.hour != default_hour else None,
                )
            )
        return found
