"""The private Leaders thread: made once per dialogue as an opening step, found by its record, never by name alone."""

from __future__ import annotations

import logging

import discord

import db.leaders as leaders_db
import db.reminders as reminders_db
from db import Database

from ..clock import Clock
from ..config import Settings
from ..domain.models import Dialogue
from ..domain.reminders import (
    Kind,
    ReminderState,
    Via,
    leaders_thread_intro,
    leaders_thread_name,
    stale_reason,
    thread_post_text,
)
from ..gateway import Gateway
from ..render import MESSAGE_LIMIT, truncate

__all__ = ("LeadersThread",)

log = logging.getLogger(__name__)

# A welcome or a facilitator's message was promised to wait for the thread, however long.
_HELD_UNTIL_POSTED = frozenset({Kind.WELCOME, Kind.BROADCAST})


class LeadersThread:
    """The backstage room for a dialogue's leaders and facilitators, and the posts made there."""

    def __init__(self, database: Database, gateway: Gateway, clock: Clock, settings: Settings) -> None:
        self.db = database
        self.gateway = gateway
        self.clock = clock
        self.settings = settings

    async def thread_id(self, dialogue_id: int) -> int | None:
        """Return the recorded Leaders thread of a dialogue, if it was made."""
        return await leaders_db.leaders_thread(self.db, dialogue_id)

    async def open_step(self, dialogue: Dialogue, channel: discord.TextChannel) -> None:
        """Create the private Leaders thread once, add leaders and facilitators, post what was held.

        Each part is recorded: the thread (``threads``, origin 'leaders'), then the members and the intro
        (``bot_messages`` kind 'leaders_intro', written after the members were added), so a crash between
        two parts is mended by the next run. The thread's name carries the dialogue's id ("Leaders · #12"):
        a thread made but not recorded before a crash is adopted only if the bot made it, privately, under
        exactly this dialogue's name — never another dialogue's room or a participant's thread.
        Discord refusing to create the thread or post the intro fails the opening like any step (the
        caller turns it into a reason); adding one member or posting a held reminder failing does not.
        """
        thread_id = await leaders_db.leaders_thread(self.db, dialogue.id)
        if thread_id is None:
            name = leaders_thread_name(dialogue.id)
            thread = self.gateway.find_own_private_thread(channel, name)
            if thread is None:
                thread = await self.gateway.create_private_thread(
                    channel, name, "dialogue-bot: backstage room for conversation leaders"
                )
            await leaders_db.record_leaders_thread(self.db, dialogue.id, thread.id, name, self.clock())
            log.info("Dialogue %s: Leaders thread %s created", dialogue.id, thread.id)
            thread_id = thread.id
        if not await leaders_db.leaders_intro_posted(self.db, dialogue.id):
            members = [leader.user_id for leader in await leaders_db.leaders(self.db, dialogue.id)]
            members += [uid for uid in await self.facilitators(dialogue.guild_id) if uid not in members]
            for user_id in members:
                await self.membership(thread_id, user_id, join=True)
            message = await self.gateway.post_in_thread(thread_id, leaders_thread_intro())
            if message is not None:
                await leaders_db.record_leaders_intro(self.db, dialogue.id, thread_id, message.id, self.clock())
        await self.post_held(dialogue, thread_id)

    async def facilitators(self, guild_id: int) -> list[int]:
        """Return the ids of the server's facilitators (the facilitator role or Manage Channels)."""
        from ..app import is_facilitator  # the bot module imports the services; import at use, not load

        return await self.gateway.member_ids(guild_id, lambda member: is_facilitator(member, self.settings))

    async def membership(self, thread_id: int, user_id: int, *, join: bool) -> None:
        """Add a member to the thread or take them out; a refusal is logged, not raised."""
        try:
            if join:
                await self.gateway.add_thread_member(thread_id, user_id)
            else:
                await self.gateway.remove_thread_member(thread_id, user_id)
        except discord.HTTPException as error:
            log.warning(
                "Leaders thread %s: could not %s member %s: %s", thread_id, "add" if join else "remove", user_id, error
            )

    async def post_held(self, dialogue: Dialogue, thread_id: int) -> None:
        """Post the reminders that were held for this thread (claimed one by one, so each once)."""
        for reminder in await reminders_db.held(self.db, dialogue.id):
            now = self.clock()
            # Time-bound ones (e.g. an "opens tomorrow" held until the opening itself) may have gone stale.
            reason = (
                None
                if reminder.kind in _HELD_UNTIL_POSTED
                else stale_reason(
                    reminder.kind, reminder.due_at, dialogue.state, dialogue.opens_at, dialogue.closes_at, now
                )
            )
            if reason is not None:
                await reminders_db.skip(self.db, dialogue.id, reminder.user_id, now, reason, reminder_id=reminder.id)
                continue
            if not await reminders_db.claim(self.db, reminder.id, self.clock(), source=ReminderState.HELD):
                continue
            body = reminder.body or ""
            if await self.post(thread_id, reminder.user_id, body, held=True):
                await reminders_db.set_via(self.db, reminder.id, Via.THREAD)
            else:
                await reminders_db.hold(self.db, reminder.id, body)

    async def post(self, thread_id: int, user_id: int, text: str, *, held: bool = False) -> bool:
        """Post a reminder for a leader whose DMs are closed, mentioning only them; return whether it was posted."""
        content = truncate(thread_post_text(user_id, text, held=held), MESSAGE_LIMIT)
        try:
            return await self.gateway.post_in_thread(thread_id, content, mention_user_id=user_id) is not None
        except discord.HTTPException as error:
            log.warning("Leaders thread %s: could not post a reminder: %s", thread_id, error)
            return False

    async def archive_again(self, dialogue: Dialogue, thread_id: int) -> None:
        """A post after the close unarchives the locked Leaders thread on Discord: archive it again."""
        try:
            await self.gateway.lock_thread(thread_id)
        except discord.HTTPException as error:
            log.warning("Dialogue %s: could not archive the Leaders thread again: %s", dialogue.id, error)
