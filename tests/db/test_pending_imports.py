"""Plan imports held for an answer: stored with their text, taken once, removed when they expire."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

import db.plans as plans_db
from db import Database

pytestmark = pytest.mark.both_backends

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


@pytest.fixture
async def database(db_location: str) -> AsyncIterator[Database]:
    database = await Database.connect(db_location)
    yield database
    await database.close()


async def test_a_held_import_round_trips_and_is_taken_only_once(database: Database) -> None:
    held = await plans_db.add_pending(database, 1, 2, "[dialogue]\ntitle = 'é'\n", NOW, NOW + timedelta(hours=1))
    assert await plans_db.get_pending(database, held.id) == held
    assert held.plan_text == "[dialogue]\ntitle = 'é'\n" and held.expires_at == NOW + timedelta(hours=1)
    assert await plans_db.take_pending(database, held.id)
    assert not await plans_db.take_pending(database, held.id)  # a second press finds nothing
    assert await plans_db.get_pending(database, held.id) is None


async def test_expired_imports_are_removed(database: Database) -> None:
    old = await plans_db.add_pending(database, 1, 2, "old", NOW, NOW + timedelta(hours=1))
    new = await plans_db.add_pending(database, 1, 2, "new", NOW + timedelta(minutes=30), NOW + timedelta(hours=2))
    assert await plans_db.remove_expired(database, NOW + timedelta(hours=1)) == 1
    assert await plans_db.get_pending(database, old.id) is None
    assert await plans_db.get_pending(database, new.id) == new
