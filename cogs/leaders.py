"""Conversation leaders: /dialogue leaders add|remove|list, /dialogue remind-leaders, /my-timezone, listeners."""

from __future__ import annotations

import logging
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot import render
from bot.app import DialogueBot
from bot.domain import reminders as texts
from bot.domain.errors import DialogueError
from bot.domain.models import Dialogue
from bot.domain.reminders import MAX_COMMITMENT, MIN_COMMITMENT

from .common import answer, dialogue_autocomplete, timezone_autocomplete

__all__ = ("Leaders", "LeadersGroup", "remind_command", "setup")

log = logging.getLogger(__name__)


class LeadersGroup(app_commands.Group):
    """/dialogue leaders: the roster of a dialogue's conversation leaders."""

    def __init__(self, bot: DialogueBot) -> None:
        super().__init__(name="leaders", description="The conversation leaders of a dialogue")
        self.bot = bot
        self.service = bot.leaders

    async def _dialogue(self, interaction: discord.Interaction, reference: str) -> Dialogue:
        return await self.bot.dialogues.resolve(interaction.guild_id or 0, reference)

    @app_commands.command(name="add", description="Make a member a conversation leader (or change their commitment)")
    @app_commands.describe(
        dialogue="The dialogue they lead in",
        member="The member who commits to post regularly",
        commitment=f"Posts per day they commit to ({MIN_COMMITMENT}-{MAX_COMMITMENT}, default 2)",
    )
    @app_commands.autocomplete(dialogue=dialogue_autocomplete)
    async def add(
        self,
        interaction: discord.Interaction,
        dialogue: str,
        member: discord.Member,
        commitment: app_commands.Range[int, MIN_COMMITMENT, MAX_COMMITMENT] = 2,
    ) -> None:
        async def run() -> str:
            if member.bot:
                raise DialogueError("Bots cannot be conversation leaders; nothing was changed.")
            found = await self._dialogue(interaction, dialogue)
            result = await self.service.add(found, member.id, commitment)
            current = await self.service.leader(found.id, member.id)
            return texts.added_reply(
                user_id=member.id,
                title=found.title,
                commitment=result.leader.commitment,
                new=result.new,
                reachable=current is None or current.reachable,
            )

        await answer(interaction, run)

    @app_commands.command(name="remove", description="Stop a member being a conversation leader")
    @app_commands.describe(dialogue="The dialogue", member="The leader to remove")
    @app_commands.autocomplete(dialogue=dialogue_autocomplete)
    async def remove(self, interaction: discord.Interaction, dialogue: str, member: discord.Member) -> None:
        async def run() -> str:
            found = await self._dialogue(interaction, dialogue)
            await self.service.remove(found, member.id)
            return texts.removed_reply(user_id=member.id, title=found.title)

        await answer(interaction, run)

    @app_commands.command(name="list", description="The conversation leaders of a dialogue")
    @app_commands.describe(dialogue="The dialogue")
    @app_commands.autocomplete(dialogue=dialogue_autocomplete)
    async def list(self, interaction: discord.Interaction, dialogue: str) -> None:
        async def run() -> str:
            found = await self._dialogue(interaction, dialogue)
            lines = [
                texts.RosterLine(leader, await self.service.zone_for(found, leader.user_id))
                for leader in await self.service.roster(found.id)
            ]
            return texts.roster_text(found.title, lines)

        await answer(interaction, run)


class Leaders(commands.Cog):
    """Listens to the dialogue lifecycle for the leaders' reminders; owns /my-timezone."""

    def __init__(self, bot: DialogueBot) -> None:
        self.bot = bot
        self.service = bot.leaders

    @app_commands.command(name="my-timezone", description="Set your time zone and the hour of your daily check-ins")
    @app_commands.describe(
        zone="Your IANA time zone, e.g. Asia/Kathmandu or America/Toronto",
        checkin_hour="The hour (0-23, your local time) for daily check-ins; leave it out to keep your current hour",
    )
    @app_commands.autocomplete(zone=timezone_autocomplete)
    @app_commands.guild_only()
    async def my_timezone(
        self, interaction: discord.Interaction, zone: str, checkin_hour: app_commands.Range[int, 0, 23] | None = None
    ) -> None:
        async def run() -> str:
            saved = await self.service.set_timezone(interaction.guild_id or 0, interaction.user.id, zone, checkin_hour)
            return render.timezone_saved(*saved)

        await answer(interaction, run)

    @commands.Cog.listener()
    async def on_dialogue_opened(self, dialogue: Dialogue) -> None:
        await self.service.dialogue_opened(dialogue)

    @commands.Cog.listener()
    async def on_dialogue_extended(self, dialogue: Dialogue) -> None:
        await self.service.dialogue_extended(dialogue)

    @commands.Cog.listener()
    async def on_dialogue_cancelled(self, dialogue: Dialogue) -> None:
        await self.service.dialogue_ended(dialogue)

    @commands.Cog.listener()
    async def on_dialogue_closed(self, dialogue: Dialogue) -> None:
        await self.service.dialogue_ended(dialogue)


def remind_command(bot: DialogueBot) -> app_commands.Command[Any, ..., None]:
    """``/dialogue remind-leaders``: one message to every leader now."""
    service = bot.leaders

    @app_commands.command(name="remind-leaders", description="Send one message to every leader of a dialogue now")
    @app_commands.describe(dialogue="The dialogue", message="What to tell them (mentions are not pinged)")
    @app_commands.autocomplete(dialogue=dialogue_autocomplete)
    async def remind_leaders(interaction: discord.Interaction, dialogue: str, message: str) -> None:
        async def run() -> str:
            found = await bot.dialogues.resolve(interaction.guild_id or 0, dialogue)
            results = await service.broadcast(found, str(interaction.id), message)
            return texts.broadcast_reply(found.title, [result.via for result in results])

        await answer(interaction, run)

    return remind_leaders


async def setup(bot: DialogueBot) -> None:
    await bot.add_cog(Leaders(bot))
