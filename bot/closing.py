"""Closing a dialogue: lock the channel and every thread, then post the wrap-up; each step recorded.

A comments-until-summary dialogue posts its wrap-up at the window's end and stays open for comments: the lock
comes with the summary (``bot.afterlife.summary``), or here at the safety limit, followed by a notice.
"""

from __future__ import annotations

import logging

import discord

import db.dialogues as dialogues_db
import db.posts as posts_db
from db import Database

from . import render, render_summary
from .afterlife.buttons import after_life_view
from .clock import Clock
from .config import Settings
from .domain.models import AfterClose, BotMessageKind, Dialogue
from .domain.progress import Progress
from .gateway import Gateway
from .steps import StepFailed, attempt, step_nonce

__all__ = ("Closing",)

log = logging.getLogger(__name__)


class Closing:
    """The closing steps. Callers hold the dialogue's lock and have moved it to ``closed``."""

    def __init__(self, database: Database, gateway: Gateway, clock: Clock, settings: Settings) -> None:
        self._db = database
        self._gateway = gateway
        self._clock = clock
        self._settings = settings

    async def progress(self, dialogue_id: int) -> Progress | None:
        """The dialogue's progress as recorded."""
        return await dialogues_db.progress(self._db, dialogue_id, self._clock())

    async def complete(self, dialogue: Dialogue) -> bool:
        """Whether every closing step is recorded as done: channel locked, each thread locked, every wrap-up part."""
        progress = await self.progress(dialogue.id)
        return progress is None or progress.closing_done

    async def run(self, dialogue: Dialogue) -> None:
        """Lock the channel and every thread (unless comments stay open), then post each missing wrap-up part."""
        channel_id = dialogue.channel_id
        if channel_id is None:
            return
        if dialogue.after_close is AfterClose.COMMENTS_UNTIL_SUMMARY and dialogue.comments_until is None:
            # The safety limit is fixed once, from the close, before the wrap-up that names it.
            closed_at = dialogue.closed_at or self._clock()
            await dialogues_db.set_comments_until(self._db, dialogue.id, closed_at + self._settings.comments_limit)
            dialogue = await dialogues_db.get(self._db, dialogue.id) or dialogue
        channel = await attempt("find the dialogue channel", self._gateway.text_channel(channel_id))
        if channel is None:
            log.warning("Dialogue %s: channel %s is gone; nothing to lock or post", dialogue.id, channel_id)
            now = self._clock()
            await dialogues_db.mark_locked(self._db, dialogue.id, now)
            for thread_id in await dialogues_db.thread_ids(self._db, dialogue.id, unlocked_only=True):
                await dialogues_db.mark_thread_locked(self._db, thread_id, now)
            await dialogues_db.set_wrapup_parts(self._db, dialogue.id, 0)
            return
        progress = await self.progress(dialogue.id)
        if progress is None or not progress.comments_open:
            await self.lock(dialogue, channel)
        await self._post_wrapup(dialogue, channel)
        progress = await self.progress(dialogue.id)
        if progress is not None and progress.comments_notice_due:
            await self._post_comments_notice(dialogue, channel)

    async def lock(self, dialogue: Dialogue, channel: discord.TextChannel) -> None:
        """Deny posting in the channel, then lock and archive each recorded thread; each step recorded.

        ``locked_at`` is written only once Discord's answer shows every overwrite in place: until then the
        dialogue is still taking posts, and they are recorded.
        """
        current = await dialogues_db.get(self._db, dialogue.id)
        if current is not None and current.locked_at is None:
            applied = await attempt(
                "lock the channel", self._gateway.lock_channel(channel, self._settings.facilitator_role)
            )
            if not applied:
                raise StepFailed("Discord accepted the channel lock but did not apply all of it")
            await dialogues_db.mark_locked(self._db, dialogue.id, self._clock())
        for thread_id in await dialogues_db.thread_ids(self._db, dialogue.id, unlocked_only=True):
            exists = await attempt("lock a thread", self._gateway.lock_thread(thread_id))
            if not exists:
                log.info("Dialogue %s: thread %s no longer exists", dialogue.id, thread_id)
            await dialogues_db.mark_thread_locked(self._db, thread_id, self._clock())

    async def _post_wrapup(self, dialogue: Dialogue, channel: discord.TextChannel) -> None:
        """Post each wrap-up part not yet recorded, each with its own nonce; complete means every part."""
        stats = await posts_db.stats(self._db, dialogue.id)
        parts = render.wrapup_posts(dialogue, stats)
        # The count is written before the first part goes out, so a later run knows how many to expect.
        first_run = await dialogues_db.set_wrapup_parts(self._db, dialogue.id, len(parts))
        posted = await dialogues_db.bot_messages(self._db, dialogue.id, BotMessageKind.WRAPUP)
        progress = await self.progress(dialogue.id)
        expected = progress.wrapup_expected if progress and progress.wrapup_expected is not None else len(parts)
        if expected != len(parts):
            # The numbers changed since the count was written and the text splits differently now.
            log.warning("Dialogue %s: wrap-up now has %d parts, not %d", dialogue.id, len(parts), expected)
            expected = len(parts)
            await dialogues_db.set_wrapup_parts(self._db, dialogue.id, expected, replace=True)
        missing = [part for part in range(expected) if part not in posted]
        adopted: dict[str, discord.Message] = {}
        if missing and not first_run:
            # An earlier run may have posted a part and stopped before recording it: adopt the bot's message
            # that carries this part's marker (one read), never one that merely reads the same.
            adopted = await attempt(
                "read the channel",
                self._gateway.find_own_messages(
                    channel, {_marker(parts[part]) for part in missing}, exclude=set(posted.values())
                ),
            )
        for part in missing:
            text = parts[part]
            message = adopted.get(_marker(text))
            if message is None:
                nonce = step_nonce(dialogue.id, BotMessageKind.WRAPUP, part)
                view = after_life_view(dialogue.id) if part == expected - 1 else None
                message = await attempt("post the wrap-up", self._gateway.post(channel, text, nonce=nonce, view=view))
            await dialogues_db.add_bot_message(
                self._db, dialogue.id, BotMessageKind.WRAPUP, part, channel.id, message.id, self._clock()
            )

    async def _post_comments_notice(self, dialogue: Dialogue, channel: discord.TextChannel) -> None:
        """Say in the channel, once, that the safety limit locked it with no summary."""
        text = render_summary.comments_closed_notice(dialogue, self._settings.comments_limit_days)
        kind = BotMessageKind.COMMENTS_CLOSED
        # Posted but not recorded before a crash? Adopt the bot's recent message carrying its marker (one read).
        adopted = await attempt(
            "read the channel", self._gateway.find_own_messages(channel, {_marker(text)}, exclude=set())
        )
        message = adopted.get(_marker(text))
        if message is None:
            nonce = step_nonce(dialogue.id, kind)
            message = await attempt(
                "post the notice that comments are closed", self._gateway.post(channel, text, nonce=nonce)
            )
        await dialogues_db.add_bot_message(self._db, dialogue.id, kind, 0, channel.id, message.id, self._clock())


def _marker(text: str) -> str:
    """The step marker a posted part ends with (its last line)."""
    return text.rsplit("\n", 1)[-1]
