"""Benchmark: one leader's check-in (counts and the posts waiting for a reply) as a dialogue grows.

Prints figures, never asserts: run ``python benchmarks/bench_checkin.py [POSTS ...]`` (default 1000 10000
100000). Each dialogue has 12 seed threads and a participant thread per 250 posts (half of the threads go
quiet after three days), 200 authors, a third of the posts replies, spread over a week; the leader wrote
one post in a hundred. The check-in is computed by
the bot's own code (``Courier.report``: the same queries a check-in DM runs) on a temporary SQLite file; each
figure is the median of 5 runs, printed with its ratio to two baselines measured in the same run on the same
rows: the previous, naive "waiting for a reply" query (a correlated NOT EXISTS per post, here even helped by
today's indexes), and a plain ``COUNT(*)`` of the dialogue's posts (the floor for any exact count).
"""

from __future__ import annotations

import asyncio
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import db.dialogues as dialogues_db
from bot.config import Settings
from bot.domain.models import State
from bot.domain.reminders import Leader
from bot.leaders import LeaderService
from bot.scheduler import Scheduler
from db import Database

START = datetime(2026, 1, 1, tzinfo=UTC)
NOW = START + timedelta(days=7)
LEADER = 10**17 + 7
RUNS = 5

# The query check-ins ran before this change, kept here as the baseline.
_NAIVE_UNANSWERED = (
    "SELECT p.message_id, p.thread_id, p.author_name, p.created_at, t.title FROM posts p "
    "LEFT JOIN threads t ON t.thread_id = p.thread_id "
    "WHERE p.dialogue_id = ? AND p.deleted_at IS NULL AND p.created_at <= ? "
    "AND (p.thread_id IS NULL OR p.thread_id NOT IN (SELECT thread_id FROM threads WHERE origin = 'leaders')) "
    "AND NOT EXISTS (SELECT 1 FROM posts r WHERE r.reply_to_id = p.message_id AND r.deleted_at IS NULL "
    "AND r.author_id <> p.author_id) "
    "AND NOT (p.thread_id IS NOT NULL AND EXISTS (SELECT 1 FROM posts o "
    "WHERE o.thread_id = p.thread_id AND o.message_id > p.message_id AND o.deleted_at IS NULL "
    "AND o.author_id <> p.author_id)) "
    "ORDER BY p.created_at, p.message_id"
)


class _NoDiscord:
    """Computing a check-in makes no Discord request; anything else would be a bug here."""

    def __getattr__(self, name: str) -> object:
        raise AssertionError(f"unexpected Discord call: {name}")


async def _fill(database: Database, posts: int) -> None:
    """Write one open dialogue with ``posts`` posts (plain SQL, for speed: this is a script, not the bot)."""
    rng = random.Random(posts)
    stamp = int(START.timestamp())
    await database.execute(
        "INSERT INTO dialogues (id, guild_id, title, framing, timezone, opens_at, closes_at, state, channel_id, "
        "ready_at, opened_at, created_by, created_at, updated_at) "
        "VALUES (1, 1, 'T', '', 'UTC', ?, ?, ?, 5, ?, ?, 1, ?, ?)",
        (stamp, stamp + 30 * 86400, State.OPEN.value, stamp, stamp, stamp, stamp),
    )
    threads = [7000 + n for n in range(12 + posts // 250)]
    await database.executemany(
        "INSERT INTO threads (thread_id, dialogue_id, origin, title, created_at) VALUES (?, 1, ?, ?, ?)",
        [(thread, "seed" if n < 12 else "participant", f"Thread {n}", stamp) for n, thread in enumerate(threads)]
        + [(6999, "leaders", "Leaders · #1", stamp)],
    )
    rows = []
    for n in range(posts):
        message = 10**18 + n
        author = LEADER if n % 100 == 0 else 10**17 + rng.randint(0, 200)
        reply = 10**18 + rng.randint(0, n - 1) if n and rng.random() < 0.33 else None
        at = stamp + int(n * 7 * 86400 / posts)
        thread = rng.choice(threads)
        if thread % 2 and at > stamp + 3 * 86400:
            thread -= 1  # odd threads went quiet after three days: their last words are waiting for a reply
        rows.append((message, 1, thread, author, "someone", "text", at, reply))
    async with database.transaction():
        await database.executemany(
            "INSERT INTO posts (message_id, dialogue_id, thread_id, author_id, author_name, content, created_at, "
            "reply_to_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
    await database.execute(
        "INSERT INTO leaders (dialogue_id, user_id, commitment, added_at, reachable) VALUES (1, ?, 2, ?, 1)",
        (LEADER, stamp),
    )


async def _median(run: Callable[[], Awaitable[object]]) -> float:
    times = []
    for _ in range(RUNS):
        began = time.perf_counter()
        await run()
        times.append(time.perf_counter() - began)
    return statistics.median(times)


async def measure(posts: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        database = await Database.connect(Path(folder) / "checkin.sqlite3")
        try:
            await _fill(database, posts)
            clock = lambda: NOW  # noqa: E731 - a frozen clock is all the benchmark needs
            service = LeaderService(database, _NoDiscord(), Scheduler(clock), clock, Settings())  # type: ignore[arg-type]
            found = await dialogues_db.get(database, 1)
            assert found is not None
            leader = Leader(1, LEADER, 2, START, None, True)
            older = int((NOW - timedelta(hours=12)).timestamp())
            report = await service.courier.report(found, leader, 0, NOW)
            checkin = await _median(lambda: service.courier.report(found, leader, 0, NOW))
            count = await _median(lambda: database.fetchall("SELECT COUNT(*) FROM posts WHERE dialogue_id = 1"))
            naive_rows = await database.fetchall(_NAIVE_UNANSWERED, (1, older))
            assert len(naive_rows) == len(report.unanswered), (len(naive_rows), len(report.unanswered))
            naive = await _median(lambda: database.fetchall(_NAIVE_UNANSWERED, (1, older)))
            print(
                f"{posts:>7} posts: check-in {checkin * 1000:8.2f} ms "
                f"({len(report.unanswered)} waiting, {report.total} posts) | "
                f"naive waiting-for-a-reply query {naive * 1000:9.2f} ms -> check-in is {checkin / naive:.3f}x | "
                f"COUNT(*) of the posts {count * 1000:6.2f} ms -> check-in is {checkin / count:.1f}x"
            )
        finally:
            await database.close()


def main(sizes: list[int]) -> None:
    for size in sizes:
        asyncio.run(measure(size))


if __name__ == "__main__":
    main([int(arg) for arg in sys.argv[1:]] or [1000, 10000, 100000])
