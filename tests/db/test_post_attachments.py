"""Attachment links of recorded posts: migration 0015, the round trip, and what a deletion takes with it."""

from __future__ import annotations

from pathlib import Path

import pytest

import db.posts as posts_db
import db.record as record_db
from bot.domain.models import Attachment
from db import Database
from tests.record.sample import OPENS, make_sample

pytestmark = pytest.mark.both_backends

PDF = Attachment("plan.pdf", "https://cdn.example/plan.pdf", "application/pdf", 2048)
PNG = Attachment("map.png", "https://cdn.example/map.png", None, 0)


async def test_attachments_round_trip_in_order(database: Database) -> None:
    dialogue = await make_sample(database)
    await database.execute("UPDATE dialogues SET state = 'open', locked_at = NULL WHERE id = ?", (dialogue.id,))
    assert await posts_db.record(
        database,
        message_id=9001,
        dialogue_id=dialogue.id,
        thread_id=5001,
        author_id=1001,
        author_name="Alice",
        content="two files",
        created_at=OPENS,
        reply_to_id=None,
        attachments=(PDF, PNG),
    )
    found = await record_db.attachments(database, [9001, 7001, 7004])
    assert found[9001] == (PDF, PNG)
    assert 7001 not in found
    assert found[7004][0].filename == "plan.pdf"


async def test_a_deleted_post_loses_its_attachments(database: Database) -> None:
    await make_sample(database)
    assert await posts_db.clear(database, [7004], OPENS) == 1
    assert await record_db.attachments(database, [7004]) == {}


async def test_migration_0015_applies_to_a_database_without_it(tmp_path: Path) -> None:
    path = tmp_path / "older.sqlite3"
    database = await Database.connect(path)
    await database.execute("DROP TABLE post_attachments")
    await database.execute("DELETE FROM schema_migrations WHERE version = 15")
    await database.close()
    database = await Database.connect(path)
    try:
        assert await database.fetchone("SELECT name FROM schema_migrations WHERE version = 15") is not None
        assert await database.fetchall("SELECT * FROM post_attachments") == []
    finally:
        await database.close()
