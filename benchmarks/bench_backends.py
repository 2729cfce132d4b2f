"""Benchmark: the same work on SQLite and on PostgreSQL, each figure with its ratio, in one run.

Prints figures, never asserts: ``python benchmarks/bench_backends.py [POSTS_PER_WRITER] [DIALOGUES]`` (default
2000 and 10000). PostgreSQL is the server at ``DIALOGUE_BENCH_POSTGRES_URL`` if set (an empty database the
script may fill), else a throwaway server started like the tests' one (``tests/postgres_server.py``), with fsync
on and commits not waited for (``synchronous_commit=off``), which is what SQLite's WAL with ``synchronous=NORMAL``
gives the bot: neither corrupts on a crash, both may lose the last instants.

1. Four concurrent writers: four processes (as four bot processes would be), each with its own connection,
   record posts with the bot's own ``db.posts.record`` (one statement, the tally trigger included) into one open
   dialogue, one thread each. Posts per second over all four, on each backend, and the ratio.
2. Start-up over 10,000 dialogues: ``bench_startup``'s realistic database (leaders, posts, reminders), built
   on each backend and started once (the first start plans every leader), then ``create_bot`` to the end of
   ``setup_hook`` in a fresh process, as ``bench_startup`` measures every later start.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

WRITERS = 4
START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
THREAD = 7 * 10**17


async def _prepare(location: str) -> int:
    """An open dialogue with one thread per writer; return its id."""
    import db.dialogues as dialogues_db
    from bot.domain.models import DialogueDraft, State
    from db import Database

    database = await Database.connect(location)
    try:
        draft = DialogueDraft(
            title="Bench",
            framing="",
            questions=tuple(f"Question {n}?" for n in range(WRITERS)),
            timezone="UTC",
            opens_at=START,
            closes_at=START + timedelta(days=5),
        )
        dialogue = await dialogues_db.create(database, 1, 2, draft, START)
        await dialogues_db.set_channel(database, dialogue.id, 6 * 10**17, START)
        await dialogues_db.transition(database, dialogue.id, (State.SCHEDULED,), State.OPEN, START)
        for position in range(1, WRITERS + 1):
            await dialogues_db.set_question_thread(database, dialogue.id, position, THREAD + position, "t", START)
        return dialogue.id
    finally:
        await database.close()


async def _write(location: str, dialogue_id: int, writer: int, posts: int, go: object) -> float:
    import db.dialogues  # noqa: F401 - first: importing db.posts alone runs into an import cycle
    import db.posts as posts_db
    from db import Database

    database = await Database.connect(location)
    try:
        go.wait()  # type: ignore[attr-defined]
        began = time.perf_counter()
        for n in range(posts):
            message_id = 10**15 * (writer + 1) + n
            await posts_db.record(
                database,
                message_id=message_id,
                dialogue_id=dialogue_id,
                thread_id=THREAD + writer + 1,
                author_id=5 * 10**17 + n % 50,
                author_name="someone",
                content=f"post {n} of writer {writer}: why engagement abroad matters at home",
                created_at=START + timedelta(seconds=n),
                reply_to_id=message_id - 1 if n % 3 else None,
            )
        return time.perf_counter() - began
    finally:
        await database.close()


def _writer(location: str, dialogue_id: int, writer: int, posts: int, go: object, ready: object) -> None:
    ready.release()  # type: ignore[attr-defined]
    asyncio.run(_write(location, dialogue_id, writer, posts, go))


def writers(location: str, posts: int) -> float:
    """Posts per second recorded by four writer processes together into ``location``."""
    dialogue_id = asyncio.run(_prepare(location))
    context = multiprocessing.get_context("spawn")
    go, ready = context.Event(), context.Semaphore(0)
    processes = [
        context.Process(target=_writer, args=(location, dialogue_id, w, posts, go, ready)) for w in range(WRITERS)
    ]
    for process in processes:
        process.start()
    for _ in processes:
        ready.acquire()
    time.sleep(1.0)  # every writer connected (and migrations checked) before the clock starts
    began = time.perf_counter()
    go.set()
    for process in processes:
        process.join()
        if process.exitcode != 0:
            raise RuntimeError(f"a writer failed with exit code {process.exitcode}")
    return WRITERS * posts / (time.perf_counter() - began)


async def _build_startup(location: str, dialogues: int) -> None:
    from bench_startup import build, rebuild_only

    from db import Database

    await build(location, dialogues)  # type: ignore[arg-type]
    database = await Database.connect(location)
    try:
        if database.dialect == "postgresql":
            # build() writes explicit ids: move the identity past them, as a real history would have.
            await database.fetchone("SELECT setval(pg_get_serial_sequence('dialogues', 'id'), MAX(id)) FROM dialogues")
    finally:
        await database.close()
    # The first start after the upgrade plans every leader once; the figure is for every later start.
    await rebuild_only(location)  # type: ignore[arg-type]


def startup(location: str) -> dict[str, float]:
    """``bench_startup``'s start on ``location`` in a fresh interpreter."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_startup.py"), "--start", location],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        timeout=900,
    )
    figures: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def _fresh_database(server_url: str, name: str) -> str:
    import asyncpg

    async def create() -> None:
        connection = await asyncpg.connect(server_url)
        try:
            await connection.execute(f"CREATE DATABASE {name}")
        finally:
            await connection.close()

    asyncio.run(create())
    return server_url.replace("/postgres?", f"/{name}?", 1)


