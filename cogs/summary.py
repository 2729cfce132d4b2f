"""``/dialogue summary``: the facilitator's written summary of a closed dialogue, typed in a form or attached.

Not a cog: the Dialogues cog adds ``summary_command`` to its group. The use-case is the dialogue service's.
"""

from __future__ import annotations

import logging
from typing import Any

import discord
from discord import app_commands

from bot import render_summary
from bot.afterlife.summary import check_file, decode_summary_file, summary_parts
from bot.app import DialogueBot, send_apology
from bot.domain.errors import DialogueError

from .common import dialogue_autocomplete, guild_id, reply

__all__ = ("SummaryModal", "summary_command")

log = logging.getLogger(__name__)

# Discord's limit on a text input: a longer summary is attached as a file.
_FORM_LIMIT = 4000


class SummaryModal(discord.ui.Modal, title="Dialogue summary"):
    """One long text input; a summary already posted is filled in, to be edited and posted again."""

    text: discord.ui.TextInput[SummaryModal] = discord.ui.TextInput(
        label="Summary (Markdown)",
        custom_id="summary",
        style=discord.TextStyle.paragraph,
        max_length=_FORM_LIMIT,
        placeholder="What was said, what was learnt, what happens next. Longer? Attach a .md file instead.",
    )

    def __init__(self, bot: DialogueBot, dialogue_id: int, current: str | None) -> None:
        super().__init__()
        self.bot = bot
        self.dialogue_id = dialogue_id
        if current and len(current) <= _FORM_LIMIT:
            self.text.default = current

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await post(self.bot, interaction, self.dialogue_id, self.text.value)

    # discord.py's own Modal.on_error drops BaseView's ``item`` argument (see CreateDialogueModal).
    async def on_error(self, interaction: discord.Interaction, error: Exception) -> None:  # type: ignore[override]
        log.error("Unexpected error in the summary form", exc_info=error)
        await send_apology(interaction)


async def post(bot: DialogueBot, interaction: discord.Interaction, dialogue_id: int, text: str) -> None:
    """Check the text, then post (or replace) the summary and say how it went; a refusal changes nothing."""
    try:
        summary_parts(dialogue_id, text)
    except DialogueError as error:
        await reply(interaction, str(error))
        return
    if not interaction.response.is_done():
        await interaction.response.defer(ephemeral=True, thinking=True)
    try:
        dialogue, replaced = await bot.dialogues.post_summary(dialogue_id, text)
    except DialogueError as error:
        await reply(interaction, str(error))
        return
    progress = await bot.dialogues.progress(dialogue.id)
    if progress.summary_pending:
        await reply(interaction, render_summary.summary_pending_reply(dialogue, progress))
        return
    url = await bot.dialogues.summary_url(dialogue)
    parts = len(render_summary.summary_posts(dialogue.id, text.strip()))
    done = render_summary.summary_done(dialogue, parts, url, replaced=replaced)
    await reply(interaction, done + "\n" + await bot.notices.status_line(dialogue))


def summary_command(bot: DialogueBot) -> app_commands.Command[Any, ..., None]:
    """``/dialogue summary``: post a closed dialogue's summary from a form or an attached file."""

    @app_commands.command(name="summary", description="Post (or replace) a closed dialogue's summary in its channel")
    @app_commands.describe(
        dialogue="The closed dialogue to summarise",
        file="A Markdown or text file (UTF-8, up to 64 KiB) instead of typing it in a form",
    )
    @app_commands.autocomplete(dialogue=dialogue_autocomplete)
    async def summary(interaction: discord.Interaction, dialogue: str, file: discord.Attachment | None = None) -> None:
        try:
            found = await bot.dialogues.resolve(guild_id(interaction), dialogue)
            await bot.dialogues.check_summary(found.id)
            if file is not None:
                check_file(file.filename, file.size)
        except DialogueError as error:
            await reply(interaction, str(error))
            return
        if file is None:
            current = await bot.dialogues.summary_text(found.id)
            await interaction.response.send_modal(SummaryModal(bot, found.id, current))
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            data = await file.read()
        except discord.HTTPException as error:
            log.warning("Could not download a summary attachment: %s", error)
            await reply(interaction, render_summary.summary_file_not_downloaded())
            return
        try:
            text = decode_summary_file(data)
        except DialogueError as error:
            await reply(interaction, str(error))
            return
        await post(bot, interaction, found.id, text)

    return summary
