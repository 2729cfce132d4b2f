"""Summary notices in the database: who is drawn up, once; each notice claimed once; an opt-out withdraws one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

import db.dialogues as dialogues_db
import db.notices as notices_db
import db.posts as posts_db
from bot.domain.models import DialogueDraft, State
from bot.domain.notices import Choice, NoticeState, NoticeTally
from db import Database

pytestmark = pytest.mark.both_backends

OPENS = datetime(2026, 12, 1, 13, 0, tzinfo=UTC)
LATER = OPENS + timedelta(days=3)
DRAFT = DialogueDraft(
    title="T", framing="", questions=("A?",), timezone="UTC", opens_at=OPENS, closes_at=OPENS + timedelta(days=2)
)
BOT = 999
WEBHOOK_AUTHOR = -12345  # a bridged or proxy post's pseudo-author


async def dialogue_with_posts(database: Database, authors: list[int]) -> int:
    dialogue = await dialogues_db.create(database, 1, 2, DRAFT, OPENS)
    assert await dialogues_db.transition(database, dialogue.id, (State.SCHEDULED,), State.OPEN, OPENS)
    await dialogues_db.set_question_thread(database, dialogue.id, 1, 7001, "A?", OPENS)
    for message_id, author in enumerate(authors, 1):
        assert await posts_db.record(
            database,
            message_id=message_id,
            dialogue_id=dialogue.id,
            thread_id=7001,
            author_id=author,
            author_name=f"a{author}",
            content="x",
            created_at=OPENS,
            reply_to_id=None,
        )
    return dialogue.id


async def recipients(database: Database, dialogue_id: int) -> set[int]:
    rows = await database.fetchall("SELECT user_id FROM notices WHERE dialogue_id = ?", (dialogue_id,))
    return {row["user_id"] for row in rows}


async def test_recipients_are_posters_and_askers_minus_opt_outs_pseudo_authors_and_the_bot(database: Database) -> None:
    dialogue_id = await dialogue_with_posts(database, [10, 10, 11, 12, WEBHOOK_AUTHOR, BOT])
    await notices_db.set_choice(database, dialogue_id, 20, Choice.NOTIFY, OPENS)  # asked, never posted
    await notices_db.set_choice(database, dialogue_id, 11, Choice.OPT_OUT, OPENS)  # posted, opted out
    await notices_db.set_choice(database, dialogue_id, 21, Choice.OPT_OUT, OPENS)
    await notices_db.set_choice(database, dialogue_id, 21, Choice.NOTIFY, OPENS)  # changed their mind: the latest wins
    await database.execute("UPDATE posts SET deleted_at = 1 WHERE author_id = 12")  # their only post was deleted

    assert await notices_db.plan(database, dialogue_id, BOT, LATER)
    assert await recipients(database, dialogue_id) == {10, 20, 21}
    assert await notices_db.tally(database, dialogue_id) == NoticeTally(planned=True, pending=3)
    assert await notices_db.choice_counts(database, dialogue_id) == (2, 1)


async def test_recipients_are_drawn_up_once_ever(database: Database) -> None:
    dialogue_id = await dialogue_with_posts(database, [10])
    assert await notices_db.plan(database, dialogue_id, BOT, LATER)
    await notices_db.set_choice(database, dialogue_id, 30, Choice.NOTIFY, LATER)
    assert not await notices_db.plan(database, dialogue_id, BOT, LATER + timedelta(days=1))  # a replaced summary
    assert await recipients(database, dialogue_id) == {10}


async def test_a_notice_is_claimed_once_and_an_opt_out_withdraws_only_one_not_yet_sent(database: Database) -> None:
    dialogue_id = await dialogue_with_posts(database, [10, 11])
    await notices_db.plan(database, dialogue_id, BOT, LATER)
    assert await notices_db.claim(database, dialogue_id, 10, LATER)
    assert not await notices_db.claim(database, dialogue_id, 10, LATER)
    await notices_db.finish(database, dialogue_id, 10, NoticeState.SENT, LATER)
    await notices_db.set_choice(database, dialogue_id, 10, Choice.OPT_OUT, LATER)
    await notices_db.set_choice(database, dialogue_id, 11, Choice.OPT_OUT, LATER)
    assert await notices_db.notice_state(database, dialogue_id, 10) is NoticeState.SENT
    assert await notices_db.notice_state(database, dialogue_id, 11) is NoticeState.SKIPPED
    assert not await notices_db.claim(database, dialogue_id, 11, LATER)
    assert (await notices_db.tally(database, dialogue_id)).finished


async def test_the_progress_counts_notices_owed_and_their_next_batch(database: Database) -> None:
    dialogue_id = await dialogue_with_posts(database, [10, 11])
    await notices_db.plan(database, dialogue_id, BOT, LATER)
    await notices_db.claim(database, dialogue_id, 10, LATER)
    await notices_db.set_resume_at(database, dialogue_id, LATER + timedelta(seconds=10))
    progress = await dialogues_db.progress(database, dialogue_id, LATER)
    assert progress is not None
    assert (progress.notices_pending, progress.notices_resume_at) == (2, LATER + timedelta(seconds=10))


async def test_a_summary_out_with_no_recipients_drawn_up_yet_is_owed_a_wake(database: Database) -> None:
    dialogue_id = await dialogue_with_posts(database, [10])
    await database.execute("UPDATE dialogues SET summary_posted_at = ? WHERE id = ?", (1, dialogue_id))
    before = await dialogues_db.progress(database, dialogue_id, LATER)
    await notices_db.plan(database, dialogue_id, BOT, LATER)
    after = await dialogues_db.progress(database, dialogue_id, LATER)
    assert before is not None and after is not None
    assert (before.notices_unplanned, before.notices_pending) == (True, 0)
    assert (after.notices_unplanned, after.notices_pending) == (False, 1)
