"""``/dialogue export``: a dialogue's record as a file, attached to an ephemeral reply (facilitators only)."""

from __future__ import annotations

import logging
import tempfile
from typing import Any

import discord
from discord import app_commands

from bot import render_export
from bot.app import DialogueBot
from bot.domain.errors import DialogueError
from bot.domain.models import Dialogue
from bot.record.export import ExportFormat, export
from bot.record.naming import Identity, pseudonym_naming
from bot.record.transcript import Naming

from .common import dialogue_autocomplete, guild_id, reply

__all__ = ("export_command",)

log = logging.getLogger(__name__)


def _identities(guild: discord.Guild) -> list[Identity]:
    """Every name the server knows its members by (the export keeps only the dialogue's people)."""
    return [
        Identity(
            member.id,
            member.display_name,
            member.name,
            tuple(name for name in (member.global_name, member.nick) if name),
        )
        for member in guild.members
    ]


async def _naming(bot: DialogueBot, interaction: discord.Interaction, dialogue: Dialogue) -> Naming:
    guild = interaction.guild
    assert guild is not None
    channels = {channel.id: channel.name for channel in guild.channels}
    roles = {role.id: role.name for role in guild.roles}
    return await pseudonym_naming(bot.database, dialogue, known=_identities(guild), channels=channels, roles=roles)


def export_command(bot: DialogueBot) -> app_commands.Command[Any, ..., None]:
    """``/dialogue export``: download a dialogue's record."""

    @app_commands.command(name="export", description="Download a dialogue's record as Markdown, HTML or JSON")
    @app_commands.describe(
        dialogue="The dialogue to export",
        format="Markdown for a wiki or report, HTML to read or print, JSON for other tools",
        pseudonymise="Replace every name with a pseudonym and remove mentions, ids and Discord links",
    )
    @app_commands.choices(
        format=[
            app_commands.Choice(name="Markdown", value=ExportFormat.MARKDOWN.value),
            app_commands.Choice(name="HTML", value=ExportFormat.HTML.value),
            app_commands.Choice(name="JSON", value=ExportFormat.JSON.value),
        ]
    )
    @app_commands.autocomplete(dialogue=dialogue_autocomplete)
    async def export_(
        interaction: discord.Interaction, dialogue: str, format: app_commands.Choice[str], pseudonymise: bool = False
    ) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            found = await bot.dialogues.resolve(guild_id(interaction), dialogue)
        except DialogueError as error:
            await reply(interaction, str(error))
            return
        fmt = ExportFormat(format.value)
        naming = await _naming(bot, interaction, found) if pseudonymise else None
        limit = interaction.filesize_limit
        # A temporary file, not memory: a large export never sits whole in the bot's memory.
        with tempfile.TemporaryFile() as out:
            exported = await export(bot.database, found.id, fmt, out, now=bot.clock(), naming=naming)
            log.info(
                "Dialogue %s exported as %s (%d bytes, pseudonymised: %s)", found.id, fmt, exported.size, pseudonymise
            )
            if exported.size > limit:
                await reply(interaction, render_export.export_too_large(exported, fmt, limit))
                return
            out.seek(0)
            await interaction.followup.send(
                render_export.export_ready(exported, fmt),
                file=discord.File(out, filename=exported.filename),
                ephemeral=True,
                allowed_mentions=discord.AllowedMentions.none(),
            )

    return export_
