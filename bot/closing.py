"""Closing a dialogue: lock the channel and every thread, then post the wrap-up; each step recorded."""

from __future__ import annotations

import logging

import discord

import db.dialogues as dialogues_db
import db.posts as posts_db
from db import Database

from . import render
from .clock import Clock
from .config import Settings
from .domain.models import Dialogue
from .gateway import Gateway
from .steps import attempt, post_once

__all__ = ("Closing",)

log = logging.getLogger(__name__)


class Closing:
    """The closing steps. Callers hold the dialogue's lock and have moved it to ``closed``."""

    def __init__(self, database: Database, gateway: Gateway, clock: Clock, settings: Settings) -> None:
        self._db = database
        self._gateway = gateway
        self._clock = clock
        self._settings = settings

    async def complete(self, dialogue: Dialogue) -> bool:
        """Whether every closing step is recorded as done."""
        if dialogue.channel_id is None:
            return True
        if dialogue.locked_at is None or await dialogues_db.thread_ids(self._db, dialogue.id, unlocked_only=True):
            return False
        return bool(await dialogues_db.bot_messages(self._db, dialogue.id, "wrapup"))

    async def run(self, dialogue: Dialogue) -> None:
        """Lock the channel and every thread, then post each missing part of the wrap-up."""
        if dialogue.channel_id is None:
            return
        channel = await attempt("find the dialogue channel", self._gateway.text_channel(dialogue.channel_id))
        if channel is None:
            log.warning("Dialogue %s: channel %s is gone; nothing to lock", dialogue.id, dialogue.channel_id)
            await dialogues_db.mark_locked(self._db, dialogue.id, self._clock())
            return
        await self.lock(dialogue, channel)
        posted = await dialogues_db.bot_messages(self._db, dialogue.id, "wrapup")
        stats = await posts_db.stats(self._db, dialogue.id)
        for part, text in enumerate(render.wrapup(dialogue, stats)):
            if part in posted:
                continue
            message = await post_once(self._gateway, channel, text, "post the wrap-up", set(posted.values()))
            await dialogues_db.add_bot_message(
                self._db, dialogue.id, "wrapup", part, channel.id, message.id, self._clock()
            )

    async def lock(self, dialogue: Dialogue, channel: discord.TextChannel) -> None:
        """Deny posting in the channel, then lock and archive each recorded thread; each step recorded."""
        if dialogue.locked_at is None:
            await attempt("lock the channel", self._gateway.lock_channel(channel, self._settings.facilitator_role))
            await dialogues_db.mark_locked(self._db, dialogue.id, self._clock())
        for thread_id in await dialogues_db.thread_ids(self._db, dialogue.id, unlocked_only=True):
            exists = await attempt(f"lock thread {thread_id}", self._gateway.lock_thread(thread_id))
            if not exists:
                log.info("Dialogue %s: thread %s no longer exists", dialogue.id, thread_id)
            await dialogues_db.mark_thread_locked(self._db, thread_id, self._clock())
