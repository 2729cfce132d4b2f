"""A real temporary database holding the fixed sample dialogue."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.domain.models import Dialogue
from db import Database
from tests.record.sample import make_sample


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    connected = await Database.connect(tmp_path / "dialogue.sqlite3")
    try:
        yield connected
    finally:
        await connected.close()


@pytest.fixture
async def sample(database: Database) -> Dialogue:
    return await make_sample(database)
