"""The narrow set of Discord operations the dialogue use-cases need: easy to read and to count."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import discord

# Discord's values: an event held outside a voice or stage channel, visible to the server's members.
_EXTERNAL_EVENT = 3
_GUILD_ONLY = 2
_EVENT_REASON = "dialogue-bot: the dialogue's window"

__all__ = (
    "LOCKED",
    "MENTIONS_OFF",
    "OPTIONAL_PERMISSIONS",
    "REQUIRED_PERMISSIONS",
    "Gateway",
    "closing_overwrites",
    "permission_label",
)

log = logging.getLogger(__name__)

# User-written text never pings anyone; the bot turns mentions on only where it names someone itself.
MENTIONS_OFF = discord.AllowedMentions.none()

# Everything the bot needs to run a dialogue, checked before opening and requested by the invite URL: exactly what
# the code uses, no more. Each entry names the calls that need it.
REQUIRED_PERMISSIONS: tuple[str, ...] = (
    "view_channel",  # see the category, the dialogue channel and its threads
    "manage_channels",  # create the category and the channel, set its topic, edit (lock) threads
    "manage_roles",  # the closing overwrites on the channel
    "manage_threads",  # lock and archive threads, add members to the private Leaders thread
    "create_public_threads",  # one thread per seed question and per new topic
    "create_private_threads",  # the Leaders thread
    "send_messages",  # the intro, notices and the wrap-up
    "send_messages_in_threads",  # seed questions, the Leaders thread
    "pin_messages",  # pin the intro (Discord split this out of Manage Messages in 2026)
    "read_message_history",  # catch up on posts made while the bot was away
)

# Asked for by the invite URL but not needed to run a dialogue: without it, what it serves is left out and the
# facilitators are told once.
OPTIONAL_PERMISSIONS: tuple[str, ...] = (
    "manage_events",  # the dialogue's window as a Discord scheduled event (bot/events.py)
)


# What a closed dialogue takes away from everyone but the facilitators and the bot.
LOCKED: tuple[str, ...] = (
    "send_messages",
    "send_messages_in_threads",
    "create_public_threads",
    "create_private_threads",
)


def closing_overwrites(
    channel: discord.TextChannel, facilitator_role: str
) -> dict[discord.Role | discord.Member | discord.Object, discord.PermissionOverwrite]:
    """The channel's overwrites once closed: every allow of a ``LOCKED`` permission removed, @everyone denied.

    Other permissions in each overwrite are kept. Roles lose the allow by an explicit deny; members by going
    back to neutral, so that a facilitator with a member overwrite still speaks through the facilitators' role.
    """
    guild = channel.guild
    facilitators = discord.utils.get(guild.roles, name=facilitator_role)
    result: dict[discord.Role | discord.Member | discord.Object, discord.PermissionOverwrite] = {}
    for target, current in channel.overwrites.items():
        if target.id in (guild.me.id, guild.default_role.id) or (facilitators and target.id == facilitators.id):
            continue
        allow, deny = current.pair()
        overwrite = discord.PermissionOverwrite.from_pair(allow, deny)
        is_role = isinstance(target, discord.Role) or getattr(target, "type", None) is discord.Role
        for name in LOCKED:
            if getattr(overwrite, name) is True:
                setattr(overwrite, name, False if is_role else None)
        result[target] = overwrite
    everyone = channel.overwrites_for(guild.default_role)
    everyone.update(**dict.fromkeys(LOCKED, False))
    result[guild.default_role] = everyone
    if facilitators is not None:
        speak = channel.overwrites_for(facilitators)
        speak.update(send_messages=True, send_messages_in_threads=True, create_public_threads=True)
        result[facilitators] = speak
    # The bot keeps an explicit allow, so it can still post the wrap-up after @everyone is denied.
    own = channel.overwrites_for(guild.me)
    own.update(**dict.fromkeys(LOCKED, True), manage_threads=True, view_channel=True)
    result[guild.me] = own
    return result


def permission_label(name: str) -> str:
    """Name a permission as Discord's settings screen does, e.g. ``Manage Channels``."""
    special = {"view_channel": "View Channels"}
    return special.get(name, name.replace("_", " ").title())


