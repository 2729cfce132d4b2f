"""Fixtures: the real bot on a real temporary database, inside SimCord's simulated Discord."""

from __future__ import annotations

import dataclasses
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import discord
import pytest
import simcord

from bot import Settings, create_bot
from bot.app import DialogueBot
from db import Database
from tests import postgres_server as pg

# The storage backends. ``pytestmark = pytest.mark.both_backends`` in a module runs each of its tests that uses a
# database (the ``db_location`` fixture, or ``settings``/``world``) on both; a test reading SQLite's own internals
# (file bytes, sqlite_master, query plans) carries ``@pytest.mark.sqlite_only`` and runs on SQLite alone.
BACKENDS = ("sqlite", "postgresql")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrise the tests of ``both_backends`` modules over ``BACKENDS``."""
    marked = metafunc.definition.get_closest_marker("both_backends")
    if marked and "backend" in metafunc.fixturenames and not metafunc.definition.get_closest_marker("sqlite_only"):
        metafunc.parametrize("backend", BACKENDS)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[pg.Server]:
    """A throwaway PostgreSQL server for the whole session, stopped at its end (also after failures)."""
    found = pg.find_bin()
    if found is None:
        reason = "PostgreSQL is not installed (no initdb/pg_ctl on PATH, in DIALOGUE_PG_BIN or /usr/lib/postgresql)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}: CI must run the PostgreSQL tests")
        pytest.skip(f"{reason}: the PostgreSQL variants of the storage tests are skipped")
    server = pg.start(found)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    """The storage backend of a test: SQLite unless the test is parametrised over ``BACKENDS``.

    ``DIALOGUE_TEST_BACKEND=postgresql`` runs every other test on PostgreSQL too (a wider, slower check; the
    tests marked ``sqlite_only`` stay on SQLite).
    """
    if request.node.get_closest_marker("sqlite_only"):
        return "sqlite"
    return os.environ.get("DIALOGUE_TEST_BACKEND", "sqlite")


@pytest.fixture
async def db_location(request: pytest.FixtureRequest, backend: str, tmp_path: Path) -> str:
    """Where the test's database lives: a SQLite file, or a fresh, empty database on the session's server."""
    if backend == "sqlite":
        return str(tmp_path / "dialogue.sqlite3")
    server: pg.Server = request.getfixturevalue("postgres_server")
    name = f"test_{uuid.uuid4().hex[:16]}"
    import asyncpg

    connection = await asyncpg.connect(server.url())
    try:
        await connection.execute(f"CREATE DATABASE {name}")
    finally:
        await connection.close()
    return server.url(name)


@pytest.fixture
def settings(db_location: str) -> Settings:
    return Settings(database=db_location, default_timezone="Europe/Zurich")


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


async def table_names(database: Database) -> set[str]:
    """The tables of a database, from its own catalogue (sqlite_master or information_schema)."""
    if database.dialect == "postgresql":
        sql = "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public'"
    else:
        sql = "SELECT name FROM sqlite_master WHERE type = 'table'"
    return {row["name"] for row in await database.fetchall(sql)}


async def column_names(database: Database, table: str) -> set[str]:
    """The columns of one table, from the database's own catalogue (PRAGMA table_info or information_schema)."""
    if database.dialect == "postgresql":
        rows = await database.fetchall(
            "SELECT column_name AS name FROM information_schema.columns WHERE table_name = ?", (table,)
        )
    else:
        rows = await database.fetchall(f"PRAGMA table_info({table})")
    return {row["name"] for row in rows}
