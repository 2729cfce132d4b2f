"""The facilitator's written summary of a closed dialogue: posted in parts, pinned, linked from the wrap-up.

Each part is a recorded step (``bot_messages`` kind SUMMARY, with the revision it shows), so a restart between
any two steps posts nothing twice and leaves nothing out. Submitting again starts a new revision: the posted
parts are edited in place, missing ones posted, surplus ones deleted. A dialogue still taking comments (the
comments-until-summary close) is locked first, exactly as a close locks it, so the summary is the last word.
"""

from __future__ import annotations

import logging

import discord

import db.dialogues as dialogues_db
import db.summaries as summaries_db
from db import Database

from .. import render, render_summary
from ..clock import Clock
from ..closing import Closing
from ..domain.errors import DialogueError
from ..domain.models import BotMessageKind, Dialogue, State
from ..gateway import Gateway
from ..steps import StepFailed, attempt, step_nonce
from .buttons import after_life_view

__all__ = ("Summaries", "SummaryRefused", "decode_summary_file", "summary_parts")

log = logging.getLogger(__name__)

# Attachments taken as a summary, by the end of their name.
_TEXT_FILES = (".md", ".markdown", ".txt", ".text")


class SummaryRefused(DialogueError):
    """A summary that cannot be taken; the message says what is wrong and that nothing was posted."""


def summary_parts(dialogue_id: int, text: str) -> list[str]:
    """Validate a summary's text and return it as posted, part by part; raise ``SummaryRefused`` if unusable."""
    body = text.strip()
    if not body:
        raise SummaryRefused(render_summary.summary_empty())
    if len(body) > render_summary.MAX_SUMMARY_CHARS:
        raise SummaryRefused(render_summary.summary_too_long(len(body)))
    return render_summary.summary_posts(dialogue_id, body)


def check_file(filename: str, size: int) -> None:
    """Refuse an attachment that cannot be a summary, before downloading it."""
    if not filename.lower().endswith(_TEXT_FILES):
        raise SummaryRefused(render_summary.summary_file_not_text(filename))
    if size > render_summary.MAX_SUMMARY_BYTES:
        raise SummaryRefused(render_summary.summary_file_too_big(size))


def decode_summary_file(data: bytes) -> str:
    """The text of an attached summary file (UTF-8, a byte-order mark allowed); raise ``SummaryRefused`` if not."""
    if len(data) > render_summary.MAX_SUMMARY_BYTES:
        raise SummaryRefused(render_summary.summary_file_too_big(len(data)))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise SummaryRefused(render_summary.summary_file_not_utf8(error.start)) from None


