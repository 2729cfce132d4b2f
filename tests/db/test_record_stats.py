"""The chart's queries: live posts per thread per quarter hour, public threads in order, and who posted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

import db.dialogues as dialogues_db
import db.posts as posts_db
import db.record_stats as record_stats_db
from bot.domain.activity import ActivityCount, ThreadLabel
from bot.domain.models import DialogueDraft, State, ThreadOrigin
from db import Database

pytestmark = pytest.mark.both_backends

OPENS = datetime(2026, 12, 1, 13, 0, tzinfo=UTC)
DRAFT = DialogueDraft(
    title="T", framing="", questions=("A?", "B?"), timezone="UTC", opens_at=OPENS, closes_at=OPENS + timedelta(days=2)
)


async def post(database: Database, dialogue_id: int, message_id: int, thread_id: int | None, at: datetime) -> None:
    author = 10 + message_id % 2
    assert await posts_db.record(
        database,
        message_id=message_id,
        dialogue_id=dialogue_id,
        thread_id=thread_id,
        author_id=author,
        author_name=f"name{author}",
        content="text",
        created_at=at,
        reply_to_id=None,
    )


async def test_counts_per_thread_per_quarter_hour_leave_deleted_posts_out(database: Database) -> None:
    dialogue = await dialogues_db.create(database, 1, 2, DRAFT, OPENS)
    assert await dialogues_db.transition(database, dialogue.id, (State.SCHEDULED,), State.OPEN, OPENS)
    await dialogues_db.set_question_thread(database, dialogue.id, 1, 7001, "A?", OPENS)
    await dialogues_db.set_question_thread(database, dialogue.id, 2, 7002, "B?", OPENS + timedelta(seconds=1))
    await dialogues_db.add_thread(database, dialogue.id, 7003, ThreadOrigin.LEADERS, "Leaders", None, OPENS)
    await post(database, dialogue.id, 1, 7001, OPENS + timedelta(minutes=1))
    await post(database, dialogue.id, 2, 7001, OPENS + timedelta(minutes=14, seconds=59))
    await post(database, dialogue.id, 3, 7001, OPENS + timedelta(minutes=15))
    await post(database, dialogue.id, 4, 7002, OPENS + timedelta(days=1))
    await post(database, dialogue.id, 5, None, OPENS)
    await post(database, dialogue.id, 6, 7002, OPENS + timedelta(days=1))
    await posts_db.clear(database, [6], OPENS + timedelta(days=1))

    counts = sorted(
        await record_stats_db.activity_counts(database, dialogue.id), key=lambda c: (c.start, c.thread_id or 0)
    )
    assert counts == [
        ActivityCount(None, OPENS, 1),
        ActivityCount(7001, OPENS, 2),
        ActivityCount(7001, OPENS + timedelta(minutes=15), 1),
        ActivityCount(7002, OPENS + timedelta(days=1), 1),
    ]
    assert await record_stats_db.thread_titles(database, dialogue.id) == [
        ThreadLabel(7001, "A?"),
        ThreadLabel(7002, "B?"),
    ]
    # The deleted post's name is gone with its text; everyone else in order of their first post.
    assert await record_stats_db.authors(database, dialogue.id) == [(11, "name11"), (10, "name10")]
