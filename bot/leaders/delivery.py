"""Delivering one reminder at most once: by DM, else in the Leaders thread, else held until it exists."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import discord

import db.checkins as checkins_db
import db.dialogues as dialogues_db
import db.leaders as leaders_db
import db.plans as plans_db
import db.reminders as reminders_db
from db import Database

from ..clock import Clock
from ..config import Settings
from ..domain import reminders as texts
from ..domain.models import Dialogue, State
from ..domain.parsing import thread_name
from ..domain.reminders import (
    DAY,
    LATE_LIMIT,
    CheckinReport,
    Kind,
    Leader,
    Outcome,
    Reminder,
    ReminderState,
    ThreadLink,
    Via,
    stale_reason,
)
from ..gateway import Gateway
from ..render import MESSAGE_LIMIT, truncate
from .backstage import LeadersThread
from .planning import Planner
from .timer import ReminderTimer

__all__ = ("RETRY_AFTER", "Courier", "Delivery")

log = logging.getLogger(__name__)

# A reminder Discord failed to take (not a refusal) is tried again after this long.
RETRY_AFTER = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class Delivery:
    """How one reminder went."""

    reminder_id: int
    user_id: int
    via: Outcome


class Courier:
    """Sends reminders: re-reads the row, judges staleness, claims it, then sends."""

    def __init__(
        self,
        database: Database,
        gateway: Gateway,
        clock: Clock,
        settings: Settings,
        backstage: LeadersThread,
        planner: Planner,
        timer: ReminderTimer,
    ) -> None:
        self.db = database
        self.gateway = gateway
        self.clock = clock
        self.settings = settings
        self.backstage = backstage
        self.planner = planner
        self.timer = timer

    async def deliver(self, reminder_id: int) -> Delivery | None:
        """Send one reminder if it is still pending and still meaningful; at most once."""
        await self.gateway.wait_until_ready()
        reminder = await reminders_db.get_reminder(self.db, reminder_id)
        if reminder is None:
            return None
        if reminder.state is not ReminderState.PENDING:
            return Delivery(reminder.id, reminder.user_id, Outcome.NONE)
        dialogue = await dialogues_db.get(self.db, reminder.dialogue_id)
        leader = await leaders_db.get_leader(self.db, reminder.dialogue_id, reminder.user_id)
        now = self.clock()
        if dialogue is None or leader is None or not leader.active:
            await reminders_db.skip(
                self.db, reminder.dialogue_id, reminder.user_id, now, "no longer a leader", reminder_id=reminder.id
            )
            return Delivery(reminder.id, reminder.user_id, Outcome.SKIPPED)
        reason = stale_reason(
            reminder.kind, reminder.due_at, dialogue.state, dialogue.opens_at, dialogue.closes_at, now
        )
        if reason is not None:
            await reminders_db.skip(self.db, dialogue.id, leader.user_id, now, reason, reminder_id=reminder.id)
            log.info("Dialogue %s: %s reminder %s skipped: %s", dialogue.id, reminder.kind, reminder.id, reason)
            return Delivery(reminder.id, reminder.user_id, Outcome.SKIPPED)
        text = truncate(await self._render(reminder, dialogue, leader, now), MESSAGE_LIMIT)
        # Mark, then send. The row is claimed (sent, via NULL) before Discord is asked, so a crash or a
        # second delivery between the two can lose this one message but never send it twice: "at most once"
        # is the promise. A sent row whose via stays NULL records exactly that an attempt was cut short.
        if not await reminders_db.claim(self.db, reminder.id, now, source=ReminderState.PENDING):
            return Delivery(reminder.id, reminder.user_id, Outcome.NONE)
        via = await self._send(dialogue, reminder, text)
        log.info("Dialogue %s: %s reminder %s -> %s", dialogue.id, reminder.kind, reminder.id, via)
        return Delivery(reminder.id, reminder.user_id, via)

    async def _send(self, dialogue: Dialogue, reminder: Reminder, text: str) -> Outcome:
        """Send a claimed reminder by DM; on closed DMs use the Leaders thread, or hold it until it exists."""
        try:
            await self.gateway.send_dm(reminder.user_id, text)
        except discord.Forbidden as error:
            # 50007: the member's DMs are closed to the bot (or it shares no server with them).
            log.info("Dialogue %s: DMs to leader %s refused (%s)", dialogue.id, reminder.user_id, error.code)
            await leaders_db.set_reachable(self.db, dialogue.id, reminder.user_id, False)
            thread_id = await self.backstage.thread_id(dialogue.id)
            if thread_id is None:
                await reminders_db.hold(self.db, reminder.id, text)
                return Outcome.HELD
            if await self.backstage.post(thread_id, reminder.user_id, text):
                await reminders_db.set_via(self.db, reminder.id, Via.THREAD)
                if dialogue.state is State.CLOSED:
                    await self.backstage.archive_again(dialogue, thread_id)
                return Outcome.THREAD
            failure = "DMs closed and the Leaders thread refused the post"
        except discord.HTTPException as error:
            log.warning("Dialogue %s: DM to leader %s failed: %s", dialogue.id, reminder.user_id, error)
            failure = f"Discord failed: HTTP {error.status}"
        else:
            await reminders_db.set_via(self.db, reminder.id, Via.DM)
            await leaders_db.set_reachable(self.db, dialogue.id, reminder.user_id, True)
            return Outcome.DM
        retry_at = self.clock() + RETRY_AFTER
        if retry_at - reminder.due_at > LATE_LIMIT:
            # Retries stop where a late send would stop: the record says it was given up.
            await reminders_db.release(self.db, reminder.id, failure, retry_at)
            await reminders_db.skip(
                self.db,
                dialogue.id,
                reminder.user_id,
                self.clock(),
                "Discord kept failing for 6 hours",
                reminder_id=reminder.id,
            )
            return Outcome.SKIPPED
        if await reminders_db.release(self.db, reminder.id, failure, retry_at):
            self.timer.poke(retry_at)
        return Outcome.RETRY

    async def _render(self, reminder: Reminder, dialogue: Dialogue, leader: Leader, now: datetime) -> str:
        guild_id = dialogue.guild_id
        channel_link = f"https://discord.com/channels/{guild_id}/{dialogue.channel_id}"
        if reminder.kind is Kind.WELCOME:
            zone = await self.planner.zone_for(dialogue, leader.user_id)
            return texts.welcome_text(
                title=dialogue.title,
                guild_name=self.gateway.guild_name(guild_id) or "the server",
                commitment=leader.commitment,
                opens_at=dialogue.opens_at,
                closes_at=dialogue.closes_at,
                timezone=zone.timezone,
                hour=zone.hour,
                own_zone=zone.own,
            )
        if reminder.kind is Kind.OPENS_SOON:
            questions = await dialogues_db.questions(self.db, dialogue.id)
            return texts.opens_soon_text(
                title=dialogue.title, opens_at=dialogue.opens_at, questions=[q.text for q in questions]
            )
        if reminder.kind is Kind.OPENED:
            questions = await dialogues_db.questions(self.db, dialogue.id)
            threads = [
                ThreadLink(thread_name(q.text), f"https://discord.com/channels/{guild_id}/{q.thread_id}")
                for q in questions
                if q.thread_id is not None
            ]
            return texts.opened_text(
                title=dialogue.title, channel_link=channel_link, threads=threads, closes_at=dialogue.closes_at
            )
        if reminder.kind is Kind.CHECKIN:
            return texts.checkin_text(await self.report(dialogue, leader, reminder.id, now))
        if reminder.kind is Kind.CLOSES_SOON:
            return texts.closes_soon_text(title=dialogue.title, closes_at=dialogue.closes_at, channel_link=channel_link)
        if reminder.kind is Kind.THANKS:
            counts = await checkins_db.leader_counts(self.db, dialogue.id, now - DAY)
            own = counts[leader.user_id].total if leader.user_id in counts else 0
            return texts.thanks_text(title=dialogue.title, own_total=own)
        return texts.broadcast_text(title=dialogue.title, message=reminder.body or "")

    async def report(self, dialogue: Dialogue, leader: Leader, reminder_id: int, now: datetime) -> CheckinReport:
        """Compute what a leader's check-in says: one query counts the posts, one finds those waiting."""
        previous = await reminders_db.last_sent(self.db, dialogue.id, leader.user_id, Kind.CHECKIN, reminder_id)
        since = previous or dialogue.opened_at or dialogue.opens_at
        planned = await plans_db.get_settings(self.db, dialogue.id)
        after = planned.unanswered_after or self.settings.unanswered_after_delta
        counts = await checkins_db.checkin_counts(
            self.db, dialogue.id, leader.user_id, day_start=now - DAY, since=since
        )
        return CheckinReport(
            title=dialogue.title,
            commitment=leader.commitment,
            own_last_day=counts.own_last_day,
            own_total=counts.own_total,
            total=counts.total,
            new_since_last=counts.new_since_last,
            unanswered=await checkins_db.unanswered(self.db, dialogue.id, dialogue.channel_id or 0, now - after),
            unanswered_after=after,
            guild_id=dialogue.guild_id,
            closes_at=dialogue.closes_at,
        )
