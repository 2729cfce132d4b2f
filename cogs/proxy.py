"""``/dialogue post-on-behalf``: a facilitator posts a participant's text for them (a form asks for the text)."""

from __future__ import annotations

import logging
from typing import Any

import discord
from discord import app_commands

from bot.app import DialogueBot, send_apology
from bot.domain.errors import DialogueError
from bot.render_proxy import proxy_posted

from .common import dialogue_autocomplete, guild_id, reply

__all__ = ("ProxyPostModal", "post_on_behalf_command", "thread_autocomplete")

log = logging.getLogger(__name__)

# Discord's most for a form's text input; what fits in one message is checked on submit, with a clear answer.
_TEXT_MAX = 4000


async def thread_autocomplete(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
    """Offer the chosen dialogue's threads that still take posts, matching what has been typed; values are ids."""
    client = interaction.client
    if not isinstance(client, DialogueBot) or interaction.guild_id is None:
        return []
    reference = getattr(interaction.namespace, "dialogue", None)
    if not reference:
        return []
    try:
        dialogue = await client.dialogues.resolve(interaction.guild_id, str(reference))
    except DialogueError:
        return []
    typed = current.strip().lower()
    choices = []
    for thread_id, title in await client.dialogues.open_threads(dialogue.id):
        if typed and typed not in title.lower() and typed != str(thread_id):
            continue
        choices.append(app_commands.Choice(name=title[:100] or str(thread_id), value=str(thread_id)))
        if len(choices) == 25:
            break
    return choices


class ProxyPostModal(discord.ui.Modal, title="Post on someone's behalf"):
    """The text to post; the dialogue, thread and name were chosen in the command."""

    text: discord.ui.TextInput[ProxyPostModal] = discord.ui.TextInput(
        label="Their text",
        custom_id="text",
        style=discord.TextStyle.paragraph,
        max_length=_TEXT_MAX,
        placeholder="Paste what they asked you to post, as they wrote it",
    )

    def __init__(self, bot: DialogueBot, dialogue_id: int, thread: str, name: str) -> None:
        super().__init__(title=f"Post on behalf of {name}"[:45])
        self.bot = bot
        self.dialogue_id = dialogue_id
        self.thread = thread
        self.name = name

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            target, message = await self.bot.dialogues.post_on_behalf(
                self.dialogue_id, self.thread, self.name, self.text.value, interaction.user.id
            )
        except DialogueError as error:
            await reply(interaction, _nothing_posted(error))
            return
        await reply(interaction, proxy_posted(target.dialogue, target.name, target.thread_id, message.jump_url))

    async def on_error(self, interaction: discord.Interaction, error: Exception) -> None:  # type: ignore[override]
        log.error("Unexpected error in the post-on-behalf form", exc_info=error)
        await send_apology(interaction)


def post_on_behalf_command(bot: DialogueBot) -> app_commands.Command[Any, ..., None]:
    """``/dialogue post-on-behalf``: opens a form for the text once the dialogue, thread and name are valid."""

    @app_commands.command(name="post-on-behalf", description="Post someone's comment for them, attributed to them")
    @app_commands.describe(
        dialogue="The open dialogue",
        thread="The thread to post in",
        name="Who the post is from (shown and counted as theirs; up to 80 characters)",
    )
    @app_commands.autocomplete(dialogue=dialogue_autocomplete, thread=thread_autocomplete)
    async def post_on_behalf(interaction: discord.Interaction, dialogue: str, thread: str, name: str) -> None:
        try:
            found = await bot.dialogues.resolve(guild_id(interaction), dialogue)
            target = await bot.dialogues.check_on_behalf(found, thread, name)
        except DialogueError as error:
            await reply(interaction, _nothing_posted(error))
            return
        await interaction.response.send_modal(ProxyPostModal(bot, found.id, thread, target.name))

    return post_on_behalf


def _nothing_posted(error: DialogueError) -> str:
    """A refusal always says that nothing was posted."""
    text = str(error)
    return text if text.startswith("Nothing was posted") else f"Nothing was posted. {text}"
