"""Storage against a real SQLite file: migrations, round-trips, compare-and-set, statistics."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path

import pytest

import db.dialogues as dialogues_db
import db.posts as posts_db
from bot.domain.models import Dialogue, DialogueDraft, PostStats, Question, State, ThreadStats
from db import Database
from tests.conftest import table_names

pytestmark = pytest.mark.both_backends

NOW = datetime(2026, 11, 27, 18, 0, tzinfo=UTC)
OPENS = datetime(2026, 12, 1, 13, 0, tzinfo=UTC)
CLOSES = OPENS + timedelta(days=5)
GUILD = 111
FACILITATOR = 42

DRAFT = DialogueDraft(
    title="Defenders and the HRC",
    framing="Why engage?",
    questions=("What has engagement added?", "What did it cost?", "What next?"),
    timezone="Europe/Zurich",
    opens_at=OPENS,
    closes_at=CLOSES,
)


async def create(database: Database, draft: DialogueDraft = DRAFT) -> Dialogue:
    return await dialogues_db.create(database, GUILD, FACILITATOR, draft, NOW)


def migration_files() -> list[str]:
    return sorted(entry.name for entry in resources.files("db.migrations").iterdir() if entry.name.endswith(".sql"))


def latest_version() -> int:
    return int(migration_files()[-1].partition("_")[0])


# ----- migrations ------------------------------------------------------------------------------------


async def test_migrations_from_empty_to_latest(db_location: str, backend: str) -> None:
    # On SQLite, in a folder that does not exist yet; on PostgreSQL, an empty database.
    path = Path(db_location).parent / "nested" / "dir" / "fresh.sqlite3" if backend == "sqlite" else None
    assert path is None or not path.exists()
    database = await Database.connect(path or db_location)
    try:
        files = migration_files()
        assert files[0] == "0001_init.sql"
        # Numbered from 1, each number once (helpers working in parallel each take their own number).
        numbers = [int(name.partition("_")[0]) for name in files]
        assert numbers == sorted(set(numbers)) and numbers[0] == 1
        assert await database.schema_version() == numbers[-1]
        rows = await database.fetchall("SELECT version, name FROM schema_migrations ORDER BY version")
        assert [(row["version"], row["name"]) for row in rows] == [
            (int(name.partition("_")[0]), name.partition("_")[2].removesuffix(".sql")) for name in files
        ]
        tables = await table_names(database)
        assert {"dialogues", "questions", "threads", "posts", "bot_messages", "schema_migrations"} <= tables
        if backend == "sqlite":
            assert (await database.fetchone("PRAGMA journal_mode"))[0] == "wal"
            assert (await database.fetchone("PRAGMA foreign_keys"))[0] == 1
    finally:
        await database.close()
    assert path is None or path.exists()


async def test_reconnecting_applies_nothing_twice(db_location: str) -> None:
    path = db_location
    first = await Database.connect(path)
    dialogue = await create(first)
    await first.close()

    second = await Database.connect(path)
    try:
        assert await second.schema_version() == latest_version()
        count = await second.fetchone("SELECT COUNT(*) AS n FROM schema_migrations")
        assert count["n"] == len(migration_files())
        assert await second.migrate() == latest_version()
        assert await dialogues_db.get(second, dialogue.id) == dialogue
    finally:
        await second.close()


async def test_migrate_continues_from_an_older_schema(tmp_path: Path) -> None:
    """A database stopped at version 1 gets exactly the later migrations."""
    path = tmp_path / "old.sqlite3"
    init = (resources.files("db.migrations") / "0001_init.sql").read_text(encoding="utf-8")
    with sqlite3.connect(path) as raw:
        raw.executescript(init)
        raw.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL)")
        raw.execute("INSERT INTO schema_migrations VALUES (1, 'init')")
    database = await Database.connect(path)
    try:
        assert await database.schema_version() == latest_version()
        rows = await database.fetchall("SELECT version FROM schema_migrations ORDER BY version")
        assert [row["version"] for row in rows] == [int(name.partition("_")[0]) for name in migration_files()]
    finally:
        await database.close()


async def test_a_migration_numbered_below_one_already_applied_still_runs(tmp_path: Path) -> None:
    """Two branches merged in either order: a database that has 0001 and 0003 but not 0002 gets 0002."""
    path = tmp_path / "gap.sqlite3"
    sql = {name: (resources.files("db.migrations") / name).read_text(encoding="utf-8") for name in migration_files()}
    with sqlite3.connect(path) as raw:
        raw.executescript(sql["0001_init.sql"])
        raw.executescript(sql["0003_plan_settings.sql"])
        raw.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL)")
        raw.execute("INSERT INTO schema_migrations VALUES (1, 'init'), (3, 'plan_settings')")
    database = await Database.connect(path)
    try:
        rows = await database.fetchall("SELECT version FROM schema_migrations ORDER BY version")
        assert [row["version"] for row in rows] == [int(name.partition("_")[0]) for name in migration_files()]
        tables = {row["name"] for row in await database.fetchall("SELECT name FROM sqlite_master WHERE type='table'")}
        assert {"leaders", "reminders", "members"} <= tables  # made by 0002
    finally:
        await database.close()


async def test_in_memory_database_migrates(tmp_path: Path) -> None:
    database = await Database.connect(":memory:")
    try:
        assert await database.schema_version() == latest_version()
    finally:
        await database.close()


async def test_a_file_that_is_not_a_database_is_refused_without_leaking_the_connection(tmp_path: Path) -> None:
    path = tmp_path / "not-a-database.sqlite3"
    path.write_bytes(b"this is not an SQLite file, just some text that is long enough to have a header" * 4)
    threads_before = set(threading.enumerate())
    with pytest.raises(sqlite3.DatabaseError, match="file is not a database"):
        await Database.connect(path)
    # aiosqlite runs each connection on its own thread: a leaked one would keep the process alive.
    started = [thread for thread in threading.enumerate() if thread not in threads_before]
    for thread in started:
        thread.join(timeout=5)
    assert not [thread for thread in started if thread.is_alive()]


# ----- dialogues and questions -----------------------------------------------------------------------


async def test_create_and_get_round_trip(database: Database) -> None:
    dialogue = await create(database)
    assert dialogue == Dialogue(
        id=dialogue.id,
        guild_id=GUILD,
        title="Defenders and the HRC",
        framing="Why engage?",
        timezone="Europe/Zurich",
        opens_at=OPENS,
        closes_at=CLOSES,
        state=State.SCHEDULED,
        failure_reason=None,
        channel_id=None,
        created_by=FACILITATOR,
        created_at=NOW,
    )
    assert await dialogues_db.get(database, dialogue.id) == dialogue
    assert dialogue.opens_at.tzinfo is not None
    assert dialogue.duration == timedelta(days=5)


async def test_get_unknown_is_none(database: Database) -> None:
    assert await dialogues_db.get(database, 999) is None


async def test_questions_round_trip_in_order(database: Database) -> None:
    dialogue = await create(database)
    assert await dialogues_db.questions(database, dialogue.id) == [
        Question(dialogue.id, 1, "What has engagement added?", None, None),
        Question(dialogue.id, 2, "What did it cost?", None, None),
        Question(dialogue.id, 3, "What next?", None, None),
    ]


async def test_staged_question_release_round_trips(database: Database) -> None:
    later = OPENS + timedelta(days=2)
    dialogue = await create(
        database, DialogueDraft("Staged", "", ("First?", "Second?"), "UTC", OPENS, CLOSES, releases=(None, later))
    )
    stored = await dialogues_db.questions(database, dialogue.id)
    assert [q.release_at for q in stored] == [None, later]


async def test_create_is_atomic(database: Database) -> None:
    """Mismatched releases fail after the dialogue row is inserted: nothing must remain."""
    bad = DialogueDraft("Broken", "", ("One?",), "UTC", OPENS, CLOSES, releases=(None, None))
    with pytest.raises(ValueError):
        await create(database, bad)
    assert (await database.fetchone("SELECT COUNT(*) AS n FROM dialogues"))["n"] == 0
    assert (await database.fetchone("SELECT COUNT(*) AS n FROM questions"))["n"] == 0


async def test_in_guild_newest_first_and_in_states(database: Database) -> None:
    first = await create(database)
    second = await create(database)
    other = await dialogues_db.create(database, 222, FACILITATOR, DRAFT, NOW)
    assert [d.id for d in await dialogues_db.in_guild(database, GUILD)] == [second.id, first.id]
    assert await dialogues_db.transition(database, first.id, [State.SCHEDULED], State.OPEN, OPENS)
    opened = await dialogues_db.in_states(database, [State.OPEN])
    assert [d.id for d in opened] == [first.id]
    scheduled = await dialogues_db.in_states(database, [State.SCHEDULED, State.FAILED])
    assert [d.id for d in scheduled] == [second.id, other.id]


async def test_set_channel_and_by_channel(database: Database) -> None:
    dialogue = await create(database)
    await dialogues_db.set_channel(database, dialogue.id, 5555, OPENS)
    found = await dialogues_db.by_channel(database, 5555)
    assert found is not None
    assert found.id == dialogue.id
    assert found.channel_id == 5555
    assert await dialogues_db.by_channel(database, 6666) is None


async def test_set_closes_at_only_in_given_states(database: Database) -> None:
    dialogue = await create(database)
    later = CLOSES + timedelta(days=1)
    assert await dialogues_db.set_closes_at(database, dialogue.id, later, [State.OPEN], NOW) is False
    assert (await dialogues_db.get(database, dialogue.id)).closes_at == CLOSES
    assert await dialogues_db.set_closes_at(database, dialogue.id, later, [State.SCHEDULED, State.OPEN], NOW)
    assert (await dialogues_db.get(database, dialogue.id)).closes_at == later


# ----- compare-and-set -------------------------------------------------------------------------------


async def test_transition_moves_from_a_source_state(database: Database) -> None:
    dialogue = await create(database)
    assert await dialogues_db.transition(database, dialogue.id, [State.SCHEDULED], State.OPEN, OPENS) is True
    opened = await dialogues_db.get(database, dialogue.id)
    assert opened.state is State.OPEN
    assert opened.opened_at == OPENS
    assert opened.opens_at == OPENS


async def test_transition_from_the_wrong_state_changes_nothing(database: Database) -> None:
    dialogue = await create(database)
    before = await database.fetchone("SELECT * FROM dialogues WHERE id = ?", (dialogue.id,))
    later = OPENS + timedelta(hours=1)
    assert await dialogues_db.transition(database, dialogue.id, [State.OPEN], State.CLOSED, later) is False
    assert await dialogues_db.transition(database, dialogue.id, [State.FAILED], State.OPEN, later) is False
    after = await database.fetchone("SELECT * FROM dialogues WHERE id = ?", (dialogue.id,))
    assert dict(after) == dict(before)


async def test_transition_of_an_unknown_dialogue_is_false(database: Database) -> None:
    assert await dialogues_db.transition(database, 404, [State.SCHEDULED], State.OPEN, OPENS) is False


async def test_two_racing_transitions_exactly_one_wins(database: Database) -> None:
    dialogue = await create(database)
    results = await asyncio.gather(
        dialogues_db.transition(database, dialogue.id, [State.SCHEDULED], State.OPEN, OPENS),
        dialogues_db.transition(database, dialogue.id, [State.SCHEDULED], State.CANCELLED, OPENS),
    )
    assert sorted(results) == [False, True]
    final = (await dialogues_db.get(database, dialogue.id)).state
    assert final is (State.OPEN if results[0] else State.CANCELLED)


async def test_racing_close_from_two_connections_one_wins(db_location: str) -> None:
    """A timer and a `/dialogue close` on separate connections to one database: one close, not two."""
    path = db_location
    first = await Database.connect(path)
    second = await Database.connect(path)
    try:
        dialogue = await create(first)
        assert await dialogues_db.transition(first, dialogue.id, [State.SCHEDULED], State.OPEN, OPENS)
        results = await asyncio.gather(
            *(
                dialogues_db.transition(conn, dialogue.id, [State.OPEN], State.CLOSED, CLOSES)
                for conn in (first, second, first, second)
            )
        )
        assert results.count(True) == 1
        closed = await dialogues_db.get(second, dialogue.id)
        assert closed.state is State.CLOSED
        assert closed.closed_at == CLOSES
    finally:
        await first.close()
        await second.close()


async def test_opening_early_moves_the_window_start_to_now(database: Database) -> None:
    dialogue = await create(database)
    early = OPENS - timedelta(days=1)
    assert await dialogues_db.transition(database, dialogue.id, [State.SCHEDULED], State.OPEN, early)
    opened = await dialogues_db.get(database, dialogue.id)
    assert opened.opens_at == early
    assert opened.opened_at == early
    assert opened.closes_at == CLOSES


async def test_opening_late_keeps_the_planned_start(database: Database) -> None:
    dialogue = await create(database)
    late = OPENS + timedelta(minutes=5)
    assert await dialogues_db.transition(database, dialogue.id, [State.SCHEDULED], State.OPEN, late)
    opened = await dialogues_db.get(database, dialogue.id)
    assert opened.opens_at == OPENS
    assert opened.opened_at == late


async def test_failure_records_the_reason_and_a_retry_clears_it(database: Database) -> None:
    dialogue = await create(database)
    await dialogues_db.transition(database, dialogue.id, [State.SCHEDULED], State.OPEN, OPENS)
    reason = "the bot is missing permissions: Manage Roles"
    assert await dialogues_db.transition(database, dialogue.id, [State.OPEN], State.FAILED, OPENS, reason=reason)
    failed = await dialogues_db.get(database, dialogue.id)
    assert failed.state is State.FAILED
    assert failed.failure_reason == reason
    later = OPENS + timedelta(hours=2)
    assert await dialogues_db.transition(database, dialogue.id, [State.SCHEDULED, State.FAILED], State.OPEN, later)
    retried = await dialogues_db.get(database, dialogue.id)
    assert retried.state is State.OPEN
    assert retried.failure_reason is None
    # The first opening time is kept.
    assert retried.opened_at == OPENS


# ----- threads and the bot's own messages ------------------------------------------------------------


async def test_set_question_thread_records_question_and_thread(database: Database) -> None:
    dialogue = await create(database)
    await dialogues_db.set_question_thread(database, dialogue.id, 2, 9002, "What did it cost?", OPENS)
    stored = await dialogues_db.questions(database, dialogue.id)
    assert [q.thread_id for q in stored] == [None, 9002, None]
    assert await dialogues_db.thread_origin(database, 9002) == (dialogue.id, "seed")
    row = await database.fetchone("SELECT * FROM threads WHERE thread_id = 9002")
    assert (row["dialogue_id"], row["title"], row["starter_message_id"], row["locked_at"]) == (
        dialogue.id,
        "What did it cost?",
        9002,
        None,
    )
    assert await dialogues_db.thread_ids(database, dialogue.id) == [9002]


async def test_set_question_thread_twice_keeps_one_thread_row(database: Database) -> None:
    dialogue = await create(database)
    await dialogues_db.set_question_thread(database, dialogue.id, 1, 9001, "Q", OPENS)
    await dialogues_db.set_question_thread(database, dialogue.id, 1, 9001, "Q", OPENS)
    assert (await database.fetchone("SELECT COUNT(*) AS n FROM threads"))["n"] == 1


async def test_thread_ids_in_creation_order_and_locking(database: Database) -> None:
    dialogue = await create(database)
    await dialogues_db.add_thread(database, dialogue.id, 300, "participant", "Later topic", 300, OPENS + timedelta(1))
    await dialogues_db.set_question_thread(database, dialogue.id, 1, 200, "Q1", OPENS)
    await dialogues_db.set_question_thread(database, dialogue.id, 2, 100, "Q2", OPENS)
    assert await dialogues_db.thread_ids(database, dialogue.id) == [100, 200, 300]
    await dialogues_db.mark_thread_locked(database, 200, CLOSES)
    assert await dialogues_db.thread_ids(database, dialogue.id, unlocked_only=True) == [100, 300]
    assert await dialogues_db.thread_origin(database, 300) == (dialogue.id, "participant")
    assert await dialogues_db.thread_origin(database, 999) is None


async def test_bot_messages_are_unique_per_dialogue_kind_and_part(database: Database) -> None:
    dialogue = await create(database)
    other = await create(database)
    await dialogues_db.add_bot_message(database, dialogue.id, "intro", 0, 5555, 70, OPENS)
    await dialogues_db.add_bot_message(database, dialogue.id, "intro", 1, 5555, 71, OPENS)
    await dialogues_db.add_bot_message(database, dialogue.id, "wrapup", 0, 5555, 80, CLOSES)
    await dialogues_db.add_bot_message(database, other.id, "intro", 0, 6666, 90, OPENS)
    with pytest.raises(database.integrity_errors):
        await dialogues_db.add_bot_message(database, dialogue.id, "intro", 0, 5555, 72, OPENS)
    assert await dialogues_db.bot_messages(database, dialogue.id, "intro") == {0: 70, 1: 71}
    assert await dialogues_db.bot_messages(database, dialogue.id, "wrapup") == {0: 80}
    assert await dialogues_db.bot_messages(database, other.id, "intro") == {0: 90}
    assert await dialogues_db.bot_messages(database, other.id, "wrapup") == {}


async def test_opening_markers(database: Database) -> None:
    dialogue = await create(database)
    assert await dialogues_db.intro_pinned(database, dialogue.id) is False
    await dialogues_db.mark_intro_pinned(database, dialogue.id)
    assert await dialogues_db.intro_pinned(database, dialogue.id) is True
    assert await dialogues_db.mark_ready(database, dialogue.id, OPENS) is True
    assert await dialogues_db.mark_ready(database, dialogue.id, OPENS) is False
    await dialogues_db.mark_locked(database, dialogue.id, CLOSES)
    assert (await dialogues_db.get(database, dialogue.id)).locked_at == CLOSES


# ----- posts -----------------------------------------------------------------------------------------


async def create_open(database: Database) -> Dialogue:
    """A dialogue that takes posts (a scheduled one records nothing)."""
    dialogue = await create(database)
    assert await dialogues_db.transition(database, dialogue.id, (State.SCHEDULED,), State.OPEN, OPENS)
    return dialogue


async def record(
    database: Database, dialogue_id: int, message_id: int, thread_id: int | None, author_id: int, content: str = "hi"
) -> bool:
    return await posts_db.record(
        database,
        message_id=message_id,
        dialogue_id=dialogue_id,
        thread_id=thread_id,
        author_id=author_id,
        author_name=f"user{author_id}",
        content=content,
        created_at=OPENS + timedelta(minutes=message_id % 1000),
        reply_to_id=None,
    )


async def test_record_is_idempotent(database: Database) -> None:
    dialogue = await create_open(database)
    assert await record(database, dialogue.id, 1, None, 7, "first text") is True
    assert await record(database, dialogue.id, 1, None, 7, "second text") is False
    assert await posts_db.content(database, 1) == "first text"
    assert (await posts_db.stats(database, dialogue.id)).posts == 1


async def test_record_keeps_every_field(database: Database) -> None:
    dialogue = await create_open(database)
    await posts_db.record(
        database,
        message_id=10,
        dialogue_id=dialogue.id,
        thread_id=9001,
        author_id=7,
        author_name="Alice",
        content="A reply",
        created_at=OPENS,
        reply_to_id=9,
    )
    row = await database.fetchone("SELECT * FROM posts WHERE message_id = 10")
    assert dict(row) == {
        "message_id": 10,
        "dialogue_id": dialogue.id,
        "thread_id": 9001,
        "author_id": 7,
        "author_name": "Alice",
        "content": "A reply",
        "created_at": int(OPENS.timestamp()),
        "edited_at": None,
        "deleted_at": None,
        "reply_to_id": 9,
        "withdrawn_at": None,
    }


async def test_edit_updates_a_live_post(database: Database) -> None:
    dialogue = await create_open(database)
    await record(database, dialogue.id, 1, None, 7, "typo")
    edited_at = OPENS + timedelta(hours=1)
    assert await posts_db.edit(database, 1, "fixed", edited_at) is True
    assert await posts_db.content(database, 1) == "fixed"
    row = await database.fetchone("SELECT edited_at FROM posts WHERE message_id = 1")
    assert row["edited_at"] == int(edited_at.timestamp())
    assert await posts_db.edit(database, 404, "unknown", edited_at) is False


async def test_clear_removes_text_and_excludes_from_stats(database: Database) -> None:
    dialogue = await create_open(database)
    await dialogues_db.set_question_thread(database, dialogue.id, 1, 9001, "Q1", OPENS)
    await record(database, dialogue.id, 1, 9001, 7, "keep")
    await record(database, dialogue.id, 2, 9001, 8, "delete me")
    await record(database, dialogue.id, 3, None, 8, "delete me too")
    assert await posts_db.clear(database, [2, 3, 404], CLOSES) == 2
    row = await database.fetchone("SELECT content, author_name, author_id, deleted_at FROM posts WHERE message_id = 2")
    assert (row["content"], row["author_name"], row["author_id"]) == ("", "", 8)
    assert row["deleted_at"] == int(CLOSES.timestamp())
    stats = await posts_db.stats(database, dialogue.id)
    assert (stats.posts, stats.participants) == (1, 1)
    assert stats.threads[0].posts == 1
    # A deleted post can be neither edited back nor cleared twice.
    assert await posts_db.edit(database, 2, "resurrected", CLOSES) is False
    assert await posts_db.content(database, 2) == ""
    assert await posts_db.clear(database, [2], CLOSES) == 0


async def test_stats_per_thread_including_empty_threads(database: Database) -> None:
    dialogue = await create_open(database)
    other = await create_open(database)
    await dialogues_db.set_question_thread(database, dialogue.id, 1, 9001, "What has engagement added?", OPENS)
    await dialogues_db.set_question_thread(database, dialogue.id, 2, 9002, "What did it cost?", OPENS)
    await dialogues_db.set_question_thread(database, dialogue.id, 3, 9003, "What next?", OPENS)
    later = OPENS + timedelta(hours=3)
    await dialogues_db.add_thread(database, dialogue.id, 9100, "participant", "A new topic", 9100, later)
    # Thread 9001: three posts by two people; 9002: none; 9003: one; the participant thread: two by one person;
    # one top-level post in the channel; and a post in another dialogue that must not count.
    for message_id, thread_id, author in [
        (1, 9001, 7),
        (2, 9001, 8),
        (3, 9001, 7),
        (4, 9003, 9),
        (5, 9100, 10),
        (6, 9100, 10),
        (7, None, 11),
    ]:
        await record(database, dialogue.id, message_id, thread_id, author)
    await record(database, other.id, 99, None, 12)

    assert await posts_db.stats(database, dialogue.id) == PostStats(
        posts=7,
        participants=5,
        threads=(
            ThreadStats(9001, "What has engagement added?", "seed", 3, 2),
            ThreadStats(9002, "What did it cost?", "seed", 0, 0),
            ThreadStats(9003, "What next?", "seed", 1, 1),
            ThreadStats(9100, "A new topic", "participant", 2, 1),
        ),
    )
    assert await posts_db.stats(database, other.id) == PostStats(posts=1, participants=1, threads=())


async def test_stats_of_a_dialogue_without_posts(database: Database) -> None:
    dialogue = await create(database)
    assert await posts_db.stats(database, dialogue.id) == PostStats(posts=0, participants=0, threads=())


# ----- transactions ----------------------------------------------------------------------------------


async def count_dialogues(database: Database) -> int:
    return (await database.fetchone("SELECT COUNT(*) AS n FROM dialogues"))["n"]


async def test_transaction_commits(database: Database) -> None:
    async with database.transaction():
        await create(database)
    assert await count_dialogues(database) == 1


async def test_transaction_rolls_back_on_exception(database: Database) -> None:
    with pytest.raises(RuntimeError, match="boom"):
        async with database.transaction():
            await create(database)  # its own transaction joins this one
            await database.execute("UPDATE dialogues SET title = 'changed'")
            raise RuntimeError("boom")
    assert await count_dialogues(database) == 0
    assert (await database.fetchone("SELECT COUNT(*) AS n FROM questions"))["n"] == 0
    # The connection is usable again afterwards, in and out of a transaction.
    await create(database)
    async with database.transaction():
        await create(database)
    assert await count_dialogues(database) == 2


async def test_transaction_rolls_back_on_cancellation(database: Database) -> None:
    started = asyncio.Event()

    async def slow() -> None:
        async with database.transaction():
            await create(database)
            started.set()
            await asyncio.sleep(3600)

    task = asyncio.create_task(slow())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await count_dialogues(database) == 0


async def test_a_failed_transaction_does_not_take_other_tasks_writes_with_it(database: Database) -> None:
    """Tasks share one connection: a post recorded while another task's transaction is open must survive
    that transaction's rollback."""
    dialogue = await create_open(database)
    inside = asyncio.Event()
    recorded = asyncio.Event()

    async def failing() -> None:
        async with database.transaction():
            await database.execute("UPDATE dialogues SET title = 'half done' WHERE id = ?", (dialogue.id,))
            inside.set()
            # Let the other task run while this transaction is open.
            for _ in range(50):
                if recorded.is_set():
                    break
                await asyncio.sleep(0.01)
            raise RuntimeError("failed mid-way")

    async def recorder() -> None:
        await inside.wait()
        task = asyncio.create_task(record(database, dialogue.id, 1, None, 7, "a member's post"))
        # Give the write every chance to run; it may wait for the transaction to finish.
        await asyncio.sleep(0.05)
        recorded.set()
        await task

    results = await asyncio.gather(failing(), recorder(), return_exceptions=True)
    assert isinstance(results[0], RuntimeError)
    assert results[1] is None
    assert (await dialogues_db.get(database, dialogue.id)).title == "Defenders and the HRC"
    assert await posts_db.content(database, 1) == "a member's post"


