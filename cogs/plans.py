"""Plan files in Discord: ``/dialogue create plan:<file>`` imports one, ``/dialogue plan`` exports one.

Not a cog: the Dialogues cog calls ``import_plan``, adds ``plan_command`` to its group and registers the
answer buttons (``IMPORT_BUTTONS``), whose custom ids carry the held import's id so they work after a restart.
"""

from __future__ import annotations

import io
import logging
import re
from typing import Any

import discord
from discord import app_commands

from bot import render
from bot.app import DialogueBot, send_apology
from bot.domain.errors import DialogueError, InvalidInput, NotFacilitator
from bot.domain.parsing import slugify
from bot.domain.plan import PlanLeader, decode_plan, parse_plan, render_plan
from bot.plans import ResolvedLeader

from .common import dialogue_autocomplete, reply

__all__ = (
    "IMPORT_BUTTONS",
    "CancelImportButton",
    "ConfirmImportButton",
    "ConfirmPlanView",
    "PlanFiles",
    "plan_command",
)

log = logging.getLogger(__name__)


class PlanFiles:
    """Imports and exports plan files for the /dialogue commands."""

    def __init__(self, bot: DialogueBot) -> None:
        self.bot = bot

    # ----- import --------------------------------------------------------------------------------

    async def import_plan(self, interaction: discord.Interaction, attachment: discord.Attachment) -> None:
        """Validate an uploaded plan; create it, or ask first if some leaders are not in the server."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            data = await attachment.read()
        except discord.HTTPException as error:
            log.warning("Could not download a plan attachment: %s", error)
            await reply(interaction, "Nothing was created: the file could not be downloaded. Attach it again.")
            return
        try:
            text = decode_plan(data)
            plan = parse_plan(text, self.bot.clock())
        except DialogueError as error:
            await reply(interaction, f"Nothing was created. {error}")
            return
        guild = interaction.guild
        assert guild is not None
        try:
            found, missing = await resolve_leaders(guild, plan.leaders)
        except DialogueError as error:
            await reply(interaction, f"Nothing was created. {error}")
            return
        if missing:
            # Held in the database: the answer may come after a restart.
            pending = await self.bot.plans.hold(guild.id, interaction.user.id, text)
            await interaction.followup.send(
                render.import_question(plan, missing, pending.expires_at),
                view=ConfirmPlanView(pending.id),
                ephemeral=True,
                allowed_mentions=discord.AllowedMentions.none(),
            )
            return
        dialogue = await self.bot.plans.create(guild.id, interaction.user.id, plan, found)
        await reply(interaction, render.plan_imported(dialogue, plan, [leader.user_id for leader in found]))

    async def create_confirmed(self, interaction: discord.Interaction, text: str) -> str:
        """Create the plan after the facilitator agreed to leave the missing leaders out."""
        plan = parse_plan(text, self.bot.clock())
        guild = interaction.guild
        assert guild is not None
        found, _ = await resolve_leaders(guild, plan.leaders)
        dialogue = await self.bot.plans.create(guild.id, interaction.user.id, plan, found)
        return render.plan_imported(dialogue, plan, [leader.user_id for leader in found])

    # ----- export --------------------------------------------------------------------------------

    async def export_plan(self, interaction: discord.Interaction, reference: str) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        assert interaction.guild_id is not None
        try:
            found = await self.bot.dialogues.resolve(interaction.guild_id, reference)
            plan = await self.bot.plans.export(found.id)
        except DialogueError as error:
            await reply(interaction, str(error))
            return
        names: dict[int, str] = {}
        guild = interaction.guild
        for leader in plan.leaders:
            member = guild.get_member(leader.user) if guild and isinstance(leader.user, int) else None
            if member is not None:
                names[member.id] = member.name
        data = render_plan(plan, names).encode("utf-8")
        note = render.plan_exported(found, opening_passed=found.opens_at < self.bot.clock())
        await interaction.followup.send(
            note,
            file=discord.File(io.BytesIO(data), filename=f"{slugify(found.title)}.toml"),
            ephemeral=True,
            allowed_mentions=discord.AllowedMentions.none(),
        )


async def resolve_leaders(
    guild: discord.Guild, leaders: tuple[PlanLeader, ...]
) -> tuple[list[ResolvedLeader], list[PlanLeader]]:
    """Find each plan leader among the guild's members, by user id or username.

    Raises ``InvalidInput`` when a leader is a bot, or when two entries name the same member (say, once by id
    and once by username), since their commitments would silently overwrite each other.
    """
    found: list[ResolvedLeader] = []
    missing: list[PlanLeader] = []
    seen: dict[int, int] = {}
    for number, leader in enumerate(leaders, start=1):
        member = await _find_member(guild, leader.user)
        if member is None:
            missing.append(leader)
            continue
        if member.bot:
            raise InvalidInput(f"leaders[{number}].user", f"{leader.label} is a bot; bots cannot lead a dialogue.")
        if member.id in seen:
            raise InvalidInput(
                f"leaders[{number}].user",
                f"{leader.label} is the same member as leaders[{seen[member.id]}]; list each leader once.",
            )
        seen[member.id] = number
        found.append(ResolvedLeader(leader, member.id, member.display_name))
    return found, missing


async def _find_member(guild: discord.Guild, user: int | str) -> discord.Member | None:
    if isinstance(user, int):
        member = guild.get_member(user)
        if member is not None:
            return member
        try:
            return await guild.fetch_member(user)
        except discord.NotFound:
            return None
        except discord.HTTPException as error:
            log.warning("Could not look up member %s in guild %s: %s", user, guild.id, error)
            return None
    member = discord.utils.find(lambda m: m.name.lower() == user, guild.members)
    if member is not None or guild.chunked:
        return member
    # The member cache can be partial (a large server, or just after a restart): ask Discord by name.
    try:
        matches = await guild.query_members(query=user, limit=100)
    except (TimeoutError, discord.ClientException) as error:
        log.warning("Could not look up member %r in guild %s: %s", user, guild.id, error)
        return None
    return discord.utils.find(lambda m: m.name.lower() == user, matches)


class _ImportButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"plan:(?:confirm|cancel):[0-9]+"):
    """An answer button under a held plan import; its custom id (``plan:<action>:<id>``) names the import."""

    action = ""

    def __init__(self, pending_id: int, label: str, style: discord.ButtonStyle) -> None:
        super().__init__(
            discord.ui.Button(label=label, style=style, custom_id=f"plan:{self.action}:{pending_id}"),
        )
        self.pending_id = pending_id

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        """Answer the press; unexpected errors get the plain apology, never their text."""
        try:
            await self.answer(interaction)
        except Exception as error:
            log.error("Unexpected error answering plan import %s", self.pending_id, exc_info=error)
            await send_apology(interaction)

    async def answer(self, interaction: discord.Interaction[Any]) -> None:
        raise NotImplementedError

    async def take(self, interaction: discord.Interaction[Any]) -> str | None:
        """Take the held plan for this press; on refusal answer it and return None."""
        bot: DialogueBot = interaction.client
        try:
            pending = await bot.plans.answer(self.pending_id, interaction.user.id)
        except NotFacilitator as error:
            await reply(interaction, str(error))  # someone else's import: it stays as it is
            return None
        except DialogueError as error:
            await _replace(interaction, str(error))
            return None
        return pending.plan_text


class ConfirmImportButton(_ImportButton, template=r"plan:confirm:(?P<id>[0-9]+)"):
    """ "Create without them": create the held plan with the leaders who were found."""

    action = "confirm"

    def __init__(self, pending_id: int) -> None:
        super().__init__(pending_id, "Create without them", discord.ButtonStyle.primary)

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ConfirmImportButton:
        """Rebuild the button from a press (after a restart too)."""
        return cls(int(match["id"]))

    async def answer(self, interaction: discord.Interaction[Any]) -> None:
        # Creating sends each leader a welcome: answer Discord first, then fill in the message.
        await interaction.response.defer()
        text = await self.take(interaction)
        if text is None:
            return
        try:
            result = await PlanFiles(interaction.client).create_confirmed(interaction, text)
        except DialogueError as error:
            result = f"Nothing was created. {error}"
        await _replace(interaction, result)


class CancelImportButton(_ImportButton, template=r"plan:cancel:(?P<id>[0-9]+)"):
    """ "Cancel": forget the held plan; nothing is created."""

    action = "cancel"

    def __init__(self, pending_id: int) -> None:
        super().__init__(pending_id, "Cancel", discord.ButtonStyle.secondary)

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> CancelImportButton:
        """Rebuild the button from a press (after a restart too)."""
        return cls(int(match["id"]))

    async def answer(self, interaction: discord.Interaction[Any]) -> None:
        await interaction.response.defer()
        if await self.take(interaction) is not None:
            await _replace(interaction, "Nothing was created.")


# Registered by the /dialogue extension at start-up: presses on messages sent before a restart still arrive.
IMPORT_BUTTONS: tuple[type[_ImportButton], ...] = (ConfirmImportButton, CancelImportButton)


class ConfirmPlanView(discord.ui.View):
    """The two answers under an import that left leaders out; persistent, so it outlives a restart."""

    def __init__(self, pending_id: int) -> None:
        super().__init__(timeout=None)
        self.add_item(ConfirmImportButton(pending_id))
        self.add_item(CancelImportButton(pending_id))


async def _replace(interaction: discord.Interaction[Any], text: str) -> None:
    """Put the answer in place of the question and its buttons."""
    await interaction.edit_original_response(
        content=render.truncate(text, render.MESSAGE_LIMIT), view=None, allowed_mentions=discord.AllowedMentions.none()
    )


def plan_command(bot: DialogueBot) -> app_commands.Command[Any, ..., None]:
    """``/dialogue plan``: download a dialogue as a plan file."""

    @app_commands.command(name="plan", description="Download a dialogue as a plan file (TOML)")
    @app_commands.describe(dialogue="The dialogue to export")
    @app_commands.autocomplete(dialogue=dialogue_autocomplete)
    async def plan(interaction: discord.Interaction, dialogue: str) -> None:
        await PlanFiles(bot).export_plan(interaction, dialogue)

    return plan
