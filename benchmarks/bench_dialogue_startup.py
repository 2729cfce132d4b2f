"""Benchmark: start-up (``create_bot`` to the end of ``setup_hook``) with 1k, 2k, 5k and 10k dialogues.

Prints figures, never asserts: run `python benchmarks/bench_dialogue_startup.py [N ...]` (default 1000 2000 5000
10000). Each database is written directly through the db functions with a realistic mix: 40% scheduled (three
questions, one released a day after opening), 25% open (channel, pinned intro, three threads, ten posts each),
35% closed and complete (channel and threads locked, wrap-up recorded). Each start-up runs in a fresh process (so
its peak RSS is its own), three times; the median is printed with its ratio to an empty database measured the
same way, its cost per dialogue over the empty one (flat = linear), and the scheduler's job count afterwards.

``setup_hook`` runs as in production (database, migrations, services, cogs, leaders' rebuild, the dialogue
timer's resume and arming) except the command sync, a network call whose cost does not depend on the data: the
bot never logs in, so ``sync_commands`` is replaced by a no-op. Nothing due is run here: due steps wait for the
gateway to be ready, after start-up.
"""

from __future__ import annotations

import asyncio
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import db.dialogues as dialogues_db
import db.posts as posts_db
from bot.domain.models import DialogueDraft, State
from db import Database

GUILD = 1_000
FACILITATOR = 42
RUNS = 3
POSTS_PER_THREAD = 10


def _draft(number: int, opens: datetime) -> DialogueDraft:
    return DialogueDraft(
        title=f"Dialogue {number}",
        framing="Why do networks take their cases to international bodies?",
        questions=("What changed at home?", "What is realistic?", "Who is missing?"),
        timezone="Europe/Zurich",
        opens_at=opens,
        closes_at=opens + timedelta(days=5),
        releases=(None, None, opens + timedelta(days=1)),
    )


async def build(path: Path, count: int, now: datetime) -> None:
    """Write ``count`` dialogues of the mix into a fresh database at ``path``, in one transaction."""
    database = await Database.connect(path)
    snowflake = 10**15
    try:
        async with database.transaction():
            for number in range(count):
                kind = number % 20
                if kind < 8:  # scheduled: opening over the next weeks
                    await dialogues_db.create(
                        database, GUILD, FACILITATOR, _draft(number, now + timedelta(hours=1 + number % 500)), now
                    )
                    continue
                opens = now - timedelta(days=1 if kind < 13 else 10)
                dialogue = await dialogues_db.create(database, GUILD, FACILITATOR, _draft(number, opens), opens)
                await dialogues_db.transition(database, dialogue.id, (State.SCHEDULED,), State.OPEN, opens)
                snowflake += 1
                channel = snowflake
                await dialogues_db.set_channel(database, dialogue.id, channel, opens)
                snowflake += 1
                await dialogues_db.add_bot_message(database, dialogue.id, "intro", 0, channel, snowflake, opens)
                await dialogues_db.mark_intro_pinned(database, dialogue.id)
                for position in (1, 2, 3):
                    snowflake += 1
                    thread = snowflake
                    await dialogues_db.set_question_thread(database, dialogue.id, position, thread, "Q", opens)
                    for post in range(POSTS_PER_THREAD):
                        snowflake += 1
                        await posts_db.record(
                            database,
                            message_id=snowflake,
                            dialogue_id=dialogue.id,
                            thread_id=thread,
                            author_id=500 + post % 7,
                            author_name=f"member{post % 7}",
                            content="A placeholder post.",
                            created_at=opens + timedelta(minutes=post),
                            reply_to_id=None,
                        )
                await dialogues_db.mark_ready(database, dialogue.id, opens)
                await dialogues_db.set_wake(database, dialogue.id, opens + timedelta(days=5))
                if kind < 13:  # open
                    continue
                closed = opens + timedelta(days=5)
                await dialogues_db.transition(database, dialogue.id, (State.OPEN,), State.CLOSED, closed)
                await dialogues_db.mark_locked(database, dialogue.id, closed)
                for thread in await dialogues_db.thread_ids(database, dialogue.id):
                    await dialogues_db.mark_thread_locked(database, thread, closed)
                await dialogues_db.set_wrapup_parts(database, dialogue.id, 1)
                snowflake += 1
                await dialogues_db.add_bot_message(database, dialogue.id, "wrapup", 0, channel, snowflake, closed)
                await dialogues_db.set_wake(database, dialogue.id, None)  # complete: never due again
    finally:
        await database.close()


