"""Listeners that record what people post in dialogue channels and threads."""

from __future__ import annotations

import logging

import discord
from discord.ext import commands

from bot.app import DialogueBot
from bot.services import IncomingPost

__all__ = ("Participation", "setup")

log = logging.getLogger(__name__)

# Only what a person writes counts; thread-created and pin notices are system messages.
_POST_TYPES = frozenset({discord.MessageType.default, discord.MessageType.reply})


class Participation(commands.Cog):
    """Turns gateway message events into recorded posts, edits and deletions."""

    def __init__(self, bot: DialogueBot) -> None:
        self.bot = bot

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        if message.guild is None or message.author.bot or message.type not in _POST_TYPES:
            return
        parent_id = message.channel.parent_id if isinstance(message.channel, discord.Thread) else None
        reference = message.reference.message_id if message.reference else None
        post = IncomingPost(
            message_id=message.id,
            channel_id=message.channel.id,
            parent_id=parent_id,
            channel_name=getattr(message.channel, "name", "") or "",
            author_id=message.author.id,
            author_name=message.author.display_name,
            content=message.content,
            created_at=message.created_at,
            reply_to_id=reference,
        )
        await self.bot.dialogues.record(post, message)

    @commands.Cog.listener()
    async def on_raw_message_edit(self, payload: discord.RawMessageUpdateEvent) -> None:
        content = payload.data.get("content")
        if content is not None:
            await self.bot.dialogues.record_edit(payload.message_id, content)

    @commands.Cog.listener()
    async def on_raw_message_delete(self, payload: discord.RawMessageDeleteEvent) -> None:
        await self.bot.dialogues.record_deletion([payload.message_id])

    @commands.Cog.listener()
    async def on_raw_bulk_message_delete(self, payload: discord.RawBulkMessageDeleteEvent) -> None:
        await self.bot.dialogues.record_deletion(sorted(payload.message_ids))


async def setup(bot: DialogueBot) -> None:
    await bot.add_cog(Participation(bot))
