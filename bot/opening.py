"""Opening a dialogue: each step looks at the record first and writes down what it made."""

from __future__ import annotations

import logging

import discord

import db.dialogues as dialogues_db
from db import Database

from . import render
from .clock import Clock
from .config import Settings
from .domain.models import BotMessageKind, Dialogue, Question
from .domain.parsing import distinct_name, thread_name, unique_slug
from .gateway import Gateway, permission_label
from .leaders import LeaderService
from .steps import ChannelDeleted, StepFailed, attempt, post_once, step_nonce

__all__ = ("Opening",)

log = logging.getLogger(__name__)


class Opening:
    """Creates what the record says is missing: channel, intro, pin, due seed threads, the Leaders thread.

    What was made is found again by what was recorded, never by name or text. The one gap, a crash after
    Discord made something and before its id was written, is closed by identity: the channel's topic ends
    with the dialogue's id, and each message ends with a marker line naming its dialogue and step (and is
    sent with that step's nonce). An unrecorded thread carries no such mark, so it is never adopted.
    """

    def __init__(
        self, database: Database, gateway: Gateway, clock: Clock, settings: Settings, leaders: LeaderService
    ) -> None:
        self._db = database
        self._gateway = gateway
        self._clock = clock
        self._settings = settings
        self._leaders = leaders

    async def run(self, dialogue: Dialogue) -> None:
        """Create what the record says is missing: channel, intro, pin, due seed threads, then the Leaders thread."""
        guild = self._gateway.guild(dialogue.guild_id)
        if guild is None:
            raise StepFailed("the bot is not in that server any more")
        channel, fresh = await self._channel(dialogue, guild)
        questions = await dialogues_db.questions(self._db, dialogue.id)
        posted = await dialogues_db.bot_messages(self._db, dialogue.id, BotMessageKind.INTRO)
        for part, text in enumerate(render.intro_posts(dialogue, questions)):
            if part in posted:
                continue
            message = await post_once(
                self._gateway,
                channel,
                text,
                "post the intro",
                set(posted.values()),
                nonce=step_nonce(dialogue.id, BotMessageKind.INTRO, part),
                marker=text.rsplit("\n", 1)[-1],
                fresh=fresh,
            )
            await dialogues_db.add_bot_message(
                self._db, dialogue.id, BotMessageKind.INTRO, part, channel.id, message.id, self._clock()
            )
            posted[part] = message.id
        if not await dialogues_db.intro_pinned(self._db, dialogue.id):
            await attempt("pin the intro", self._gateway.pin(channel, posted[0]))
            await dialogues_db.mark_intro_pinned(self._db, dialogue.id)
        now = self._clock()
        due = [q for q in questions if q.release_at is None or q.release_at <= now]
        if due:
            seeded = await dialogues_db.bot_messages(self._db, dialogue.id, BotMessageKind.QUESTION)
            for question in due:
                if question.position not in seeded:
                    await self._seed(dialogue, channel, question)
        await attempt("create the Leaders thread", self._leaders.open_step(dialogue, channel))

    async def _channel(self, dialogue: Dialogue, guild: discord.Guild) -> tuple[discord.TextChannel, bool]:
        """Return the dialogue's own channel, creating and recording it if needed; and whether it is new."""
        if dialogue.channel_id is not None:
            channel = await attempt("find the dialogue channel", self._gateway.text_channel(dialogue.channel_id))
            if channel is None:
                raise ChannelDeleted(dialogue.channel_id)
            return channel, False
        missing = self._gateway.missing_permissions(guild, self._settings.category)
        if missing:
            labels = ", ".join(permission_label(name) for name in missing)
            raise StepFailed(f"the bot is missing permissions: {labels}")
        category = await attempt("create the category", self._gateway.ensure_category(guild, self._settings.category))
        # A crash between creating the channel and recording it leaves one whose topic ends with this
        # dialogue's id: adopt it, and nothing else (another dialogue's channel may have the same title).
        channel = self._gateway.find_channel(guild, render.topic_marker(dialogue.id))
        if channel is not None and await dialogues_db.by_channel(self._db, channel.id) is not None:
            channel = None
        fresh = channel is None
        if channel is None:
            name = unique_slug(dialogue.title, (c.name for c in guild.channels))
            channel = await attempt(
                "create the channel",
                self._gateway.create_channel(guild, category, name, render.channel_topic(dialogue)),
            )
        await dialogues_db.set_channel(self._db, dialogue.id, channel.id, self._clock())
        log.info("Dialogue %s: channel %s %s", dialogue.id, channel.id, "created" if fresh else "adopted")
        return channel, fresh

    async def _seed(self, dialogue: Dialogue, channel: discord.TextChannel, question: Question) -> None:
        """Give one question its own thread (recorded), then post the question there (recorded too)."""
        what = f"post question {question.position} in its thread"
        thread: discord.Thread | None
        if question.thread_id is None:
            # Each question gets a thread of its own, named apart from every thread the dialogue has.
            taken = await dialogues_db.thread_titles(self._db, dialogue.id)
            taken |= {t.name for t in channel.threads}
            title = distinct_name(thread_name(question.text), taken)
            thread = await attempt(
                f"create the thread for question {question.position}", self._gateway.create_thread(channel, title)
            )
            await dialogues_db.set_question_thread(
                self._db, dialogue.id, question.position, thread.id, title, self._clock()
            )
            log.info("Dialogue %s: thread %s for question %s", dialogue.id, thread.id, question.position)
            fresh = True
        else:
            thread = await attempt(what, self._gateway.thread(question.thread_id))
            if thread is None:
                log.warning("Dialogue %s: thread of question %s is gone", dialogue.id, question.position)
                return
            fresh = False
        text = render.seed_post(question)
        message = await post_once(
            self._gateway,
            thread,
            text,
            what,
            set(),
            nonce=step_nonce(dialogue.id, BotMessageKind.QUESTION, question.position),
            marker=text.rsplit("\n", 1)[-1],
            fresh=fresh,
        )
        await dialogues_db.add_bot_message(
            self._db, dialogue.id, BotMessageKind.QUESTION, question.position, thread.id, message.id, self._clock()
        )