async def start(path: Path, at: datetime | None = None) -> dict[str, float]:
    """In this process: time create_bot to the end of setup_hook on the database at ``path`` (clock at ``at``)."""
    from bot import Settings, create_bot
    from bot.leaders import LeaderService
    from bot.services import DialogueService

    parts: dict[str, float] = {"dialogues": 0.0, "leaders": 0.0}

    def timed(name: str, method):  # type: ignore[no-untyped-def]
        async def wrapper(self):  # type: ignore[no-untyped-def]
            part = time.perf_counter()
            try:
                return await method(self)
            finally:
                parts[name] += time.perf_counter() - part

        return wrapper

    # The two parts of setup_hook that read every dialogue, timed on their own (this process only).
    DialogueService.schedule_all = timed("dialogues", DialogueService.schedule_all)  # type: ignore[method-assign]
    LeaderService.rebuild = timed("leaders", LeaderService.rebuild)  # type: ignore[method-assign]

    began = time.perf_counter()
    clock = (lambda: at) if at is not None else None
    # Offline, there is no Discord to announce the window on: the scheduled event (one request) is left out.
    bot = create_bot(Settings(database=str(path), default_timezone="UTC", scheduled_events=False), clock)

    async def no_sync() -> None:
        """The bot never logs in here: nothing to publish the commands to."""

    bot.sync_commands = no_sync  # type: ignore[method-assign]
    await bot.setup_hook()
    elapsed = time.perf_counter() - began
    jobs = len(bot.scheduler.job_ids())
    # One more dialogue, with every other one already there: the same cost at any size.
    draft = _draft(0, bot.clock() + timedelta(days=1))
    create_began = time.perf_counter()
    await bot.dialogues.create(GUILD, FACILITATOR, draft)
    create = time.perf_counter() - create_began
    bot.scheduler.shutdown()
    await bot.database.close()
    rss_mb = peak_rss_mb()
    return {"seconds": elapsed, "jobs": jobs, "create_ms": create * 1000, "rss_mb": rss_mb, **parts}


def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM). Not ``ru_maxrss``: Linux carries it over from the parent
    across fork and exec, so a child started by a parent that built a large database would report the parent's."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # not Linux: the best there is


def _measure(path: Path) -> dict[str, float]:
    """Start the bot on a copy of ``path`` in a fresh process (each run starts from the same file)."""
    with tempfile.TemporaryDirectory() as folder:
        copy = Path(folder) / "copy.sqlite3"
        copy.write_bytes(path.read_bytes())
        output = subprocess.run(
            [sys.executable, __file__, "--start", str(copy)], check=True, capture_output=True, text=True
        ).stdout
    return json.loads(output.strip().splitlines()[-1])


def main(sizes: list[int]) -> None:
    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory() as folder:
        print(
            f"{'dialogues':>9} {'start s':>8} {'x empty':>8} {'ms/1k over empty':>17} {'RSS MB':>7} "
            f"{'jobs':>5} {'create ms':>9} {'schedule_all ms':>15} {'leaders ms':>10} {'build s':>8}"
        )
        baseline: float | None = None
        for size in [0, *sizes]:
            path = Path(folder) / f"bench-{size}.sqlite3"
            built = time.perf_counter()
            asyncio.run(build(path, size, now))
            built = time.perf_counter() - built
            runs = [_measure(path) for _ in range(RUNS)]
            seconds = statistics.median(r["seconds"] for r in runs)
            if baseline is None:
                baseline = seconds
            per_k = (seconds - baseline) / size * 1000 * 1000 if size else 0.0
            print(
                f"{size:>9} {seconds:>8.3f} {seconds / baseline:>8.2f} {per_k:>17.1f} "
                f"{max(r['rss_mb'] for r in runs):>7.0f} {int(runs[0]['jobs']):>5} "
                f"{statistics.median(r['create_ms'] for r in runs):>9.2f} "
                f"{statistics.median(r['dialogues'] for r in runs) * 1000:>15.1f} "
                f"{statistics.median(r['leaders'] for r in runs) * 1000:>10.1f} {built:>8.1f}"
            )
    print(
        "start s = create_bot to the end of setup_hook (median of 3, fresh process each, command sync stubbed); "
        "ms/1k over empty = (start - empty) per 1,000 dialogues; jobs = scheduler jobs after start-up; "
        "create ms = creating one more dialogue; schedule_all ms = the dialogue timer's resume and arming; "
        "leaders ms = the leaders' re-planning (LeaderService.rebuild), both inside start s"
    )


if __name__ == "__main__":
    if sys.argv[1:2] == ["--start"]:
        print(json.dumps(asyncio.run(start(Path(sys.argv[2])))))
    else:
        main([int(arg) for arg in sys.argv[1:]] or [1000, 2000, 5000, 10000])
