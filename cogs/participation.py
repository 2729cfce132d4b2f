"""Listeners that record what people post in dialogue channels and threads."""

from __future__ import annotations

import logging

import discord
from discord.ext import commands

from bot.app import DialogueBot
from bot.services import DialogueService

__all__ = ("Participation", "setup")

log = logging.getLogger(__name__)


class Participation(commands.Cog):
    """Turns gateway message events into recorded posts, edits and deletions."""

    def __init__(self, dialogues: DialogueService) -> None:
        self._dialogues = dialogues

    @commands.Cog.listener()
    async def on_ready(self) -> None:
        self._dialogues.recorder.session_started()

    @commands.Cog.listener()
    async def on_guild_channel_create(self, channel: discord.abc.GuildChannel) -> None:
        self._dialogues.recorder.channel_created(channel.id)

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        await self._dialogues.receive(message)

    @commands.Cog.listener()
    async def on_raw_message_edit(self, payload: discord.RawMessageUpdateEvent) -> None:
        content = payload.data.get("content")
        if content is not None:
            await self._dialogues.record_edit(payload.message_id, content)

    @commands.Cog.listener()
    async def on_raw_message_delete(self, payload: discord.RawMessageDeleteEvent) -> None:
        await self._dialogues.record_deletion([payload.message_id])

    @commands.Cog.listener()
    async def on_raw_bulk_message_delete(self, payload: discord.RawBulkMessageDeleteEvent) -> None:
        await self._dialogues.record_deletion(sorted(payload.message_ids))


async def setup(bot: DialogueBot) -> None:
    await bot.add_cog(Participation(bot.dialogues))
