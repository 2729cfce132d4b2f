"""Retention in the record: which transcripts are due, the purge (once, counts kept), counted from the summary."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

import db.dialogues as dialogues_db
import db.posts as posts_db
import db.proxy as proxy_db
import db.retention as retention_db
from bot.domain.models import DialogueDraft, State
from db import Database
from db.timeutil import to_epoch

pytestmark = pytest.mark.both_backends

OPENS = datetime(2026, 12, 1, 13, 0, tzinfo=UTC)
CLOSES = OPENS + timedelta(days=2)
KEEP = timedelta(days=30)
DRAFT = DialogueDraft(title="T", framing="", questions=("A?",), timezone="UTC", opens_at=OPENS, closes_at=CLOSES)


async def dialogue_with_posts(database: Database, first_message: int, *, close: bool = True, lock: bool = True) -> int:
    dialogue = await dialogues_db.create(database, 1, 2, DRAFT, OPENS)
    assert await dialogues_db.transition(database, dialogue.id, (State.SCHEDULED,), State.OPEN, OPENS)
    await dialogues_db.set_question_thread(database, dialogue.id, 1, 9000 + first_message, "A?", OPENS)
    for n in range(3):
        assert await posts_db.record(
            database,
            message_id=first_message + n,
            dialogue_id=dialogue.id,
            thread_id=9000 + first_message,
            author_id=10 + n % 2,
            author_name=f"member{n % 2}",
            content=f"secret words {n}",
            created_at=OPENS + timedelta(hours=n),
            reply_to_id=None,
        )
    if close:
        assert await dialogues_db.transition(database, dialogue.id, (State.OPEN,), State.CLOSED, CLOSES)
    if lock:
        await dialogues_db.mark_locked(database, dialogue.id, CLOSES)
    return dialogue.id


async def texts(database: Database, dialogue_id: int) -> list[str]:
    rows = await database.fetchall(
        "SELECT content FROM posts WHERE dialogue_id = ? ORDER BY message_id", (dialogue_id,)
    )
    return [row["content"] for row in rows]


async def test_the_migration_adds_an_empty_purge_mark(database: Database) -> None:
    dialogue_id = await dialogue_with_posts(database, 100, close=False, lock=False)
    row = await database.fetchone("SELECT transcript_purged_at FROM dialogues WHERE id = ?", (dialogue_id,))
    assert row is not None and row["transcript_purged_at"] is None
    assert await retention_db.retention(database, dialogue_id) == retention_db.Retention(None, None)


async def test_a_closed_locked_dialogue_falls_due_keep_days_after_its_close(database: Database) -> None:
    closed = await dialogue_with_posts(database, 100)
    await dialogue_with_posts(database, 200, close=False, lock=False)  # still open
    await dialogue_with_posts(database, 300, lock=False)  # closed, the lock not yet in place: posts may arrive

    assert await retention_db.next_due(database, KEEP) == CLOSES + KEEP
    assert await retention_db.due(database, CLOSES + KEEP - timedelta(seconds=1), KEEP) == []
    assert await retention_db.due(database, CLOSES + KEEP, KEEP) == [closed]
    assert (await retention_db.retention(database, closed)).counted_from == CLOSES


async def test_the_purge_empties_the_texts_once_and_keeps_the_counts(database: Database) -> None:
    purged = await dialogue_with_posts(database, 100)
    kept = await dialogue_with_posts(database, 200)
    before = await posts_db.stats(database, purged)
    when = CLOSES + KEEP

    assert await retention_db.purge(database, purged, when) == 3
    assert await texts(database, purged) == ["", "", ""]
    assert await texts(database, kept) == ["secret words 0", "secret words 1", "secret words 2"]
    assert await posts_db.stats(database, purged) == before
    assert (await retention_db.retention(database, purged)).purged_at == when
    # Compare-and-set: a second purge (a restart racing the first) changes nothing, and the dialogue is no longer due.
    assert await retention_db.purge(database, purged, when + timedelta(days=1)) is None
    assert (await retention_db.retention(database, purged)).purged_at == when
    assert await retention_db.due(database, when + timedelta(days=400), KEEP) == [kept]
    assert await retention_db.next_due(database, KEEP) == CLOSES + KEEP


async def test_an_open_dialogue_is_never_purged(database: Database) -> None:
    still_open = await dialogue_with_posts(database, 100, close=False, lock=False)
    assert await retention_db.purge(database, still_open, CLOSES + KEEP) is None
    assert await texts(database, still_open) == ["secret words 0", "secret words 1", "secret words 2"]
    assert await retention_db.next_due(database, KEEP) is None


async def test_once_summaries_exist_retention_counts_from_the_summary(database: Database) -> None:
    with_summary = await dialogue_with_posts(database, 100)
    without = await dialogue_with_posts(database, 200)
    summary_at = CLOSES + timedelta(days=10)
    await database.execute(
        "UPDATE dialogues SET summary_posted_at = ? WHERE id = ?", (to_epoch(summary_at), with_summary)
    )
    assert await retention_db.due(database, CLOSES + KEEP, KEEP) == [without]
    assert await retention_db.due(database, summary_at + KEEP, KEEP) == [without, with_summary]
    assert (await retention_db.retention(database, with_summary)).counted_from == summary_at


async def test_the_purge_takes_attachment_links_with_the_text(database: Database) -> None:
    purged = await dialogue_with_posts(database, 100)
    kept = await dialogue_with_posts(database, 200)
    for message_id in (100, 101, 200):
        await database.execute(
            "INSERT INTO post_attachments (message_id, position, filename, url) VALUES (?, 0, 'id-card.jpg', ?)",
            (message_id, f"https://cdn.discordapp.com/attachments/1/{message_id}/id-card.jpg"),
        )
    assert await retention_db.purge(database, purged, CLOSES + KEEP) == 3
    rows = await database.fetchall("SELECT message_id FROM post_attachments ORDER BY message_id")
    assert [row["message_id"] for row in rows] == [200]
    assert kept != purged


async def test_the_purge_empties_the_text_kept_for_posts_on_someones_behalf(database: Database) -> None:
    purged = await dialogue_with_posts(database, 100, close=False, lock=False)
    kept = await dialogue_with_posts(database, 200)
    for dialogue_id, message_id in ((purged, 150), (kept, 250)):
        entry = await proxy_db.add(database, dialogue_id, 9000 + message_id - 50, "Amina", "emailed words", 7, OPENS)
        await proxy_db.mark_posted(database, entry.id, message_id)
    assert await dialogues_db.transition(database, purged, (State.OPEN,), State.CLOSED, CLOSES)
    await dialogues_db.mark_locked(database, purged, CLOSES)

    assert await retention_db.purge(database, purged, CLOSES + KEEP) == 3
    rows = await database.fetchall("SELECT dialogue_id, name, content FROM proxy_posts ORDER BY dialogue_id")
    # The text goes with the post's; the name stays, like the author of every purged post.
    assert [(row["dialogue_id"], row["name"], row["content"]) for row in rows] == [
        (purged, "Amina", ""),
        (kept, "Amina", "emailed words"),
    ]


async def test_the_purge_empties_the_surveys_written_answers_and_keeps_its_ratings(database: Database) -> None:
    purged = await dialogue_with_posts(database, 100)
    kept = await dialogue_with_posts(database, 200)
    for row_id, dialogue_id in ((1, purged), (2, kept)):
        await database.execute(
            "INSERT INTO survey_responses (id, dialogue_id, respondent, rating, answer_1, answer_2) "
            "VALUES (?, ?, NULL, 4, 'what helped', 'what to change')",
            (row_id, dialogue_id),
        )
    assert await retention_db.purge(database, purged, CLOSES + KEEP) == 3
    rows = await database.fetchall(
        "SELECT dialogue_id, rating, answer_1, answer_2 FROM survey_responses ORDER BY dialogue_id"
    )
    assert [tuple(row) for row in rows] == [(purged, 4, "", ""), (kept, 4, "what helped", "what to change")]
