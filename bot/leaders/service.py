"""``LeaderService``: the leader use-cases, wired from the roster, planning, delivery and the Leaders thread."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

import discord

import db.leaders as leaders_db
import db.reminders as reminders_db
from db import Database

from ..clock import Clock
from ..config import Settings
from ..domain.errors import DialogueError, InvalidInput
from ..domain.models import Dialogue, State
from ..domain.reminders import Kind, Leader, Owed, Zone, ZoneSource
from ..gateway import Gateway
from ..scheduler import Scheduler
from .backstage import LeadersThread
from .delivery import Courier, Delivery
from .planning import Planner
from .roster import Added, Roster
from .timer import ReminderTimer

__all__ = ("MAX_BROADCAST_LENGTH", "LeaderService")

log = logging.getLogger(__name__)

MAX_BROADCAST_LENGTH = 1500


class LeaderService:
    """The leader use-cases. Every public method re-reads the record and acts only on what is not done."""

    def __init__(
        self, database: Database, gateway: Gateway, scheduler: Scheduler, clock: Clock, settings: Settings
    ) -> None:
        self.db = database
        self.clock = clock
        self.timer = ReminderTimer(database, scheduler, clock, self.deliver, settings.ownership)
        self.planner = Planner(database, clock, settings, self.timer)
        self.backstage = LeadersThread(database, gateway, clock, settings)
        self.courier = Courier(database, gateway, clock, settings, self.backstage, self.planner, self.timer)
        self._roster = Roster(
            database, clock, self.planner, self.courier, self.backstage, default_hour=settings.default_checkin_hour
        )

    # ----- roster --------------------------------------------------------------------------------

    async def add(self, dialogue: Dialogue, user_id: int, commitment: int) -> Added:
        """Make a member a leader (or change their commitment); welcome them and plan their reminders."""
        return await self._roster.add(dialogue, user_id, commitment)

    async def remove(self, dialogue: Dialogue, user_id: int) -> None:
        """Stop being a leader: nothing more is sent to them."""
        await self._roster.remove(dialogue, user_id)

    async def roster(self, dialogue_id: int) -> list[Leader]:
        """Return a dialogue's active leaders in the order they were added."""
        return await leaders_db.leaders(self.db, dialogue_id)

    async def leader(self, dialogue_id: int, user_id: int) -> Leader | None:
        """Return one leader record, active or removed."""
        return await leaders_db.get_leader(self.db, dialogue_id, user_id)

    async def chose_own_zone(self, guild_id: int, user_id: int) -> bool:
        """Return whether the member set their zone themselves (a plan's choice does not count)."""
        return await self._roster.chose_own_zone(guild_id, user_id)

    async def zone_for(self, dialogue: Dialogue, user_id: int) -> Zone:
        """Return the leader's own zone and hour, or the dialogue's zone at the default hour."""
        return await self.planner.zone_for(dialogue, user_id)

    async def set_timezone(
        self,
        guild_id: int,
        user_id: int,
        zone: str,
        hour: int | None = None,
        *,
        source: ZoneSource | str = ZoneSource.SELF,
    ) -> tuple[str, int, datetime | None]:
        """Store a member's zone and check-in hour, move their future check-ins; return zone, hour and the next one."""
        return await self._roster.set_timezone(guild_id, user_id, zone, hour, source=ZoneSource(source))

    async def status_section(self, dialogue: Dialogue) -> str:
        """The leaders' part of /dialogue status: posts in 24 hours and in total, commitment, reachability."""
        return await self._roster.status_section(dialogue)

    # ----- start-up and dialogue events ----------------------------------------------------------

    async def drain(self, timeout: float) -> bool:
        """Stop the reminder timer and wait (at most ``timeout`` s) for a delivery run to end; return if it did.

        A run in progress stops before its next row: what is still owed stays pending in the record.
        """
        self.timer.stop()
        try:
            await asyncio.wait_for(self.timer.wait(), timeout)
        except TimeoutError:
            log.warning("Leader reminders still being delivered after %.0f s; closing anyway", timeout)
            return False
        return True

    async def rebuild(self) -> None:
        """At start-up: re-plan live leaders, make owed opening and thank-you rows, arm the reminder timer."""
        await self.planner.rebuild()

    async def dialogue_opened(self, dialogue: Dialogue) -> None:
        """The opening completed: drop "opens tomorrow" (stale), re-plan (it may have opened early), say so."""
        now = self.clock()
        await reminders_db.skip(self.db, dialogue.id, None, now, "the dialogue opened", kinds=[Kind.OPENS_SOON])
        await self.planner.replan_dialogue(dialogue.id)
        await self._send_now(dialogue, Kind.OPENED)

    async def dialogue_extended(self, dialogue: Dialogue) -> None:
        """The window moved: re-plan every leader's time-driven reminders."""
        await self.planner.replan_dialogue(dialogue.id)

    async def dialogue_ended(self, dialogue: Dialogue) -> None:
        """Closed or cancelled: nothing more is owed but the thank-you after a close."""
        await reminders_db.skip(self.db, dialogue.id, None, self.clock(), f"the dialogue is {dialogue.state.value}")
        if dialogue.state is State.CLOSED:
            await self._send_now(dialogue, Kind.THANKS)

    async def _send_now(self, dialogue: Dialogue, kind: Kind) -> None:
        states = (State.OPEN,) if kind is Kind.OPENED else (State.CLOSED,)
        leaderships = await leaders_db.leaderships(self.db, states, dialogue_id=dialogue.id)
        for owed in self.planner.event_rows(leaderships, kind):
            await self.deliver((await reminders_db.add_reminder(self.db, owed)).id)

    # ----- the Leaders thread (an opening step) --------------------------------------------------

    async def open_step(self, dialogue: Dialogue, channel: discord.TextChannel) -> None:
        """Create the private Leaders thread once, add leaders and facilitators, post what was held."""
        await self.backstage.open_step(dialogue, channel)

    # ----- delivery ------------------------------------------------------------------------------

    async def deliver(self, reminder_id: int) -> Delivery | None:
        """Send one reminder if it is still pending and still meaningful; at most once."""
        return await self.courier.deliver(reminder_id)

    async def broadcast(self, dialogue: Dialogue, key: str, message: str) -> list[Delivery]:
        """Send one message to every active leader now, with the same delivery rules as reminders."""
        text = message.strip()
        if not text:
            raise InvalidInput("message", "write the message to send.", "Please look at the unanswered posts.")
        if len(text) > MAX_BROADCAST_LENGTH:
            raise InvalidInput(
                "message", f"it is {len(text)} characters long; the limit is {MAX_BROADCAST_LENGTH}.", None
            )
        leaders = await leaders_db.leaders(self.db, dialogue.id)
        if not leaders:
            raise DialogueError(
                f"“{dialogue.title}” has no leaders yet. Add them with `/dialogue leaders add`; nothing was sent."
            )
        now = self.clock()
        results = []
        for leader in leaders:
            owed = Owed(dialogue.id, leader.user_id, Kind.BROADCAST, f"broadcast:{key}", now)
            reminder = await reminders_db.add_reminder(self.db, owed, body=text)
            result = await self.deliver(reminder.id)
            if result is not None:
                results.append(result)
        return results
