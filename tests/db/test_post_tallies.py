"""The per-(thread, author) tallies behind the wrap-up: they always agree with the posts they summarise."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import db.dialogues as dialogues_db
import db.posts as posts_db
from bot.domain.models import DialogueDraft, PostStats, State
from db import Database

pytestmark = pytest.mark.both_backends

OPENS = datetime(2026, 12, 1, 13, 0, tzinfo=UTC)
DRAFT = DialogueDraft(
    title="T", framing="", questions=("A?", "B?"), timezone="UTC", opens_at=OPENS, closes_at=OPENS + timedelta(days=2)
)


async def open_dialogue(database: Database, threads: tuple[int, int] = (7001, 7002)) -> int:
    dialogue = await dialogues_db.create(database, 1, 2, DRAFT, OPENS)
    assert await dialogues_db.transition(database, dialogue.id, (State.SCHEDULED,), State.OPEN, OPENS)
    for position, thread_id in enumerate(threads, 1):
        await dialogues_db.set_question_thread(database, dialogue.id, position, thread_id, f"Q{position}", OPENS)
    return dialogue.id


async def counted(database: Database, dialogue_id: int) -> tuple[int, int, dict[int, tuple[int, int]]]:
    """The same figures counted from every live post row."""
    total = await database.fetchone(
        "SELECT COUNT(*) AS n, COUNT(DISTINCT author_id) AS a FROM posts WHERE dialogue_id = ? AND deleted_at IS NULL",
        (dialogue_id,),
    )
    rows = await database.fetchall(
        "SELECT thread_id, COUNT(*) AS n, COUNT(DISTINCT author_id) AS a FROM posts "
        "WHERE dialogue_id = ? AND deleted_at IS NULL AND thread_id IS NOT NULL GROUP BY thread_id",
        (dialogue_id,),
    )
    assert total is not None
    return total["n"], total["a"], {row["thread_id"]: (row["n"], row["a"]) for row in rows}


def tallied(stats: PostStats) -> tuple[int, int, dict[int, tuple[int, int]]]:
    threads = {t.thread_id: (t.posts, t.participants) for t in stats.threads if t.posts}
    return stats.posts, stats.participants, threads


async def record(database: Database, dialogue_id: int, message_id: int, thread_id: int | None, author: int) -> bool:
    return await posts_db.record(
        database,
        message_id=message_id,
        dialogue_id=dialogue_id,
        thread_id=thread_id,
        author_id=author,
        author_name=f"user{author}",
        content="text",
        created_at=OPENS,
        reply_to_id=None,
    )


async def test_tallies_follow_posts_repeats_and_deletions(database: Database) -> None:
    dialogue_id = await open_dialogue(database)
    other = await open_dialogue(database, (8001, 8002))
    threads = {dialogue_id: (7001, 7002, None), other: (8001, 8002, None)}
    chance = random.Random(7)
    for step in range(400):
        message_id = chance.randrange(1, 150)  # repeats: a post arriving live and again at catch-up
        if chance.random() < 0.75:
            dialogue = chance.choice((dialogue_id, other))
            await record(database, dialogue, message_id, chance.choice(threads[dialogue]), chance.randrange(1, 9))
        else:  # an author's deletion or a moderator's purge, sometimes of an unknown or deleted post
            await posts_db.clear(database, chance.sample(range(1, 150), chance.randrange(1, 5)), OPENS)
        if step % 50 == 0:
            await database.execute("DELETE FROM posts WHERE message_id = ?", (chance.randrange(1, 150),))
    for dialogue in (dialogue_id, other):
        assert tallied(await posts_db.stats(database, dialogue)) == await counted(database, dialogue)
    assert (await posts_db.stats(database, dialogue_id)).posts > 0


async def test_the_migration_counts_posts_recorded_before_it(tmp_path: Path) -> None:
    path = tmp_path / "older.sqlite3"
    database = await Database.connect(path)
    dialogue_id = await open_dialogue(database)
    # Back to the schema before the tallies, with posts already recorded there.
    for statement in (
        "DROP TRIGGER post_tallies_on_insert",
        "DROP TRIGGER post_tallies_on_delete",
        "DROP TRIGGER post_tallies_on_remove",
        "DROP TABLE post_tallies",
        "DROP TABLE read_marks",
        "DROP INDEX posts_by_thread_message",
        # Undo 0010 (the dialogues' wake_at) too, to replay it; later migrations stay applied (missing ones run).
        "DROP INDEX dialogues_by_wake",
        "ALTER TABLE dialogues DROP COLUMN wake_at",
        # Only these two: the later migrations (0011 on) stay applied, as their columns were not dropped.
        "DELETE FROM schema_migrations WHERE version IN (9, 10)",
    ):
        await database.execute(statement)
    for message_id, thread_id, author in ((1, 7001, 5), (2, 7001, 6), (3, 7002, 5), (4, None, 7), (5, 7001, 5)):
        await record(database, dialogue_id, message_id, thread_id, author)
    await database.execute("UPDATE posts SET deleted_at = 1 WHERE message_id = 5")
    await database.close()

    database = await Database.connect(path)
    try:
        stats = await posts_db.stats(database, dialogue_id)
        assert tallied(stats) == await counted(database, dialogue_id) == (4, 3, {7001: (2, 2), 7002: (1, 1)})
    finally:
        await database.close()
