"""Plan files in Discord: ``/dialogue create plan:<file>`` imports one, ``/dialogue plan`` exports one.

Not a cog: the Dialogues cog calls ``import_plan`` and adds ``plan_command`` to its group.
"""

from __future__ import annotations

import contextlib
import io
import logging
from typing import Any

import discord
from discord import app_commands

from bot import render
from bot.app import DialogueBot, send_apology
from bot.domain.errors import DialogueError, InvalidInput
from bot.domain.models import Dialogue
from bot.domain.parsing import slugify
from bot.domain.plan import Plan, PlanLeader, decode_plan, parse_plan, render_plan
from bot.plans import ResolvedLeader

from .common import dialogue_autocomplete, reply

__all__ = ("ConfirmPlanView", "PlanFiles", "plan_command")

log = logging.getLogger(__name__)

# How long the "create without them?" buttons stay usable.
CONFIRM_TIMEOUT = 14 * 60  # interaction tokens last 15 minutes


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
            view = ConfirmPlanView(self, interaction.user.id, text, attachment.filename)
            names = ", ".join(leader.label for leader in missing)
            message = (
                f"**{plan.title}**: {render.plural(len(missing), 'leader')} in this plan "
                f"{'is not a member' if len(missing) == 1 else 'are not members'} of this server: {names}.\n"
                "Create the dialogue without them? You can add them later with `/dialogue leaders add`."
            )
            view.message = await interaction.followup.send(
                message, view=view, ephemeral=True, allowed_mentions=discord.AllowedMentions.none(), wait=True
            )
            return
        dialogue = await self.bot.plans.create(guild.id, interaction.user.id, plan, found)
        await reply(interaction, confirmation(dialogue, plan, found))

    async def create_confirmed(self, interaction: discord.Interaction, text: str) -> str:
        """Create the plan after the facilitator agreed to leave the missing leaders out."""
        plan = parse_plan(text, self.bot.clock())
        guild = interaction.guild
        assert guild is not None
        found, _ = await resolve_leaders(guild, plan.leaders)
        dialogue = await self.bot.plans.create(guild.id, interaction.user.id, plan, found)
        return confirmation(dialogue, plan, found)

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
        note = f"The plan of **{found.title}** (#{found.id})."
        if found.opens_at < self.bot.clock():
            note += " Its opening has passed: change `opens` before importing it again."
        await interaction.followup.send(
            note,
            file=discord.File(io.BytesIO(data), filename=f"{slugify(found.title)}.toml"),
            ephemeral=True,
            allowed_mentions=discord.AllowedMentions.none(),
        )


def confirmation(dialogue: Dialogue, plan: Plan, leaders: list[ResolvedLeader]) -> str:
    """What the facilitator reads after an import."""
    lines = [render.created_confirmation(dialogue, len(plan.questions))]
    later = [(n, q.release_at) for n, q in enumerate(plan.questions, start=1) if q.release_at is not None]
    for number, when in later:
        assert when is not None
        lines.append(f"Question {number} opens {render.timestamp(when)}")
    if plan.leaders:
        lines.append(
            f"Leaders: {', '.join(f'<@{leader.user_id}>' for leader in leaders) or 'none'} "
            f"({len(leaders)} of {len(plan.leaders)} in the plan)"
        )
    return "\n".join(lines)


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
    return discord.utils.find(lambda m: m.name.lower() == user, guild.members)


class ConfirmPlanView(discord.ui.View):
    """Two buttons under an import that left leaders out; only the facilitator who imported may press."""

    def __init__(self, cog: PlanFiles, owner_id: int, text: str, filename: str) -> None:
        super().__init__(timeout=CONFIRM_TIMEOUT)
        self.cog = cog
        self.owner_id = owner_id
        self.text = text
        self.filename = filename
        self.message: discord.WebhookMessage | None = None

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if interaction.user.id == self.owner_id:
            return True
        await reply(interaction, "Only the facilitator who imported this plan can answer.")
        return False

    @discord.ui.button(label="Create without them", style=discord.ButtonStyle.primary, custom_id="plan:confirm")
    async def confirm(self, interaction: discord.Interaction, _: discord.ui.Button[ConfirmPlanView]) -> None:
        self.stop()
        # Creating sends each leader a welcome: answer Discord first, then fill in the message.
        await interaction.response.defer()
        try:
            text = await self.cog.create_confirmed(interaction, self.text)
        except DialogueError as error:
            text = f"Nothing was created. {error}"
        await interaction.edit_original_response(
            content=render.truncate(text, render.MESSAGE_LIMIT),
            view=None,
            allowed_mentions=discord.AllowedMentions.none(),
        )

    @discord.ui.button(label="Cancel", style=discord.ButtonStyle.secondary, custom_id="plan:cancel")
    async def cancel(self, interaction: discord.Interaction, _: discord.ui.Button[ConfirmPlanView]) -> None:
        self.stop()
        await interaction.response.edit_message(content="Nothing was created.", view=None)

    async def on_timeout(self) -> None:
        if self.message is not None:
            with contextlib.suppress(discord.HTTPException):
                await self.message.edit(content="Nothing was created: the question timed out.", view=None)

    async def on_error(
        self, interaction: discord.Interaction, error: Exception, item: discord.ui.Item[ConfirmPlanView]
    ) -> None:
        log.error("Unexpected error answering a plan import", exc_info=error)
        await send_apology(interaction)


def plan_command(bot: DialogueBot) -> app_commands.Command[Any, ..., None]:
    """``/dialogue plan``: download a dialogue as a plan file."""

    @app_commands.command(name="plan", description="Download a dialogue as a plan file (TOML)")
    @app_commands.describe(dialogue="The dialogue to export")
    @app_commands.autocomplete(dialogue=dialogue_autocomplete)
    async def plan(interaction: discord.Interaction, dialogue: str) -> None:
        await PlanFiles(bot).export_plan(interaction, dialogue)

    return plan