class Summaries:
    """The summary's steps. Callers hold the dialogue's lock."""

    def __init__(self, database: Database, gateway: Gateway, clock: Clock, closing: Closing) -> None:
        self._db = database
        self._gateway = gateway
        self._clock = clock
        self._closing = closing

    async def check(self, dialogue: Dialogue) -> None:
        """Refuse a summary for a dialogue that is not closed, or whose closing steps are unfinished."""
        if dialogue.state is not State.CLOSED:
            raise SummaryRefused(render_summary.summary_not_closed(dialogue))
        progress = await dialogues_db.progress(self._db, dialogue.id, self._clock())
        if progress is None or not progress.has_channel or progress.wrapup_expected == 0:
            raise SummaryRefused(render_summary.summary_no_channel(dialogue))
        if not progress.wrapup_done:
            raise SummaryRefused(render_summary.summary_closing_unfinished(dialogue))

    async def begin(self, dialogue: Dialogue, text: str) -> int:
        """Store a validated text as the summary's next revision, due now; return the revision."""
        parts = summary_parts(dialogue.id, text)
        return await summaries_db.begin(self._db, dialogue.id, text.strip(), len(parts), self._clock())

    async def run(self, dialogue: Dialogue) -> bool:
        """Do every summary step not recorded for the current revision; return True if this call completed it.

        Raises ``StepFailed`` when Discord refuses a step: what was done is recorded, the rest is done next time.
        """
        record = await summaries_db.get(self._db, dialogue.id)
        if record is None or record.posted_at is not None or dialogue.channel_id is None:
            return False
        channel = await attempt("find the dialogue channel", self._gateway.text_channel(dialogue.channel_id))
        if channel is None:
            raise StepFailed(f"the dialogue channel (id {dialogue.channel_id}) was deleted")
        # Comments stay open until the summary: lock first (recorded, resumable), so the summary is the last word.
        await self._closing.lock(dialogue, channel)
        posts = render_summary.summary_posts(dialogue.id, record.text)
        await self._post_parts(dialogue, channel, posts, record.revision)
        await self._delete_surplus(dialogue, channel, len(posts))
        first = (await summaries_db.parts(self._db, dialogue.id))[0]
        if record.pinned_id != first.message_id:
            await attempt("pin the summary", self._gateway.pin(channel, first.message_id))
            await summaries_db.mark_pinned(self._db, dialogue.id, first.message_id)
        if record.linked_id != first.message_id:
            await self._link_from_wrapup(dialogue, channel, first.message_id)
            await summaries_db.mark_linked(self._db, dialogue.id, first.message_id)
        done = await summaries_db.complete(self._db, dialogue.id, record.revision, self._clock())
        if done:
            log.info("Dialogue %s: summary revision %d posted in %d parts", dialogue.id, record.revision, len(posts))
        return done

    async def _post_parts(
        self, dialogue: Dialogue, channel: discord.TextChannel, posts: list[str], revision: int
    ) -> None:
        """Edit each recorded part to this revision's text, post each missing one; each recorded as it is done."""
        recorded = await summaries_db.parts(self._db, dialogue.id)
        last = len(posts) - 1
        missing = [part for part in range(len(posts)) if part not in recorded]
        adopted: dict[str, discord.Message] = {}
        if missing:
            # A crash may have left a part posted but unrecorded: adopt the bot's message carrying that part's
            # marker (one read), never one that merely reads the same.
            adopted = await attempt(
                "read the channel",
                self._gateway.find_own_messages(
                    channel,
                    {render_summary.summary_marker(dialogue.id, part + 1) for part in missing},
                    exclude={part.message_id for part in recorded.values()},
                ),
            )
        for part, text in enumerate(posts):
            view = after_life_view(dialogue.id, notify=False) if part == last else None
            existing = recorded.get(part)
            if existing is not None and existing.revision == revision:
                continue
            if existing is not None:
                if await attempt(
                    "edit the summary", self._gateway.edit_post(channel, existing.message_id, text, view=view)
                ):
                    await summaries_db.record_part(
                        self._db, dialogue.id, part, channel.id, existing.message_id, revision, self._clock()
                    )
                    continue
                log.info("Dialogue %s: summary part %d was deleted; posting it again", dialogue.id, part)
            message = adopted.get(render_summary.summary_marker(dialogue.id, part + 1))
            if message is not None and message.content != text:
                # Posted for an earlier revision and never recorded: bring it up to date.
                await attempt("edit the summary", self._gateway.edit_post(channel, message.id, text, view=view))
            if message is None:
                nonce = step_nonce(dialogue.id, f"{BotMessageKind.SUMMARY} r{revision}", part)
                message = await attempt("post the summary", self._gateway.post(channel, text, nonce=nonce, view=view))
            await summaries_db.record_part(self._db, dialogue.id, part, channel.id, message.id, revision, self._clock())

    async def _delete_surplus(self, dialogue: Dialogue, channel: discord.TextChannel, count: int) -> None:
        """Delete the parts a shorter replacement no longer has; each forgotten once its message is gone."""
        for part, posted in sorted((await summaries_db.parts(self._db, dialogue.id)).items()):
            if part < count:
                continue
            await attempt("delete a surplus summary part", self._gateway.delete_message(channel, posted.message_id))
            await summaries_db.forget_part(self._db, dialogue.id, part)

    async def _link_from_wrapup(self, dialogue: Dialogue, channel: discord.TextChannel, first_id: int) -> None:
        """Add the summary's link to the wrap-up's last part (once: a text that has it is left alone)."""
        wrapup = await dialogues_db.bot_messages(self._db, dialogue.id, BotMessageKind.WRAPUP)
        if not wrapup:
            return
        last_id = wrapup[max(wrapup)]
        message = await attempt("read the wrap-up", self._gateway.fetch_message(channel, last_id))
        if message is None:
            log.info("Dialogue %s: the wrap-up was deleted; nothing to link from", dialogue.id)
            return
        url = render_summary.jump_url(dialogue.guild_id, channel.id, first_id)
        content = render_summary.with_summary_link(message.content, url)
        if content is None:
            return
        if len(content) > render.MESSAGE_LIMIT:
            log.warning("Dialogue %s: the wrap-up has no room for the summary link", dialogue.id)
            return
        await attempt("link the summary from the wrap-up", self._gateway.edit_message(channel, last_id, content))
