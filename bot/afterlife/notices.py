"""Telling people the summary is out: one DM each, at most once ever, in paced batches that survive restarts.

Recipients are drawn up once, the first time the summary is complete (everyone who posted, plus those who
pressed "Tell me", minus those who pressed "Don't notify me"); a summary replaced later draws up nobody again.
Each notice is claimed (``sending``) before its DM goes and records how it went (sent, DMs closed, failed). A
claimed notice found later is an interrupted send: the bot looks for the DM by its marker line before sending it
again, with the same nonce. Closed DMs are counted and never retried; nobody is pinged in public instead.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

import aiohttp
import discord

import db.notices as notices_db
import db.summaries as summaries_db
from db import Database

from .. import render, render_notices, render_summary
from ..clock import Clock
from ..domain.models import Dialogue
from ..domain.notices import Choice, NoticeState, NoticeTally
from ..gateway import Gateway
from ..leaders.delivery import RETRY_AFTER
from ..steps import step_nonce

__all__ = ("BATCH", "MAX_ATTEMPTS", "PACE", "Pass", "SummaryNotices")

log = logging.getLogger(__name__)

# DMs sent per pass, and the pause before the next pass: many DMs at once look like spam to Discord.
BATCH = 10
PACE = timedelta(seconds=10)
# A notice Discord failed to take (an error, not a refusal) is tried this many times in all.
MAX_ATTEMPTS = 3
# Discord's error code for "Cannot send messages to this user" (DMs closed, or no shared server).
DMS_CLOSED = 50007
_STEP = "summary notice"


@dataclass(frozen=True, slots=True)
class Pass:
    """What one delivery pass did: the tally after it, and whether it was the pass that finished delivery."""

    tally: NoticeTally
    finished_now: bool


class SummaryNotices:
    """The buttons' choices and the summary's DMs. Callers of ``start`` and ``deliver`` hold the dialogue's lock."""

    def __init__(self, database: Database, gateway: Gateway, clock: Clock) -> None:
        self.db = database
        self.gateway = gateway
        self.clock = clock

    # ----- the buttons ---------------------------------------------------------------------------

    async def ask(self, dialogue: Dialogue, user_id: int) -> str:
        """ "Tell me when the summary is out": remember it; if the summary is out already, answer with its link."""
        link = await self.summary_link(dialogue) if await self.summary_out(dialogue) else None
        if link is None:
            await notices_db.set_choice(self.db, dialogue.id, user_id, Choice.NOTIFY, self.clock())
        return render_notices.notify_answer(dialogue, link)

    async def opt_out(self, dialogue: Dialogue, user_id: int) -> str:
        """ "Don't notify me": remember it, and withdraw a notice drawn up but not yet sent."""
        await notices_db.set_choice(self.db, dialogue.id, user_id, Choice.OPT_OUT, self.clock())
        state = await notices_db.notice_state(self.db, dialogue.id, user_id)
        return render_notices.opt_out_answer(dialogue, already_sent=state is NoticeState.SENT)

    # ----- reading -------------------------------------------------------------------------------

    async def tally(self, dialogue_id: int) -> NoticeTally:
        """How the dialogue's notices went so far."""
        return await notices_db.tally(self.db, dialogue_id)

    async def status_line(self, dialogue: Dialogue) -> str:
        """The line of ``/dialogue status`` and of the summary's reply about the notices."""
        tally = await notices_db.tally(self.db, dialogue.id)
        choices = (0, 0) if tally.planned else await notices_db.choice_counts(self.db, dialogue.id)
        return render_notices.notice_line(tally, choices)

    async def summary_out(self, dialogue: Dialogue) -> bool:
        """Whether the summary is out: wholly posted, or once was (a replacement being posted keeps it out)."""
        return dialogue.summary_posted_at is not None or (await notices_db.tally(self.db, dialogue.id)).planned

    async def summary_link(self, dialogue: Dialogue) -> str:
        """The jump link to the summary's first part (to the channel if it was not recorded)."""
        parts = await summaries_db.parts(self.db, dialogue.id)
        if 0 in parts:
            return render_summary.jump_url(dialogue.guild_id, parts[0].channel_id, parts[0].message_id)
        return f"https://discord.com/channels/{dialogue.guild_id}/{dialogue.channel_id}"

    # ----- delivery ------------------------------------------------------------------------------

    async def start(self, dialogue: Dialogue) -> bool:
        """Draw up the recipients, once ever, when the summary is out; return whether this call drew them up."""
        if dialogue.summary_posted_at is None:
            return False
        me = self.gateway.client.user
        drawn = await notices_db.plan(self.db, dialogue.id, me.id if me else 0, self.clock())
        if drawn:
            tally = await notices_db.tally(self.db, dialogue.id)
            log.info("Dialogue %s: %d summary notices owed", dialogue.id, tally.pending)
        return drawn

    async def deliver(self, dialogue: Dialogue) -> Pass:
        """Send one paced batch of the notices owed; finish interrupted sends first. Nothing twice, ever."""
        now = self.clock()
        resume_at = await notices_db.resume_at(self.db, dialogue.id)
        before = await notices_db.tally(self.db, dialogue.id)
        if before.finished or not before.planned or (resume_at is not None and resume_at > now):
            return Pass(before, finished_now=False)
        link = await self.summary_link(dialogue)
        text = render.truncate(render_notices.notice_dm(dialogue, link), render.MESSAGE_LIMIT)
        marker = render_notices.notice_marker(dialogue.id)
        stalled = False
        for user_id in await notices_db.claimed(self.db, dialogue.id):
            if await self._found(user_id, marker):
                await notices_db.finish(self.db, dialogue.id, user_id, NoticeState.SENT, self.clock())
                log.info("Dialogue %s: an interrupted summary notice had gone out; recorded", dialogue.id)
            else:
                stalled = not await self._send(dialogue, user_id, text)
            if stalled:
                break
        sent = 0
        while not stalled and sent < BATCH:
            batch = await notices_db.next_batch(self.db, dialogue.id, BATCH - sent)
            if not batch:
                break
            for user_id in batch:
                if not await notices_db.claim(self.db, dialogue.id, user_id, self.clock()):
                    continue  # opted out meanwhile
                sent += 1
                if not await self._send(dialogue, user_id, text):
                    stalled = True
                    break
        after = await notices_db.tally(self.db, dialogue.id)
        if stalled:
            await notices_db.set_resume_at(self.db, dialogue.id, self.clock() + RETRY_AFTER)
        elif after.pending:
            await notices_db.set_resume_at(self.db, dialogue.id, self.clock() + PACE)
        finished_now = after.finished and await notices_db.mark_reported(self.db, dialogue.id, self.clock())
        if finished_now:
            log.info(
                "Dialogue %s: summary notices done: %d sent, %d DMs closed, %d failed",
                dialogue.id,
                after.sent,
                after.dms_closed,
                after.failed,
            )
        return Pass(after, finished_now=finished_now)

    async def hold(self, dialogue_id: int) -> None:
        """Hold the next batch back for a while after an unexpected error (what is owed stays in the record)."""
        await notices_db.set_resume_at(self.db, dialogue_id, self.clock() + RETRY_AFTER)

    async def _found(self, user_id: int, marker: str) -> bool:
        """Whether an interrupted send did reach the member: the bot's DM carrying this dialogue's marker."""
        try:
            return await self.gateway.find_own_dm(user_id, lambda content: render.carries_marker(content, marker))
        except (discord.HTTPException, TimeoutError, aiohttp.ClientError, OSError) as error:
            log.info("Could not read the DMs to member %s (%s); sending the notice again", user_id, error)
            return False

    async def _send(self, dialogue: Dialogue, user_id: int, text: str) -> bool:
        """Send one claimed notice and record how it went; return False when Discord failed (try later)."""
        nonce = step_nonce(dialogue.id, _STEP, user_id)
        try:
            await self.gateway.send_dm(user_id, text, nonce=nonce)
        except discord.Forbidden as error:
            # Closed DMs are the member's choice: counted, never retried, nobody pinged in public instead.
            closed = error.code == DMS_CLOSED
            state = NoticeState.DMS_CLOSED if closed else NoticeState.FAILED
            note = None if closed else f"Discord refused: {error.code}"
            await notices_db.finish(self.db, dialogue.id, user_id, state, self.clock(), note)
            log.info("Dialogue %s: summary notice to member %s refused (%s)", dialogue.id, user_id, error.code)
            return True
        except discord.NotFound as error:
            await notices_db.finish(
                self.db, dialogue.id, user_id, NoticeState.FAILED, self.clock(), f"not found: {error.code}"
            )
            return True
        except (discord.HTTPException, TimeoutError, aiohttp.ClientError, OSError) as error:
            status = error.status if isinstance(error, discord.HTTPException) else type(error).__name__
            note = f"Discord failed: {status}"
            log.warning("Dialogue %s: summary notice to member %s failed: %s", dialogue.id, user_id, note)
            if await self._attempts(dialogue.id, user_id) >= MAX_ATTEMPTS:
                await notices_db.finish(self.db, dialogue.id, user_id, NoticeState.FAILED, self.clock(), note)
                return True
            await notices_db.release(self.db, dialogue.id, user_id, self.clock(), note)
            return False
        await notices_db.finish(self.db, dialogue.id, user_id, NoticeState.SENT, self.clock())
        return True

    async def _attempts(self, dialogue_id: int, user_id: int) -> int:
        return await notices_db.attempts(self.db, dialogue_id, user_id)
