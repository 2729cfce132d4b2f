"""Fixtures: the real bot on a real temporary database, inside SimCord's simulated Discord."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import discord
import pytest
import simcord

from bot import Settings, create_bot
from bot.app import DialogueBot


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(database=str(tmp_path / "dialogue.sqlite3"), default_timezone="Europe/Zurich")


@pytest.fixture
def simcord_bot(settings: Settings) -> DialogueBot:
    return create_bot(settings)


@dataclass
class World:
    env: simcord.Env
    guild: simcord.GuildHandle
    general: simcord.ChannelHandle
    facilitators: simcord.RoleHandle
    fac: simcord.MemberActor
    members: list[simcord.MemberActor]
    settings: Settings

    @property
    def bot(self) -> DialogueBot:
        return self.env.bot  # type: ignore[return-value]

    @property
    def alice(self) -> simcord.MemberActor:
        return self.members[0]

    @property
    def bob(self) -> simcord.MemberActor:
        return self.members[1]

    @property
    def chen(self) -> simcord.MemberActor:
        return self.members[2]

    def dguild(self) -> discord.Guild:
        guild = self.bot.get_guild(self.guild.id)
        assert guild is not None
        return guild

    async def restart(self) -> None:
        """Stop the bot as a crash or deploy would, and start a fresh one on the same database."""
        old = self.bot
        await old.close()
        await self.env.restart_bot(create_bot(self.settings))

    async def restart_with(self, **changes: object) -> None:
        """Restart with some settings changed, as after editing config.toml."""
        self.settings = dataclasses.replace(self.settings, **changes)  # type: ignore[arg-type]
        await self.restart()


@pytest.fixture
async def world(simcord_env: simcord.Env, settings: Settings) -> AsyncIterator[World]:
    env = simcord_env
    guild = env.create_guild("Rights Network")
    general = guild.create_text_channel("general")
    facilitators = guild.create_role("Facilitators", permissions=discord.Permissions(manage_channels=True))
    fac = guild.add_member(env.create_user("kristin"), roles=[facilitators])
    members = [guild.add_member(env.create_user(name)) for name in ("alice", "bob", "chen", "dara")]
    await env.bot.tree.sync()
    yield World(env, guild, general, facilitators, fac, members, settings)
    # Close the bot as a deploy would, so its database thread is not left running past the event loop.
    if not env.bot.is_closed():
        await env.bot.close()
