"""The /dialogue command group: what facilitators type. Each command defers to the dialogue service."""

from __future__ import annotations

import logging

import discord
from discord import app_commands
from discord.ext import commands

from bot import render, render_summary
from bot.app import DialogueBot
from bot.domain.errors import DialogueError
from bot.domain.models import AfterClose, State
from bot.domain.parsing import parse_duration, parse_timezone
from bot.services import DialogueService

from .common import answer, dialogue_autocomplete, guild_id, reply, timezone_autocomplete
from .export import export_command
from .leaders import LeadersGroup, remind_command
from .notices import NOTICE_BUTTONS
from .plans import IMPORT_BUTTONS, PlanFiles, plan_command
from .proxy import post_on_behalf_command
from .record import forget_command, search_command
from .summary import summary_command
from .survey import FeedbackButton, on_feedback_form, survey_results_command
from .views import CreateDialogueModal

__all__ = ("Dialogues", "setup")

log = logging.getLogger(__name__)


@app_commands.guild_only()
@app_commands.default_permissions(manage_channels=True)
class Dialogues(commands.GroupCog, group_name="dialogue", group_description="Run facilitated dialogues"):
    """Facilitator commands; the tree's interaction check refuses everyone else at run time."""

    def __init__(self, bot: DialogueBot) -> None:
        self.bot = bot
        super().__init__()

    @property
    def service(self) -> DialogueService:
        return self.bot.dialogues

    @app_commands.command(name="create", description="Schedule a new dialogue (opens a form, or imports a plan file)")
    @app_commands.describe(
        timezone="IANA time zone for the times you type, e.g. Europe/Zurich",
        plan="A plan file (TOML) to import instead of filling in the form; see docs/plans.md",
        after_close="At the window's end: lock at once (default), or keep comments open until the summary",
    )
    @app_commands.choices(
        after_close=[
            app_commands.Choice(name="lock at the window's end (default)", value=AfterClose.LOCK.value),
            app_commands.Choice(
                name="comments stay open until the summary", value=AfterClose.COMMENTS_UNTIL_SUMMARY.value
            ),
        ]
    )
    @app_commands.autocomplete(timezone=timezone_autocomplete)
    async def create(
        self,
        interaction: discord.Interaction,
        timezone: str | None = None,
        plan: discord.Attachment | None = None,
        after_close: app_commands.Choice[str] | None = None,
    ) -> None:
        if plan is not None:
            if timezone:
                await reply(interaction, "Nothing was created. A plan sets its own time zone: leave `timezone` out.")
            elif after_close is not None:
                await reply(
                    interaction,
                    "Nothing was created. A plan sets what happens after its window (`after_close` in "
                    "`[dialogue]`, see docs/plans.md): leave the `after_close` option out.",
                )
            else:
                await PlanFiles(self.bot).import_plan(interaction, plan)
            return
        try:
            zone = parse_timezone(timezone) if timezone else self.bot.settings.default_timezone
        except DialogueError as error:
            await reply(interaction, f"Nothing was created. {error}")
            return
        chosen = AfterClose(after_close.value) if after_close is not None else AfterClose.LOCK
        await interaction.response.send_modal(CreateDialogueModal(self.bot, zone, chosen))

    @app_commands.command(name="open", description="Open a scheduled dialogue now (or retry a failed opening)")
    @app_commands.describe(dialogue="The dialogue to open")
    @app_commands.autocomplete(dialogue=dialogue_autocomplete)
    async def open(self, interaction: discord.Interaction, dialogue: str) -> None:
        async def run() -> str:
            found = await self.service.resolve(guild_id(interaction), dialogue)
            opened = await self.service.open(found.id, manual=True)
            return render.open_reply(opened, await self.service.progress(opened.id))

        await answer(interaction, run)

    @app_commands.command(name="close", description="Close an open dialogue now: lock it and post the wrap-up")
    @app_commands.describe(dialogue="The dialogue to close")
    @app_commands.autocomplete(dialogue=dialogue_autocomplete)
    async def close(self, interaction: discord.Interaction, dialogue: str) -> None:
        async def run() -> str:
            found = await self.service.resolve(guild_id(interaction), dialogue)
            closed = await self.service.close(found.id, manual=True)
            return render.close_reply(closed, await self.service.progress(closed.id))

        await answer(interaction, run)

    @app_commands.command(name="extend", description="Move a dialogue's closing time later")
    @app_commands.describe(dialogue="The dialogue to extend", by="How much longer, e.g. 1d, 12h or 1w")
    @app_commands.autocomplete(dialogue=dialogue_autocomplete)
    async def extend(self, interaction: discord.Interaction, dialogue: str, by: str) -> None:
        async def run() -> str:
            found = await self.service.resolve(guild_id(interaction), dialogue)
            extended = await self.service.extend(found.id, parse_duration(by, "by"))
            return render.extended_reply(extended)

        await answer(interaction, run)

    @app_commands.command(name="cancel", description="Call off a dialogue that has not opened")
    @app_commands.describe(dialogue="The dialogue to cancel")
    @app_commands.autocomplete(dialogue=dialogue_autocomplete)
    async def cancel(self, interaction: discord.Interaction, dialogue: str) -> None:
        async def run() -> str:
            found = await self.service.resolve(guild_id(interaction), dialogue)
            cancelled = await self.service.cancel(found.id)
            return render.cancelled_reply(cancelled)

        await answer(interaction, run)

    @app_commands.command(name="status", description="A dialogue's state, window and activity")
    @app_commands.describe(dialogue="The dialogue to describe")
    @app_commands.autocomplete(dialogue=dialogue_autocomplete)
    async def status(self, interaction: discord.Interaction, dialogue: str) -> None:
        async def run() -> str:
            found = await self.service.resolve(guild_id(interaction), dialogue)
            stats = await self.service.stats(found.id)
            leaders = await self.bot.leaders.status_section(found)
            survey = await self.bot.survey.status_section(found)
            transcript = await self.bot.retention.status_section(found)
            progress = await self.service.progress(found.id)
            event = await self.service.events.status_section(found)
            after = render_summary.phase_section(found, stats, progress, await self.service.summary_url(found))
            notices = await self.bot.notices.status_line(found) if found.state is State.CLOSED else None
            sections = [section for section in (leaders, after, notices, survey, event, transcript) if section]
            return render.status(found, stats, sections, progress=progress)

        await answer(interaction, run)

    @app_commands.command(name="list", description="This server's dialogues by state")
    async def list(self, interaction: discord.Interaction) -> None:
        async def run() -> str:
            return render.dialogue_list(await self.service.in_guild(guild_id(interaction)))

        await answer(interaction, run)


async def setup(bot: DialogueBot) -> None:
    cog = Dialogues(bot)
    # The whole /dialogue group is assembled here, from the commands each feature module defines.
    group = cog.app_command
    assert group is not None
    group.add_command(LeadersGroup(bot))
    group.add_command(remind_command(bot))
    group.add_command(plan_command(bot))
    group.add_command(post_on_behalf_command(bot))
    group.add_command(search_command(bot))
    group.add_command(forget_command(bot))
    group.add_command(survey_results_command(bot))
    group.add_command(summary_command(bot))
    group.add_command(export_command(bot))
    # The plan import's answer buttons, persistent: a press after a restart still reaches its held import.
    bot.add_dynamic_items(*IMPORT_BUTTONS)
    # The wrap-up's "Give feedback" button, persistent: its custom id carries the dialogue id.
    bot.add_dynamic_items(FeedbackButton)
    bot.add_listener(on_feedback_form, "on_interaction")
    bot.add_dynamic_items(*NOTICE_BUTTONS)
    await bot.add_cog(cog)
