"""The roster: who leads a dialogue, with what commitment, and each member's own time zone."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

import db.checkins as checkins_db
import db.leaders as leaders_db
import db.reminders as reminders_db
from db import Database

from ..clock import Clock
from ..domain.errors import DialogueError, InvalidInput, InvalidTransition
from ..domain.models import Dialogue, State
from ..domain.parsing import parse_timezone
from ..domain.reminders import (
    DAY,
    MAX_COMMITMENT,
    MIN_COMMITMENT,
    Kind,
    Leader,
    Owed,
    ZoneSource,
    status_text,
)
from .backstage import LeadersThread
from .delivery import Courier
from .planning import LIVE_STATES, Planner

__all__ = ("Added", "Roster")

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Added:
    """The result of ``/dialogue leaders add``: the leader, and whether they were not one before."""

    leader: Leader
    new: bool


class Roster:
    """Adds and removes leaders, stores members' zones; each change re-plans and tells the leader."""

    def __init__(
        self,
        database: Database,
        clock: Clock,
        planner: Planner,
        courier: Courier,
        backstage: LeadersThread,
        *,
        default_hour: int,
    ) -> None:
        self.db = database
        self.default_hour = default_hour
        self.clock = clock
        self.planner = planner
        self.courier = courier
        self.backstage = backstage

    async def add(self, dialogue: Dialogue, user_id: int, commitment: int) -> Added:
        """Make a member a leader (or change their commitment); welcome them and plan their reminders."""
        if not MIN_COMMITMENT <= commitment <= MAX_COMMITMENT:
            raise InvalidInput("commitment", f"posts per day must be from {MIN_COMMITMENT} to {MAX_COMMITMENT}.", "2")
        if dialogue.state not in LIVE_STATES:
            raise InvalidTransition(f"Cannot add leaders to “{dialogue.title}”: it is {dialogue.state.value}.")
        now = self.clock()
        added = await leaders_db.add_leader(self.db, dialogue.id, user_id, commitment, now)
        leader = await leaders_db.get_leader(self.db, dialogue.id, user_id)
        assert leader is not None
        log.info("Dialogue %s: leader %s %s", dialogue.id, user_id, "added" if added else "updated")
        if not added:
            return Added(leader, False)
        await self.planner.replan(
            await leaders_db.leaderships(self.db, LIVE_STATES, dialogue_id=dialogue.id, user_id=user_id)
        )
        key = f"welcome:{int(leader.added_at.timestamp())}"
        welcome = await reminders_db.add_reminder(self.db, Owed(dialogue.id, user_id, Kind.WELCOME, key, now))
        await self.courier.deliver(welcome.id)
        thread_id = await self.backstage.thread_id(dialogue.id)
        if thread_id is not None:
            await self.backstage.membership(thread_id, user_id, join=True)
            if dialogue.state is State.OPEN:
                # Opened already: they get the opening message now, once.
                opened = await leaders_db.leaderships(self.db, (State.OPEN,), dialogue_id=dialogue.id, user_id=user_id)
                for owed in self.planner.event_rows(opened, Kind.OPENED):
                    await self.courier.deliver((await reminders_db.add_reminder(self.db, owed)).id)
        return Added(leader, True)

    async def remove(self, dialogue: Dialogue, user_id: int) -> None:
        """Stop being a leader: nothing more is sent to them."""
        now = self.clock()
        if not await leaders_db.remove_leader(self.db, dialogue.id, user_id, now):
            raise DialogueError(f"<@{user_id}> is not a leader of “{dialogue.title}”.")
        await reminders_db.delete_future(self.db, dialogue.id, user_id, now)
        await reminders_db.skip(self.db, dialogue.id, user_id, now, "no longer a leader")
        log.info("Dialogue %s: leader %s removed", dialogue.id, user_id)
        thread_id = await self.backstage.thread_id(dialogue.id)
        if thread_id is not None and user_id not in await self.backstage.facilitators(dialogue.guild_id):
            await self.backstage.membership(thread_id, user_id, join=False)

    async def chose_own_zone(self, guild_id: int, user_id: int) -> bool:
        """Return whether the member set their zone themselves (a plan's choice does not count)."""
        stored = await leaders_db.get_member(self.db, guild_id, user_id)
        return stored is not None and stored.source is ZoneSource.SELF

    async def set_timezone(
        self, guild_id: int, user_id: int, zone: str, hour: int | None = None, *, source: ZoneSource = ZoneSource.SELF
    ) -> tuple[str, int, datetime | None]:
        """Store a member's zone and check-in hour, move their future check-ins; return zone, hour and the next one.

        Without ``hour`` the member keeps the hour stored for them; a member with none gets the configured default.
        """
        timezone = parse_timezone(zone)
        if hour is None:
            stored = await leaders_db.get_member(self.db, guild_id, user_id)
            hour = self.default_hour if stored is None else stored.hour
        if not 0 <= hour <= 23:
            raise InvalidInput("checkin_hour", "use a whole hour from 0 to 23.", "9")
        now = self.clock()
        await leaders_db.set_member(self.db, guild_id, user_id, timezone, hour, now, ZoneSource(source))
        log.info("Member %s in guild %s set a check-in time zone", user_id, guild_id)
        mine = await leaders_db.leaderships(self.db, LIVE_STATES, guild_id=guild_id, user_id=user_id)
        await self.planner.replan(mine)
        dialogue_ids = sorted({one.dialogue_id for one in mine})
        return timezone, hour, await reminders_db.next_due(self.db, user_id, dialogue_ids, Kind.CHECKIN, now)

    async def status_section(self, dialogue: Dialogue) -> str:
        """The leaders' part of /dialogue status, counted for every leader in one query."""
        leaders = await leaders_db.leaders(self.db, dialogue.id)
        counts = await checkins_db.leader_counts(self.db, dialogue.id, self.clock() - DAY) if leaders else {}
        return status_text(leaders, counts)
