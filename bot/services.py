"""The dialogue use-cases: create, open, record, extend, close, cancel — each step recorded and repeatable."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

import discord

import db.dialogues as dialogues_db
import db.events as events_db
import db.posts as posts_db
import db.proxy as proxy_db
import db.summaries as summaries_db
from db import Database

from . import render, render_notices, render_summary
from .afterlife.notices import SummaryNotices
from .afterlife.summary import Summaries
from .clock import Clock
from .closing import Closing
from .config import Settings
from .domain.errors import DialogueError, DialogueNotFound, InvalidInput, InvalidTransition
from .domain.lifecycle import ALLOWED, Action, due_action, next_wake, require_transition
from .domain.models import AfterClose, BotMessageKind, Dialogue, DialogueDraft, PostStats, State
from .domain.parsing import MAX_DURATION
from .domain.progress import Progress, Step
from .events import EventSync, ScheduledEvents
from .gateway import Gateway
from .leaders import LeaderService
from .leasing import Leases, StepBusy, process_owner
from .opening import Opening
from .proxy import ProxyPosts, ProxyTarget
from .recording import IncomingPost, Recorder
from .scheduler import Scheduler
from .steps import (
    FIRST_RETRY,
    ChannelDeleted,
    DialogueLocks,
    InFlight,
    Retries,
    StepFailed,
    attempt,
    step_nonce,
    unexpected,
)
from .timer import Dispatcher, DurableTimer

__all__ = ("TIMER_JOB", "DialogueService")

log = logging.getLogger(__name__)

# The one scheduler job for every dialogue: it wakes at the earliest ``dialogues.wake_at``.
TIMER_JOB = "dialogues:timer"
# Dialogues whose due steps run at once (each dialogue's own steps still one at a time): a slow one, say a long
# catch-up or a close of many threads, holds one of these, and the others still run at their time.
_CONCURRENT_STEPS = 8


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
        notices: SummaryNotices | None = None,
        leases: Leases | None = None,
    ) -> None:
        self.db = database
        # Several processes may share the database: each acts only for its shards' guilds, one step at a time.
        self.ownership = settings.ownership
        self.leases = leases or Leases(database, clock, process_owner())
        self.gateway = gateway
        self.scheduler = scheduler
        self.clock = clock
        self.settings = settings
        self.opening = Opening(database, gateway, clock, settings, leaders)
        self.closing = Closing(database, gateway, clock, settings)
        self.recorder = Recorder(database, gateway, clock)
        self.proxy = ProxyPosts(database, gateway, clock)
        # The window as a Discord scheduled event, brought in step after every step of the dialogue.
        self.events = ScheduledEvents(database, gateway, clock, settings, self.notify)
        self._event_retries = Retries()
        self.summaries = Summaries(database, gateway, clock, self.closing)
        # Steps run once a summary is wholly posted, and again at each wake while any of them is unfinished: each
        # must look at its own record and do only what is missing (the notices' DM delivery plugs in here).
        self.after_summary: list[Callable[[Dialogue], Awaitable[object]]] = []
        self.notices = notices or SummaryNotices(database, gateway, clock)
        self.after_summary.append(self._send_notices)
        self._retries = Retries()
        # One dialogue's steps run one at a time: a release, a resume, a close and a command never interleave.
        self._locks = DialogueLocks()
        # Steps and listeners running now: shutting down waits for them before the database closes.
        self._busy = InFlight()
        # Each dialogue's next wake-up lives in its record (``wake_at``); one timer wakes at the earliest.
        self.timer = DurableTimer(
            TIMER_JOB,
            scheduler,
            clock,
            next_due=lambda: dialogues_db.earliest_wake(self.db, self._due.in_flight, self.ownership),
            run_due=self._run_timer,
        )
        self._due = Dispatcher(
            due=lambda now, limit, excluding: dialogues_db.due_for_wake(self.db, now, limit, excluding, self.ownership),
            due_at=lambda dialogue_id: dialogues_db.wake_at(self.db, dialogue_id),
            handle=self.run_due,
            postpone=lambda dialogue_id, when: dialogues_db.set_wake(self.db, dialogue_id, when),
            poke=self.timer.poke,
            what="Dialogue",
            concurrency=_CONCURRENT_STEPS,
        )

    # ----- reading -------------------------------------------------------------------------------

    async def get(self, dialogue_id: int) -> Dialogue:
        """Return one dialogue by id, or raise a user-facing error naming the id."""
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
            same = [d for d in candidates if d.title.lower() == text.lower()]
            if len(same) > 1:
                # Two dialogues may share a title: never guess which one was meant.
                ids = ", ".join(f"#{d.id}" for d in same)
                raise DialogueNotFound(
                    f"{len(same)} dialogues are called “{reference}” ({ids}). Pick one from the list as you type."
                )
            found = same[0] if same else None
        if found is None:
            raise DialogueNotFound(f"No dialogue “{reference}” in this server. Pick one from the list as you type.")
        return found

    async def in_guild(self, guild_id: int) -> list[Dialogue]:
        """Return this server's dialogues, newest first."""
        return await dialogues_db.in_guild(self.db, guild_id)

    async def stats(self, dialogue_id: int) -> PostStats:
        """Return a dialogue's post counts, in total and per thread."""
        return await posts_db.stats(self.db, dialogue_id)

    async def progress(self, dialogue_id: int) -> Progress:
        """Which steps of a dialogue are done, which one is pending, why, and when it is retried."""
        progress = await dialogues_db.progress(self.db, dialogue_id, self.clock())
        if progress is None:
            raise DialogueNotFound(f"There is no dialogue #{dialogue_id}.")
        return progress

    async def drain(self, timeout: float) -> bool:
        """Stop the timer, then wait (at most ``timeout`` s) for running steps and listeners; return if all finished.

        A timer run in progress ends after the dialogue it is handling; the rest stay due in the record.
        """
        self.timer.stop()
        # Dialogues the timer started are waited for even before their step counts itself as running.
        if not await self._due.wait(timeout):
            log.warning("Timed steps still running after %.0f s; closing anyway", timeout)
            return False
        return await self._busy.wait(timeout)

    # ----- creating and scheduling ---------------------------------------------------------------

    async def create(self, guild_id: int, created_by: int, draft: DialogueDraft) -> Dialogue:
        """Store a validated draft as a scheduled dialogue; the timer wakes at its opening."""
        async with self.db.transaction():
            dialogue = await dialogues_db.create(self.db, guild_id, created_by, draft, self.clock())
            if not draft.event:
                await events_db.set_enabled(self.db, dialogue.id, False)
        log.info("Dialogue %s created in guild %s, opens %s", dialogue.id, guild_id, dialogue.opens_at)
        # The row was stored with wake_at = opens_at (what ``next_wake`` gives a scheduled dialogue).
        self.timer.poke(dialogue.opens_at)
        async with self._busy(), self._locks(dialogue.id):
            await self._sync_event(dialogue.id)
        self.gateway.dispatch("dialogue_created", dialogue)
        return dialogue

    async def schedule_all(self) -> None:
        """At start-up: make open and unfinished closed dialogues due now, and arm the timer at the earliest.

        Two statements whatever the number of dialogues. Overdue openings and closings run at once (a dialogue
        whose whole window passed is missed); open dialogues resume their opening steps and catch up on what was
        posted meanwhile; closed ones whose closing was interrupted finish it.
        """
        resumed = await dialogues_db.resume_all(self.db, self.clock(), self.ownership)
        await self.timer.arm()
        log.info("Dialogue timer armed at %s; %d open or closing dialogues resume", self.timer.armed_at, resumed)

    async def _run_timer(self, now: datetime) -> None:
        """The timer's run: start every dialogue due by ``now``, each once, 8 at a time; one's error stops no other."""
        # Steps need Discord; waiting for it is not work in flight (shutting down need not wait for it).
        await self.gateway.wait_until_ready()
        async with self._busy():
            await self._due.dispatch(now, lambda: self.timer.stopping)

    async def _rewake(self, dialogue_id: int) -> None:
        """Derive the dialogue's next wake-up from its record, store it, and make sure the timer wakes by then.

        Called by whoever holds the dialogue's lock, after each step or transition, so it reads what is final.
        """
        now = self.clock()
        dialogue = await dialogues_db.get(self.db, dialogue_id)
        if dialogue is None:
            return
        progress = None
        release = None
        if dialogue.state in (State.SCHEDULED, State.OPEN, State.CLOSED):
            progress = await dialogues_db.progress(self.db, dialogue_id, now)
        if dialogue.state is State.OPEN:
            release = await dialogues_db.earliest_release(self.db, dialogue_id, now)
        wake = next_wake(dialogue, progress, release, now)
        await dialogues_db.set_wake(self.db, dialogue_id, wake)
        if wake is not None:
            self.timer.poke(wake)

    @asynccontextmanager
    async def _step(self, dialogue_id: int) -> AsyncIterator[None]:
        """Run a use-case alone on its dialogue (its lock), then store the dialogue's next wake-up, however it ended."""
        async with self._busy(), self._locks(dialogue_id), self.leases.dialogue(dialogue_id):
            try:
                yield
            finally:
                await self._rewake(dialogue_id)
                await self._sync_event(dialogue_id)

    async def _sync_event(self, dialogue_id: int) -> None:
        """Bring the dialogue's scheduled event in step (held lock); a failure is tried again with back-off."""
        try:
            dialogue = await dialogues_db.get(self.db, dialogue_id)
            if dialogue is None:
                return
            result = await self.events.sync(dialogue)
            if result is not EventSync.FAILED:
                self._event_retries.reset(dialogue_id)
                return
            # The dialogue's own timer brings the sync back (its wake-up is in the record, so restarts keep it).
            retry = self.clock() + self._event_retries.next_delay(dialogue_id)
            current = await dialogues_db.wake_at(self.db, dialogue_id)
            if current is None or retry < current:
                await dialogues_db.set_wake(self.db, dialogue_id, retry)
                self.timer.poke(retry)
        except Exception:
            # The event is a courtesy: nothing about it may stop or mask the dialogue's own step.
            log.exception("Dialogue %s: could not bring its scheduled event in step", dialogue_id)

    async def run_due(self, dialogue_id: int) -> None:
        """The timer's handler: do whatever the record says is due now (nothing if it is done).

        Nothing escapes: an unexpected error is logged with its traceback and the step retried later.
        """
        await self.gateway.wait_until_ready()
        async with self._busy():
            try:
                async with self._step(dialogue_id):
                    await self._run_due(dialogue_id)
            except StepBusy as busy:
                await self._after_lease(busy)
            except Exception as error:
                await self._job_failed(dialogue_id, None, error)

    async def _after_lease(self, busy: StepBusy) -> None:
        """Another process runs this dialogue's step: look again when its lease would expire, had it crashed."""
        retry = (busy.until or self.clock()) + timedelta(seconds=1)
        log.info("Dialogue %s: another process holds its lease; looking again at %s", busy.dialogue_id, retry)
        current = await dialogues_db.wake_at(self.db, busy.dialogue_id)
        if current is not None and current <= self.clock():
            await dialogues_db.set_wake(self.db, busy.dialogue_id, retry)
        self.timer.poke(retry)

    async def _run_due(self, dialogue_id: int) -> None:
        dialogue = await dialogues_db.get(self.db, dialogue_id)
        if dialogue is None:
            return
        action = due_action(dialogue, self.clock())
        if action is Action.OPEN:
            await self._open(dialogue.id)
        elif action is Action.CLOSE:
            await self._close(dialogue.id, timer=True)
        elif action is Action.MISS:
            await self._miss(dialogue)
        elif dialogue.state is State.OPEN:
            await self._continue_open(dialogue)
            await self.recorder.catch_up(dialogue)
            await self.proxy.resume(dialogue)
        elif dialogue.state is State.CLOSED:
            if dialogue.locked_at is None and dialogue.after_close is AfterClose.COMMENTS_UNTIL_SUMMARY:
                # Comments are still taken: record what was posted while the bot was away, before any lock.
                await self.recorder.catch_up(dialogue)
            await self._finish_close(dialogue.id)
            await self._continue_summary(dialogue.id)

    async def _job_failed(self, dialogue_id: int, what: str | None, error: Exception) -> None:
        """A timed step's last line of defence: log the traceback, record a retry with back-off, tell people once.

        ``what`` failed; None names it from the dialogue's state (a closed one was finishing its closing).
        """
        try:
            retry_at = self.clock() + self._retries.next_delay(dialogue_id)
            async with self._locks(dialogue_id):
                dialogue = await dialogues_db.get(self.db, dialogue_id)
                if what is None:
                    closing = dialogue is not None and dialogue.state is State.CLOSED
                    what = "finish closing" if closing else "run a scheduled step"
                failure = unexpected(what, error)
                if dialogue is None:
                    return
                await dialogues_db.set_pending(self.db, dialogue_id, what, failure.reason, retry_at)
                await self._rewake(dialogue_id)
            await self._notify_once(dialogue, render.step_failed(dialogue, failure.reason, retry_at))
        except Exception:
            log.exception("Dialogue %s: could not even schedule a retry", dialogue_id)
            # The record may still say the dialogue is due: the timer's guard postpones it rather than spin.

    # ----- opening -------------------------------------------------------------------------------

    async def open(self, dialogue_id: int, *, manual: bool = False) -> Dialogue:
        """Open a scheduled (or failed) dialogue now; if it is open already, finish any missing step."""
        async with self._step(dialogue_id):
            return await self._open(dialogue_id, manual=manual)

    async def _open(self, dialogue_id: int, *, manual: bool = False) -> Dialogue:
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
        return await self.get(dialogue_id)

    async def _continue_open(self, dialogue: Dialogue) -> None:
        try:
            try:
                await self.opening.run(dialogue)
            except StepFailed:
                raise
            except Exception as error:
                raise unexpected("open the dialogue", error) from error
        except StepFailed as failure:
            if await dialogues_db.is_ready(self.db, dialogue.id):
                # Already live (a staged release or a resume failed): keep it open and try again later.
                log.warning("Dialogue %s: a later opening step failed: %s", dialogue.id, failure.reason)
                retry_at = self.clock() + self._retries.next_delay(dialogue.id)
                progress = await self.progress(dialogue.id)
                step = progress.opening_next or Step.THREADS
                # The caller stores the wake-up: the retry is the earliest moment of an open dialogue.
                await dialogues_db.set_pending(self.db, dialogue.id, step.value, failure.reason, retry_at)
                await self._notify_once(
                    dialogue,
                    render.open_step_failed(
                        dialogue, step.value, failure.reason, retry_at, channel_gone=isinstance(failure, ChannelDeleted)
                    ),
                )
                return
            if isinstance(failure, ChannelDeleted):
                # Opening again cannot bring the channel back; a failed dialogue can be cancelled. The advice is
                # part of the reason, so `/dialogue status` gives it too.
                await self._fail(
                    dialogue, f"{failure.reason}; call it off with `/dialogue cancel`, then create it again", advice=""
                )
                return
            await self._fail(dialogue, failure.reason)
            return
        self._retries.reset(dialogue.id)
        await dialogues_db.clear_pending(self.db, dialogue.id)
        if await dialogues_db.mark_ready(self.db, dialogue.id, self.clock()):
            log.info("Dialogue %s in guild %s: opening complete", dialogue.id, dialogue.guild_id)
            self.gateway.dispatch("dialogue_opened", await self.get(dialogue.id))

    async def _fail(
        self,
        dialogue: Dialogue,
        reason: str,
        *,
        advice: str = " Fix this, then run `/dialogue open` to try again; it continues where it stopped.",
    ) -> None:
        if await dialogues_db.transition(
            self.db, dialogue.id, (State.OPEN,), State.FAILED, self.clock(), reason=reason
        ):
            log.warning("Dialogue %s in guild %s failed to open: %s", dialogue.id, dialogue.guild_id, reason)
            failed = await self.get(dialogue.id)
            await self.notify(failed, f"“{dialogue.title}” (#{dialogue.id}) could not open: {reason}.{advice}")

    async def _miss(self, dialogue: Dialogue) -> None:
        if await dialogues_db.transition(
            self.db, dialogue.id, (State.SCHEDULED, State.FAILED), State.MISSED, self.clock()
        ):
            log.warning("Dialogue %s in guild %s missed its window", dialogue.id, dialogue.guild_id)
            await self._lock_leftovers(dialogue)
            await self.notify(
                dialogue,
                f"“{dialogue.title}” (#{dialogue.id}) never opened: its whole window "
                f"({render.timestamp(dialogue.opens_at)} to {render.timestamp(dialogue.closes_at)}) passed "
                "before it could. Create it again with a new window.",
            )

    # ----- while open ----------------------------------------------------------------------------

    async def dialogue_for_channel(self, channel_id: int, parent_id: int | None) -> Dialogue | None:
        """Return the dialogue that owns this channel or thread, if any."""
        return await self.recorder.dialogue_for_channel(channel_id, parent_id)

    async def record(self, post: IncomingPost, message: discord.Message | None = None) -> bool:
        """Record a participant's post; return whether it was recorded."""
        async with self._busy():
            return await self.recorder.record(post, message)

    async def receive(self, message: discord.Message) -> bool:
        """Record a gateway message if it is a participant's post, noting that it was seen; return if recorded."""
        async with self._busy():
            return await self.recorder.receive(message)

    async def catch_up(self, dialogue: Dialogue, until: datetime | None = None) -> int:
        """Record what people posted while the bot was away."""
        return await self.recorder.catch_up(dialogue, until)

    async def record_edit(self, message_id: int, content: str) -> bool:
        """Keep the latest text of an edited post."""
        async with self._busy():
            return await self.recorder.record_edit(message_id, content)

    async def record_deletion(self, message_ids: list[int]) -> int:
        """Forget the text of deleted posts."""
        async with self._busy():
            return await self.recorder.record_deletion(message_ids)

    async def open_threads(self, dialogue_id: int) -> list[tuple[int, str]]:
        """Return (id, title) of the dialogue's threads that still take posts (for the thread autocomplete)."""
        return await proxy_db.open_threads(self.db, dialogue_id)

    async def check_on_behalf(self, dialogue: Dialogue, thread: str, name: str) -> ProxyTarget:
        """Refuse a post on someone's behalf before its text is asked for: closed, wrong thread or bad name."""
        return await self.proxy.check(dialogue, thread, name)

    async def post_on_behalf(
        self, dialogue_id: int, thread: str, name: str, text: str, facilitator_id: int
    ) -> tuple[ProxyTarget, discord.Message]:
        """Post ``text`` in the thread on behalf of ``name``, attributed, and record it as that person's post.

        Runs under the dialogue's lock and checks everything again: the dialogue may have closed meanwhile.
        """
        try:
            async with self._step(dialogue_id):
                target = await self.proxy.check(await self.get(dialogue_id), thread, name)
                return target, await self.proxy.post(target, text, facilitator_id)
        except DialogueError:
            raise
        except Exception:
            # Cut short (the connection, the database): the step is written down; the timer finishes it soon.
            retry = self.clock() + FIRST_RETRY
            current = await dialogues_db.wake_at(self.db, dialogue_id)
            if current is None or retry < current:
                await dialogues_db.set_wake(self.db, dialogue_id, retry)
                self.timer.poke(retry)
            raise

    async def extend(self, dialogue_id: int, by: timedelta) -> Dialogue:
        """Move the closing time later; the timer then wakes at the new time."""
        async with self._step(dialogue_id):
            return await self._extend(dialogue_id, by)

    async def _extend(self, dialogue_id: int, by: timedelta) -> Dialogue:
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
        await self._rewake(dialogue.id)  # before the announcements, which may take a while
        if dialogue.state is State.OPEN and dialogue.channel_id:
            channel = await self.gateway.text_channel(dialogue.channel_id)
            if channel is not None:
                try:
                    # The topic keeps ending with the dialogue's marker; the pinned intro shows the new time.
                    await self.gateway.set_topic(channel, render.channel_topic(dialogue))
                    intro = await dialogues_db.bot_messages(self.db, dialogue.id, BotMessageKind.INTRO)
                    questions = await dialogues_db.questions(self.db, dialogue.id)
                    for part, text in enumerate(render.intro_posts(dialogue, questions)):
                        if part in intro:
                            await self.gateway.edit_message(channel, intro[part], text)
                    await self.gateway.post(
                        channel,
                        f"This dialogue has been extended: it now closes {render.window(dialogue)}.",
                        nonce=step_nonce(dialogue.id, "extend", int(closes_at.timestamp())),
                    )
                except discord.HTTPException as error:
                    log.warning("Dialogue %s: could not announce the extension: %s", dialogue.id, error)
        self.gateway.dispatch("dialogue_extended", dialogue)
        return dialogue

    async def cancel(self, dialogue_id: int) -> Dialogue:
        """Call off a dialogue that has not opened, and lock anything a failed opening left."""
        async with self._step(dialogue_id):
            return await self._cancel(dialogue_id)

    async def _cancel(self, dialogue_id: int) -> Dialogue:
        dialogue = await self.get(dialogue_id)
        sources, target = ALLOWED[Action.CANCEL]
        require_transition(dialogue, Action.CANCEL)
        if not await dialogues_db.transition(self.db, dialogue.id, tuple(sources), target, self.clock()):
            raise InvalidTransition(f"“{dialogue.title}” changed state meanwhile; try again.")
        log.info("Dialogue %s in guild %s: cancelled", dialogue.id, dialogue.guild_id)
        await self._lock_leftovers(dialogue)
        cancelled = await self.get(dialogue_id)
        self.gateway.dispatch("dialogue_cancelled", cancelled)
        return cancelled

    # ----- closing -------------------------------------------------------------------------------

    async def close(self, dialogue_id: int, *, manual: bool = False) -> Dialogue:
        """Close an open dialogue now (or finish a close that was interrupted)."""
        async with self._step(dialogue_id):
            return await self._close(dialogue_id, manual=manual)

    async def _close(self, dialogue_id: int, *, manual: bool = False, timer: bool = False) -> Dialogue:
        """Move an open dialogue to ``closed`` and run the closing steps.

        The timer's close (``timer``) happens only if the closing time has passed when the state changes: an
        extension that landed after the job fired (or during the catch-up) wins, and the timer does nothing.
        """
        dialogue = await self.get(dialogue_id)
        if dialogue.state is State.CLOSED:
            if await self.closing.complete(dialogue):
                if manual:
                    require_transition(dialogue, Action.CLOSE)
                return dialogue
            return await self._finish_close(dialogue.id)
        require_transition(dialogue, Action.CLOSE)
        # Posts written while the bot was away still belong in the record (and the wrap-up's numbers).
        await self.recorder.catch_up(dialogue, until=min(self.clock(), dialogue.closes_at))
        try:
            await self.proxy.resume(dialogue)  # and so do posts on someone's behalf that a restart cut short
        except Exception:
            log.exception("Dialogue %s: could not finish a post on someone's behalf before closing", dialogue.id)
        now = self.clock()
        if timer:
            won = await dialogues_db.close_if_due(self.db, dialogue.id, now)
        else:
            won = await dialogues_db.transition(self.db, dialogue.id, (State.OPEN,), State.CLOSED, now)
        if not won:
            log.info("Dialogue %s: close not due or lost a race, nothing to do", dialogue.id)
            return await self.get(dialogue_id)
        log.info("Dialogue %s in guild %s: open -> closed", dialogue.id, dialogue.guild_id)
        return await self._finish_close(dialogue.id)

    async def finish_close(self, dialogue_id: int) -> Dialogue | None:
        """Lock the channel and every thread, then post the wrap-up once; retry later if a step fails."""
        await self.gateway.wait_until_ready()
        async with self._busy():
            try:
                async with self._step(dialogue_id):
                    return await self._finish_close(dialogue_id)
            except StepBusy as busy:
                await self._after_lease(busy)
                return None
            except Exception as error:
                await self._job_failed(dialogue_id, "finish closing", error)
                return None

    async def _finish_close(self, dialogue_id: int) -> Dialogue:
        dialogue = await self.get(dialogue_id)
        if dialogue.state is not State.CLOSED:
            return dialogue
        before = await self.progress(dialogue.id)
        if before.closing_done:
            await dialogues_db.clear_pending(self.db, dialogue.id)
            return dialogue
        try:
            try:
                await self.closing.run(dialogue)
            except StepFailed:
                raise
            except Exception as error:
                raise unexpected("close the dialogue", error) from error
        except StepFailed as failure:
            await self._close_failed(dialogue, failure.reason)
            return await self.get(dialogue_id)
        self._retries.reset(dialogue.id)
        await dialogues_db.clear_pending(self.db, dialogue.id)
        closed = await self.get(dialogue_id)
        log.info("Dialogue %s in guild %s: closing complete", closed.id, closed.guild_id)
        if not before.wrapup_done:
            # Once, when the window's end is wrapped up (the leaders' part ends then, even if comments stay open);
            # a comments-until-summary dialogue locked later by its safety limit is not closed a second time.
            self.gateway.dispatch("dialogue_closed", closed)
        return closed

    async def _send_notices(self, dialogue: Dialogue) -> None:
        """After the summary: draw up who is told (once ever), send the next paced batch, report once when done.

        An unexpected error holds the batch back for a while (the record still says who is owed).
        """
        try:
            await self.notices.start(dialogue)
            done = await self.notices.deliver(dialogue)
        except Exception as error:
            log.error("Dialogue %s: sending the summary notices failed", dialogue.id, exc_info=error)
            await self.notices.hold(dialogue.id)
            return
        if done.finished_now:
            await self.notify(dialogue, render_notices.notice_report(dialogue, done.tally))

    async def _close_failed(self, dialogue: Dialogue, reason: str) -> None:
        """Record which closing step is pending and why, place the retry with back-off, tell facilitators once."""
        retry_at = self.clock() + self._retries.next_delay(dialogue.id)
        progress = await self.progress(dialogue.id)
        step = progress.closing_next or Step.LOCK_CHANNEL
        log.warning("Dialogue %s: closing step '%s' failed: %s; retry at %s", dialogue.id, step, reason, retry_at)
        await dialogues_db.set_pending(self.db, dialogue.id, step.value, reason, retry_at)
        await self._notify_once(dialogue, render.close_interrupted(dialogue, await self.progress(dialogue.id)))

    async def _lock_leftovers(self, dialogue: Dialogue) -> None:
        """Lock what a failed opening left behind, so a cancelled or missed dialogue takes no posts."""
        if dialogue.channel_id is None:
            return
        try:
            try:
                channel = await attempt("find the dialogue channel", self.gateway.text_channel(dialogue.channel_id))
                if channel is not None:
                    await self.closing.lock(await self.get(dialogue.id), channel)
            except StepFailed:
                raise
            except Exception as error:
                raise unexpected("lock what the opening left", error) from error
        except StepFailed as failure:
            log.warning("Dialogue %s: could not lock what its opening left: %s", dialogue.id, failure.reason)
            await self.notify(
                dialogue, f"“{dialogue.title}” (#{dialogue.id}) has a channel the bot could not lock: {failure.reason}."
            )

    async def _notify_once(self, dialogue: Dialogue, text: str) -> None:
        """Tell facilitators about the first failure of a run of retries, not every one."""
        if self._retries.is_first(dialogue.id):
            await self.notify(dialogue, text)

    # ----- the summary ---------------------------------------------------------------------------

    async def post_summary(self, dialogue_id: int, text: str) -> tuple[Dialogue, bool]:
        """Post (or replace) a closed dialogue's summary; return the dialogue and whether it replaced one.

        The text is stored first, as a new revision due now: a failure or a restart part-way resumes from the
        record. Refused, with nothing changed, if the dialogue is not closed or the text is empty or too long.
        """
        async with self._step(dialogue_id):
            dialogue = await self.get(dialogue_id)
            await self.summaries.check(dialogue)
            replaced = await summaries_db.get(self.db, dialogue.id) is not None
            if dialogue.locked_at is None:
                # The summary locks a dialogue still taking comments: what was posted meanwhile is recorded first.
                await self.recorder.catch_up(dialogue)
            await self.summaries.begin(dialogue, text)
            log.info("Dialogue %s in guild %s: summary submitted", dialogue.id, dialogue.guild_id)
            await self._continue_summary(dialogue.id)
            return await self.get(dialogue_id), replaced

    async def check_summary(self, dialogue_id: int) -> Dialogue:
        """Return the dialogue if it can take a summary now, else raise a refusal saying why (before the form)."""
        dialogue = await self.get(dialogue_id)
        await self.summaries.check(dialogue)
        return dialogue

    async def summary_text(self, dialogue_id: int) -> str | None:
        """The dialogue's current summary text, if one was submitted."""
        record = await summaries_db.get(self.db, dialogue_id)
        return record.text if record else None

    async def summary_url(self, dialogue: Dialogue) -> str | None:
        """The link to the summary's first part, once it is posted."""
        parts = await summaries_db.parts(self.db, dialogue.id)
        if 0 not in parts:
            return None
        return render_summary.jump_url(dialogue.guild_id, parts[0].channel_id, parts[0].message_id)

    async def _continue_summary(self, dialogue_id: int) -> None:
        """Do the summary steps still to do, then the steps that follow a posted summary; retry later on failure."""
        dialogue = await self.get(dialogue_id)
        if dialogue.state is not State.CLOSED:
            return
        try:
            try:
                await self.summaries.run(dialogue)
            except StepFailed:
                raise
            except Exception as error:
                raise unexpected("post the summary", error) from error
        except StepFailed as failure:
            retry_at = self.clock() + self._retries.next_delay(dialogue.id)
            log.warning(
                "Dialogue %s: posting the summary failed: %s; retry at %s", dialogue.id, failure.reason, retry_at
            )
            await dialogues_db.set_pending(self.db, dialogue.id, "post the summary", failure.reason, retry_at)
            await self._notify_once(
                dialogue, render_summary.summary_interrupted(dialogue, failure.reason, render.timestamp(retry_at, "R"))
            )
            return
        dialogue = await self.get(dialogue_id)
        if dialogue.summary_posted_at is None:
            return
        self._retries.reset(dialogue.id)
        await dialogues_db.clear_pending(self.db, dialogue.id)
        for step in self.after_summary:
            await step(dialogue)

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
                except Exception as error:
                    log.warning("Could not post to the log channel of guild %s: %r", guild.id, error)
        try:
            await self.gateway.send_dm(dialogue.created_by, text)
        except Exception as error:
            log.warning("Could not tell the creator of dialogue %s (%s): %s", dialogue.id, dialogue.created_by, error)