async def test_concurrent_transactions_are_each_atomic(database: Database) -> None:
    dialogue = await create_open(database)

    async def failing() -> None:
        async with database.transaction():
            await record(database, dialogue.id, 1, None, 7)
            await asyncio.sleep(0.01)
            raise RuntimeError("boom")

    async def succeeding() -> None:
        await asyncio.sleep(0)
        async with database.transaction():
            await record(database, dialogue.id, 2, None, 8)
            await asyncio.sleep(0.02)
            await record(database, dialogue.id, 3, None, 8)

    results = await asyncio.gather(failing(), succeeding(), return_exceptions=True)
    assert isinstance(results[0], RuntimeError)
    assert results[1] is None
    rows = await database.fetchall("SELECT message_id FROM posts ORDER BY message_id")
    assert [row["message_id"] for row in rows] == [2, 3]


async def test_naive_datetimes_are_refused(database: Database) -> None:
    naive = DialogueDraft("Naive", "", ("Q?",), "UTC", datetime(2026, 12, 1), datetime(2026, 12, 2))
    with pytest.raises(ValueError, match="naive datetime"):
        await create(database, naive)
    assert await count_dialogues(database) == 0


# ----- progress ----------------------------------------------------------------------------------------------


async def _open_with_threads(database: Database, threads: int = 2) -> Dialogue:
    dialogue = await dialogues_db.create(database, GUILD, FACILITATOR, DRAFT, NOW)
    await dialogues_db.set_channel(database, dialogue.id, 900, NOW)
    await dialogues_db.transition(database, dialogue.id, (State.SCHEDULED,), State.OPEN, OPENS)
    for position in range(1, threads + 1):
        await dialogues_db.set_question_thread(database, dialogue.id, position, 1000 + position, "t", OPENS)
    return dialogue


