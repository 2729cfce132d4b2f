"""The full-text index follows every change to posts by trigger; withdrawal erases text and logs no content."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import db.dialogues as dialogues_db
import db.posts as posts_db
import db.search as search_db
import db.withdrawals as withdrawals_db
from bot.domain.models import DialogueDraft, State
from db import Database
from db.connection import _migrations, _statements
from tests.conftest import column_names

pytestmark = pytest.mark.both_backends

OPENS = datetime(2026, 12, 1, 13, 0, tzinfo=UTC)
DRAFT = DialogueDraft(
    title="Engaging the Council",
    framing="",
    questions=("A?",),
    timezone="UTC",
    opens_at=OPENS,
    closes_at=OPENS + timedelta(days=2),
)
THREAD = 7001
ALICE, BOB = 501, 502


async def open_dialogue(database: Database, guild_id: int = 1) -> int:
    dialogue = await dialogues_db.create(database, guild_id, 2, DRAFT, OPENS)
    assert await dialogues_db.transition(database, dialogue.id, (State.SCHEDULED,), State.OPEN, OPENS)
    await dialogues_db.set_question_thread(database, dialogue.id, 1, THREAD + dialogue.id, "A?", OPENS)
    return dialogue.id


async def post(database: Database, dialogue_id: int, message_id: int, text: str, author: int = ALICE) -> None:
    assert await posts_db.record(
        database,
        message_id=message_id,
        dialogue_id=dialogue_id,
        thread_id=THREAD + dialogue_id,
        author_id=author,
        author_name=f"user{author}",
        content=text,
        created_at=OPENS + timedelta(minutes=message_id % 1000),
        reply_to_id=None,
    )


async def found(database: Database, text: str, dialogue_ids: tuple[int, ...] = (1,)) -> list[int]:
    page = await search_db.search(database, search_db.match_expression(text), dialogue_ids, page=0, per_page=50)
    return sorted(hit.message_id for hit in page.hits)


async def indexed(database: Database, word: str) -> list[int]:
    """What the index itself holds for a word, whatever the posts table says (external content can disagree)."""
    if database.dialect == "postgresql":
        # An expression index holds exactly what its expression and predicate give for the rows as they are.
        rows = await database.fetchall(
            "SELECT message_id AS rowid FROM posts WHERE deleted_at IS NULL AND withdrawn_at IS NULL "
            "AND content <> '' AND to_tsvector('simple', content) @@ plainto_tsquery('simple', ?) "
            "ORDER BY message_id",
            (word,),
        )
        return [row["rowid"] for row in rows]
    rows = await database.fetchall("SELECT rowid FROM posts_fts WHERE posts_fts MATCH ? ORDER BY rowid", (word,))
    return [row["rowid"] for row in rows]


async def test_a_recorded_post_is_found_with_its_place_and_a_marked_excerpt(database: Database) -> None:
    dialogue_id = await open_dialogue(database)
    await post(database, dialogue_id, 1001, "Shadow reports reach the treaty bodies before the review.")
    await post(database, dialogue_id, 1002, "Nothing about that here.", author=BOB)
    page = await search_db.search(database, search_db.match_expression("treaty"), (dialogue_id,), page=0, per_page=5)
    assert [hit.message_id for hit in page.hits] == [1001]
    hit = page.hits[0]
    assert (hit.dialogue_title, hit.thread_title, hit.author_name) == ("Engaging the Council", "A?", f"user{ALICE}")
    assert f"{search_db.MATCH_START}treaty{search_db.MATCH_END}" in hit.excerpt
    assert page.has_next is False


async def test_an_edit_replaces_the_indexed_words(database: Database) -> None:
    dialogue_id = await open_dialogue(database)
    await post(database, dialogue_id, 1001, "hello council")
    assert await posts_db.edit(database, 1001, "hello assembly", OPENS + timedelta(hours=1))
    assert await found(database, "council", (dialogue_id,)) == []
    # Words the old and new text share stay indexed: the old text is removed before the new one is added.
    assert await found(database, "hello assembly", (dialogue_id,)) == [1001]
    assert await indexed(database, "council") == []


async def test_a_deleted_post_leaves_the_index(database: Database) -> None:
    dialogue_id = await open_dialogue(database)
    await post(database, dialogue_id, 1001, "remember the rapporteur")
    assert await posts_db.clear(database, [1001], OPENS + timedelta(hours=1)) == 1
    assert await found(database, "rapporteur", (dialogue_id,)) == []
    assert await indexed(database, "rapporteur") == []


async def test_a_purge_by_update_leaves_the_index(database: Database) -> None:
    """Retention (another feature) purges with a plain UPDATE of content: the trigger alone must follow it."""
    dialogue_id = await open_dialogue(database)
    await post(database, dialogue_id, 1001, "remember the rapporteur")
    await post(database, dialogue_id, 1002, "the rapporteur again", author=BOB)
    await database.execute("UPDATE posts SET content = '' WHERE dialogue_id = ?", (dialogue_id,))
    assert await indexed(database, "rapporteur") == []


async def test_a_removed_row_leaves_the_index(database: Database) -> None:
    dialogue_id = await open_dialogue(database)
    await post(database, dialogue_id, 1001, "remember the rapporteur")
    await database.execute("DELETE FROM posts WHERE message_id = 1001")
    assert await indexed(database, "rapporteur") == []


async def test_withdrawal_erases_text_and_name_keeps_counts_and_logs_no_content(database: Database) -> None:
    first = await open_dialogue(database)
    second = await open_dialogue(database)
    other_guild = await open_dialogue(database, guild_id=9)
    await post(database, first, 1001, "my village was named here")
    await post(database, first, 1002, "and again my village")
    await post(database, second, 2001, "my village once more")
    await post(database, other_guild, 3001, "my village elsewhere")
    await post(database, first, 1003, "Bob keeps his village", author=BOB)
    await posts_db.clear(database, [1002], OPENS)  # already deleted: nothing left to withdraw
    before = await posts_db.stats(database, first)

    preview = await withdrawals_db.withdrawable(database, 1, ALICE)
    assert [(entry.dialogue_id, entry.posts) for entry in preview] == [(first, 1), (second, 1)]
    done = await withdrawals_db.withdraw(database, 1, ALICE, None, OPENS + timedelta(days=3), by_facilitator=False)
    assert done == preview

    rows = await database.fetchall("SELECT message_id, content, author_name, withdrawn_at FROM posts ORDER BY 1")
    erased = {row["message_id"] for row in rows if row["withdrawn_at"] is not None}
    assert erased == {1001, 2001}
    assert all(row["content"] == "" and row["author_name"] == "" for row in rows if row["message_id"] in erased)
    assert await found(database, "village", (first, second, other_guild)) == [1003, 3001]
    assert await indexed(database, "village") == [1003, 3001]
    assert (await posts_db.stats(database, first)).posts == before.posts  # counts are history

    log = await withdrawals_db.log_entries(database, first)
    assert [(entry.posts, entry.by_facilitator) for entry in log] == [(1, False)]
    columns = await column_names(database, "withdrawals")
    assert columns == {"id", "guild_id", "dialogue_id", "posts", "by_facilitator", "withdrawn_at"}
    # Twice is harmless: nothing is left to withdraw, nothing more is logged.
    assert await withdrawals_db.withdraw(database, 1, ALICE, None, OPENS, by_facilitator=True) == []
    assert len(await withdrawals_db.log_entries(database, first)) == 1


@pytest.mark.sqlite_only  # reads the SQLite file's bytes
async def test_withdrawn_words_leave_the_database_file(tmp_path: Path) -> None:
    """Not only the results: neither the text nor the index's copy of its words stays in the file."""
    path = tmp_path / "traces.sqlite3"
    database = await Database.connect(path)
    try:
        dialogue_id = await open_dialogue(database)
        await post(database, dialogue_id, 1001, "Zyxwvutsrq lives near the Qwertzuiop bridge")
        for n in range(40):
            await post(database, dialogue_id, 2000 + n, f"other words {n}", author=BOB)
        await withdrawals_db.withdraw(database, 1, ALICE, None, OPENS, by_facilitator=False)
        await database.fetchall("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        await database.close()
    stored = b"".join(part.read_bytes() for part in tmp_path.glob("traces.sqlite3*")).lower()
    assert b"zyxwvutsrq" not in stored and b"qwertzuiop" not in stored


async def test_withdrawal_from_one_dialogue_leaves_the_others(database: Database) -> None:
    first = await open_dialogue(database)
    second = await open_dialogue(database)
    await post(database, first, 1001, "village one")
    await post(database, second, 2001, "village two")
    done = await withdrawals_db.withdraw(database, 1, ALICE, second, OPENS, by_facilitator=True)
    assert [(entry.dialogue_id, entry.posts, entry.still_open) for entry in done] == [(second, 1, True)]
    assert await found(database, "village", (first, second)) == [1001]
    assert [entry.by_facilitator for entry in await withdrawals_db.log_entries(database, second)] == [True]


async def test_an_edit_after_withdrawal_never_brings_the_text_back(database: Database) -> None:
    dialogue_id = await open_dialogue(database)
    await post(database, dialogue_id, 1001, "first words")
    await withdrawals_db.withdraw(database, 1, ALICE, None, OPENS, by_facilitator=False)
    assert not await posts_db.edit(database, 1001, "edited words", OPENS + timedelta(hours=1))
    assert await posts_db.content(database, 1001) == ""
    assert await found(database, "words", (dialogue_id,)) == []


async def test_a_later_post_is_recorded_and_found(database: Database) -> None:
    """Withdrawal is of what was written so far: a post written afterwards is recorded as usual."""
    dialogue_id = await open_dialogue(database)
    await post(database, dialogue_id, 1001, "before withdrawing")
    await withdrawals_db.withdraw(database, 1, ALICE, None, OPENS, by_facilitator=False)
    await post(database, dialogue_id, 1002, "after withdrawing")
    assert await found(database, "withdrawing", (dialogue_id,)) == [1002]


@pytest.mark.parametrize(
    "typed",
    ['"unbalanced', "AND OR", "NOT", "(", ")", "*", "NEAR(", "col:x", "-x", "^", '"', "a\"b'c", "x:*", "\\", "—"],
)
async def test_any_typed_text_is_a_valid_query(database: Database, typed: str) -> None:
    dialogue_id = await open_dialogue(database)
    await post(database, dialogue_id, 1001, "AND OR NOT are words here, unbalanced too")
    await found(database, typed, (dialogue_id,))  # never raises


async def test_operators_are_plain_words_and_a_star_makes_a_prefix(database: Database) -> None:
    dialogue_id = await open_dialogue(database)
    await post(database, dialogue_id, 1001, "witnesses AND survivors")
    await post(database, dialogue_id, 1002, "witness statements", author=BOB)
    assert await found(database, "AND", (dialogue_id,)) == [1001]
    assert await found(database, "witness", (dialogue_id,)) == [1002]
    assert await found(database, "wit*", (dialogue_id,)) == [1001, 1002]
    assert await found(database, '"witness statements"', (dialogue_id,)) == [1002]
    assert await found(database, '"statements witness"', (dialogue_id,)) == []


async def test_raw_fts_syntax_errors_become_a_query_syntax_error(database: Database) -> None:
    dialogue_id = await open_dialogue(database)
    await post(database, dialogue_id, 1001, "text")
    with pytest.raises(search_db.QuerySyntaxError):
        await search_db.search(database, '"unbalanced', (dialogue_id,), page=0, per_page=5)
    with pytest.raises(search_db.QuerySyntaxError):
        await search_db.search(database, "AND OR", (dialogue_id,), page=0, per_page=5)


async def test_results_are_ranked_and_paged(database: Database) -> None:
    dialogue_id = await open_dialogue(database)
    await post(database, dialogue_id, 1001, "asylum " + "filler words here " * 20)
    await post(database, dialogue_id, 1002, "asylum asylum asylum")
    await post(database, dialogue_id, 1003, "asylum and a few other words")
    expression = search_db.match_expression("asylum")
    first = await search_db.search(database, expression, (dialogue_id,), page=0, per_page=2)
    second = await search_db.search(database, expression, (dialogue_id,), page=1, per_page=2)
    assert [hit.message_id for hit in first.hits] == [1002, 1003] and first.has_next
    assert [hit.message_id for hit in second.hits] == [1001] and not second.has_next


async def test_only_the_given_dialogues_are_searched(database: Database) -> None:
    first = await open_dialogue(database)
    second = await open_dialogue(database)
    await post(database, first, 1001, "council")
    await post(database, second, 2001, "council")
    assert await found(database, "council", (second,)) == [2001]
    assert await found(database, "council", ()) == []


async def test_held_searches_round_trip_and_expire(database: Database) -> None:
    held = await search_db.hold_search(
        database,
        "k3y",
        guild_id=1,
        user_id=ALICE,
        query="q",
        dialogue_id=None,
        now=OPENS,
        expires_at=OPENS + timedelta(hours=1),
    )
    assert await search_db.get_search(database, "k3y") == held
    assert await search_db.remove_expired(database, OPENS + timedelta(minutes=59)) == 0
    assert await search_db.remove_expired(database, OPENS + timedelta(hours=1)) == 1
    assert await search_db.get_search(database, "k3y") is None


async def test_the_migration_indexes_the_live_posts_already_recorded(tmp_path: Path) -> None:
    """A database from before search: its live posts are found after the upgrade, deleted and empty ones not."""
    path = tmp_path / "old.sqlite3"
    raw = sqlite3.connect(path)
    raw.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL)")
    for migration in _migrations():
        if migration.version >= 17:
            continue
        for statement in _statements(migration.sql):
            raw.execute(statement)
        raw.execute("INSERT INTO schema_migrations VALUES (?, ?)", (migration.version, migration.name))
    raw.execute(
        "INSERT INTO dialogues (id, guild_id, title, timezone, opens_at, closes_at, state, created_by, created_at, "
        "updated_at) VALUES (1, 1, 'Old', 'UTC', 0, 1, 'closed', 2, 0, 0)"
    )
    for message_id, content, deleted in ((11, "archived testimony", None), (12, "", None), (13, "", 5)):
        raw.execute(
            "INSERT INTO posts (message_id, dialogue_id, thread_id, author_id, author_name, content, created_at, "
            "deleted_at) VALUES (?, 1, NULL, 5, 'n', ?, 0, ?)",
            (message_id, content, deleted),
        )
    raw.commit()
    raw.close()
    database = await Database.connect(path)
    try:
        assert await found(database, "testimony") == [11]
        total = await database.fetchone("SELECT COUNT(*) AS n FROM posts_fts_docsize")
        assert total is not None and total["n"] == 1
        # The upgraded index keeps following changes.
        await database.execute("UPDATE posts SET content = '' WHERE message_id = 11")
        assert await indexed(database, "testimony") == []
    finally:
        await database.close()
