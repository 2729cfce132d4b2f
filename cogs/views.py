"""Modals and views of the /dialogue commands."""

from __future__ import annotations

import dataclasses
import logging

import discord

from bot.app import DialogueBot, send_apology
from bot.domain.errors import DialogueError
from bot.domain.models import AfterClose
from bot.domain.parsing import parse_draft
from bot.render import created_confirmation

from .common import reply

__all__ = ("CreateDialogueModal",)

log = logging.getLogger(__name__)


class CreateDialogueModal(discord.ui.Modal, title="New dialogue"):
    """The five inputs of a dialogue; their custom ids are part of the bot's interface."""

    # No max_length on the title: a too-long title gets a message that says so, not a silent clip.
    title_input: discord.ui.TextInput[CreateDialogueModal] = discord.ui.TextInput(
        label="Title", custom_id="title", placeholder="What this dialogue is about (up to 100 characters)"
    )
    framing: discord.ui.TextInput[CreateDialogueModal] = discord.ui.TextInput(
        label="Framing",
        custom_id="framing",
        style=discord.TextStyle.paragraph,
        required=False,
        placeholder="The opening text: why this topic, and what you hope to learn",
    )
    questions: discord.ui.TextInput[CreateDialogueModal] = discord.ui.TextInput(
        label="Questions",
        custom_id="questions",
        style=discord.TextStyle.paragraph,
        placeholder="One seed question per line (1 to 20)",
    )
    opens: discord.ui.TextInput[CreateDialogueModal] = discord.ui.TextInput(
        label="Opens",
        custom_id="opens",
        default="now",
        required=False,
        placeholder="now, in 2h, 2026-12-01 14:00, or ISO-8601 with an offset",
    )
    duration: discord.ui.TextInput[CreateDialogueModal] = discord.ui.TextInput(
        label="Duration", custom_id="duration", required=False, placeholder="e.g. 5d, 36h, 1w2d"
    )

    def __init__(self, bot: DialogueBot, timezone: str, after_close: AfterClose = AfterClose.LOCK) -> None:
        super().__init__()
        self.bot = bot
        self.timezone = timezone
        self.after_close = after_close
        self.duration.default = bot.settings.default_duration
        self.opens.placeholder = f"now, in 2h, or a date and time in {timezone}"[:100]

    async def on_submit(self, interaction: discord.Interaction) -> None:
        if interaction.guild_id is None:
            await reply(interaction, "Dialogues are created inside a server.")
            return
        try:
            draft = parse_draft(
                title=self.title_input.value,
                framing=self.framing.value,
                questions=self.questions.value,
                opens=self.opens.value,
                duration=self.duration.value,
                timezone=self.timezone,
                default_duration=self.bot.settings.default_duration,
                now=self.bot.clock(),
            )
        except DialogueError as error:
            await reply(interaction, f"Nothing was created. {error}")
            return
        draft = dataclasses.replace(draft, after_close=self.after_close)
        await interaction.response.defer(ephemeral=True, thinking=True)
        dialogue = await self.bot.dialogues.create(interaction.guild_id, interaction.user.id, draft)
        await reply(interaction, created_confirmation(dialogue, len(draft.questions)))

    # discord.py's own Modal.on_error drops BaseView's ``item`` argument; this matches Modal, which mypy checks
    # against BaseView (a gap in discord.py's typing, not in this override).
    async def on_error(self, interaction: discord.Interaction, error: Exception) -> None:  # type: ignore[override]
        log.error("Unexpected error in the create-dialogue form", exc_info=error)
        await send_apology(interaction)