async def test_the_timers_close_needs_the_closing_time_to_have_passed(database: Database) -> None:
    dialogue = await _open_with_threads(database)
    assert not await dialogues_db.close_if_due(database, dialogue.id, CLOSES - timedelta(seconds=1))
    assert (await dialogues_db.get(database, dialogue.id)).state is State.OPEN  # type: ignore[union-attr]
    # An extension moved the closing time: the old timer's close changes nothing.
    await dialogues_db.set_closes_at(database, dialogue.id, CLOSES + timedelta(days=1), (State.OPEN,), NOW)
    assert not await dialogues_db.close_if_due(database, dialogue.id, CLOSES)
    assert await dialogues_db.close_if_due(database, dialogue.id, CLOSES + timedelta(days=1))
    closed = await dialogues_db.get(database, dialogue.id)
    assert closed is not None and closed.state is State.CLOSED
    assert not await dialogues_db.close_if_due(database, dialogue.id, CLOSES + timedelta(days=2))


async def test_progress_of_a_close_counts_every_wrapup_part(database: Database) -> None:
    dialogue = await _open_with_threads(database)
    await dialogues_db.transition(database, dialogue.id, (State.OPEN,), State.CLOSED, CLOSES)
    progress = await dialogues_db.progress(database, dialogue.id, CLOSES)
    assert progress is not None
    assert (progress.channel_locked, progress.threads_unlocked, progress.wrapup_expected) == (False, 2, None)
    await dialogues_db.mark_locked(database, dialogue.id, CLOSES)
    for thread_id in (1001, 1002):
        await dialogues_db.mark_thread_locked(database, thread_id, CLOSES)
    assert await dialogues_db.set_wrapup_parts(database, dialogue.id, 2)
    assert not await dialogues_db.set_wrapup_parts(database, dialogue.id, 5)  # only the first call writes
    await dialogues_db.add_bot_message(database, dialogue.id, "wrapup", 0, 900, 5000, CLOSES)
    progress = await dialogues_db.progress(database, dialogue.id, CLOSES)
    assert progress is not None and progress.wrapup_expected == 2 and not progress.closing_done
    await dialogues_db.add_bot_message(database, dialogue.id, "wrapup", 1, 900, 5001, CLOSES)
    progress = await dialogues_db.progress(database, dialogue.id, CLOSES)
    assert progress is not None and progress.closing_done