@dataclass(frozen=True, slots=True)
class Place:
    """Where a dialogue's channel goes: the guild and, if it exists, the category."""

    guild: discord.Guild
    category: discord.CategoryChannel | None


class Gateway:
    """Discord operations by id. Every method raises ``discord.HTTPException`` on a refused request."""

    def __init__(self, client: discord.Client) -> None:
        self._client = client

    @property
    def client(self) -> discord.Client:
        """The discord.py client this gateway talks through."""
        return self._client

    def dispatch(self, event: str, *args: object) -> None:
        """Tell listeners (other cogs) that something happened to a dialogue."""
        self._client.dispatch(event, *args)

    async def wait_until_ready(self) -> None:
        """Wait until the client's cache is filled after connecting."""
        await self._client.wait_until_ready()

    def guild(self, guild_id: int) -> discord.Guild | None:
        """Return a cached guild, or None if the bot is not in it."""
        return self._client.get_guild(guild_id)

    def find_category(self, guild: discord.Guild, name: str) -> discord.CategoryChannel | None:
        """Return the guild's category with this name (case-insensitive), or None."""
        return discord.utils.find(lambda c: c.name.lower() == name.lower(), guild.categories)

    def missing_permissions(self, guild: discord.Guild, category_name: str) -> list[str]:
        """Return the required permissions the bot lacks where the dialogue channel will be created."""
        category = self.find_category(guild, category_name)
        me = guild.me
        permissions = category.permissions_for(me) if category else me.guild_permissions
        if permissions.administrator:
            return []
        return [name for name in REQUIRED_PERMISSIONS if not getattr(permissions, name)]

    async def ensure_category(self, guild: discord.Guild, name: str) -> discord.CategoryChannel:
        """Return the category with this name, creating it if needed."""
        category = self.find_category(guild, name)
        if category is None:
            category = await guild.create_category(name, reason="dialogue-bot: category for dialogues")
        return category

    def find_channel(self, guild: discord.Guild, topic_ends_with: str) -> discord.TextChannel | None:
        """Return the guild's text channel whose topic ends with this marker, from the cache (no request)."""
        return discord.utils.find(lambda c: (c.topic or "").endswith(topic_ends_with), guild.text_channels)

    async def find_own_message(
        self,
        channel: discord.TextChannel | discord.Thread,
        matches: Callable[[str], bool],
        *,
        exclude: set[int],
        limit: int = 50,
    ) -> discord.Message | None:
        """Return the bot's first message in ``channel`` whose text ``matches``, other than ``exclude``.

        Reads from the oldest message: what a step is looking for was posted when the channel or thread was new.
        """
        me = channel.guild.me.id
        async for message in channel.history(limit=limit, oldest_first=True):
            if message.author.id == me and message.id not in exclude and matches(message.content):
                return message
        return None

    async def create_channel(
        self, guild: discord.Guild, category: discord.CategoryChannel, name: str, topic: str
    ) -> discord.TextChannel:
        """Create a dialogue's text channel in ``category``."""
        return await guild.create_text_channel(
            name, category=category, topic=topic, reason="dialogue-bot: dialogue opening"
        )

    async def text_channel(self, channel_id: int) -> discord.TextChannel | None:
        """Return a text channel by id, fetching it if it is not cached; None if it is gone."""
        channel = self._client.get_channel(channel_id)
        if channel is None:
            try:
                channel = await self._client.fetch_channel(channel_id)
            except discord.NotFound:
                return None
        return channel if isinstance(channel, discord.TextChannel) else None

    async def post(
        self,
        channel: discord.abc.Messageable,
        content: str,
        mentions: discord.AllowedMentions = MENTIONS_OFF,
        *,
        nonce: str | None = None,
        view: discord.ui.View | None = None,
        file: discord.File | None = None,
    ) -> discord.Message:
        """Send a message; with a ``nonce``, discord.py asks Discord to drop a repeat of the same send.

        A ``view`` carries persistent buttons: their custom ids are matched by dynamic items after any restart.
        A ``file`` goes out in the same request as the text, so the message never exists without it.
        """
        extra: dict[str, Any] = {}
        if nonce is not None:
            extra["nonce"] = nonce
        if view is not None:
            extra["view"] = view
        if file is not None:
            extra["file"] = file
        return await channel.send(content, allowed_mentions=mentions, **extra)

    async def pin(self, channel: discord.TextChannel, message_id: int) -> None:
        """Pin a message of ``channel`` by id."""
        await channel.get_partial_message(message_id).pin(reason="dialogue-bot: dialogue intro")

    async def create_thread(self, channel: discord.TextChannel, name: str) -> discord.Thread:
        """Create an empty public thread; its first message is a step of its own (the caller records both)."""
        return await channel.create_thread(
            name=name, type=discord.ChannelType.public_thread, auto_archive_duration=10080
        )

    async def thread(self, thread_id: int) -> discord.Thread | None:
        """Return a thread by id, fetching it if it is not cached; None if it is gone."""
        thread = self._client.get_channel(thread_id)
        if thread is None:
            try:
                thread = await self._client.fetch_channel(thread_id)
            except discord.NotFound:
                return None
        return thread if isinstance(thread, discord.Thread) else None

    async def edit_message(self, channel: discord.TextChannel | discord.Thread, message_id: int, content: str) -> None:
        """Rewrite one of the bot's own messages (mentions stay off)."""
        await channel.get_partial_message(message_id).edit(content=content, allowed_mentions=MENTIONS_OFF)

    async def fetch_message(
        self, channel: discord.TextChannel | discord.Thread, message_id: int
    ) -> discord.Message | None:
        """Read one message by id (None if it was deleted)."""
        try:
            return await channel.fetch_message(message_id)
        except discord.NotFound:
            return None

    async def edit_post(
        self,
        channel: discord.TextChannel | discord.Thread,
        message_id: int,
        content: str,
        *,
        view: discord.ui.View | None,
    ) -> bool:
        """Rewrite one of the bot's messages and its buttons (None removes them); False if it was deleted."""
        try:
            await channel.get_partial_message(message_id).edit(
                content=content, view=view, allowed_mentions=MENTIONS_OFF
            )
        except discord.NotFound:
            return False
        return True

    async def delete_message(self, channel: discord.TextChannel | discord.Thread, message_id: int) -> bool:
        """Delete one of the bot's messages; False if it was already gone."""
        try:
            await channel.get_partial_message(message_id).delete()
        except discord.NotFound:
            return False
        return True

    async def thread_from_message(self, message: discord.Message, name: str) -> discord.Thread:
        """Start a public thread on an existing message."""
        return await message.create_thread(name=name, auto_archive_duration=10080)

    async def set_topic(self, channel: discord.TextChannel, topic: str) -> None:
        """Replace a channel's topic."""
        await channel.edit(topic=topic)

    async def lock_channel(self, channel: discord.TextChannel, facilitator_role: str) -> bool:
        """Stop everyone posting or starting threads, in one request; return whether Discord applied all of it.

        @everyone is denied, and every other role or member overwrite that allows sending or starting threads
        loses that allow (a members-only role with an explicit allow would otherwise still post). Only the
        facilitators' role and the bot keep an explicit allow: the bot still posts the wrap-up.
        """
        wanted = closing_overwrites(channel, facilitator_role)
        edited = await channel.edit(overwrites=wanted, reason="dialogue-bot: dialogue closed")
        applied = edited.overwrites if isinstance(edited, discord.TextChannel) else {}
        by_id = {target.id: overwrite for target, overwrite in applied.items()}
        return all(by_id.get(target.id, discord.PermissionOverwrite()) == ow for target, ow in wanted.items())

    async def lock_thread(self, thread_id: int) -> bool:
        """Lock and archive a thread in one request (never fetched first); return False if it no longer exists."""
        thread = self._client.get_channel(thread_id)
        if isinstance(thread, discord.Thread):
            edited = await thread.edit(locked=True, archived=True, reason="dialogue-bot: dialogue closed")
            return edited.locked
        try:
            # An archived thread is not cached; editing it by id spares a fetch.
            payload = await self._client.http.edit_channel(
                thread_id, reason="dialogue-bot: dialogue closed", locked=True, archived=True
            )
        except discord.NotFound:
            return False
        metadata = payload.get("thread_metadata") if isinstance(payload, dict) else None
        return bool(metadata.get("locked", True)) if isinstance(metadata, dict) else True

    async def find_own_messages(
        self, channel: discord.TextChannel, markers: set[str], *, exclude: set[int], limit: int = 50
    ) -> dict[str, discord.Message]:
        """Return the bot's recent messages in ``channel`` whose last line is one of ``markers``, by marker."""
        me = channel.guild.me.id
        found: dict[str, discord.Message] = {}
        async for message in channel.history(limit=limit):
            last_line = message.content.rsplit("\n", 1)[-1]
            if message.author.id == me and last_line in markers and message.id not in exclude:
                found.setdefault(last_line, message)
        return found

    async def history(self, channel_id: int, after: int | datetime) -> list[discord.Message]:
        """Return the messages of a channel or thread after a message id or an instant, oldest first."""
        channel = self._client.get_channel(channel_id) or await self._client.fetch_channel(channel_id)
        if not isinstance(channel, discord.TextChannel | discord.Thread):
            return []
        marker = discord.Object(id=after) if isinstance(after, int) else after
        return [message async for message in channel.history(after=marker, oldest_first=True, limit=None)]

    def public_threads(self, channel: discord.TextChannel) -> list[discord.Thread]:
        """Return the channel's active public threads from the gateway's cache (no request)."""
        return [thread for thread in channel.threads if thread.type is not discord.ChannelType.private_thread]

    async def archived_public_threads(self, channel: discord.TextChannel) -> list[discord.Thread]:
        """Return the channel's archived public threads (one request per page of Discord's listing)."""
        return [thread async for thread in channel.archived_threads(limit=None)]

    async def read(self, target: discord.TextChannel | discord.Thread, after: int | datetime) -> list[discord.Message]:
        """Return the messages of a channel or thread object after a message id or an instant, oldest first."""
        marker = discord.Object(id=after) if isinstance(after, int) else after
        return [message async for message in target.history(after=marker, oldest_first=True, limit=None)]

    async def send_dm(self, user_id: int, content: str, *, nonce: str | None = None) -> discord.Message:
        """Send a direct message; raises ``discord.Forbidden`` (50007) when the user's DMs are closed.

        With a ``nonce``, Discord drops a repeat of the same send (a retry after a send that did land).
        """
        user = self._client.get_user(user_id) or await self._client.fetch_user(user_id)
        if nonce is not None:
            return await user.send(content, allowed_mentions=MENTIONS_OFF, nonce=nonce)
        return await user.send(content, allowed_mentions=MENTIONS_OFF)

    async def find_own_dm(self, user_id: int, matches: Callable[[str], bool], *, limit: int = 20) -> bool:
        """Whether one of the bot's last ``limit`` direct messages to a user has a text that ``matches``."""
        user = self._client.get_user(user_id) or await self._client.fetch_user(user_id)
        channel = user.dm_channel or await user.create_dm()
        me = self._client.user
        async for message in channel.history(limit=limit):
            if me is not None and message.author.id == me.id and matches(message.content):
                return True
        return False

    async def log_channel(self, guild: discord.Guild, name_or_id: str | None) -> discord.TextChannel | None:
        """Return the configured log channel (a name or an id), or None if unset or missing."""
        if not name_or_id:
            return None
        if name_or_id.isdigit():
            channel = guild.get_channel(int(name_or_id))
        else:
            channel = discord.utils.get(guild.text_channels, name=name_or_id.lstrip("#"))
        return channel if isinstance(channel, discord.TextChannel) else None

    # ----- the private Leaders thread and its members (bot/leaders) ----------------------------------

    def guild_name(self, guild_id: int) -> str | None:
        """Return a server's name, or None if the bot is not in it."""
        guild = self._client.get_guild(guild_id)
        return guild.name if guild else None

    async def member_ids(self, guild_id: int, keep: Callable[[discord.Member], bool]) -> list[int]:
        """Return the ids of the server's human members for whom ``keep`` is true (loading the member list)."""
        guild = self._client.get_guild(guild_id)
        if guild is None:
            return []
        if not guild.chunked:
            # Right after a start the member cache may still be empty: ask Discord for the list.
            await guild.chunk()
        return [member.id for member in guild.members if not member.bot and keep(member)]

    def find_own_private_thread(self, channel: discord.TextChannel, name: str) -> discord.Thread | None:
        """Return the private thread the bot made in ``channel`` under exactly this name, if it is active."""
        me = channel.guild.me.id
        return discord.utils.find(
            lambda t: t.name == name and t.owner_id == me and t.type is discord.ChannelType.private_thread,
            channel.threads,
        )

    async def create_private_thread(self, channel: discord.TextChannel, name: str, reason: str) -> discord.Thread:
        """Create a private thread that only the bot can invite people to."""
        return await channel.create_thread(
            name=name,
            type=discord.ChannelType.private_thread,
            invitable=False,
            auto_archive_duration=10080,
            reason=reason,
        )

    async def readable_thread(self, thread_id: int) -> discord.Thread | None:
        """Return a thread by id, fetching it if it is not cached; None if it is gone or cannot be read."""
        found = self._client.get_channel(thread_id)
        if isinstance(found, discord.Thread):
            return found
        try:
            fetched = await self._client.fetch_channel(thread_id)
        except discord.HTTPException:
            return None
        return fetched if isinstance(fetched, discord.Thread) else None

    async def add_thread_member(self, thread_id: int, user_id: int) -> bool:
        """Add a member to a thread; return False if the thread is gone."""
        thread = await self.readable_thread(thread_id)
        if thread is None:
            return False
        await thread.add_user(discord.Object(id=user_id))
        return True

    async def remove_thread_member(self, thread_id: int, user_id: int) -> bool:
        """Take a member out of a thread; return False if the thread is gone."""
        thread = await self.readable_thread(thread_id)
        if thread is None:
            return False
        await thread.remove_user(discord.Object(id=user_id))
        return True

    async def post_in_thread(
        self, thread_id: int, content: str, *, mention_user_id: int | None = None
    ) -> discord.Message | None:
        """Post in a thread with mentions off (but for the one member named); None if the thread is gone."""
        thread = await self.readable_thread(thread_id)
        if thread is None:
            return None
        mentions = (
            MENTIONS_OFF
            if mention_user_id is None
            else discord.AllowedMentions(everyone=False, roles=False, users=[discord.Object(id=mention_user_id)])
        )
        return await thread.send(content, allowed_mentions=mentions)

    # ----- the dialogue's window as a guild scheduled event (bot/events.py) ------------------------------------

    async def create_event(
        self, guild_id: int, *, name: str, description: str, start: datetime, end: datetime, location: str
    ) -> int:
        """Create an external scheduled event in a server; return its id (Forbidden without Manage Events)."""
        payload = await self._client.http.create_guild_scheduled_event(
            guild_id,
            reason=_EVENT_REASON,
            name=name,
            description=description,
            entity_type=_EXTERNAL_EVENT,
            privacy_level=_GUILD_ONLY,
            scheduled_start_time=start.isoformat(),
            scheduled_end_time=end.isoformat(),
            entity_metadata={"location": location},
        )
        return int(payload["id"])

    async def event_status(self, guild_id: int, event_id: int) -> int | None:
        """Return an event's status as Discord has it now (read, never cached); None if it was deleted."""
        try:
            payload = await self._client.http.get_scheduled_event(guild_id, event_id, False)
        except discord.NotFound:
            return None
        return int(payload["status"])

    async def edit_event(
        self,
        guild_id: int,
        event_id: int,
        *,
        status: int | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        location: str | None = None,
    ) -> None:
        """Change an event's status, window or location (only what is given)."""
        payload: dict[str, Any] = {}
        if status is not None:
            payload["status"] = status
        if start is not None:
            payload["scheduled_start_time"] = start.isoformat()
        if end is not None:
            payload["scheduled_end_time"] = end.isoformat()
        if location is not None:
            payload["entity_metadata"] = {"location": location}
        await self._client.http.edit_scheduled_event(guild_id, event_id, reason=_EVENT_REASON, **payload)

    async def find_own_event(self, guild_id: int, marker: str) -> int | None:
        """Return the id of the bot's event in a server whose description ends with ``marker`` (one read)."""
        me = self._client.user
        for payload in await self._client.http.get_scheduled_events(guild_id, False):
            creator = payload.get("creator_id")
            mine = me is not None and creator is not None and int(creator) == me.id
            if mine and (payload.get("description") or "").endswith(marker):
                return int(payload["id"])
        return None
