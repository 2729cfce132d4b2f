"""Conversation leaders: the roster, their time zones, the Leaders thread, and reminders sent exactly once.

Every reminder is a row (``db.leaders``). The scheduler holds one job per pending row, id
``leaders:{dialogue}:{reminder}``, rebuilt from the database at start-up; a job re-reads its row and does
nothing unless it is still pending. Time-driven rows (opens tomorrow, daily check-ins, closes tomorrow) are
re-planned whenever their inputs change: a leader is added, the window moves, a time zone changes. The others
come from events: being added (welcome), the opening, the close, a facilitator's message.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import discord

import db.dialogues as dialogues_db
import db.leaders as leaders_db
import db.plans as plans_db
from db import Database

from .clock import Clock
from .config import Settings
from .domain import reminders as texts
from .domain.errors import DialogueError, InvalidInput, InvalidTransition
from .domain.models import BotMessageKind, Dialogue, State, ThreadOrigin
from .domain.parsing import parse_timezone, thread_name
from .domain.reminders import (
    DAY,
    LATE_LIMIT,
    MAX_COMMITMENT,
    MIN_COMMITMENT,
    CheckinReport,
    Kind,
    Leader,
    Reminder,
    ReminderState,
    plan,
    stale_reason,
)
from .gateway import MENTIONS_OFF, Gateway
from .render import MESSAGE_LIMIT, truncate
from .scheduler import Scheduler

__all__ = ("Delivery", "LeaderService", "Zone")

log = logging.getLogger(__name__)

LEADERS_THREAD_NAME = "Leaders"
# A reminder Discord failed to take (not a refusal) is tried again after this long.
RETRY_AFTER = timedelta(minutes=10)
MAX_BROADCAST_LENGTH = 1500
_INTRO_KIND = BotMessageKind.LEADERS_INTRO  # the Leaders thread's first message, posted once its members are in
_LIVE_STATES = (State.SCHEDULED, State.OPEN, State.FAILED)


@dataclass(frozen=True, slots=True)
class Zone:
    """Where and when a leader's check-ins fall; ``own`` is False while the dialogue's zone stands in."""

    timezone: str
    hour: int
    own: bool


@dataclass(frozen=True, slots=True)
class Delivery:
    """How one reminder went: 'dm', 'thread', 'held', 'skipped', 'retry' or 'none' (already done)."""

    reminder_id: int
    user_id: int
    via: str


_HELD_UNTIL_POSTED = frozenset({Kind.WELCOME, Kind.BROADCAST})


def job_id(dialogue_id: int, reminder_id: int) -> str:
    return f"leaders:{dialogue_id}:{reminder_id}"


class LeaderService:
    """The leader use-cases. Every public method re-reads the record and acts only on what is not done."""

    def __init__(
        self, database: Database, gateway: Gateway, scheduler: Scheduler, clock: Clock, settings: Settings
    ) -> None:
        self.db = database
        self.gateway = gateway
        self.scheduler = scheduler
        self.clock = clock
        self.settings = settings

    # ----- roster --------------------------------------------------------------------------------

    async def add(self, dialogue: Dialogue, user_id: int, commitment: int) -> tuple[Leader, bool]:
        """Make a member a leader (or change their commitment); welcome them and plan their reminders."""
        if not MIN_COMMITMENT <= commitment <= MAX_COMMITMENT:
            raise InvalidInput("commitment", f"posts per day must be from {MIN_COMMITMENT} to {MAX_COMMITMENT}.", "2")
        if dialogue.state not in _LIVE_STATES:
            raise InvalidTransition(f"Cannot add leaders to “{dialogue.title}”: it is {dialogue.state.value}.")
        now = self.clock()
        added = await leaders_db.add_leader(self.db, dialogue.id, user_id, commitment, now)
        leader = await leaders_db.get_leader(self.db, dialogue.id, user_id)
        assert leader is not None
        log.info("Dialogue %s: leader %s %s", dialogue.id, user_id, "added" if added else "updated")
        if not added:
            return leader, False
        await self.replan(dialogue, leader)
        welcome = await leaders_db.add_reminder(
            self.db, dialogue.id, user_id, Kind.WELCOME, f"welcome:{int(leader.added_at.timestamp())}", now
        )
        self._place(welcome)
        await self.deliver(welcome.id)
        thread_id = await leaders_db.leaders_thread(self.db, dialogue.id)
        if thread_id is not None:
            await self._thread_membership(thread_id, user_id, join=True)
            if dialogue.state is State.OPEN:
                # Opened already: they get the opening message now, once.
                await self._send_opened(dialogue, [leader])
        return leader, True

    async def remove(self, dialogue: Dialogue, user_id: int) -> None:
        """Stop being a leader: nothing more is sent to them."""
        now = self.clock()
        if not await leaders_db.remove_leader(self.db, dialogue.id, user_id, now):
            raise DialogueError(f"<@{user_id}> is not a leader of “{dialogue.title}”.")
        for reminder_id in await leaders_db.delete_future(self.db, dialogue.id, user_id, now):
            self.scheduler.remove(job_id(dialogue.id, reminder_id))
        for reminder_id in await leaders_db.skip(self.db, dialogue.id, user_id, now, "no longer a leader"):
            self.scheduler.remove(job_id(dialogue.id, reminder_id))
        log.info("Dialogue %s: leader %s removed", dialogue.id, user_id)
        thread_id = await leaders_db.leaders_thread(self.db, dialogue.id)
        if thread_id is not None and not await self._is_facilitator(dialogue.guild_id, user_id):
            await self._thread_membership(thread_id, user_id, join=False)

    async def roster(self, dialogue_id: int) -> list[Leader]:
        return await leaders_db.leaders(self.db, dialogue_id)

    async def leader(self, dialogue_id: int, user_id: int) -> Leader | None:
        return await leaders_db.get_leader(self.db, dialogue_id, user_id)

    async def chose_own_zone(self, guild_id: int, user_id: int) -> bool:
        """Return whether the member set their zone themselves (a plan's choice does not count)."""
        return await leaders_db.member_source(self.db, guild_id, user_id) == "self"

    async def zone_for(self, dialogue: Dialogue, user_id: int) -> Zone:
        """Return the leader's own zone and hour, or the dialogue's zone at the default hour."""
        own = await leaders_db.get_member(self.db, dialogue.guild_id, user_id)
        if own is not None:
            return Zone(own[0], own[1], True)
        # A dialogue imported from a plan may set its own default hour ([reminders] checkin_hour).
        planned = await plans_db.get_settings(self.db, dialogue.id)
        hour = self.settings.default_checkin_hour if planned.checkin_hour is None else planned.checkin_hour
        return Zone(dialogue.timezone, hour, False)

    async def set_timezone(
        self, guild_id: int, user_id: int, zone: str, hour: int | None = None, *, source: str = "self"
    ) -> tuple[str, int, datetime | None]:
        """Store a member's zone and check-in hour, move their future check-ins; return zone, hour and the next one.

        Without ``hour`` the member keeps the hour stored for them; a member with none gets the configured default.
        """
        timezone = parse_timezone(zone)
        if hour is None:
            stored = await leaders_db.get_member(self.db, guild_id, user_id)
            hour = self.settings.default_checkin_hour if stored is None else stored[1]
        if not 0 <= hour <= 23:
            raise InvalidInput("checkin_hour", "use a whole hour from 0 to 23.", "9")
        now = self.clock()
        await leaders_db.set_member(self.db, guild_id, user_id, timezone, hour, now, source)
        log.info("Member %s in guild %s set a check-in time zone", user_id, guild_id)
        upcoming: list[datetime] = []
        states = [state.value for state in _LIVE_STATES]
        for dialogue_id in await leaders_db.active_leaderships(self.db, guild_id, user_id, states):
            dialogue = await dialogues_db.get(self.db, dialogue_id)
            leader = await leaders_db.get_leader(self.db, dialogue_id, user_id)
            if dialogue is None or leader is None:
                continue
            await self.replan(dialogue, leader)
            upcoming += [
                r.due_at
                for r in await leaders_db.reminders_for(self.db, dialogue_id, user_id)
                if r.kind is Kind.CHECKIN and r.state is ReminderState.PENDING and r.due_at >= now
            ]
        return timezone, hour, (min(upcoming) if upcoming else None)

    # ----- planning ------------------------------------------------------------------------------

    async def replan(self, dialogue: Dialogue, leader: Leader) -> None:
        """Make the leader's future time-driven reminders match the window and their zone; place the jobs."""
        zone = await self.zone_for(dialogue, leader.user_id)
        now = self.clock()
        wanted = plan(
            state=dialogue.state,
            opens_at=dialogue.opens_at,
            closes_at=dialogue.closes_at,
            added_at=leader.added_at,
            timezone=zone.timezone,
            hour=zone.hour,
            now=now,
        )
        # One check-in per local day: a new hour or zone must not add a second one to a day already served.
        local = ZoneInfo(zone.timezone)
        served = {
            r.due_at.astimezone(local).date()
            for r in await leaders_db.reminders_for(self.db, dialogue.id, leader.user_id)
            if r.kind is Kind.CHECKIN and r.state is ReminderState.SENT
        }
        wanted = [w for w in wanted if w.kind is not Kind.CHECKIN or w.due_at.astimezone(local).date() not in served]
        for dropped in await leaders_db.replan(self.db, dialogue.id, leader.user_id, wanted, now):
            self.scheduler.remove(job_id(dialogue.id, dropped))
        for reminder in await leaders_db.reminders_for(self.db, dialogue.id, leader.user_id):
            if reminder.state is ReminderState.PENDING:
                self._place(reminder)

    async def replan_all(self, dialogue: Dialogue) -> None:
        for leader in await leaders_db.leaders(self.db, dialogue.id):
            await self.replan(dialogue, leader)

    def _place(self, reminder: Reminder) -> None:
        self.scheduler.place(job_id(reminder.dialogue_id, reminder.id), reminder.due_at, self.deliver, reminder.id)

    async def rebuild(self) -> None:
        """At start-up: place a job for every pending reminder (overdue ones run at once and judge staleness),
        re-plan live dialogues, and make the opening and thank-you messages an interrupted run did not make."""
        rows = await leaders_db.pending(self.db)
        for reminder in rows:
            self._place(reminder)
        now = self.clock()
        for dialogue in await dialogues_db.in_states(self.db, (*_LIVE_STATES, State.CLOSED)):
            leaders = await leaders_db.leaders(self.db, dialogue.id)
            if not leaders:
                continue
            if dialogue.state in _LIVE_STATES:
                # Planning is idempotent: this mends a change (an extension) whose event a crash cut short.
                await self.replan_all(dialogue)
            if dialogue.state is State.OPEN and await leaders_db.leaders_thread(self.db, dialogue.id) is not None:
                await self._make_event_rows(dialogue, leaders, Kind.OPENED, place=True)
            elif dialogue.state is State.CLOSED and dialogue.closed_at and now - dialogue.closed_at < DAY:
                await self._make_event_rows(dialogue, leaders, Kind.THANKS, place=True)
        log.info("Placed %d leader reminders", len(rows))

    async def _make_event_rows(
        self, dialogue: Dialogue, leaders: list[Leader], kind: Kind, *, place: bool
    ) -> list[Reminder]:
        made = []
        for leader in leaders:
            due = self.clock()
            if kind is Kind.OPENED:
                due = max(dialogue.opened_at or dialogue.opens_at, leader.added_at)
            elif kind is Kind.THANKS:
                due = dialogue.closed_at or self.clock()
            reminder = await leaders_db.add_reminder(self.db, dialogue.id, leader.user_id, kind, kind.value, due)
            if reminder.state is ReminderState.PENDING:
                made.append(reminder)
                if place:
                    self._place(reminder)
        return made

    # ----- dialogue events -----------------------------------------------------------------------

    async def dialogue_opened(self, dialogue: Dialogue) -> None:
        """The opening completed: drop "opens tomorrow" (stale), re-plan (it may have opened early), say so."""
        now = self.clock()
        for skipped in await leaders_db.skip(
            self.db, dialogue.id, None, now, "the dialogue opened", kinds=[Kind.OPENS_SOON]
        ):
            self.scheduler.remove(job_id(dialogue.id, skipped))
        await self.replan_all(dialogue)
        await self._send_opened(dialogue, await leaders_db.leaders(self.db, dialogue.id))

    async def _send_opened(self, dialogue: Dialogue, leaders: list[Leader]) -> None:
        for reminder in await self._make_event_rows(dialogue, leaders, Kind.OPENED, place=True):
            await self.deliver(reminder.id)

    async def dialogue_extended(self, dialogue: Dialogue) -> None:
        await self.replan_all(dialogue)

    async def dialogue_ended(self, dialogue: Dialogue) -> None:
        """Closed or cancelled: nothing more is owed but the thank-you after a close."""
        now = self.clock()
        note = f"the dialogue is {dialogue.state.value}"
        for reminder_id in await leaders_db.skip(self.db, dialogue.id, None, now, note):
            self.scheduler.remove(job_id(dialogue.id, reminder_id))
        if dialogue.state is not State.CLOSED:
            return
        leaders = await leaders_db.leaders(self.db, dialogue.id)
        for reminder in await self._make_event_rows(dialogue, leaders, Kind.THANKS, place=True):
            await self.deliver(reminder.id)

    # ----- the Leaders thread (an opening step) --------------------------------------------------

    async def open_step(self, dialogue: Dialogue, channel: discord.TextChannel) -> None:
        """Create the private Leaders thread once, add leaders and facilitators, post what was held.

        Each part is recorded: the thread (``threads``, origin 'leaders'), then the members and the intro
        (``bot_messages`` kind 'leaders_intro', written after the members were added), so a crash between
        two parts is mended by the next run. A thread made but not recorded before a crash is adopted.
        Discord refusing to create the thread or post the intro fails the opening like any step (the
        caller turns it into a reason); adding one member or posting a held reminder failing does not.
        """
        thread_id = await leaders_db.leaders_thread(self.db, dialogue.id)
        if thread_id is None:
            thread = self._find_leaders_thread(channel)
            if thread is None:
                thread = await channel.create_thread(
                    name=LEADERS_THREAD_NAME,
                    type=discord.ChannelType.private_thread,
                    invitable=False,
                    auto_archive_duration=10080,
                    reason="dialogue-bot: backstage room for conversation leaders",
                )
            await dialogues_db.add_thread(
                self.db, dialogue.id, thread.id, ThreadOrigin.LEADERS, LEADERS_THREAD_NAME, None, self.clock()
            )
            log.info("Dialogue %s: Leaders thread %s created", dialogue.id, thread.id)
            thread_id = thread.id
        if not await dialogues_db.bot_messages(self.db, dialogue.id, _INTRO_KIND):
            members = [leader.user_id for leader in await leaders_db.leaders(self.db, dialogue.id)]
            members += [uid for uid in self._facilitators(dialogue.guild_id) if uid not in members]
            for user_id in members:
                await self._thread_membership(thread_id, user_id, join=True)
            found = await self._thread(thread_id)
            if found is not None:
                message = await found.send(
                    "This private thread is the backstage room for the conversation leaders and facilitators "
                    "of this dialogue. Reminders for leaders whose direct messages are closed are posted here.",
                    allowed_mentions=MENTIONS_OFF,
                )
                await dialogues_db.add_bot_message(
                    self.db, dialogue.id, _INTRO_KIND, 0, thread_id, message.id, self.clock()
                )
        await self._post_held(dialogue, thread_id)

    def _find_leaders_thread(self, channel: discord.TextChannel) -> discord.Thread | None:
        me = channel.guild.me.id
        return discord.utils.find(
            lambda t: (
                t.name == LEADERS_THREAD_NAME and t.owner_id == me and t.type is discord.ChannelType.private_thread
            ),
            channel.threads,
        )

    def _facilitators(self, guild_id: int) -> list[int]:
        from .app import is_facilitator  # the bot module imports the services; import at use, not load

        guild = self.gateway.guild(guild_id)
        if guild is None:
            return []
        return [m.id for m in guild.members if not m.bot and is_facilitator(m, self.settings)]

    async def _is_facilitator(self, guild_id: int, user_id: int) -> bool:
        return user_id in self._facilitators(guild_id)

    async def _thread(self, thread_id: int) -> discord.Thread | None:
        thread = self.gateway.client.get_channel(thread_id)
        if isinstance(thread, discord.Thread):
            return thread
        try:
            fetched = await self.gateway.client.fetch_channel(thread_id)
        except discord.HTTPException:
            return None
        return fetched if isinstance(fetched, discord.Thread) else None

    async def _thread_membership(self, thread_id: int, user_id: int, *, join: bool) -> None:
        thread = await self._thread(thread_id)
        if thread is None:
            return
        try:
            if join:
                await thread.add_user(discord.Object(id=user_id))
            else:
                await thread.remove_user(discord.Object(id=user_id))
        except discord.HTTPException as error:
            log.warning(
                "Leaders thread %s: could not %s member %s: %s", thread_id, "add" if join else "remove", user_id, error
            )

    async def _post_held(self, dialogue: Dialogue, thread_id: int) -> None:
        for reminder in await leaders_db.held(self.db, dialogue.id):
            now = self.clock()
            # A welcome or a facilitator's message was promised to wait for this thread, however long;
            # time-bound ones (e.g. an "opens tomorrow" held until the opening itself) may have gone stale.
            reason = (
                None
                if reminder.kind in _HELD_UNTIL_POSTED
                else stale_reason(
                    reminder.kind, reminder.due_at, dialogue.state, dialogue.opens_at, dialogue.closes_at, now
                )
            )
            if reason is not None:
                await leaders_db.skip(self.db, dialogue.id, reminder.user_id, now, reason, reminder_id=reminder.id)
                continue
            if not await leaders_db.claim(self.db, reminder.id, self.clock(), source=ReminderState.HELD):
                continue
            body = reminder.body or ""
            if await self._post_in_thread(thread_id, reminder.user_id, body, held=True):
                await leaders_db.set_via(self.db, reminder.id, "thread")
            else:
                await leaders_db.hold(self.db, reminder.id, body)

    async def _post_in_thread(self, thread_id: int, user_id: int, text: str, *, held: bool = False) -> bool:
        thread = await self._thread(thread_id)
        if thread is None:
            return False
        note = "held until this thread existed, because" if held else "posted here because"
        content = f"<@{user_id}> ({note} your direct messages are closed)\n{text}"
        try:
            await thread.send(
                truncate(content, MESSAGE_LIMIT),
                allowed_mentions=discord.AllowedMentions(users=[discord.Object(id=user_id)]),
            )
        except discord.HTTPException as error:
            log.warning("Leaders thread %s: could not post a reminder: %s", thread_id, error)
            return False
        return True

    # ----- delivery ------------------------------------------------------------------------------

    async def deliver(self, reminder_id: int) -> Delivery | None:
        """Job callback: send one reminder if it is still pending and still meaningful; at most once."""
        await self.gateway.wait_until_ready()
        reminder = await leaders_db.get_reminder(self.db, reminder_id)
        if reminder is None:
            return None
        if reminder.state is not ReminderState.PENDING:
            return Delivery(reminder.id, reminder.user_id, "none")
        dialogue = await dialogues_db.get(self.db, reminder.dialogue_id)
        leader = await leaders_db.get_leader(self.db, reminder.dialogue_id, reminder.user_id)
        now = self.clock()
        if dialogue is None or leader is None or not leader.active:
            await leaders_db.skip(
                self.db, reminder.dialogue_id, reminder.user_id, now, "no longer a leader", reminder_id=reminder.id
            )
            return Delivery(reminder.id, reminder.user_id, "skipped")
        reason = stale_reason(
            reminder.kind, reminder.due_at, dialogue.state, dialogue.opens_at, dialogue.closes_at, now
        )
        if reason is not None:
            await leaders_db.skip(self.db, dialogue.id, leader.user_id, now, reason, reminder_id=reminder.id)
            log.info("Dialogue %s: %s reminder %s skipped: %s", dialogue.id, reminder.kind, reminder.id, reason)
            return Delivery(reminder.id, reminder.user_id, "skipped")
        text = truncate(await self._render(reminder, dialogue, leader, now), MESSAGE_LIMIT)
        # Mark, then send. The row is claimed (sent, via NULL) before Discord is asked, so a crash or a
        # second job between the two can lose this one message but never send it twice: "at most once" is
        # the promise. A sent row whose via stays NULL records exactly that an attempt was cut short.
        if not await leaders_db.claim(self.db, reminder.id, now, source=ReminderState.PENDING):
            return Delivery(reminder.id, reminder.user_id, "none")
        via = await self._send(dialogue, reminder, text)
        log.info("Dialogue %s: %s reminder %s -> %s", dialogue.id, reminder.kind, reminder.id, via)
        return Delivery(reminder.id, reminder.user_id, via)

    async def _send(self, dialogue: Dialogue, reminder: Reminder, text: str) -> str:
        """Send a claimed reminder by DM; on closed DMs use the Leaders thread, or hold it until it exists."""
        try:
            await self.gateway.send_dm(reminder.user_id, text)
        except discord.Forbidden as error:
            # 50007: the member's DMs are closed to the bot (or it shares no server with them).
            log.info("Dialogue %s: DMs to leader %s refused (%s)", dialogue.id, reminder.user_id, error.code)
            await leaders_db.set_reachable(self.db, dialogue.id, reminder.user_id, False)
            thread_id = await leaders_db.leaders_thread(self.db, dialogue.id)
            if thread_id is None:
                await leaders_db.hold(self.db, reminder.id, text)
                return "held"
            if await self._post_in_thread(thread_id, reminder.user_id, text):
                await leaders_db.set_via(self.db, reminder.id, "thread")
                if dialogue.state is State.CLOSED:
                    await self._archive_again(dialogue, thread_id)
                return "thread"
            await leaders_db.release(self.db, reminder.id, "DMs closed and the Leaders thread refused the post")
        except discord.HTTPException as error:
            log.warning("Dialogue %s: DM to leader %s failed: %s", dialogue.id, reminder.user_id, error)
            await leaders_db.release(self.db, reminder.id, f"Discord failed: HTTP {error.status}")
        else:
            await leaders_db.set_via(self.db, reminder.id, "dm")
            await leaders_db.set_reachable(self.db, dialogue.id, reminder.user_id, True)
            return "dm"
        retry_at = self.clock() + RETRY_AFTER
        if retry_at - reminder.due_at > LATE_LIMIT:
            # Retries stop where a late send would stop: the record says it was given up.
            await leaders_db.skip(
                self.db,
                dialogue.id,
                reminder.user_id,
                self.clock(),
                "Discord kept failing for 6 hours",
                reminder_id=reminder.id,
            )
            return "skipped"
        retry = await leaders_db.get_reminder(self.db, reminder.id)
        if retry is not None and retry.state is ReminderState.PENDING:
            self.scheduler.place(job_id(dialogue.id, reminder.id), retry_at, self.deliver, reminder.id)
        return "retry"

    async def _archive_again(self, dialogue: Dialogue, thread_id: int) -> None:
        """A post after the close unarchives the locked Leaders thread on Discord: archive it again."""
        try:
            await self.gateway.lock_thread(thread_id)
        except discord.HTTPException as error:
            log.warning("Dialogue %s: could not archive the Leaders thread again: %s", dialogue.id, error)

    async def _render(self, reminder: Reminder, dialogue: Dialogue, leader: Leader, now: datetime) -> str:
        guild_id = dialogue.guild_id
        channel_link = f"https://discord.com/channels/{guild_id}/{dialogue.channel_id}"
        if reminder.kind is Kind.WELCOME:
            zone = await self.zone_for(dialogue, leader.user_id)
            guild = self.gateway.guild(guild_id)
            return texts.welcome_text(
                title=dialogue.title,
                guild_name=guild.name if guild else "the server",
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
                (thread_name(q.text), f"https://discord.com/channels/{guild_id}/{q.thread_id}")
                for q in questions
                if q.thread_id is not None
            ]
            return texts.opened_text(
                title=dialogue.title, channel_link=channel_link, threads=threads, closes_at=dialogue.closes_at
            )
        if reminder.kind is Kind.CHECKIN:
            return texts.checkin_text(await self._report(dialogue, leader, reminder, now))
        if reminder.kind is Kind.CLOSES_SOON:
            return texts.closes_soon_text(title=dialogue.title, closes_at=dialogue.closes_at, channel_link=channel_link)
        if reminder.kind is Kind.THANKS:
            own = await leaders_db.post_count(self.db, dialogue.id, author_id=leader.user_id)
            return texts.thanks_text(title=dialogue.title, own_total=own)
        return texts.broadcast_text(title=dialogue.title, message=reminder.body or "")

    async def _report(self, dialogue: Dialogue, leader: Leader, reminder: Reminder, now: datetime) -> CheckinReport:
        previous = await leaders_db.last_sent(self.db, dialogue.id, leader.user_id, Kind.CHECKIN, reminder.id)
        since = previous or dialogue.opened_at or dialogue.opens_at
        planned = await plans_db.get_settings(self.db, dialogue.id)
        after = planned.unanswered_after or self.settings.unanswered_after_delta
        return CheckinReport(
            title=dialogue.title,
            commitment=leader.commitment,
            own_last_day=await leaders_db.post_count(self.db, dialogue.id, author_id=leader.user_id, since=now - DAY),
            own_total=await leaders_db.post_count(self.db, dialogue.id, author_id=leader.user_id),
            total=await leaders_db.post_count(self.db, dialogue.id),
            new_since_last=await leaders_db.post_count(self.db, dialogue.id, since=since),
            unanswered=await leaders_db.unanswered(self.db, dialogue.id, dialogue.channel_id or 0, now - after),
            unanswered_after=after,
            guild_id=dialogue.guild_id,
            closes_at=dialogue.closes_at,
        )

    # ----- a facilitator's message ---------------------------------------------------------------

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
            reminder = await leaders_db.add_reminder(
                self.db, dialogue.id, leader.user_id, Kind.BROADCAST, f"broadcast:{key}", now, body=text
            )
            result = await self.deliver(reminder.id)
            if result is not None:
                results.append(result)
        return results

    # ----- status --------------------------------------------------------------------------------

    async def status_section(self, dialogue: Dialogue) -> str:
        """The leaders' part of /dialogue status: posts in 24 hours and in total, commitment, reachability."""
        leaders = await leaders_db.leaders(self.db, dialogue.id)
        if not leaders:
            return "**Leaders**: none. Add them with `/dialogue leaders add`."
        now = self.clock()
        lines = [f"**Leaders** ({len(leaders)})"]
        for leader in leaders:
            last_day = await leaders_db.post_count(self.db, dialogue.id, author_id=leader.user_id, since=now - DAY)
            total = await leaders_db.post_count(self.db, dialogue.id, author_id=leader.user_id)
            reach = (
                "reachable by DM"
                if leader.reachable
                else "**unreachable**: DMs closed, reminders go to the Leaders thread"
            )
            lines.append(
                f"- <@{leader.user_id}>: {last_day} in the last 24 hours (commitment {leader.commitment} a day), "
                f"{total} in total; {reach}"
            )
        return "\n".join(lines)
