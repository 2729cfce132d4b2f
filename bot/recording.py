"""Recording what people write in a dialogue: live posts, edits, deletions, and catching up after downtime."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

import discord

import db.dialogues as dialogues_db
import db.posts as posts_db
from db import Database

from .clock import Clock
from .domain.models import Dialogue, State
from .domain.parsing import thread_name
from .gateway import Gateway

__all__ = ("IncomingPost", "Recorder", "incoming_post")

log = logging.getLogger(__name__)


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


class Recorder:
    """Turns people's messages into recorded posts; a post is recorded once, whatever path it arrives by."""

    def __init__(self, database: Database, gateway: Gateway, clock: Clock) -> None:
        self._db = database
        self._gateway = gateway
        self._clock = clock

    async def dialogue_for_channel(self, channel_id: int, parent_id: int | None) -> Dialogue | None:
        """Return the open dialogue that owns this channel or thread, if any."""
        for candidate in (parent_id, channel_id):
            if candidate is None:
                continue
            dialogue = await dialogues_db.by_channel(self._db, candidate)
            if dialogue is not None:
                return dialogue
        return None

    async def record(self, post: IncomingPost, message: discord.Message | None = None) -> bool:
        """Record a participant's post; give a top-level post a thread of its own. Return if recorded."""
        dialogue = await self.dialogue_for_channel(post.channel_id, post.parent_id)
        if dialogue is None or dialogue.state is not State.OPEN:
            return False
        thread_id: int | None = post.channel_id if post.parent_id is not None else None
        now = self._clock()
        known = await dialogues_db.thread_origin(self._db, thread_id) if thread_id is not None else None
        if known is not None and known[1] == "leaders":
            return False  # the leaders' backstage room is not part of the dialogue's record
        if thread_id is not None and known is None:
            # A thread the bot did not make (e.g. started from the client): adopt it.
            await dialogues_db.add_thread(self._db, dialogue.id, thread_id, "participant", post.channel_name, None, now)
        if thread_id is None and await dialogues_db.thread_origin(self._db, post.message_id) is not None:
            thread_id = post.message_id  # its thread exists already (a thread started from a message shares its id)
        elif thread_id is None and message is not None:
            title = thread_name(post.content) if post.content.strip() else f"Post by {post.author_name}"
            try:
                # A thread made from this post before a crash cut the record short is adopted, not remade.
                thread = message.thread or await self._gateway.thread_from_message(message, title)
                title = thread.name
            except discord.HTTPException as error:
                log.warning("Dialogue %s: could not start a thread from a post: %s", dialogue.id, error)
            else:
                thread_id = thread.id
                await dialogues_db.add_thread(
                    self._db, dialogue.id, thread.id, "participant", title, post.message_id, now
                )
        return await posts_db.record(
            self._db,
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
        targets = [dialogue.channel_id, *await dialogues_db.thread_ids(self._db, dialogue.id, origin_not="leaders")]
        for target_id in targets:
            if target_id == dialogue.channel_id:
                after = await posts_db.last_top_level(self._db, dialogue.id)
            else:
                after = await posts_db.last_in_thread(self._db, target_id)
            try:
                messages = await self._gateway.history(target_id, after or dialogue.opened_at or dialogue.opens_at)
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
        """Keep the latest text of an edited post."""
        return await posts_db.edit(self._db, message_id, content, self._clock())

    async def record_deletion(self, message_ids: list[int]) -> int:
        """Forget the text of deleted posts (one or a moderator's bulk delete)."""
        return await posts_db.clear(self._db, message_ids, self._clock())
