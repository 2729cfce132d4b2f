"""The dialogue use-cases: create, open, record, extend, close, cancel — each step recorded and repeatable."""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

import discord

import db.dialogues as dialogues_db
import db.posts as posts_db
from db import Database

from . import render
from .clock import Clock
from .config import Settings
from .domain.errors import DialogueNotFound, InvalidInput, InvalidTransition
from .domain.lifecycle import ALLOWED, Action, due_action, require_transition
from .domain.models import Dialogue, DialogueDraft, PostStats, State
from .domain.parsing import MAX_DURATION, thread_name, unique_slug
from .gateway import Gateway, permission_label
from .leaders import LeaderService
from .scheduler import Scheduler

__all__ = ("DialogueService", "IncomingPost", "StepFailed", "incoming_post")

log = logging.getLogger(__name__)

T = TypeVar("T")

# A close that Discord refused is tried again after this long.
CLOSE_RETRY = timedelta(minutes=5)
MAX_RETRY = timedelta(hours=1)


class StepFailed(Exception):
    """A step of opening could not be done; ``reason`` is written for facilitators."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class IncomingPost:
    """A person's message in a dialogue channel or thread, as the listener saw it."""

    message_id: int
    channel_id: int
    parent_id: int | None  # the thread's parent channel, None for a top-level message
    channel_name: str
    author_id: int
    author_name: str
    content: str
    created_at: datetime
    reply_to_id: int | None


# Only what a person writes counts; thread-created and pin notices are system messages.
_POST_TYPES = frozenset({discord.MessageType.default, discord.MessageType.reply})


def incoming_post(message: discord.Message) -> IncomingPost | None:
    """Describe a person's message in a server channel or thread; None for bots, system messages and DMs."""
    if message.guild is None or message.author.bot or message.type not in _POST_TYPES:
        return None
    parent_id = message.channel.parent_id if isinstance(message.channel, discord.Thread) else None
    return IncomingPost(
        message_id=message.id,
        channel_id=message.channel.id,
        parent_id=parent_id,
        channel_name=getattr(message.channel, "name", "") or "",
        author_id=message.author.id,
        author_name=message.author.display_name,
        content=message.content,
        created_at=message.created_at,
        reply_to_id=message.reference.message_id if message.reference else None,
    )


