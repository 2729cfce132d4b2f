"""Recording what people write in a dialogue: live posts, edits, deletions, and catching up after downtime."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime

import discord

import db.dialogues as dialogues_db
import db.posts as posts_db
from db import Database

from .clock import Clock
from .domain.models import Attachment, Dialogue, State, ThreadOrigin
from .domain.parsing import thread_name
from .gateway import Gateway

__all__ = ("IncomingPost", "Recorder", "incoming_post", "records_posts", "webhook_author_id")

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
    attachments: tuple[Attachment, ...] = ()


# Only what a person writes counts; thread-created, pin and join notices are system messages.
_POST_TYPES = frozenset({discord.MessageType.default, discord.MessageType.reply})


def webhook_author_id(webhook_id: int, name: str) -> int:
    """A stable pseudo-author for a bridged post: negative, so it never collides with a Discord user id."""
    digest = hashlib.blake2b(f"{webhook_id}:{name}".encode(), digest_size=7).digest()
    return -(int.from_bytes(digest, "big") + 1)


def incoming_post(message: discord.Message) -> IncomingPost | None:
    """Describe a person's message in a server channel or public thread; None for anything not recorded.

    Not recorded: DMs, system messages, bots (the bot itself included), private threads (the Leaders thread
    and any participant's private thread stay out of the record and the public wrap-up). A webhook post (a
    bridge such as PluralKit re-posting a member's message under their chosen name) is recorded under that
    name, with a pseudo-author derived from the webhook and the name.
    """
    if message.guild is None or message.type not in _POST_TYPES:
        return None
    channel = message.channel
    if isinstance(channel, discord.Thread) and channel.type is discord.ChannelType.private_thread:
        return None
    author_id = message.author.id
    if message.webhook_id is not None and author_id == message.webhook_id and message.interaction_metadata is None:
        author_id = webhook_author_id(message.webhook_id, message.author.display_name)
    elif message.author.bot:
        return None
    return IncomingPost(
        message_id=message.id,
        channel_id=channel.id,
        parent_id=channel.parent_id if isinstance(channel, discord.Thread) else None,
        channel_name=getattr(channel, "name", "") or "",
        author_id=author_id,
        author_name=message.author.display_name,
        content=message.content,
        created_at=message.created_at,
        reply_to_id=message.reference.message_id if message.reference else None,
        attachments=tuple(
            Attachment(item.filename, item.url, item.content_type, item.size) for item in message.attachments
        ),
    )


def records_posts(dialogue: Dialogue) -> bool:
    """Whether a dialogue takes posts: while open, and after its close until the lock has taken effect.

    ``db.posts.record`` applies the same rule inside its INSERT.
    """
    return dialogue.state is State.OPEN or (dialogue.state is State.CLOSED and dialogue.locked_at is None)


@dataclass(frozen=True, slots=True)
class _Place:
    """What a channel or thread is to the record: whose, and of which origin (None: the dialogue channel)."""

    dialogue_id: int
    origin: str | None


# Places are cached only once known, and a known place never changes; past this size the cache starts over.
_MAX_PLACES = 50_000


class Recorder:
    """Turns people's messages into recorded posts; a post is recorded once, whatever path it arrives by.

    In memory, and never trusted for anything that can change: which dialogue a channel or thread belongs
    to and its origin (fixed once recorded; a miss reads the database), the newest message seen arriving per
    channel or thread (so catch-up skips what was watched live), and which dialogues' archived threads were
    listed since the gateway last started a session (or whose channel it saw created). Whether the dialogue still
    takes posts is checked by the database in the same statement that records the post.
    """

    def __init__(self, database: Database, gateway: Gateway, clock: Clock) -> None:
        self._db = database
        self._gateway = gateway
        self._clock = clock
        self._places: dict[int, _Place] = {}
        self._seen: dict[int, int] = {}
        self._suspect: set[int] = set()  # a message there failed to record: catch-up re-reads it
        self._listed: set[int] = set()
        self._watched: set[int] = set()  # channels this gateway session saw being created
        self._sessions = 0

    # ----- live ----------------------------------------------------------------------------------

    async def receive(self, message: discord.Message) -> bool:
        """Record a message from the gateway if it is a post; remember it was seen. Return if recorded."""
        post = incoming_post(message)
        try:
            recorded = post is not None and await self.record(post, message)
        except BaseException:
            self._suspect.add(message.channel.id)
            raise
        channel_id = message.channel.id
        # Catch-up reads only server channels and threads; DMs (one channel per person) are not remembered.
        if message.guild is not None and message.id > self._seen.get(channel_id, 0):
            self._seen[channel_id] = message.id
        return recorded

    def session_started(self) -> None:
        """The gateway (re)connected: events of a gap may be lost, so archived threads are listed again."""
        self._sessions += 1
        if self._sessions > 1:
            self._listed.clear()
            self._watched.clear()

    def channel_created(self, channel_id: int) -> None:
        """The gateway announced a new channel: this session sees every thread made in it from the start."""
        self._watched.add(channel_id)

    async def dialogue_for_channel(self, channel_id: int, parent_id: int | None) -> Dialogue | None:
        """Return the dialogue that owns this channel or thread, if any."""
        place = await self._thread(channel_id) or await self._channel(channel_id if parent_id is None else parent_id)
        return await dialogues_db.get(self._db, place.dialogue_id) if place else None

    async def record(self, post: IncomingPost, message: discord.Message | None = None) -> bool:
        """Record a participant's post; give a top-level post a thread of its own. Return if recorded now."""
        if post.parent_id is None:
            # Usually a top-level post; but a message in a thread the gateway has not cached (an archived one)
            # arrives without its parent, and a recorded thread is still recognised by its id.
            place = await self._channel(post.channel_id) or await self._thread(post.channel_id)
            if place is None:
                return False
            if place.origin is None:
                return await self._record_top_level(place.dialogue_id, post, message)
        else:
            place = await self._thread(post.channel_id) or await self._adopt(post)
        if place is None or place.origin is ThreadOrigin.LEADERS:
            return False  # not a dialogue's thread, or the leaders' backstage room
        return await self._insert(place.dialogue_id, post.channel_id, post)

    async def _insert(self, dialogue_id: int, thread_id: int | None, post: IncomingPost) -> bool:
        return await posts_db.record(
            self._db,
            message_id=post.message_id,
            dialogue_id=dialogue_id,
            thread_id=thread_id,
            author_id=post.author_id,
            author_name=post.author_name,
            content=post.content,
            created_at=post.created_at,
            reply_to_id=post.reply_to_id,
            attachments=post.attachments,
        )

    async def _record_top_level(self, dialogue_id: int, post: IncomingPost, message: discord.Message | None) -> bool:
        dialogue = await dialogues_db.get(self._db, dialogue_id)
        if dialogue is None or not records_posts(dialogue):
            return False
        thread_id: int | None = None
        if await self._thread(post.message_id) is not None:
            thread_id = post.message_id  # its thread exists already (a thread started from a message shares its id)
        elif message is not None:
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
                    self._db, dialogue.id, thread.id, ThreadOrigin.PARTICIPANT, title, post.message_id, self._clock()
                )
                self._remember(thread.id, _Place(dialogue.id, ThreadOrigin.PARTICIPANT))
        return await self._insert(dialogue.id, thread_id, post)

    async def _adopt(self, post: IncomingPost) -> _Place | None:
        """A public thread the bot did not make (a member started it): record it while the dialogue takes posts."""
        assert post.parent_id is not None
        parent = await self._channel(post.parent_id)
        if parent is None:
            return None
        dialogue = await dialogues_db.get(self._db, parent.dialogue_id)
        if dialogue is None or not records_posts(dialogue):
            return None
        await dialogues_db.add_thread(
            self._db, dialogue.id, post.channel_id, ThreadOrigin.PARTICIPANT, post.channel_name, None, self._clock()
        )
        return await self._thread(post.channel_id)

    async def _channel(self, channel_id: int) -> _Place | None:
        place = self._places.get(channel_id)
        if place is not None:
            return place if place.origin is None else None
        dialogue = await dialogues_db.by_channel(self._db, channel_id)
        if dialogue is None:
            return None
        return self._remember(channel_id, _Place(dialogue.id, None))

    async def _thread(self, thread_id: int) -> _Place | None:
        place = self._places.get(thread_id)
        if place is not None:
            return place if place.origin is not None else None
        known = await dialogues_db.thread_origin(self._db, thread_id)
        if known is None:
            return None
        return self._remember(thread_id, _Place(known[0], known[1]))

    def _remember(self, channel_id: int, place: _Place) -> _Place:
        if len(self._places) >= _MAX_PLACES:
            self._places.clear()
        self._places[channel_id] = place
        return place

    # ----- catching up ---------------------------------------------------------------------------

    async def catch_up(self, dialogue: Dialogue, until: datetime | None = None) -> int:
        """Record what people posted while the bot was away (when an open dialogue resumes, and at its close).

        Finds threads started meanwhile (active ones from the gateway's cache; archived public ones from
        Discord's listing, once per gateway session unless it saw the channel created), records them,
        and reads a thread's history only when Discord's last message id there is newer than anything
        recorded, read before or seen arrive.
        """
        if dialogue.channel_id is None:
            return 0
        try:
            channel = await self._gateway.text_channel(dialogue.channel_id)
        except discord.HTTPException as error:
            log.warning("Dialogue %s: could not find its channel to catch up: %s", dialogue.id, error)
            return 0
        if channel is None:
            return 0
        threads = {thread.id: thread for thread in self._gateway.public_threads(channel)}
        listed = dialogue.id in self._listed or channel.id in self._watched
        if not listed:
            try:
                for thread in await self._gateway.archived_public_threads(channel):
                    threads.setdefault(thread.id, thread)
            except discord.HTTPException as error:
                log.warning("Dialogue %s: could not list its archived threads: %s", dialogue.id, error)
            else:
                self._listed.add(dialogue.id)
        known = set(await dialogues_db.thread_ids(self._db, dialogue.id, origin_not=ThreadOrigin.LEADERS))
        me = self._gateway.client.user
        if records_posts(dialogue):
            for thread in threads.values():
                if me is not None and thread.owner_id == me.id:
                    continue  # the bot's own: a seed or Leaders thread is adopted by the opening's steps
                if thread.id not in known and await dialogues_db.thread_origin(self._db, thread.id) is None:
                    # Started while the bot was away: it and its posts belong to the record, and it is locked at close.
                    await dialogues_db.add_thread(
                        self._db, dialogue.id, thread.id, ThreadOrigin.PARTICIPANT, thread.name, None, self._clock()
                    )
                    known.add(thread.id)
                    log.info("Dialogue %s: found thread %s started while the bot was away", dialogue.id, thread.id)
        marks = await posts_db.watermarks(self._db, dialogue.id, channel.id)
        recorded = 0
        targets: list[tuple[int, discord.TextChannel | discord.Thread | None]] = [(channel.id, channel)]
        targets += [(thread_id, threads.get(thread_id)) for thread_id in sorted(known)]
        for target_id, target in targets:
            suspect = target_id in self._suspect
            mark = max(marks.get(target_id, 0), 0 if suspect else self._seen.get(target_id, 0))
            if target is None and listed and not suspect:
                continue  # archived while the bot watched it this session: nothing was missed
            if target is not None and not suspect and (target.last_message_id or 0) <= mark:
                continue  # Discord's newest message here was already recorded, read or seen
            read = await self._read(dialogue, target_id, target, mark, until)
            if read is not None:
                recorded += read
                self._suspect.discard(target_id)
        if recorded:
            log.info("Dialogue %s: recorded %d posts made while the bot was away", dialogue.id, recorded)
        return recorded

    async def _read(
        self,
        dialogue: Dialogue,
        target_id: int,
        target: discord.TextChannel | discord.Thread | None,
        after: int,
        until: datetime | None,
    ) -> int | None:
        """Record the posts of one channel or thread after ``after``; None if Discord refused the read."""
        # From the opening's first millisecond (an instant would skip messages made within it).
        start = after or discord.utils.time_snowflake(dialogue.opened_at or dialogue.opens_at) - 1
        try:
            if target is None:
                messages = await self._gateway.history(target_id, start)
            else:
                messages = await self._gateway.read(target, start)
        except discord.HTTPException as error:
            log.warning("Dialogue %s: could not read %s to catch up: %s", dialogue.id, target_id, error)
            return None
        recorded = 0
        last_read = 0
        cut = False
        for message in messages:
            if until is not None and message.created_at > until:
                cut = True
                break
            post = incoming_post(message)
            if post is not None and await self.record(post, message):
                recorded += 1
            last_read = message.id
        if not cut and target is not None:
            # Read to the end (whatever was deleted meanwhile too): nothing up to Discord's newest is left.
            last_read = max(last_read, target.last_message_id or 0)
        if last_read:
            await posts_db.mark_read(self._db, dialogue.id, target_id, last_read)
        return recorded

    # ----- edits and deletions -------------------------------------------------------------------

    async def record_edit(self, message_id: int, content: str) -> bool:
        """Keep the latest text of an edited post, unless its dialogue is locked (the record is then final)."""
        return await posts_db.edit(self._db, message_id, content, self._clock())

    async def record_deletion(self, message_ids: list[int]) -> int:
        """Forget the text of deleted posts (one or a moderator's bulk delete), whenever it happens."""
        return await posts_db.clear(self._db, message_ids, self._clock())
