"""Benchmark: recording posts and computing the wrap-up statistics from SQL.

Prints figures, never asserts: run `python benchmarks/bench_record.py [POSTS]`. The service is called
directly (SimCord's actor path would measure its own settle loop, not the bot).
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

import db.dialogues as dialogues_db
import db.posts as posts_db
from bot.domain.models import DialogueDraft, State
from bot.recording import IncomingPost, Recorder
from db import Database

THREADS = 12
PARTICIPANTS = 40


class _NoDiscord:
    """Recording a reply in an existing thread makes no Discord request; anything else would be a bug here."""

    def __getattr__(self, name: str) -> object:
        raise AssertionError(f"unexpected Discord call: {name}")


async def main(posts: int) -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    with tempfile.TemporaryDirectory() as folder:
        database = await Database.connect(Path(folder) / "bench.sqlite3")
        clock = lambda: start  # noqa: E731 - a frozen clock is all the benchmark needs
        recorder = Recorder(database, _NoDiscord(), clock)  # type: ignore[arg-type]
        draft = DialogueDraft(
            title="Benchmark",
            framing="",
            questions=tuple(f"Question {n}?" for n in range(THREADS)),
            timezone="UTC",
            opens_at=start,
            closes_at=start + timedelta(days=5),
        )
        dialogue = await dialogues_db.create(database, 1, 2, draft, start)
        await dialogues_db.set_channel(database, dialogue.id, 1000, start)
        await dialogues_db.transition(database, dialogue.id, (State.SCHEDULED,), State.OPEN, start)
        for position in range(1, THREADS + 1):
            await dialogues_db.set_question_thread(database, dialogue.id, position, 2000 + position, "t", start)

        tracemalloc.start()
        began = time.perf_counter()
        for n in range(posts):
            await recorder.record(
                IncomingPost(
                    message_id=10_000 + n,
                    channel_id=2001 + n % THREADS,
                    parent_id=1000,
                    channel_name="t",
                    author_id=5000 + n % PARTICIPANTS,
                    author_name=f"member {n % PARTICIPANTS}",
                    content="A considered reply " * 10,
                    created_at=start + timedelta(seconds=n),
                    reply_to_id=None,
                )
            )
        recording = time.perf_counter() - began
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()

        began = time.perf_counter()
        stats = await posts_db.stats(database, dialogue.id)
        counting = time.perf_counter() - began
        await database.close()

    assert stats.posts == posts
    print(f"recorded {posts} posts in {recording:.2f} s: {posts / recording:,.0f} posts/s")
    print(f"peak traced memory while recording: {peak / 1024:,.0f} KiB")
    print(f"wrap-up statistics over {posts} posts, {THREADS} threads: {counting * 1000:.1f} ms")
    print(f"ratio: a week-long dialogue of ~1,000 posts needs {1000 / (posts / recording):.2f} s of recording work")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 5000))