def main(posts: int, dialogues: int) -> None:
    from tests import postgres_server

    given = os.environ.get("DIALOGUE_BENCH_POSTGRES_URL")
    server = None
    if given is None:
        found = postgres_server.find_bin()
        if found is None:
            sys.exit("bench_backends: PostgreSQL is not installed and DIALOGUE_BENCH_POSTGRES_URL is not set")
        server = postgres_server.start(found, durable=True)
    try:
        with tempfile.TemporaryDirectory() as folder:
            sqlite_writes = str(Path(folder) / "writers.sqlite3")
            pg_writes = given or _fresh_database(server.url(), "bench_writers")  # type: ignore[union-attr]
            sqlite_rate = writers(sqlite_writes, posts)
            pg_rate = writers(pg_writes, posts)
            print(
                f"{WRITERS} concurrent writer processes, {posts} posts each (db.posts.record): "
                f"SQLite {sqlite_rate:,.0f} posts/s, PostgreSQL {pg_rate:,.0f} posts/s, "
                f"PostgreSQL/SQLite {pg_rate / sqlite_rate:.2f}x"
            )
            if given is not None:
                print("start-up: skipped (needs a server the script may create databases on)")
                return
            sqlite_start = str(Path(folder) / "startup.sqlite3")
            pg_start = _fresh_database(server.url(), "bench_startup")  # type: ignore[union-attr]
            asyncio.run(_build_startup(sqlite_start, dialogues))
            asyncio.run(_build_startup(pg_start, dialogues))
            sq, pg = startup(sqlite_start), startup(pg_start)
            print(
                f"start-up over {dialogues:,} dialogues (bench_startup's data): SQLite {sq['seconds']:.3f} s "
                f"(leaders.rebuild {sq['leaders']:.3f} s, peak RSS {sq['rss_mb']:.0f} MiB), PostgreSQL "
                f"{pg['seconds']:.3f} s (leaders.rebuild {pg['leaders']:.3f} s, peak RSS {pg['rss_mb']:.0f} MiB), "
                f"PostgreSQL/SQLite {pg['seconds'] / sq['seconds']:.2f}x; one more dialogue "
                f"{sq['create_ms']:.1f} ms vs {pg['create_ms']:.1f} ms"
            )
    finally:
        if server is not None:
            server.stop()


if __name__ == "__main__":
    arguments = [int(arg) for arg in sys.argv[1:]]
    main(*(arguments + [2000, 10000][len(arguments) :]))
