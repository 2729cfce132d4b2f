"""Opening a dialogue: each step looks at the record first and writes down what it made."""

from __future__ import annotations

import logging

import db.dialogues as dialogues_db
from db import Database

from . import render
from .clock import Clock
from .config import Settings
from .domain.models import Dialogue
from .domain.parsing import thread_name, unique_slug
from .gateway import Gateway, permission_label
from .leaders import LeaderService
from .steps import StepFailed, attempt, post_once

__all__ = ("Opening",)

log = logging.getLogger(__name__)


class Opening:
    """Creates what the record says is missing: channel, intro, pin, due seed threads, the Leaders thread."""

    def __init__(
        self, database: Database, gateway: Gateway, clock: Clock, settings: Settings, leaders: LeaderService
    ) -> None:
        self._db = database
        self._gateway = gateway
        self._clock = clock
        self._settings = settings
        self._leaders = leaders

    async def run(self, dialogue: Dialogue) -> None:
        """Create what the record says is missing: channel, intro, pin, due seed threads, then extra steps."""
        guild = self._gateway.guild(dialogue.guild_id)
        if guild is None:
            raise StepFailed("the bot is not in that server any more")
        channel = None
        if dialogue.channel_id is not None:
            channel = await attempt("find the dialogue channel", self._gateway.text_channel(dialogue.channel_id))
            if channel is None:
                raise StepFailed(
                    f"the dialogue channel (id {dialogue.channel_id}) was deleted; cancel this dialogue "
                    "and create it again"
                )
        if channel is None:
            missing = self._gateway.missing_permissions(guild, self._settings.category)
            if missing:
                labels = ", ".join(permission_label(name) for name in missing)
                raise StepFailed(f"the bot is missing permissions: {labels}")
            category = await attempt(
                "create the category", self._gateway.ensure_category(guild, self._settings.category)
            )
            topic = render.channel_topic(dialogue)
            # A crash between creating the channel and recording it leaves one with this exact topic: adopt it.
            channel = self._gateway.find_channel(category, topic)
            if channel is None:
                name = unique_slug(dialogue.title, (c.name for c in guild.channels))
                channel = await attempt(
                    "create the channel", self._gateway.create_channel(guild, category, name, topic)
                )
            await dialogues_db.set_channel(self._db, dialogue.id, channel.id, self._clock())
            log.info("Dialogue %s: channel %s created", dialogue.id, channel.id)
        questions = await dialogues_db.questions(self._db, dialogue.id)
        posted = await dialogues_db.bot_messages(self._db, dialogue.id, "intro")
        for part, text in enumerate(render.intro(dialogue, questions)):
            if part in posted:
                continue
            message = await post_once(self._gateway, channel, text, "post the intro", set(posted.values()))
            await dialogues_db.add_bot_message(
                self._db, dialogue.id, "intro", part, channel.id, message.id, self._clock()
            )
            posted[part] = message.id
        if not await dialogues_db.intro_pinned(self._db, dialogue.id):
            await attempt("pin the intro", self._gateway.pin(channel, posted[0]))
            await dialogues_db.mark_intro_pinned(self._db, dialogue.id)
        now = self._clock()
        for question in questions:
            if question.thread_id is not None:
                continue
            if question.release_at is not None and question.release_at > now:
                continue
            title = thread_name(question.text)
            recorded = {q.thread_id for q in questions if q.thread_id is not None}
            # Likewise a thread created but not recorded before a crash is adopted, not made twice.
            thread = self._gateway.find_own_thread(channel, title, exclude=recorded)
            if thread is None:
                thread = await attempt(
                    f"create the thread for question {question.position}",
                    self._gateway.create_thread(channel, title, question.text),
                )
            await dialogues_db.set_question_thread(
                self._db, dialogue.id, question.position, thread.id, title, self._clock()
            )
            log.info("Dialogue %s: thread %s for question %s", dialogue.id, thread.id, question.position)
        await attempt("create the Leaders thread", self._leaders.open_step(dialogue, channel))