class DialogueService:
    """Runs dialogues. Every public method re-reads the record and acts only on what is not yet done."""

    def __init__(
        self,
        database: Database,
        gateway: Gateway,
        scheduler: Scheduler,
        clock: Clock,
        settings: Settings,
        *,
        leaders: LeaderService,
    ) -> None:
        self.db = database
        self.gateway = gateway
        self.scheduler = scheduler
        self.clock = clock
        self.settings = settings
        # The private Leaders thread is the opening's last step (idempotent: it looks at its own records).
        self.leaders = leaders
        # Consecutive failures of a retried step, per dialogue: only paces retries and notices (not state).
        self._failures: dict[int, int] = {}

    # ----- reading -------------------------------------------------------------------------------

    async def get(self, dialogue_id: int) -> Dialogue:
        dialogue = await dialogues_db.get(self.db, dialogue_id)
        if dialogue is None:
            raise DialogueNotFound(f"There is no dialogue #{dialogue_id}.")
        return dialogue

    async def resolve(self, guild_id: int, reference: str) -> Dialogue:
        """Find a guild's dialogue from an autocomplete value (its id) or its exact title."""
        text = reference.strip().removeprefix("#")
        candidates = await dialogues_db.in_guild(self.db, guild_id)
        if text.isdigit():
            found = next((d for d in candidates if d.id == int(text)), None)
        else:
            found = next((d for d in candidates if d.title.lower() == text.lower()), None)
        if found is None:
            raise DialogueNotFound(f"No dialogue “{reference}” in this server. Pick one from the list as you type.")
        return found

    async def in_guild(self, guild_id: int) -> list[Dialogue]:
        return await dialogues_db.in_guild(self.db, guild_id)

    async def stats(self, dialogue_id: int) -> PostStats:
        return await posts_db.stats(self.db, dialogue_id)

    # ----- creating and scheduling ---------------------------------------------------------------

    async def create(self, guild_id: int, created_by: int, draft: DialogueDraft) -> Dialogue:
        """Store a validated draft as a scheduled dialogue and place its jobs."""
        dialogue = await dialogues_db.create(self.db, guild_id, created_by, draft, self.clock())
        log.info("Dialogue %s created in guild %s, opens %s", dialogue.id, guild_id, dialogue.opens_at)
        self.schedule(dialogue)
        self.gateway.dispatch("dialogue_created", dialogue)
        return dialogue

    def schedule(self, dialogue: Dialogue, *, resume: bool = False) -> None:
        """(Re)place this dialogue's open and close jobs from its record; the callbacks decide what is due.

        ``resume`` (at start-up) also re-runs the steps of an open or closed dialogue at once: cheap when
        they are all done, and it mends a crash between two steps when not.
        """
        prefix = f"dialogue:{dialogue.id}:"
        self.scheduler.remove(prefix + "open")
        self.scheduler.remove(prefix + "close")
        now = self.clock()
        if dialogue.state is State.SCHEDULED:
            self.scheduler.place(prefix + "open", dialogue.opens_at, self.run_due, dialogue.id)
            self.scheduler.place(prefix + "close", dialogue.closes_at, self.run_due, dialogue.id)
        elif dialogue.state is State.FAILED:
            self.scheduler.place(prefix + "close", dialogue.closes_at, self.run_due, dialogue.id)
        elif dialogue.state is State.OPEN:
            if resume:
                self.scheduler.place(prefix + "open", now, self.run_due, dialogue.id)
            self.scheduler.place(prefix + "close", dialogue.closes_at, self.run_due, dialogue.id)
        elif dialogue.state is State.CLOSED and resume:
            self.scheduler.place(prefix + "close", now, self.finish_close, dialogue.id)

    async def schedule_all(self) -> None:
        """Rebuild every job from the database (at start-up)."""
        active = await dialogues_db.in_states(self.db, (State.SCHEDULED, State.OPEN, State.FAILED, State.CLOSED))
        for dialogue in active:
            if dialogue.state is State.CLOSED and await self._close_complete(dialogue):
                continue
            self.schedule(dialogue, resume=True)
        log.info("Scheduled jobs for %d dialogues", len(active))

    async def schedule_release(self, dialogue: Dialogue) -> None:
        """Place one job per seed question released later than the opening."""
        for question in await dialogues_db.questions(self.db, dialogue.id):
            if question.thread_id is None and question.release_at is not None:
                self.scheduler.place(
                    f"dialogue:{dialogue.id}:release:{question.position}",
                    question.release_at,
                    self.run_due,
                    dialogue.id,
                )

    async def run_due(self, dialogue_id: int) -> None:
        """Scheduler callback: do whatever the record says is due now (nothing if it is done)."""
        await self.gateway.wait_until_ready()
        dialogue = await dialogues_db.get(self.db, dialogue_id)
        if dialogue is None:
            return
        action = due_action(dialogue, self.clock())
        if action is Action.OPEN:
            await self.open(dialogue.id)
        elif action is Action.CLOSE:
            await self.close(dialogue.id)
        elif action is Action.MISS:
            await self._miss(dialogue)
        elif dialogue.state is State.OPEN:
            await self._continue_open(dialogue)
            await self.catch_up(dialogue)

    # ----- opening -------------------------------------------------------------------------------

    async def open(self, dialogue_id: int, *, manual: bool = False) -> Dialogue:
        """Open a scheduled (or failed) dialogue now; if it is open already, finish any missing step."""
        dialogue = await self.get(dialogue_id)
        now = self.clock()
        if manual and dialogue.state is not State.OPEN and now >= dialogue.closes_at:
            raise InvalidTransition(
                f"Cannot open “{dialogue.title}”: its window ended {render.timestamp(dialogue.closes_at, 'R')}."
                " Use `/dialogue extend` first."
            )
        if dialogue.state is State.OPEN:
            if manual:
                raise InvalidTransition(f"Cannot open “{dialogue.title}”: it is already open.")
            await self._continue_open(dialogue)
            return await self.get(dialogue_id)
        require_transition(dialogue, Action.OPEN)
        sources, target = ALLOWED[Action.OPEN]
        if not await dialogues_db.transition(self.db, dialogue.id, tuple(sources), target, now):
            log.info("Dialogue %s: open lost a race, nothing to do", dialogue.id)
            return await self.get(dialogue_id)
        # Opening brings the window forward to now when a facilitator opens early.
        log.info("Dialogue %s in guild %s: %s -> open", dialogue.id, dialogue.guild_id, dialogue.state)
        dialogue = await self.get(dialogue_id)
        await self._continue_open(dialogue)
        dialogue = await self.get(dialogue_id)
        if dialogue.state is State.OPEN:
            self.schedule(dialogue)
        return dialogue

    async def _continue_open(self, dialogue: Dialogue) -> None:
        try:
            await self._open_steps(dialogue)
        except StepFailed as failure:
            if await dialogues_db.is_ready(self.db, dialogue.id):
                # Already live (a staged release or a resume failed): keep it open and try again later.
                log.warning("Dialogue %s: a later opening step failed: %s", dialogue.id, failure.reason)
                self.scheduler.place(
                    f"dialogue:{dialogue.id}:open",
                    self.clock() + self._retry_delay(dialogue.id),
                    self.run_due,
                    dialogue.id,
                )
                await self._notify_once(
                    dialogue,
                    f"“{dialogue.title}” (#{dialogue.id}) is open, but a step could not be done: {failure.reason}. "
                    "The bot keeps trying.",
                )
                return
            await self._fail(dialogue, failure.reason)
            return
        self._failures.pop(dialogue.id, None)
        if await dialogues_db.mark_ready(self.db, dialogue.id, self.clock()):
            log.info("Dialogue %s in guild %s: opening complete", dialogue.id, dialogue.guild_id)
            self.gateway.dispatch("dialogue_opened", await self.get(dialogue.id))

    async def _open_steps(self, dialogue: Dialogue) -> None:
        """Create what the record says is missing: channel, intro, pin, due seed threads, then extra steps."""
        guild = self.gateway.guild(dialogue.guild_id)
        if guild is None:
            raise StepFailed("the bot is not in that server any more")
        channel = None
        if dialogue.channel_id is not None:
            channel = await self._step("find the dialogue channel", self.gateway.text_channel(dialogue.channel_id))
            if channel is None:
                raise StepFailed(
                    f"the dialogue channel (id {dialogue.channel_id}) was deleted; cancel this dialogue "
                    "and create it again"
                )
        if channel is None:
            missing = self.gateway.missing_permissions(guild, self.settings.category)
            if missing:
                labels = ", ".join(permission_label(name) for name in missing)
                raise StepFailed(f"the bot is missing permissions: {labels}")
            category = await self._step(
                "create the category", self.gateway.ensure_category(guild, self.settings.category)
            )
            topic = render.channel_topic(dialogue)
            # A crash between creating the channel and recording it leaves one with this exact topic: adopt it.
            channel = self.gateway.find_channel(category, topic)
            if channel is None:
                name = unique_slug(dialogue.title, (c.name for c in guild.channels))
                channel = await self._step(
                    "create the channel", self.gateway.create_channel(guild, category, name, topic)
                )
            await dialogues_db.set_channel(self.db, dialogue.id, channel.id, self.clock())
            log.info("Dialogue %s: channel %s created", dialogue.id, channel.id)
        questions = await dialogues_db.questions(self.db, dialogue.id)
        posted = await dialogues_db.bot_messages(self.db, dialogue.id, "intro")
        for part, text in enumerate(render.intro(dialogue, questions)):
            if part in posted:
                continue
            message = await self._post_once(channel, text, "post the intro", set(posted.values()))
            await dialogues_db.add_bot_message(
                self.db, dialogue.id, "intro", part, channel.id, message.id, self.clock()
            )
            posted[part] = message.id
        if not await dialogues_db.intro_pinned(self.db, dialogue.id):
            await self._step("pin the intro", self.gateway.pin(channel, posted[0]))
            await dialogues_db.mark_intro_pinned(self.db, dialogue.id)
        now = self.clock()
        for question in questions:
            if question.thread_id is not None:
                continue
            if question.release_at is not None and question.release_at > now:
                continue
            title = thread_name(question.text)
            recorded = {q.thread_id for q in questions if q.thread_id is not None}
            # Likewise a thread created but not recorded before a crash is adopted, not made twice.
            thread = self.gateway.find_own_thread(channel, title, exclude=recorded)
            if thread is None:
                thread = await self._step(
                    f"create the thread for question {question.position}",
                    self.gateway.create_thread(channel, title, question.text),
                )
            await dialogues_db.set_question_thread(
                self.db, dialogue.id, question.position, thread.id, title, self.clock()
            )
            log.info("Dialogue %s: thread %s for question %s", dialogue.id, thread.id, question.position)
        await self.schedule_release(dialogue)
        await self._step("create the Leaders thread", self.leaders.open_step(dialogue, channel))

    async def _post_once(
        self, channel: discord.TextChannel, text: str, what: str, recorded: set[int]
    ) -> discord.Message:
        """Post ``text``, unless a crash left it posted but unrecorded: then adopt that message."""
        existing = await self._step(what, self.gateway.find_recent_own_message(channel, text, exclude=recorded))
        return existing or await self._step(what, self.gateway.post(channel, text))

    async def _step(self, what: str, action: Awaitable[T]) -> T:
        """Await one Discord request; turn a refusal into a reason facilitators can act on."""
        try:
            return await action
        except discord.Forbidden as error:
            raise StepFailed(f"Discord refused to {what}: missing permissions ({error.text})") from error
        except discord.HTTPException as error:
            raise StepFailed(f"Discord failed to {what}: HTTP {error.status} {error.text}".rstrip()) from error

    async def _fail(self, dialogue: Dialogue, reason: str) -> None:
        if await dialogues_db.transition(
            self.db, dialogue.id, (State.OPEN,), State.FAILED, self.clock(), reason=reason
        ):
            log.warning("Dialogue %s in guild %s failed to open: %s", dialogue.id, dialogue.guild_id, reason)
            failed = await self.get(dialogue.id)
            self.schedule(failed)
            await self.notify(
                failed,
                f"“{dialogue.title}” (#{dialogue.id}) could not open: {reason}. "
                "Fix this, then run `/dialogue open` to try again; it continues where it stopped.",
            )

    async def _miss(self, dialogue: Dialogue) -> None:
        if await dialogues_db.transition(
            self.db, dialogue.id, (State.SCHEDULED, State.FAILED), State.MISSED, self.clock()
        ):
            log.warning("Dialogue %s in guild %s missed its window", dialogue.id, dialogue.guild_id)
            self.scheduler.remove_prefix(f"dialogue:{dialogue.id}:")
            await self._lock_leftovers(dialogue)
            await self.notify(
                dialogue,
                f"“{dialogue.title}” (#{dialogue.id}) never opened: its whole window "
                f"({render.timestamp(dialogue.opens_at)} to {render.timestamp(dialogue.closes_at)}) passed "
                "before it could. Create it again with a new window.",
            )

    # ----- while open ----------------------------------------------------------------------------

    async def dialogue_for_channel(self, channel_id: int, parent_id: int | None) -> Dialogue | None:
        """Return the open dialogue that owns this channel or thread, if any."""
        for candidate in (parent_id, channel_id):
            if candidate is None:
                continue
            dialogue = await dialogues_db.by_channel(self.db, candidate)
            if dialogue is not None:
                return dialogue
        return None

    async def record(self, post: IncomingPost, message: discord.Message | None = None) -> bool:
        """Record a participant's post; give a top-level post a thread of its own. Return if recorded."""
        dialogue = await self.dialogue_for_channel(post.channel_id, post.parent_id)
        if dialogue is None or dialogue.state is not State.OPEN:
            return False
        thread_id: int | None = post.channel_id if post.parent_id is not None else None
        now = self.clock()
        known = await dialogues_db.thread_origin(self.db, thread_id) if thread_id is not None else None
        if known is not None and known[1] == "leaders":
            return False  # the leaders' backstage room is not part of the dialogue's record
        if thread_id is not None and known is None:
            # A thread the bot did not make (e.g. started from the client): adopt it.
            await dialogues_db.add_thread(self.db, dialogue.id, thread_id, "participant", post.channel_name, None, now)
        if thread_id is None and await dialogues_db.thread_origin(self.db, post.message_id) is not None:
            thread_id = post.message_id  # its thread exists already (a thread started from a message shares its id)
        elif thread_id is None and message is not None:
            title = thread_name(post.content) if post.content.strip() else f"Post by {post.author_name}"
            try:
                # A thread made from this post before a crash cut the record short is adopted, not remade.
                thread = message.thread or await self.gateway.thread_from_message(message, title)
                title = thread.name
            except discord.HTTPException as error:
                log.warning("Dialogue %s: could not start a thread from a post: %s", dialogue.id, error)
            else:
                thread_id = thread.id
                await dialogues_db.add_thread(
                    self.db, dialogue.id, thread.id, "participant", title, post.message_id, now
                )
        return await posts_db.record(
            self.db,
            message_id=post.message_id,
            dialogue_id=dialogue.id,
            thread_id=thread_id,
            author_id=post.author_id,
            author_name=post.author_name,
            content=post.content,
            created_at=post.created_at,
            reply_to_id=post.reply_to_id,
        )

    async def catch_up(self, dialogue: Dialogue, until: datetime | None = None) -> int:
        """Record what people posted while the bot was away (when an open dialogue resumes, and at its close)."""
        if dialogue.channel_id is None:
            return 0
        recorded = 0
        targets = [dialogue.channel_id, *await dialogues_db.thread_ids(self.db, dialogue.id, origin_not="leaders")]
        for target_id in targets:
            if target_id == dialogue.channel_id:
                after = await posts_db.last_top_level(self.db, dialogue.id)
            else:
                after = await posts_db.last_in_thread(self.db, target_id)
            try:
                messages = await self.gateway.history(target_id, after or dialogue.opened_at or dialogue.opens_at)
            except discord.HTTPException as error:
                log.warning("Dialogue %s: could not read %s to catch up: %s", dialogue.id, target_id, error)
                continue
            for message in messages:
                if until is not None and message.created_at > until:
                    break
                post = incoming_post(message)
                if post is not None and await self.record(post, message):
                    recorded += 1
        if recorded:
            log.info("Dialogue %s: recorded %d posts made while the bot was away", dialogue.id, recorded)
        return recorded

    async def record_edit(self, message_id: int, content: str) -> bool:
        return await posts_db.edit(self.db, message_id, content, self.clock())

    async def record_deletion(self, message_ids: list[int]) -> int:
        return await posts_db.clear(self.db, message_ids, self.clock())

    async def extend(self, dialogue_id: int, by: timedelta) -> Dialogue:
        """Move the closing time later and re-place the close job."""
        dialogue = await self.get(dialogue_id)
        states = (State.SCHEDULED, State.OPEN, State.FAILED)
        if dialogue.state not in states:
            raise InvalidTransition(f"Cannot extend “{dialogue.title}”: it is {dialogue.state.value}.")
        closes_at = dialogue.closes_at + by
        if closes_at - dialogue.opens_at > MAX_DURATION:
            raise InvalidInput("by", "that would make the dialogue longer than 60 days. Extend it by less.", "1d")
        if not await dialogues_db.set_closes_at(self.db, dialogue.id, closes_at, states, self.clock()):
            raise InvalidTransition(f"“{dialogue.title}” changed state meanwhile; try again.")
        dialogue = await self.get(dialogue_id)
        log.info("Dialogue %s extended to %s", dialogue.id, closes_at.isoformat())
        self.schedule(dialogue)
        if dialogue.state is State.OPEN and dialogue.channel_id:
            channel = await self.gateway.text_channel(dialogue.channel_id)
            if channel is not None:
                try:
                    await self.gateway.set_topic(channel, render.channel_topic(dialogue))
                    await self.gateway.post(
                        channel, f"This dialogue has been extended: it now closes {render.window(dialogue)}."
                    )
                except discord.HTTPException as error:
                    log.warning("Dialogue %s: could not announce the extension: %s", dialogue.id, error)
        self.gateway.dispatch("dialogue_extended", dialogue)
        return dialogue

    async def cancel(self, dialogue_id: int) -> Dialogue:
        dialogue = await self.get(dialogue_id)
        sources, target = ALLOWED[Action.CANCEL]
        require_transition(dialogue, Action.CANCEL)
        if not await dialogues_db.transition(self.db, dialogue.id, tuple(sources), target, self.clock()):
            raise InvalidTransition(f"“{dialogue.title}” changed state meanwhile; try again.")
        log.info("Dialogue %s in guild %s: cancelled", dialogue.id, dialogue.guild_id)
        self.scheduler.remove_prefix(f"dialogue:{dialogue.id}:")
        await self._lock_leftovers(dialogue)
        cancelled = await self.get(dialogue_id)
        self.gateway.dispatch("dialogue_cancelled", cancelled)
        return cancelled

    # ----- closing -------------------------------------------------------------------------------

    async def close(self, dialogue_id: int, *, manual: bool = False) -> Dialogue:
        """Close an open dialogue now (or finish a close that was interrupted)."""
        dialogue = await self.get(dialogue_id)
        if dialogue.state is State.CLOSED:
            if await self._close_complete(dialogue):
                if manual:
                    require_transition(dialogue, Action.CLOSE)
                return dialogue
            return await self.finish_close(dialogue.id)
        require_transition(dialogue, Action.CLOSE)
        # Posts written while the bot was away still belong in the record (and the wrap-up's numbers).
        await self.catch_up(dialogue, until=min(self.clock(), dialogue.closes_at))
        if not await dialogues_db.transition(self.db, dialogue.id, (State.OPEN,), State.CLOSED, self.clock()):
            log.info("Dialogue %s: close lost a race, nothing to do", dialogue.id)
            return await self.get(dialogue_id)
        log.info("Dialogue %s in guild %s: open -> closed", dialogue.id, dialogue.guild_id)
        self.scheduler.remove_prefix(f"dialogue:{dialogue.id}:")
        closed = await self.finish_close(dialogue.id)
        return closed

    async def finish_close(self, dialogue_id: int) -> Dialogue:
        """Lock the channel and every thread, then post the wrap-up once; retry later if Discord refuses."""
        await self.gateway.wait_until_ready()
        dialogue = await self.get(dialogue_id)
        if dialogue.state is not State.CLOSED:
            return dialogue
        if await self._close_complete(dialogue):
            return dialogue
        try:
            await self._close_steps(dialogue)
        except StepFailed as failure:
            log.warning("Dialogue %s: closing interrupted: %s", dialogue.id, failure.reason)
            delay = self._retry_delay(dialogue.id)
            self.scheduler.place(f"dialogue:{dialogue.id}:close", self.clock() + delay, self.finish_close, dialogue.id)
            await self._notify_once(
                dialogue,
                f"Closing “{dialogue.title}” (#{dialogue.id}) was interrupted: {failure.reason}. "
                "The bot keeps trying; `/dialogue close` retries now.",
            )
            return await self.get(dialogue_id)
        self._failures.pop(dialogue.id, None)
        closed = await self.get(dialogue_id)
        self.gateway.dispatch("dialogue_closed", closed)
        return closed

    async def _close_complete(self, dialogue: Dialogue) -> bool:
        if dialogue.channel_id is None:
            return True
        if dialogue.locked_at is None or await dialogues_db.thread_ids(self.db, dialogue.id, unlocked_only=True):
            return False
        return bool(await dialogues_db.bot_messages(self.db, dialogue.id, "wrapup"))

    async def _close_steps(self, dialogue: Dialogue) -> None:
        if dialogue.channel_id is None:
            return
        channel = await self._step("find the dialogue channel", self.gateway.text_channel(dialogue.channel_id))
        if channel is None:
            log.warning("Dialogue %s: channel %s is gone; nothing to lock", dialogue.id, dialogue.channel_id)
            await dialogues_db.mark_locked(self.db, dialogue.id, self.clock())
            return
        await self._lock_steps(dialogue, channel)
        posted = await dialogues_db.bot_messages(self.db, dialogue.id, "wrapup")
        stats = await posts_db.stats(self.db, dialogue.id)
        for part, text in enumerate(render.wrapup(dialogue, stats)):
            if part in posted:
                continue
            message = await self._post_once(channel, text, "post the wrap-up", set(posted.values()))
            await dialogues_db.add_bot_message(
                self.db, dialogue.id, "wrapup", part, channel.id, message.id, self.clock()
            )

    async def _lock_steps(self, dialogue: Dialogue, channel: discord.TextChannel) -> None:
        """Deny posting in the channel, then lock and archive each recorded thread; each step recorded."""
        if dialogue.locked_at is None:
            await self._step("lock the channel", self.gateway.lock_channel(channel, self.settings.facilitator_role))
            await dialogues_db.mark_locked(self.db, dialogue.id, self.clock())
        for thread_id in await dialogues_db.thread_ids(self.db, dialogue.id, unlocked_only=True):
            exists = await self._step(f"lock thread {thread_id}", self.gateway.lock_thread(thread_id))
            if not exists:
                log.info("Dialogue %s: thread %s no longer exists", dialogue.id, thread_id)
            await dialogues_db.mark_thread_locked(self.db, thread_id, self.clock())

    async def _lock_leftovers(self, dialogue: Dialogue) -> None:
        """Lock what a failed opening left behind, so a cancelled or missed dialogue takes no posts."""
        if dialogue.channel_id is None:
            return
        try:
            channel = await self._step("find the dialogue channel", self.gateway.text_channel(dialogue.channel_id))
            if channel is not None:
                await self._lock_steps(await self.get(dialogue.id), channel)
        except StepFailed as failure:
            log.warning("Dialogue %s: could not lock what its opening left: %s", dialogue.id, failure.reason)
            await self.notify(
                dialogue, f"“{dialogue.title}” (#{dialogue.id}) has a channel the bot could not lock: {failure.reason}."
            )

    def _retry_delay(self, dialogue_id: int) -> timedelta:
        """Back off: 5 minutes, then 10, 20… up to an hour between tries of a failing step."""
        attempts = self._failures.get(dialogue_id, 0)
        self._failures[dialogue_id] = attempts + 1
        return min(CLOSE_RETRY * 2**attempts, MAX_RETRY)

    async def _notify_once(self, dialogue: Dialogue, text: str) -> None:
        """Tell facilitators about the first failure of a run of retries, not every one."""
        if self._failures.get(dialogue.id, 0) <= 1:
            await self.notify(dialogue, text)

    # ----- telling facilitators ------------------------------------------------------------------

    async def notify(self, dialogue: Dialogue, text: str) -> None:
        """Tell the facilitators: in the configured log channel, else by DM to whoever created it."""
        guild = self.gateway.guild(dialogue.guild_id)
        if guild is not None:
            channel = await self.gateway.log_channel(guild, self.settings.log_channel)
            if channel is not None:
                try:
                    await self.gateway.post(channel, text)
                    return
                except discord.HTTPException as error:
                    log.warning("Could not post to the log channel of guild %s: %s", guild.id, error)
        try:
            await self.gateway.send_dm(dialogue.created_by, text)
        except discord.HTTPException as error:
            log.warning("Could not tell the creator of dialogue %s (%s): %s", dialogue.id, dialogue.created_by, error)
