"""The bot's factory: wires settings, database, clock, scheduler, services and cogs together."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from db import Database

from .afterlife.notices import SummaryNotices
from .clock import Clock, default_clock
from .config import Settings
from .gateway import Gateway
from .leaders import LeaderService
from .leasing import Leases, process_owner
from .plans import PlanService
from .record.retention import RetentionService
from .scheduler import Scheduler
from .search import SearchService
from .services import DialogueService
from .survey import SurveyService
from .withdrawal import WithdrawalService

__all__ = ("DialogueBot", "ShardedDialogueBot", "create_bot", "is_facilitator")

log = logging.getLogger(__name__)

EXTENSIONS: tuple[str, ...] = ("cogs.dialogues", "cogs.participation", "cogs.leaders", "cogs.record")
FACILITATOR_GROUPS = frozenset({"dialogue"})
# Subcommands of a facilitator group that members may run too: each filters what a member may see itself.
MEMBER_SUBCOMMANDS = frozenset({("dialogue", "search")})
# How long closing the bot waits for running steps and listeners before closing the database anyway.
SHUTDOWN_WAIT = 30.0


def is_facilitator(member: discord.Member | discord.User, settings: Settings) -> bool:
    """Facilitators hold the configured role or may manage channels."""
    if not isinstance(member, discord.Member):
        return False
    if member.guild_permissions.manage_channels:
        return True
    return any(role.name == settings.facilitator_role for role in member.roles)


class DialogueTree(app_commands.CommandTree["DialogueBot"]):
    """Checks facilitators at run time (admins can re-grant commands) and answers unexpected errors."""

    async def interaction_check(self, interaction: discord.Interaction[DialogueBot]) -> bool:
        name = interaction.data.get("name") if interaction.data else None
        if name not in FACILITATOR_GROUPS or _invoked(interaction) in MEMBER_SUBCOMMANDS:
            return True
        if is_facilitator(interaction.user, interaction.client.settings):
            return True
        if interaction.type is discord.InteractionType.application_command:
            await interaction.response.send_message(
                f"Only facilitators can use `/{name}`: you need the "
                f"“{interaction.client.settings.facilitator_role}” role or the Manage Channels permission.",
                ephemeral=True,
            )
        return False

    async def on_error(
        self, interaction: discord.Interaction[DialogueBot], error: app_commands.AppCommandError
    ) -> None:
        command = interaction.command.qualified_name if interaction.command else "?"
        log.error("Unexpected error in /%s", command, exc_info=error)
        await send_apology(interaction)


def _invoked(interaction: discord.Interaction[DialogueBot]) -> tuple[str, str | None]:
    """The group and first subcommand an application command interaction names (subcommand None if none)."""
    data: dict[str, Any] = dict(interaction.data or {})
    options = data.get("options") or []
    first = options[0] if options else None
    # Option type 1 is a subcommand, 2 a subcommand group: the name that follows the group's.
    sub = first.get("name") if isinstance(first, dict) and first.get("type") in (1, 2) else None
    return str(data.get("name")), sub


async def send_apology(interaction: discord.Interaction) -> None:
    """Tell the user something went wrong, without any detail of the error."""
    text = "Sorry, something went wrong on our side. It has been logged; please try again in a moment."
    try:
        if interaction.response.is_done():
            await interaction.followup.send(text, ephemeral=True)
        else:
            await interaction.response.send_message(text, ephemeral=True)
    except discord.HTTPException:
        log.warning("Could not send the apology for a failed interaction")


class DialogueBot(commands.Bot):
    """discord.py's Bot holding the dialogue services; built only by ``create_bot``."""

    def __init__(self, settings: Settings, clock: Clock) -> None:
        intents = discord.Intents.default()
        intents.message_content = True
        intents.members = True
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents,
            tree_cls=DialogueTree,
            allowed_mentions=discord.AllowedMentions.none(),
            help_command=None,
            **_shard_options(settings),
        )
        self.settings = settings
        # This process's name as the owner of leases in the shared database (unique per bot object).
        self.lease_owner = process_owner()
        self.clock = clock
        self.scheduler = Scheduler(clock)
        self.gateway = Gateway(self)
        self._database: Database | None = None
        self._services: _Services | None = None

    @property
    def database(self) -> Database:
        """The open database (available once ``setup_hook`` has run)."""
        assert self._database is not None, "the database opens in setup_hook"
        return self._database

    @property
    def dialogues(self) -> DialogueService:
        """The dialogue lifecycle: create, open, record, close."""
        return self._built().dialogues

    @property
    def leaders(self) -> LeaderService:
        """The conversation leaders: roster, reminders, the Leaders thread."""
        return self._built().leaders

    @property
    def notices(self) -> SummaryNotices:
        """Who is told when a summary is out: the buttons' choices and the DMs."""
        return self._built().notices

    @property
    def plans(self) -> PlanService:
        """Plan files: import and export."""
        return self._built().plans

    @property
    def search(self) -> SearchService:
        """Full-text search over this server's dialogues."""
        return self._built().search

    @property
    def withdrawals(self) -> WithdrawalService:
        """Erasing a member's posts at their request."""
        return self._built().withdrawals

    @property
    def survey(self) -> SurveyService:
        """The anonymous feedback survey after a dialogue closes."""
        return self._built().survey

    @property
    def retention(self) -> RetentionService:
        """Transcript retention: the purge timer and its line in /dialogue status."""
        return self._built().retention

    def _built(self) -> _Services:
        assert self._services is not None, "the services start in setup_hook"
        return self._services

    async def setup_hook(self) -> None:
        """Open the database, build every service once, load the cogs, rebuild the schedule."""
        self._database = await Database.connect(self.settings.database)
        leases = Leases(self._database, self.clock, self.lease_owner)
        self._services = _Services.build(
            self._database, self.gateway, self.scheduler, self.clock, self.settings, leases
        )
        self.scheduler.start()
        for extension in EXTENSIONS:
            await self.load_extension(extension)
        await self.leaders.rebuild()
        await self.dialogues.schedule_all()
        await self.survey.end_due()
        await self.retention.start()
        await self.sync_commands()

    async def on_ready(self) -> None:
        """Log the connection; work is scheduled in ``setup_hook``, not here."""
        log.info("Connected as %s to %d servers", self.user, len(self.guilds))

    async def sync_commands(self) -> None:
        """Publish the slash commands: globally, or to the configured servers only."""
        if self.settings.guild_ids:
            guilds = [discord.Object(id=guild_id) for guild_id in self.settings.guild_ids]
            for guild in guilds:
                self.tree.copy_global_to(guild=guild)
            # Withdraw the global copies, or members would see every command twice.
            self.tree.clear_commands(guild=None)
            await self.tree.sync()
            for guild in guilds:
                await self.tree.sync(guild=guild)
            log.info("Synced commands to %d servers", len(self.settings.guild_ids))
        else:
            await self.tree.sync()
            log.info("Synced global commands")

    async def close(self) -> None:
        """Stop the scheduler, let running steps and listeners finish, disconnect, then close the database."""
        self.scheduler.shutdown()
        if self._services is not None:
            # Running steps and reminder deliveries still need Discord; wait for them before disconnecting.
            await self._services.leaders.drain(SHUTDOWN_WAIT)
            await self._services.retention.drain(SHUTDOWN_WAIT)
            await self._services.dialogues.drain(SHUTDOWN_WAIT)
        await super().close()
        if self._services is not None:
            # A listener that started while disconnecting may still be writing.
            await self._services.dialogues.drain(SHUTDOWN_WAIT)
        if self._database is not None:
            await self._database.close()
            self._database = None


