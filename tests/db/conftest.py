"""The storage tests' database: connected at the test's location (SQLite, or PostgreSQL for ``both_backends``)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from db import Database


@pytest.fixture
async def database(db_location: str) -> AsyncIterator[Database]:
    connected = await Database.connect(db_location)
    try:
        yield connected
    finally:
        await connected.close()
