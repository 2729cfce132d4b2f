"""The narrow set of Discord operations the dialogue use-cases need: easy to read and to count."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import discord

__all__ = ("MENTIONS_OFF", "REQUIRED_PERMISSIONS", "Gateway", "permission_label")

log = logging.getLogger(__name__)

# User-written text never pings anyone; the bot turns mentions on only where it names someone itself.
MENTIONS_OFF = discord.AllowedMentions.none()

# Everything the bot needs to run a dialogue, checked before opening and requested by the invite URL.
REQUIRED_PERMISSIONS: tuple[str, ...] = (
    "view_channel",
    "manage_channels",
    "manage_roles",
    "manage_threads",
    "create_public_threads",
    "create_private_threads",
    "send_messages",
    "send_messages_in_threads",
    "manage_messages",
    "read_message_history",
    "embed_links",
)


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
        return self._client

    def dispatch(self, event: str, *args: object) -> None:
        """Tell listeners (other cogs) that something happened to a dialogue."""
        self._client.dispatch(event, *args)

    async def wait_until_ready(self) -> None:
        await self._client.wait_until_ready()

    def guild(self, guild_id: int) -> discord.Guild | None:
        return self._client.get_guild(guild_id)

    def find_category(self, guild: discord.Guild, name: str) -> discord.CategoryChannel | None:
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
        category = self.find_category(guild, name)
        if category is None:
            category = await guild.create_category(name, reason="dialogue-bot: category for dialogues")
        return category

    def find_channel(self, category: discord.CategoryChannel, topic: str) -> discord.TextChannel | None:
        """Return the category's text channel with exactly this topic, if any."""
        return discord.utils.find(lambda c: c.topic == topic, category.text_channels)

    def find_own_thread(self, channel: discord.TextChannel, name: str, *, exclude: set[int]) -> discord.Thread | None:
        """Return an active thread the bot made in ``channel`` with this name, other than ``exclude``."""
        me = channel.guild.me.id
        return discord.utils.find(
            lambda t: t.name == name and t.owner_id == me and t.id not in exclude, channel.threads
        )

    async def find_recent_own_message(
        self, channel: discord.TextChannel, content: str, *, exclude: set[int], limit: int = 25
    ) -> discord.Message | None:
        """Return one of the bot's recent messages in ``channel`` with exactly this text, other than ``exclude``."""
        me = channel.guild.me.id
        async for message in channel.history(limit=limit):
            if message.author.id == me and message.content == content and message.id not in exclude:
                return message
        return None

    async def create_channel(
        self, guild: discord.Guild, category: discord.CategoryChannel, name: str, topic: str
    ) -> discord.TextChannel:
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
    ) -> discord.Message:
        return await channel.send(content, allowed_mentions=mentions)

    async def pin(self, channel: discord.TextChannel, message_id: int) -> None:
        await channel.get_partial_message(message_id).pin(reason="dialogue-bot: dialogue intro")

    async def create_thread(self, channel: discord.TextChannel, name: str, first_message: str) -> discord.Thread:
        thread = await channel.create_thread(
            name=name, type=discord.ChannelType.public_thread, auto_archive_duration=10080
        )
        await thread.send(first_message, allowed_mentions=MENTIONS_OFF)
        return thread

    async def thread_from_message(self, message: discord.Message, name: str) -> discord.Thread:
        return await message.create_thread(name=name, auto_archive_duration=10080)

    async def set_topic(self, channel: discord.TextChannel, topic: str) -> None:
        await channel.edit(topic=topic)

    async def lock_channel(self, channel: discord.TextChannel, facilitator_role: str) -> None:
        """Stop everyone posting; the bot keeps an explicit allow and facilitators may still post."""
        guild = channel.guild
        speak = discord.PermissionOverwrite(
            send_messages=True, send_messages_in_threads=True, create_public_threads=True
        )
        # The bot's own allow goes first, so it can still post the wrap-up after @everyone is denied.
        await channel.set_permissions(
            guild.me,
            overwrite=discord.PermissionOverwrite(
                send_messages=True,
                send_messages_in_threads=True,
                create_public_threads=True,
                create_private_threads=True,
                manage_threads=True,
                view_channel=True,
            ),
            reason="dialogue-bot: dialogue closed",
        )
        role = discord.utils.get(guild.roles, name=facilitator_role)
        if role is not None:
            await channel.set_permissions(role, overwrite=speak, reason="dialogue-bot: dialogue closed")
        await channel.set_permissions(
            guild.default_role,
            overwrite=discord.PermissionOverwrite(
                send_messages=False,
                send_messages_in_threads=False,
                create_public_threads=False,
                create_private_threads=False,
            ),
            reason="dialogue-bot: dialogue closed",
        )

    async def lock_thread(self, thread_id: int) -> bool:
        """Lock and archive a thread; return False if it no longer exists."""
        thread = self._client.get_channel(thread_id)
        if not isinstance(thread, discord.Thread):
            try:
                fetched = await self._client.fetch_channel(thread_id)
            except discord.NotFound:
                return False
            if not isinstance(fetched, discord.Thread):
                return False
            thread = fetched
        await thread.edit(locked=True, archived=True, reason="dialogue-bot: dialogue closed")
        return True

    async def history(self, channel_id: int, after: int | datetime) -> list[discord.Message]:
        """Return the messages of a channel or thread after a message id or an instant, oldest first."""
        channel = self._client.get_channel(channel_id) or await self._client.fetch_channel(channel_id)
        if not isinstance(channel, discord.TextChannel | discord.Thread):
            return []
        marker = discord.Object(id=after) if isinstance(after, int) else after
        return [message async for message in channel.history(after=marker, oldest_first=True, limit=None)]

    async def send_dm(self, user_id: int, content: str) -> discord.Message:
        """Send a direct message; raises ``discord.Forbidden`` (50007) when the user's DMs are closed."""
        user = self._client.get_user(user_id) or await self._client.fetch_user(user_id)
        return await user.send(content, allowed_mentions=MENTIONS_OFF)

    async def log_channel(self, guild: discord.Guild, name_or_id: str | None) -> discord.TextChannel | None:
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

    async def thread(self, thread_id: int) -> discord.Thread | None:
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
        thread = await self.thread(thread_id)
        if thread is None:
            return False
        await thread.add_user(discord.Object(id=user_id))
        return True

    async def remove_thread_member(self, thread_id: int, user_id: int) -> bool:
        """Take a member out of a thread; return False if the thread is gone."""
        thread = await self.thread(thread_id)
        if thread is None:
            return False
        await thread.remove_user(discord.Object(id=user_id))
        return True

    async def post_in_thread(
        self, thread_id: int, content: str, *, mention_user_id: int | None = None
    ) -> discord.Message | None:
        """Post in a thread with mentions off (but for the one member named); None if the thread is gone."""
        thread = await self.thread(thread_id)
        if thread is None:
            return None
        mentions = (
            MENTIONS_OFF
            if mention_user_id is None
            else discord.AllowedMentions(everyone=False, roles=False, users=[discord.Object(id=mention_user_id)])
        )
        return await thread.send(content, allowed_mentions=mentions)
