"""Migration 0005: seed questions posted before their post was a recorded step of its own."""

from __future__ import annotations

import sqlite3
from importlib import resources
from pathlib import Path

import db.dialogues as dialogues_db
from db import Database


async def test_questions_with_a_thread_count_as_posted_after_the_upgrade(tmp_path: Path) -> None:
    path = tmp_path / "before.sqlite3"
    with sqlite3.connect(path) as raw:
        raw.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL)")
        for entry in sorted(resources.files("db.migrations").iterdir(), key=lambda e: e.name):
            number, _, name = entry.name.partition("_")
            if entry.name.endswith(".sql") and int(number) < 5:
                raw.executescript(entry.read_text(encoding="utf-8"))
                raw.execute("INSERT INTO schema_migrations VALUES (?, ?)", (int(number), name))
        raw.execute(
            "INSERT INTO dialogues (id, guild_id, title, timezone, opens_at, closes_at, state, channel_id, "
            "created_by, created_at, updated_at) VALUES (7, 1, 'T', 'UTC', 0, 100, 'open', 50, 2, 0, 0)"
        )
        raw.execute("INSERT INTO questions VALUES (7, 1, 'Made with its thread?', NULL, 900)")
        raw.execute("INSERT INTO questions VALUES (7, 2, 'Released later?', 500, NULL)")
        raw.execute(
            "INSERT INTO threads (thread_id, dialogue_id, origin, title, created_at) VALUES (900, 7, 'seed', 'M', 3)"
        )
    database = await Database.connect(path)
    try:
        assert await dialogues_db.bot_messages(database, 7, "question") == {1: 0}
        row = await database.fetchone("SELECT channel_id, posted_at FROM bot_messages WHERE kind = 'question'")
        assert (row["channel_id"], row["posted_at"]) == (900, 3)
    finally:
        await database.close()
