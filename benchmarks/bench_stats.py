"""Benchmark: the wrap-up statistics from the tallies kept as posts arrive, against a naive GROUP BY.

Prints figures, never asserts: run `python benchmarks/bench_stats.py [SIZES...]` (default 10000 100000 1000000).
For each size one dialogue gets that many posts (30 threads, 400 authors, 2% deleted) through the project's own
schema, so the triggers keep the tallies exactly as live recording does. Then ``db.posts.stats`` and the naive
``COUNT(*) / COUNT(DISTINCT author_id) ... GROUP BY thread`` over the same rows run interleaved, 5 times each;
the medians and their ratio are printed, and both answers are checked to agree.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import db.dialogues as dialogues_db
import db.posts as posts_db
from bot.domain.models import DialogueDraft, PostStats, ThreadStats
from db import Database

THREADS = 30
AUTHORS = 400
START = datetime(2026, 1, 1, tzinfo=UTC)
REPEATS = 5


async def naive(db: Database, dialogue_id: int) -> PostStats:
    """The statistics straight from every post row, as the wrap-up computed them before the tallies."""
    total = await db.fetchone(
        "SELECT COUNT(*) AS posts, COUNT(DISTINCT author_id) AS participants FROM posts "
        "WHERE dialogue_id = ? AND deleted_at IS NULL",
        (dialogue_id,),
    )
    rows = await db.fetchall(
        "SELECT t.thread_id, t.title, t.origin, COUNT(p.message_id) AS posts, "
        "COUNT(DISTINCT p.author_id) AS participants "
        "FROM threads t LEFT JOIN posts p ON p.thread_id = t.thread_id AND p.deleted_at IS NULL "
        "WHERE t.dialogue_id = ? AND t.origin <> 'leaders' GROUP BY t.thread_id, t.title, t.origin, t.created_at "
        "ORDER BY t.created_at, t.thread_id",
        (dialogue_id,),
    )
    assert total is not None
    return PostStats(
        posts=total["posts"],
        participants=total["participants"],
        threads=tuple(
            ThreadStats(row["thread_id"], row["title"], row["origin"], row["posts"], row["participants"])
            for row in rows
        ),
    )


async def _build(db: Database, posts: int) -> int:
    draft = DialogueDraft(
        title="Benchmark",
        framing="",
        questions=tuple(f"Question {n}?" for n in range(THREADS)),
        timezone="UTC",
        opens_at=START,
        closes_at=START + timedelta(days=5),
    )
    dialogue = await dialogues_db.create(db, 1, 2, draft, START)
    for position in range(1, THREADS + 1):
        await dialogues_db.set_question_thread(
            db, dialogue.id, position, 2000 + position, f"Question {position}?", START
        )
    epoch = int(START.timestamp())
    batch = 50_000
    for first in range(0, posts, batch):
        async with db.transaction():
            await db.executemany(
                "INSERT INTO posts (message_id, dialogue_id, thread_id, author_id, author_name, content, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (10_000_000 + n, dialogue.id, 2001 + n % THREADS, 5000 + (n * 7) % AUTHORS, "m", "text", epoch + n)
                    for n in range(first, min(posts, first + batch))
                ],
            )
    # Deletions go through the same statement the bot uses, so the tallies follow them.
    await posts_db.clear(db, [10_000_000 + n for n in range(0, posts, 50)], START)
    return dialogue.id


async def _timed(
    query: Callable[[Database, int], Awaitable[PostStats]], db: Database, dialogue_id: int
) -> tuple[float, PostStats]:
    began = time.perf_counter()
    result = await query(db, dialogue_id)
    return time.perf_counter() - began, result


async def main(sizes: list[int]) -> None:
    previous: tuple[int, float] | None = None
    for size in sizes:
        with tempfile.TemporaryDirectory() as folder:
            db = await Database.connect(Path(folder) / "stats.sqlite3")
            dialogue_id = await _build(db, size)
            tallied_times, naive_times = [], []
            for _ in range(REPEATS):  # interleaved, so both sides see the same cache and machine state
                seconds, tallied = await _timed(posts_db.stats, db, dialogue_id)
                tallied_times.append(seconds)
                seconds, counted = await _timed(naive, db, dialogue_id)
                naive_times.append(seconds)
            await db.close()
        assert tallied == counted, (tallied, counted)
        fast, slow = statistics.median(tallied_times), statistics.median(naive_times)
        growth = ""
        if previous is not None:
            growth = f"; x{size / previous[0]:.0f} posts -> x{fast / previous[1]:.1f} time"
        print(
            f"{size:>9,} posts: tallies {fast * 1000:8.3f} ms, naive GROUP BY {slow * 1000:9.3f} ms, "
            f"ratio {fast / slow:.4f}x{growth}"
        )
        previous = (size, fast)


if __name__ == "__main__":
    asyncio.run(main([int(arg) for arg in sys.argv[1:]] or [10_000, 100_000, 1_000_000]))
