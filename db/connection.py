"""The ``Database`` interface: one long-lived aiosqlite connection (or, for a ``postgresql://`` URL, asyncpg's pool
in ``db/postgres.py``), with transactions and migrations."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar, Protocol
from urllib.parse import urlsplit, urlunsplit

import aiosqlite

__all__ = ("Database", "Row", "mask_url")

log = logging.getLogger(__name__)

Params = Sequence[Any]


class Row(Protocol):
    """A result row of either backend (``sqlite3.Row`` or ``asyncpg.Record``): by column name or position."""

    def __getitem__(self, key: str | int, /) -> Any:
        """The value of one column."""
        ...

    def keys(self) -> Any:
        """The column names."""
        ...


def mask_url(location: str) -> str:
    """The configured database as it may be shown or logged: a URL's password replaced by ``***``."""
    parts = urlsplit(location)
    if not parts.scheme or parts.password is None:
        return location
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


class Database:
    """The bot's storage. Statements run in series on aiosqlite's single worker thread."""

    #: Which SQL the backend speaks, for the few statements written per dialect: "sqlite" or "postgresql".
    dialect: ClassVar[str] = "sqlite"
    #: What the driver raises when a constraint (unique, foreign key, not null) refuses a statement.
    integrity_errors: ClassVar[tuple[type[Exception], ...]] = (sqlite3.IntegrityError,)

    def __init__(self, connection: aiosqlite.Connection, path: str) -> None:
        self._connection = connection
        self.path = path
        # The task whose transaction is open. Tasks share this one connection, so statements from other
        # tasks wait for it to end: otherwise they would run inside it, and a rollback would take them along.
        self._owner: asyncio.Task[Any] | None = None
        self._lock = asyncio.Lock()

    @classmethod
    async def connect(cls, path: str | Path) -> Database:
        """Open (creating if needed) the database at ``path`` and apply pending migrations.

        A ``postgresql://`` URL opens that PostgreSQL database instead (``db/postgres.py``).
        """
        location = str(path)
        if location.startswith(("postgresql://", "postgres://")):
            from .postgres import PostgresDatabase  # imported here: SQLite alone never needs asyncpg

            return await PostgresDatabase.open(location)
        if location != ":memory:":
            Path(location).parent.mkdir(parents=True, exist_ok=True)
        connection = await aiosqlite.connect(location, isolation_level=None)
        connection.row_factory = aiosqlite.Row
        database = cls(connection, location)
        try:
            await database.fetchall("PRAGMA foreign_keys = ON")
            if location != ":memory:":
                await database.fetchall("PRAGMA journal_mode = WAL")
                # With WAL, NORMAL still never corrupts the file; it skips an fsync on every commit.
                await database.fetchall("PRAGMA synchronous = NORMAL")
            await database.fetchall("PRAGMA busy_timeout = 5000")
            await database.migrate()
        except BaseException:
            # An unclosed connection keeps its worker thread alive, and the process would never exit.
            await connection.close()
            raise
        return database

    async def close(self) -> None:
        """Close the connection."""
        await self._connection.close()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Database]:
        """Run the enclosed statements atomically; nested uses in the same task join the outer transaction.

        Other tasks' statements wait until it ends, so the body must not await another task that uses
        the database.
        """
        task = asyncio.current_task()
        if self._owner is not None and self._owner is task:
            yield self
            return
        async with self._lock:
            self._owner = task
            try:
                await self.execute("BEGIN")
                try:
                    yield self
                    await self.execute("COMMIT")
                except BaseException:
                    if self._connection.in_transaction:
                        await self.execute("ROLLBACK")
                    raise
            finally:
                self._owner = None

    @asynccontextmanager
    async def _turn(self) -> AsyncIterator[None]:
        """Wait while another task's transaction is open."""
        if self._owner is not None and self._owner is asyncio.current_task():
            yield
            return
        async with self._lock:
            yield

    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run one statement and return how many rows it changed."""
        async with self._turn():
            cursor = await self._connection.execute(sql, params)
            try:
                return cursor.rowcount
            finally:
                await cursor.close()

    async def returning(self, sql: str, params: Params = ()) -> list[Row]:
        """Run one statement and return the rows it returns, in a single trip to the worker thread.

        For writes on hot paths: ``INSERT ... RETURNING`` tells what was written without a second trip to close
        a cursor, as ``execute`` takes.
        """
        async with self._turn():
            return list(await self._connection.execute_fetchall(sql, params))

    async def insert(self, sql: str, params: Params = ()) -> int:
        """Run an INSERT and return the new row's id."""
        async with self._turn():
            cursor = await self._connection.execute(sql, params)
            try:
                assert cursor.lastrowid is not None
                return cursor.lastrowid
            finally:
                await cursor.close()

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        """Run one statement for each parameter row."""
        async with self._turn():
            await self._connection.executemany(sql, rows)

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        """Return the first row of a query, or None."""
        async with self._turn(), self._connection.execute(sql, params) as cursor:
            return await cursor.fetchone()

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        """Return every row of a query."""
        async with self._turn(), self._connection.execute(sql, params) as cursor:
            return list(await cursor.fetchall())

    async def schema_version(self) -> int:
        """Return the number of the last migration applied."""
        row = await self.fetchone("SELECT MAX(version) AS version FROM schema_migrations")
        return int(row["version"]) if row and row["version"] is not None else 0

    async def migrate(self) -> int:
        """Apply every migration not applied yet, in number order, and return the resulting version.

        Applied versions are read one by one, not as a high-water mark: a migration numbered below one already
        applied (two branches merged in either order) still runs.
        """
        await self.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL)"
        )
        applied = {row["version"] for row in await self.fetchall("SELECT version FROM schema_migrations")}
        for migration in _migrations(self.dialect):
            if migration.version in applied:
                continue
            async with self.transaction():
                for statement in _statements(migration.sql):
                    await self.execute(statement)
                await self.execute(
                    "INSERT INTO schema_migrations (version, name) VALUES (?, ?)", (migration.version, migration.name)
                )
            log.info("Applied migration %04d %s", migration.version, migration.name)
        return await self.schema_version()


@dataclass(frozen=True, slots=True)
class _Migration:
    """One numbered SQL file of ``db/migrations``: ``0003_leaders.sql`` is version 3, name ``leaders``."""

    version: int
    name: str
    sql: str


def _migrations(dialect: str = "sqlite") -> list[_Migration]:
    """Every migration file, in version order; a dialect's own file (``migrations/<dialect>/``) wins over the shared."""
    found: dict[int, _Migration] = {}
    shared = resources.files("db.migrations")
    folders = [shared, shared / dialect] if (shared / dialect).is_dir() else [shared]
    for folder in folders:
        for entry in folder.iterdir():
            if entry.name.endswith(".sql"):
                number, _, rest = entry.name.partition("_")
                found[int(number)] = _Migration(
                    int(number), rest.removesuffix(".sql"), entry.read_text(encoding="utf-8")
                )
    return sorted(found.values(), key=lambda migration: migration.version)


def _statements(sql: str) -> list[str]:
    """Split a migration into statements (no semicolons inside literals; a trigger's body ends at ``END``)."""
    lines = [line for line in sql.splitlines() if not line.strip().startswith("--")]
    statements: list[str] = []
    trigger: list[str] = []
    for part in (part.strip() for part in "\n".join(lines).split(";")):
        if trigger or part.upper().startswith("CREATE TRIGGER"):
            trigger.append(part)
            if part.upper() == "END":
                statements.append(";\n".join(trigger))
                trigger = []
        elif part:
            statements.append(part)
    return statements
