"""The wrap-up's "Tell me when the summary is out" and "Don't notify me" buttons, answered after any restart.

Not a cog: each button is a dynamic item whose template matches the custom ids ``bot/afterlife/buttons.py``
gives the wrap-up (``dialogue:notify:<id>``, ``dialogue:optout:<id>``); the /dialogue extension registers them.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import discord

from bot.afterlife.buttons import NOTIFY, OPT_OUT, custom_id
from bot.app import DialogueBot, send_apology
from bot.domain.errors import DialogueError, DialogueNotFound
from bot.domain.models import Dialogue

from .common import reply

__all__ = ("NOTICE_BUTTONS", "NotifyButton", "OptOutButton")

log = logging.getLogger(__name__)


class _NoticeButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"dialogue:(?:notify|optout):[0-9]+"):
    """A press under a wrap-up; its custom id names the dialogue."""

    action = ""
    label = ""
    style = discord.ButtonStyle.secondary

    def __init__(self, dialogue_id: int) -> None:
        super().__init__(
            discord.ui.Button(label=self.label, style=self.style, custom_id=custom_id(self.action, dialogue_id))
        )
        self.dialogue_id = dialogue_id

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        """Answer the press ephemerally; unexpected errors get the plain apology, never their text."""
        try:
            bot: DialogueBot = interaction.client
            dialogue = await self._dialogue(bot, interaction)
            text = await self.answer(bot, dialogue, interaction.user.id)
        except DialogueError as error:
            await reply(interaction, str(error))
        except Exception as error:
            log.error("Unexpected error answering %s on dialogue %s", self.action, self.dialogue_id, exc_info=error)
            await send_apology(interaction)
        else:
            await reply(interaction, text)

    async def _dialogue(self, bot: DialogueBot, interaction: discord.Interaction[Any]) -> Dialogue:
        dialogue = await bot.dialogues.get(self.dialogue_id)
        if dialogue.guild_id != interaction.guild_id:
            raise DialogueNotFound(f"There is no dialogue #{self.dialogue_id} in this server.")
        return dialogue

    async def answer(self, bot: DialogueBot, dialogue: Dialogue, user_id: int) -> str:
        raise NotImplementedError


class NotifyButton(_NoticeButton, template=rf"dialogue:{NOTIFY}:(?P<id>[0-9]+)"):
    """ "Tell me when the summary is out": a DM then (or the link now, if it is out already)."""

    action = NOTIFY
    label = "Tell me when the summary is out"
    style = discord.ButtonStyle.primary

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> NotifyButton:
        """Rebuild the button from a press (after a restart too)."""
        return cls(int(match["id"]))

    async def answer(self, bot: DialogueBot, dialogue: Dialogue, user_id: int) -> str:
        return await bot.notices.ask(dialogue, user_id)


class OptOutButton(_NoticeButton, template=rf"dialogue:{OPT_OUT}:(?P<id>[0-9]+)"):
    """ "Don't notify me": no DM when the summary is out, even after posting in the dialogue."""

    action = OPT_OUT
    label = "Don't notify me"

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> OptOutButton:
        """Rebuild the button from a press (after a restart too)."""
        return cls(int(match["id"]))

    async def answer(self, bot: DialogueBot, dialogue: Dialogue, user_id: int) -> str:
        return await bot.notices.opt_out(dialogue, user_id)


# Registered by the /dialogue extension at start-up: presses on wrap-ups posted before a restart still arrive.
NOTICE_BUTTONS: tuple[type[_NoticeButton], ...] = (NotifyButton, OptOutButton)
