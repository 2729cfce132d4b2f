"""Helpers shared by the Discord-facing cogs: error replies and the dialogue autocomplete."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from zoneinfo import available_timezones

import discord
from discord import app_commands

from bot.app import DialogueBot
from bot.domain.errors import DialogueError
from bot.render import MESSAGE_LIMIT, truncate

__all__ = ("answer", "dialogue_autocomplete", "guild_id", "reply", "timezone_autocomplete")

log = logging.getLogger(__name__)


async def reply(interaction: discord.Interaction, text: str) -> None:
    """Answer ephemerally, whether or not the interaction was deferred; never pings anyone."""
    text = truncate(text, MESSAGE_LIMIT)
    mentions = discord.AllowedMentions.none()
    if interaction.response.is_done():
        await interaction.followup.send(text, ephemeral=True, allowed_mentions=mentions)
    else:
        await interaction.response.send_message(text, ephemeral=True, allowed_mentions=mentions)


async def answer(interaction: discord.Interaction, action: Callable[[], Awaitable[str]], *, defer: bool = True) -> None:
    """Defer, run a use-case and reply with its text; a ``DialogueError`` becomes a short ephemeral reply."""
    if defer and not interaction.response.is_done():
        await interaction.response.defer(ephemeral=True, thinking=True)
    try:
        text = await action()
    except DialogueError as error:
        await reply(interaction, str(error))
        return
    await reply(interaction, text)


def guild_id(interaction: discord.Interaction) -> int:
    """The server an interaction came from; the /dialogue group is guild-only, so this is a safety net."""
    if interaction.guild_id is None:
        raise DialogueError("Use this command inside a server.")
    return interaction.guild_id


async def dialogue_autocomplete(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
    """Offer this guild's dialogues, newest first, matching what has been typed."""
    client = interaction.client
    if not isinstance(client, DialogueBot) or interaction.guild_id is None:
        return []
    typed = current.strip().lower().removeprefix("#")
    choices = []
    for dialogue in await client.dialogues.in_guild(interaction.guild_id):
        label = f"#{dialogue.id} {dialogue.title} ({dialogue.state.value})"
        if typed and typed not in label.lower():
            continue
        choices.append(app_commands.Choice(name=label[:100], value=str(dialogue.id)))
        if len(choices) == 25:
            break
    return choices


# Only real IANA names: "localtime" and "posixrules" are files in the zone database, not zones.
_TIMEZONES = sorted(zone for zone in available_timezones() if "/" in zone or zone == "UTC")


async def timezone_autocomplete(_: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
    """Offer IANA zone names containing what has been typed."""
    typed = current.strip().lower().replace(" ", "_")
    matches = [zone for zone in _TIMEZONES if typed in zone.lower()] if typed else _TIMEZONES
    return [app_commands.Choice(name=zone, value=zone) for zone in matches[:25]]