async def test_pending_step_round_trips_and_clears(database: Database) -> None:
    dialogue = await _open_with_threads(database)
    retry = CLOSES + timedelta(minutes=5)
    await dialogues_db.set_pending(database, dialogue.id, "lock the channel", "HTTP 500", retry)
    progress = await dialogues_db.progress(database, dialogue.id, NOW)
    assert progress is not None
    assert (progress.pending_step, progress.pending_reason, progress.retry_at) == (
        "lock the channel",
        "HTTP 500",
        retry,
    )
    await dialogues_db.clear_pending(database, dialogue.id)
    progress = await dialogues_db.progress(database, dialogue.id, NOW)
    assert progress is not None and progress.pending_step is None and progress.retry_at is None


@pytest.mark.sqlite_only  # counts statements with SQLite's trace callback
async def test_progress_of_many_dialogues_is_one_statement(database: Database) -> None:
    statements: list[str] = []

    async def count_with(dialogues: int) -> int:
        for _ in range(dialogues):
            dialogue = await _open_with_threads(database, threads=0)
            await dialogues_db.transition(database, dialogue.id, (State.OPEN,), State.CLOSED, CLOSES)
        statements.clear()
        await database._connection.set_trace_callback(statements.append)
        found = await dialogues_db.progress_in_states(database, (State.CLOSED,), CLOSES)
        await database._connection.set_trace_callback(None)
        assert all(not p.closing_done for p in found)
        return len(statements)

    assert await count_with(1) == await count_with(5) == 1
