"""The PostgreSQL implementation of ``Database``, over an asyncpg connection pool.

The statements in ``db/`` are written once, portably, with ``?`` placeholders; ``adapt`` turns them into
asyncpg's ``$1..$n`` here and nowhere else. Migrations take ``db/migrations/postgresql/NNNN_*.sql`` instead of
``db/migrations/NNNN_*.sql`` where that file exists (SQLite triggers, FTS5, row ids).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import Any

import asyncpg

from .connection import Database, Params, Row, _migrations, mask_url

__all__ = ("PostgresDatabase", "adapt")

log = logging.getLogger(__name__)

# A migration's version row is written by every process that starts; this lock keeps two from racing.
_MIGRATION_LOCK = 0x6469616C  # "dial"
_COUNT = re.compile(r"(\d+)$")


@functools.lru_cache(maxsize=1024)
def adapt(sql: str) -> str:
    """Turn ``?`` placeholders into ``$1..$n``, leaving quoted literals and identifiers alone."""
    out: list[str] = []
    number = 0
    quote: str | None = None
    for char in sql:
        if quote is not None:
            if char == quote:
                quote = None
        elif char in "'\"":
            quote = char
        elif char == "?":
            number += 1
            out.append(f"${number}")
            continue
        out.append(char)
    return "".join(out)


def _changed(status: str) -> int:
    """Rows a statement changed, from its command tag ("UPDATE 3", "INSERT 0 1"); 0 for BEGIN and the like."""
    found = _COUNT.search(status)
    return int(found.group(1)) if found else 0


class PostgresDatabase(Database):
    """The bot's storage on a PostgreSQL server: statements run on a pool, a transaction on one connection."""

    dialect = "postgresql"
    integrity_errors = (asyncpg.IntegrityConstraintViolationError,)

    def __init__(self, pool: asyncpg.Pool, url: str) -> None:
        # Not Database.__init__: there is no SQLite connection here.
        self._pool = pool
        self.path = mask_url(url)
        # The task whose transaction is open, and its connection: statements of that task (and nested
        # transaction() blocks) run on it; other tasks take their own connection from the pool.
        self._held: dict[asyncio.Task[Any], asyncpg.Connection] = {}

    @classmethod
    async def open(cls, url: str) -> PostgresDatabase:
        """Connect to the server at ``url`` and apply pending migrations."""
        pool = await asyncpg.create_pool(url, min_size=1, max_size=10, command_timeout=60)
        database = cls(pool, url)
        try:
            await database.migrate()
        except BaseException:
            await pool.close()
            raise
        return database

    async def close(self) -> None:
        """Close every connection of the pool."""
        await self._pool.close()

    @asynccontextmanager
    async def _use(self) -> AsyncIterator[asyncpg.Connection]:
        """The current task's transaction connection, or one from the pool for a single statement."""
        task = asyncio.current_task()
        held = self._held.get(task) if task is not None else None
        if held is not None:
            yield held
            return
        async with self._pool.acquire() as connection:
            yield connection

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Database]:
        """Run the enclosed statements atomically on one connection; nested uses join the outer transaction."""
        task = asyncio.current_task()
        assert task is not None
        if task in self._held:
            yield self
            return
        async with self._pool.acquire() as connection:
            self._held[task] = connection
            try:
                async with connection.transaction():
                    yield self
            finally:
                del self._held[task]

    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run one statement and return how many rows it changed."""
        async with self._use() as connection:
            return _changed(await connection.execute(adapt(sql), *params))

    async def returning(self, sql: str, params: Params = ()) -> list[Row]:
        """Run one statement and return the rows it returns."""
        async with self._use() as connection:
            return list(await connection.fetch(adapt(sql), *params))

    async def insert(self, sql: str, params: Params = ()) -> int:
        """Run an INSERT into a table with an ``id`` identity column and return the new row's id."""
        async with self._use() as connection:
            value = await connection.fetchval(adapt(sql) + " RETURNING id", *params)
            return int(value)

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        """Run one statement for each parameter row."""
        batch = [tuple(row) for row in rows]
        if not batch:
            return
        async with self._use() as connection:
            await connection.executemany(adapt(sql), batch)

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        """Return the first row of a query, or None."""
        async with self._use() as connection:
            row: Row | None = await connection.fetchrow(adapt(sql), *params)
            return row

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        """Return every row of a query."""
        async with self._use() as connection:
            return list(await connection.fetch(adapt(sql), *params))

    async def migrate(self) -> int:
        """Apply every migration not applied yet (PostgreSQL variants first), under a lock between processes."""
        async with self._pool.acquire() as connection:
            await connection.execute("SELECT pg_advisory_lock($1)", _MIGRATION_LOCK)
            try:
                await connection.execute(
                    "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL)"
                )
                applied = {row["version"] for row in await connection.fetch("SELECT version FROM schema_migrations")}
                for migration in _migrations(self.dialect):
                    if migration.version in applied:
                        continue
                    async with connection.transaction():
                        # No parameters: the simple protocol runs the whole file, function bodies included.
                        await connection.execute(migration.sql)
                        await connection.execute(
                            "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                            migration.version,
                            migration.name,
                        )
                    log.info("Applied migration %04d %s", migration.version, migration.name)
            finally:
                await connection.execute("SELECT pg_advisory_unlock($1)", _MIGRATION_LOCK)
        return await self.schema_version()
