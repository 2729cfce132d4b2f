"""The summary's record (migration 0011): after_close, the comments' safety limit, revisions, parts, posted_at."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

import db.dialogues as dialogues_db
import db.summaries as summaries_db
from bot.domain.models import AfterClose, DialogueDraft
from db import Database

pytestmark = pytest.mark.both_backends

OPENS = datetime(2026, 12, 1, 13, 0, tzinfo=UTC)
CLOSES = OPENS + timedelta(days=2)
DRAFT = DialogueDraft(
    title="T",
    framing="",
    questions=("A?",),
    timezone="UTC",
    opens_at=OPENS,
    closes_at=CLOSES,
    after_close=AfterClose.COMMENTS_UNTIL_SUMMARY,
)


async def test_after_close_and_the_comments_limit_round_trip(database: Database) -> None:
    dialogue = await dialogues_db.create(database, 1, 2, DRAFT, OPENS)
    assert dialogue.after_close is AfterClose.COMMENTS_UNTIL_SUMMARY and dialogue.comments_until is None
    limit = CLOSES + timedelta(days=30)
    await dialogues_db.set_comments_until(database, dialogue.id, limit)
    await dialogues_db.set_comments_until(database, dialogue.id, limit + timedelta(days=1))  # fixed once
    stored = await dialogues_db.get(database, dialogue.id)
    assert stored is not None and stored.comments_until == limit


async def test_a_summary_is_posted_part_by_part_and_a_replacement_starts_a_new_revision(database: Database) -> None:
    dialogue = await dialogues_db.create(database, 1, 2, DRAFT, OPENS)
    assert await summaries_db.get(database, dialogue.id) is None
    first = await summaries_db.begin(database, dialogue.id, "What we heard.", 2, CLOSES)
    for part in (0, 1):
        await summaries_db.record_part(database, dialogue.id, part, 55, 700 + part, first, CLOSES)
    await summaries_db.mark_pinned(database, dialogue.id, 700)
    assert await summaries_db.complete(database, dialogue.id, first, CLOSES)
    assert not await summaries_db.complete(database, dialogue.id, first, CLOSES)  # once
    recorded = await summaries_db.get(database, dialogue.id)
    assert recorded is not None
    assert (recorded.text, recorded.revision, recorded.parts, recorded.pinned_id) == ("What we heard.", first, 2, 700)
    assert recorded.posted_at is not None
    stored = await dialogues_db.get(database, dialogue.id)
    assert stored is not None and stored.summary_posted_at == CLOSES

    second = await summaries_db.begin(database, dialogue.id, "What we heard, revised.", 1, CLOSES)
    assert second == first + 1
    replaced = await summaries_db.get(database, dialogue.id)
    assert replaced is not None and replaced.posted_at is None and replaced.parts == 1
    assert not await summaries_db.complete(database, dialogue.id, first, CLOSES)  # an old revision never completes
    await summaries_db.record_part(database, dialogue.id, 0, 55, 700, second, CLOSES)
    await summaries_db.forget_part(database, dialogue.id, 1)
    parts = await summaries_db.parts(database, dialogue.id)
    assert [(p.part, p.message_id, p.revision) for p in parts.values()] == [(0, 700, second)]
