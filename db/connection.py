"""One long-lived aiosqlite connection, with transactions and migrations."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Any

import aiosqlite

__all__ = ("Database", "Row")

log = logging.getLogger(__name__)

Row = aiosqlite.Row
Params = Sequence[Any]


class Database:
    """The bot's storage. Statements run in series on aiosqlite's single worker thread."""

    def __init__(self, connection: aiosqlite.Connection, path: str) -> None:
        self._connection = connection
        self.path = path
        self._depth = 0

    @classmethod
    async def connect(cls, path: str | Path) -> Database:
        """Open (creating if needed) the database at ``path`` and apply pending migrations."""
        location = str(path)
        if location != ":memory:":
            Path(location).parent.mkdir(parents=True, exist_ok=True)
        connection = await aiosqlite.connect(location, isolation_level=None)
        connection.row_factory = aiosqlite.Row
        database = cls(connection, location)
        await database.fetchall("PRAGMA foreign_keys = ON")
        if location != ":memory:":
            await database.fetchall("PRAGMA journal_mode = WAL")
        await database.fetchall("PRAGMA busy_timeout = 5000")
        await database.migrate()
        return database

    async def close(self) -> None:
        """Close the connection."""
        await self._connection.close()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Database]:
        """Run the enclosed statements atomically; nested uses join the outer transaction."""
        if self._depth:
            self._depth += 1
            try:
                yield self
            finally:
                self._depth -= 1
            return
        await self.execute("BEGIN")
        self._depth = 1
        try:
            yield self
        except BaseException:
            self._depth = 0
            await self.execute("ROLLBACK")
            raise
        self._depth = 0
        await self.execute("COMMIT")

    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run one statement and return how many rows it changed."""
        cursor = await self._connection.execute(sql, params)
        try:
            return cursor.rowcount
        finally:
            await cursor.close()

    async def insert(self, sql: str, params: Params = ()) -> int:
        """Run an INSERT and return the new row's id."""
        cursor = await self._connection.execute(sql, params)
        try:
            assert cursor.lastrowid is not None
            return cursor.lastrowid
        finally:
            await cursor.close()

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        """Run one statement for each parameter row."""
        await self._connection.executemany(sql, rows)

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        """Return the first row of a query, or None."""
        async with self._connection.execute(sql, params) as cursor:
            return await cursor.fetchone()

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        """Return every row of a query."""
        async with self._connection.execute(sql, params) as cursor:
            return list(await cursor.fetchall())

    async def schema_version(self) -> int:
        """Return the number of the last migration applied."""
        row = await self.fetchone("SELECT MAX(version) AS version FROM schema_migrations")
        return int(row["version"]) if row and row["version"] is not None else 0

    async def migrate(self) -> int:
        """Apply every migration newer than the schema and return the resulting version."""
        await self.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL)"
        )
        current = await self.schema_version()
        for version, name, sql in _migrations():
            if version <= current:
                continue
            async with self.transaction():
                for statement in _statements(sql):
                    await self.execute(statement)
                await self.execute("INSERT INTO schema_migrations (version, name) VALUES (?, ?)", (version, name))
            log.info("Applied migration %04d %s", version, name)
            current = version
        return current


def _migrations() -> list[tuple[int, str, str]]:
    found = []
    for entry in resources.files("db.migrations").iterdir():
        if entry.name.endswith(".sql"):
            number, _, rest = entry.name.partition("_")
            found.append((int(number), rest.removesuffix(".sql"), entry.read_text(encoding="utf-8")))
    return sorted(found)


def _statements(sql: str) -> list[str]:
    """Split a migration into statements (they contain no semicolons inside literals)."""
    lines = [line for line in sql.splitlines() if not line.strip().startswith("--")]
    return [part.strip() for part in "\n".join(lines).split(";") if part.strip()]