class ShardedDialogueBot(DialogueBot, commands.AutoShardedBot):
    """The same bot over several gateway shards (``shard_count`` set): ``create_bot`` picks it from the settings."""


def _shard_options(settings: Settings) -> dict[str, Any]:
    """The sharding arguments for discord.py's constructor: none unsharded, else the count and this process's ids."""
    ownership = settings.ownership
    if ownership is None:
        return {}
    return {"shard_count": ownership.count, "shard_ids": list(ownership.ids)}


@dataclass(frozen=True, slots=True)
class _Services:
    """Every use-case service, built together so each gets its collaborators passed in."""

    dialogues: DialogueService
    leaders: LeaderService
    plans: PlanService
    search: SearchService
    withdrawals: WithdrawalService
    survey: SurveyService
    retention: RetentionService
    notices: SummaryNotices

    @classmethod
    def build(
        cls,
        database: Database,
        gateway: Gateway,
        scheduler: Scheduler,
        clock: Clock,
        settings: Settings,
        leases: Leases | None = None,
    ) -> _Services:
        leaders = LeaderService(database, gateway, scheduler, clock, settings)
        notices = SummaryNotices(database, gateway, clock)
        dialogues = DialogueService(
            database, gateway, scheduler, clock, settings, leaders=leaders, notices=notices, leases=leases
        )
        survey = SurveyService(database, clock, settings.survey_days, settings.ownership)
        plans = PlanService(database, dialogues, settings.default_checkin_hour, leaders, survey)
        return cls(
            dialogues=dialogues,
            leaders=leaders,
            plans=plans,
            search=SearchService(database, clock),
            withdrawals=WithdrawalService(database, clock),
            survey=survey,
            retention=RetentionService(database, scheduler, clock, settings, daily=[survey.end_due]),
            notices=notices,
        )


def create_bot(settings: Settings | None = None, clock: Clock | None = None) -> DialogueBot:
    """Build the bot: the one way tests, the CLI and the rehearsal get one."""
    resolved = settings or Settings()
    resolved.validate()
    kind = DialogueBot if resolved.shard_count is None else ShardedDialogueBot
    return kind(resolved, clock or default_clock)
