"""The leaders' hot queries are answered from indexes: EXPLAIN QUERY PLAN never shows a scan of posts or reminders.

Each query is captured as the real function runs it against a real temporary database (a dialogue with
threads, posts, leaders and reminders), then explained with the same parameters.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta

import pytest

import db.checkins as checkins_db
import db.dialogues as dialogues_db
import db.leaders as leaders_db
import db.posts as posts_db
import db.reminders as reminders_db
import db.search as search_db
import db.withdrawals as withdrawals_db
from bot.domain.models import DialogueDraft, State
from bot.domain.reminders import Kind, Owed
from db import Database
from db.connection import Params, Row

# SQLite only: these read SQLite's EXPLAIN QUERY PLAN (PostgreSQL plans differ and are not asserted).
pytestmark = pytest.mark.sqlite_only

NOW = datetime(2026, 3, 8, 12, 0, tzinfo=UTC)
OPENS = datetime(2026, 3, 6, 12, 0, tzinfo=UTC)
ALICE, BOB = 1001, 1002
WATCHED = ("posts", "reminders")


class RecordingDatabase(Database):
    """The real database, noting every query it is asked so that its plan can be read."""

    queries: list[tuple[str, Params]]

    def start(self) -> None:
        self.queries = []

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        if hasattr(self, "queries"):
            self.queries.append((sql, params))
        return await super().fetchone(sql, params)

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        if hasattr(self, "queries"):
            self.queries.append((sql, params))
        return await super().fetchall(sql, params)


@pytest.fixture
async def database(db_location: str) -> AsyncIterator[RecordingDatabase]:
    connected = await RecordingDatabase.connect(db_location)
    assert isinstance(connected, RecordingDatabase)
    try:
        await _fill(connected)
        yield connected
    finally:
        await connected.close()


async def _fill(database: Database) -> None:
    draft = DialogueDraft(
        title="T", framing="", questions=("Q?",), timezone="UTC", opens_at=OPENS, closes_at=OPENS + timedelta(days=4)
    )
    dialogue = await dialogues_db.create(database, 1, 42, draft, OPENS)
    await dialogues_db.transition(database, dialogue.id, (State.SCHEDULED,), State.OPEN, OPENS)
    for thread in range(20):
        await dialogues_db.add_thread(database, dialogue.id, 7000 + thread, "seed", f"Q{thread}?", None, OPENS)
    await dialogues_db.add_thread(database, dialogue.id, 7999, "leaders", "Leaders · #1", None, OPENS)
    message = 10_000
    for n in range(400):
        message += 1
        await posts_db.record(
            database,
            message_id=message,
            dialogue_id=dialogue.id,
            thread_id=7000 + n % 20,
            author_id=2000 + n % 7,
            author_name="someone",
            content="text",
            created_at=OPENS + timedelta(minutes=n),
            reply_to_id=message - 1 if n % 3 == 0 else None,
        )
    for user in (ALICE, BOB):
        await leaders_db.add_leader(database, dialogue.id, user, 2, OPENS)
        for day in range(4):
            due = OPENS + timedelta(days=day, hours=1)
            await reminders_db.add_reminder(database, Owed(dialogue.id, user, Kind.CHECKIN, f"checkin:{day}", due))


def _scans(plan: list[str], sql: str) -> list[str]:
    """Return the plan lines that read a whole watched table (directly, by its alias, or through an index)."""
    names = set(WATCHED)
    for alias in re.findall(r"\b(?:posts|reminders)\s+(?:AS\s+)?([a-z]\w*)\b", sql):
        if alias.upper() not in {"WHERE", "JOIN", "ON", "SET", "LEFT", "INNER", "GROUP", "ORDER", "LIMIT"}:
            names.add(alias)
    return [line for line in plan if (found := re.match(r"SCAN (\w+)", line)) and found.group(1) in names]


async def _explained(database: RecordingDatabase, run: Callable[[], Awaitable[object]]) -> list[tuple[str, list[str]]]:
    database.start()
    await run()
    assert database.queries, "the function ran no query"
    explained = []
    for sql, params in database.queries:
        rows = await Database.fetchall(database, "EXPLAIN QUERY PLAN " + sql, params)
        explained.append((sql, [row["detail"] for row in rows]))
    return explained


HOT: dict[str, Callable[[Database], Awaitable[object]]] = {
    "check-in counts": lambda d: checkins_db.checkin_counts(
        d, 1, ALICE, day_start=NOW - timedelta(days=1), since=OPENS
    ),
    "unanswered": lambda d: checkins_db.unanswered(d, 1, 5000, NOW - timedelta(hours=12)),
    "status counts": lambda d: checkins_db.leader_counts(d, 1, NOW - timedelta(days=1)),
    "reminders due": lambda d: reminders_db.due(d, NOW, 200),
    "next reminder": lambda d: reminders_db.next_wake(d),
    "previous check-in": lambda d: reminders_db.last_sent(d, 1, ALICE, Kind.CHECKIN, 1),
    "stored plan of a leader": lambda d: reminders_db.planned_rows(d, NOW, [1], user_id=ALICE),
    "stored plans at start-up": lambda d: reminders_db.planned_rows(d, NOW, [1, 2, 3]),
    "leaders at start-up": lambda d: leaders_db.leaderships(d, (State.OPEN,), closed_since=NOW),
    "full-text search": lambda d: search_db.search(d, search_db.match_expression("text"), [1], page=1, per_page=5),
    "posts a member could withdraw": lambda d: withdrawals_db.withdrawable(d, 42, 2001),
}


@pytest.mark.parametrize("name", sorted(HOT))
async def test_hot_leader_queries_never_scan_posts_or_reminders(database: RecordingDatabase, name: str) -> None:
    for sql, plan in await _explained(database, lambda: HOT[name](database)):
        assert not _scans(plan, sql), f"{name}: {sql}\n" + "\n".join(plan)


def test_the_check_catches_a_scan() -> None:
    """The detector itself: a plan that reads all posts through an alias is caught, a seek is not."""
    sql = "SELECT COUNT(*) FROM posts p WHERE p.content = ?"
    assert _scans(["SCAN p"], sql) == ["SCAN p"]
    assert _scans(["SCAN p USING COVERING INDEX posts_by_time"], sql) != []
    assert _scans(["SEARCH p USING INDEX posts_by_reply (reply_to_id=?)"], sql) == []
    assert _scans(["SCAN d USING COVERING INDEX dialogues_by_guild"], "SELECT 1 FROM dialogues d") == []
