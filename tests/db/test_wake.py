"""The dialogues' wake-ups in the record: stored with each row, read by an index, resumed in one statement."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

import db.dialogues as dialogues_db
from bot.domain.models import DialogueDraft, State
from db import Database
from db.connection import _migrations, _statements

pytestmark = pytest.mark.both_backends

NOW = datetime(2026, 11, 27, 18, 0, tzinfo=UTC)
OPENS = datetime(2026, 12, 1, 13, 0, tzinfo=UTC)
CLOSES = OPENS + timedelta(days=5)


def draft(opens: datetime = OPENS, releases: tuple[datetime | None, ...] = ()) -> DialogueDraft:
    return DialogueDraft(
        title="Defenders and the HRC",
        framing="",
        questions=("First?", "Second?", "Third?"),
        timezone="UTC",
        opens_at=opens,
        closes_at=opens + timedelta(days=5),
        releases=releases,
    )


async def in_state(database: Database, state: State, *, channel: int | None = None, opens: datetime = OPENS) -> int:
    """A dialogue moved to ``state`` by the same compare-and-set updates the services use."""
    dialogue = await dialogues_db.create(database, 1, 2, draft(opens), NOW)
    path = {
        State.SCHEDULED: [],
        State.OPEN: [(State.SCHEDULED, State.OPEN)],
        State.FAILED: [(State.SCHEDULED, State.OPEN), (State.OPEN, State.FAILED)],
        State.CLOSED: [(State.SCHEDULED, State.OPEN), (State.OPEN, State.CLOSED)],
        State.CANCELLED: [(State.SCHEDULED, State.CANCELLED)],
        State.MISSED: [(State.SCHEDULED, State.MISSED)],
    }[state]
    for source, target in path:
        assert await dialogues_db.transition(database, dialogue.id, (source,), target, NOW)
    if channel is not None:
        await dialogues_db.set_channel(database, dialogue.id, channel, NOW)
    return dialogue.id


async def test_a_new_dialogue_is_stored_due_at_its_opening(database: Database) -> None:
    dialogue = await dialogues_db.create(database, 1, 2, draft(), NOW)
    assert await dialogues_db.wake_at(database, dialogue.id) == OPENS
    assert await dialogues_db.earliest_wake(database) == OPENS


async def test_due_rows_come_earliest_first_in_batches_and_never_later_ones(database: Database) -> None:
    ids = [await in_state(database, State.SCHEDULED, opens=OPENS + timedelta(hours=hour)) for hour in (3, 1, 2, 9)]
    assert await dialogues_db.earliest_wake(database) == OPENS + timedelta(hours=1)
    at_two = OPENS + timedelta(hours=2)
    assert await dialogues_db.due_for_wake(database, at_two, 10) == [ids[1], ids[2]]
    assert await dialogues_db.due_for_wake(database, OPENS + timedelta(hours=3), 2) == [ids[1], ids[2]]
    assert await dialogues_db.due_for_wake(database, OPENS, 10) == []
    await dialogues_db.set_wake(database, ids[1], None)  # never due again
    assert await dialogues_db.due_for_wake(database, at_two, 10) == [ids[2]]
    assert await dialogues_db.earliest_wake(database) == at_two


async def test_nothing_stored_means_no_wake(database: Database) -> None:
    assert await dialogues_db.earliest_wake(database) is None
    assert await dialogues_db.due_for_wake(database, NOW, 10) == []


async def test_the_earliest_release_is_a_later_question_without_a_thread(database: Database) -> None:
    second, third = OPENS + timedelta(days=1), OPENS + timedelta(days=2)
    dialogue = await dialogues_db.create(database, 1, 2, draft(releases=(None, second, third)), NOW)
    assert await dialogues_db.earliest_release(database, dialogue.id, OPENS) == second
    assert await dialogues_db.earliest_release(database, dialogue.id, second) == third  # strictly later
    await dialogues_db.set_question_thread(database, dialogue.id, 3, 9003, "Third?", NOW)
    assert await dialogues_db.earliest_release(database, dialogue.id, second) is None


async def test_resume_makes_open_and_unfinished_closings_due_and_nothing_else(database: Database) -> None:
    opened = await in_state(database, State.OPEN, channel=501)
    unlocked = await in_state(database, State.CLOSED, channel=502)
    done = await in_state(database, State.CLOSED, channel=503)
    await dialogues_db.mark_locked(database, done, NOW)
    await dialogues_db.set_wrapup_parts(database, done, 1)
    await dialogues_db.add_bot_message(database, done, "wrapup", 0, 503, 7, NOW)
    no_channel = await in_state(database, State.CLOSED)  # nothing was made: nothing to close
    thread_open = await in_state(database, State.CLOSED, channel=504)
    await dialogues_db.mark_locked(database, thread_open, NOW)
    await dialogues_db.set_wrapup_parts(database, thread_open, 1)
    await dialogues_db.add_bot_message(database, thread_open, "wrapup", 0, 504, 8, NOW)
    await dialogues_db.add_thread(database, thread_open, 9504, "seed", "First?", 9504, NOW)
    others = [await in_state(database, state) for state in (State.SCHEDULED, State.FAILED, State.CANCELLED)]
    for dialogue_id in [opened, unlocked, done, no_channel, thread_open, *others]:
        await dialogues_db.set_wake(database, dialogue_id, None)

    later = OPENS + timedelta(days=1)
    assert await dialogues_db.resume_all(database, later) == 3
    assert await dialogues_db.due_for_wake(database, later, 10) == [opened, unlocked, thread_open]


@pytest.mark.sqlite_only  # reads SQLite's query plans through its trace callback
async def test_the_timers_queries_read_the_wake_index(database: Database) -> None:
    ids = [await in_state(database, State.SCHEDULED, opens=OPENS + timedelta(hours=hour)) for hour in range(20)]
    statements: list[str] = []
    await database._connection.set_trace_callback(statements.append)
    try:
        assert await dialogues_db.earliest_wake(database, {ids[0]}) == OPENS + timedelta(hours=1)
        assert await dialogues_db.due_for_wake(database, OPENS + timedelta(hours=2), 5, {ids[1]}) == [ids[0], ids[2]]
    finally:
        await database._connection.set_trace_callback(None)
    assert len(statements) == 2
    for sql in statements:  # as run, with their values
        plan = " | ".join(row["detail"] for row in await database.fetchall("EXPLAIN QUERY PLAN " + sql))
        assert "dialogues_by_wake" in plan, plan
        assert "SCAN dialogues" not in plan.replace("SCAN dialogues USING", ""), plan


async def test_the_migration_derives_the_wake_up_of_dialogues_stored_before_it(database: Database) -> None:
    scheduled = await in_state(database, State.SCHEDULED)
    failed = await in_state(database, State.FAILED)
    opened = await in_state(database, State.OPEN)
    closing = await in_state(database, State.CLOSED, channel=601)
    closed = await in_state(database, State.CLOSED)  # no channel: complete
    cancelled = await in_state(database, State.CANCELLED)
    # Back to the schema before 0010, then apply 0010 as the migration would.
    await database.execute("DROP INDEX dialogues_by_wake")
    await database.execute("ALTER TABLE dialogues DROP COLUMN wake_at")
    (migration,) = [m for m in _migrations() if m.version == 10]
    async with database.transaction():
        for statement in _statements(migration.sql):
            await database.execute(statement)

    wakes = {
        i: await dialogues_db.wake_at(database, i) for i in (scheduled, failed, opened, closing, closed, cancelled)
    }
    assert wakes == {
        scheduled: OPENS,
        failed: CLOSES,
        opened: CLOSES,
        closing: NOW,  # its last update: due at once
        closed: None,
        cancelled: None,
    }
