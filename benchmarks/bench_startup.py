"""Benchmark: start-up (``create_bot`` to the end of ``setup_hook``) as the database grows, leaders included.

Prints figures, never asserts: run ``python benchmarks/bench_startup.py [DIALOGUES ...]`` (default 1000 2000
5000 10000). Each database is realistic for its size: 70% closed dialogues (locked, wrap-up posted), 10% open,
20% scheduled within the next month; five leaders each, most with their own time zone; three seed threads and
a Leaders thread; posts; sent reminders for the past and, for live dialogues, exactly the pending reminders
the planner wants (about 110,000 at 10,000 dialogues). Each start runs in a fresh process so that its peak
RSS is its own. The leaders' part (``LeaderService.rebuild``) is also timed alone, twice: the first start
after the upgrade plans every leader once, every later start re-plans only leaders whose inputs changed.
Every figure is printed with its ratio to an empty database, or to the previous size, in the same run.
The rows are written with plain SQL for speed (this is a script, not the bot). The start itself is
``bench_dialogue_startup.start``: ``setup_hook`` as in production (database, migrations, services, cogs, the
leaders' rebuild, the dialogue timer's resume and arming) with the command sync stubbed, since the bot does not
log in here; due work runs after start-up, once the gateway is ready, and is not part of this figure.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

SIM_START = datetime(2026, 1, 1, tzinfo=UTC)  # the bot's clock during the start; the data is built around it
LEADERS = 5
ZONES = ("Europe/Zurich", "Asia/Kathmandu", "America/Toronto", "Africa/Nairobi", "America/Bogota", "Asia/Tokyo")
POSTS_PER_DIALOGUE = 20


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


async def build(path: Path, dialogues: int) -> dict[str, int]:
    """Write a realistic database with ``dialogues`` dialogues; return its row counts."""
    from bot.domain.models import State
    from bot.domain.reminders import plan
    from db import Database

    rng = random.Random(dialogues)
    database = await Database.connect(path)
    guild = 10**17
    rows: dict[str, list[tuple[object, ...]]] = {name: [] for name in ("d", "q", "t", "p", "l", "r", "b", "m")}
    members: dict[int, tuple[str, int]] = {}
    thread_id = 2 * 10**17
    message_id = 3 * 10**17
    pending = 0
    for number in range(1, dialogues + 1):
        kind = rng.random()
        if kind < 0.7:  # closed some time in the last year
            opens = SIM_START - timedelta(days=rng.randint(10, 360))
            state = State.CLOSED
        elif kind < 0.8:  # open, closing within the week
            opens = SIM_START - timedelta(days=rng.randint(1, 4), hours=rng.randint(0, 23))
            state = State.OPEN
        else:  # opening within the month
            opens = SIM_START + timedelta(days=rng.randint(2, 30), hours=rng.randint(0, 23))
            state = State.SCHEDULED
        closes = opens + timedelta(days=rng.randint(5, 9))
        live_channel = state is not State.SCHEDULED
        channel = 4 * 10**17 + number if live_channel else None
        opened = _epoch(opens) if live_channel else None
        closed = _epoch(closes) if state is State.CLOSED else None
        # What the dialogue timer would have stored: a scheduled one wakes at its opening, an open one at its
        # closing, a closed and complete one never (one wrap-up part, posted).
        wake = {State.SCHEDULED: _epoch(opens), State.OPEN: _epoch(closes)}.get(state)
        rows["d"].append(
            (number, guild, f"Dialogue {number}", "", "UTC", _epoch(opens), _epoch(closes), state.value, channel,
             1 if live_channel else 0, opened, closed if state is State.CLOSED else None, opened, closed, 1,
             _epoch(opens) - 86400, _epoch(opens), wake, 1 if state is State.CLOSED else None)
        )  # fmt: skip
        threads = []
        for position in range(1, 4):
            seed = None
            if live_channel:
                thread_id += 1
                seed = thread_id
                threads.append(seed)
                rows["t"].append((seed, number, "seed", f"Question {position}?", None, opened, closed))
            rows["q"].append((number, position, f"Question {position}?", None, seed))
            if seed is not None:
                message_id += 1
                rows["b"].append((number, "question", position, seed, message_id, opened))
        if live_channel:
            thread_id += 1
            rows["t"].append((thread_id, number, "leaders", f"Leaders · #{number}", None, opened, closed))
            message_id += 1
            rows["b"].append((number, "intro", 0, channel, message_id, opened))
            if state is State.CLOSED:
                message_id += 1
                rows["b"].append((number, "wrapup", 0, channel, message_id, closed))
            for n in range(POSTS_PER_DIALOGUE):
                message_id += 1
                at = _epoch(opens) + n * 3600
                author = 5 * 10**17 + rng.randint(0, 300)
                reply = message_id - 1 if n % 3 else None
                rows["p"].append((message_id, number, threads[n % 3], author, "someone", "text", at, reply))
        for pick in rng.sample(range(dialogues * 2 + LEADERS), LEADERS):
            user = 6 * 10**17 + pick
            added = opens - timedelta(days=3)
            rows["l"].append((number, user, 2, _epoch(added), None, 1))
            if rng.random() < 0.7 and user not in members:
                members[user] = (rng.choice(ZONES), rng.choice((8, 9, 10)))
            zone, hour = members.get(user, ("UTC", 9))
            # What was sent already: the welcome, the opening message, the check-ins so far.
            sent = [("welcome", f"welcome:{_epoch(added)}", _epoch(added))]
            if live_channel:
                sent.append(("opened", "opened", _epoch(opens)))
                last = min(closes, SIM_START) if state is State.OPEN else closes
                sent += [("checkin", f"checkin:{at}", at) for at in range(_epoch(opens) + 3600, _epoch(last), 86400)]
            for kind, key, at in sent:
                rows["r"].append((number, user, kind, key, at, "sent", at, "dm"))
            if state is State.CLOSED:
                rows["r"].append((number, user, "thanks", "thanks", _epoch(closes), "sent", _epoch(closes), "dm"))
                continue
            wanted = plan(state=state, opens_at=opens, closes_at=closes, added_at=added, timezone=zone, hour=hour,
                          now=SIM_START)  # fmt: skip
            for owed in wanted:
                rows["r"].append((number, user, owed.kind.value, owed.key, _epoch(owed.due_at), "pending", None, None))
            pending += len(wanted)
    for user, (zone, hour) in members.items():
        rows["m"].append((guild, user, zone, hour, _epoch(SIM_START), "self"))
    statements = {
        "d": "INSERT INTO dialogues (id, guild_id, title, framing, timezone, opens_at, closes_at, state, channel_id, "
        "intro_pinned, ready_at, locked_at, opened_at, closed_at, created_by, created_at, updated_at, wake_at, "
        "wrapup_parts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        "q": "INSERT INTO questions (dialogue_id, position, text, release_at, thread_id) VALUES (?, ?, ?, ?, ?)",
        "t": "INSERT INTO threads (thread_id, dialogue_id, origin, title, starter_message_id, created_at, locked_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        "p": "INSERT INTO posts (message_id, dialogue_id, thread_id, author_id, author_name, content, created_at, "
        "reply_to_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        "l": "INSERT INTO leaders (dialogue_id, user_id, commitment, added_at, removed_at, reachable) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        "r": "INSERT INTO reminders (dialogue_id, user_id, kind, reminder_key, due_at, state, sent_at, via, wake_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        "b": "INSERT INTO bot_messages (dialogue_id, kind, part, channel_id, message_id, posted_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        "m": "INSERT INTO members (guild_id, user_id, timezone, checkin_hour, updated_at, source) "
        "VALUES (?, ?, ?, ?, ?, ?)",
    }
    rows["r"] = [(*row, row[4]) for row in rows["r"]]
    async with database.transaction():
        for name in ("d", "q", "t", "p", "l", "r", "b", "m"):
            await database.executemany(statements[name], rows[name])
    counts = {}
    for table in ("dialogues", "leaders", "members", "threads", "posts", "reminders"):
        row = await database.fetchone(f"SELECT COUNT(*) AS n FROM {table}")
        counts[table] = int(row["n"]) if row else 0
    row = await database.fetchone("SELECT COUNT(*) AS n FROM reminders WHERE state = 'pending'")
    counts["pending reminders"] = int(row["n"]) if row else 0
    await database.close()
    return counts


async def start_once(path: Path | str) -> dict[str, float]:
    """Start the bot on ``path`` (or a database URL) with its clock at SIM_START (the data was built around it)."""
    from bench_dialogue_startup import start

    logging.disable(logging.CRITICAL)
    return await start(path, SIM_START)  # type: ignore[arg-type]


async def rebuild_only(path: Path) -> float:
    """Time the leaders' part of start-up alone: ``LeaderService.rebuild`` on this database."""
    from bot.config import Settings
    from bot.leaders import LeaderService
    from bot.scheduler import Scheduler
    from db import Database

    database = await Database.connect(path)
    try:
        clock = lambda: SIM_START  # noqa: E731 - the database was built around this instant
        scheduler = Scheduler(clock)
        service = LeaderService(database, None, scheduler, clock, Settings())  # type: ignore[arg-type]
        began = time.perf_counter()
        await service.rebuild()
        return time.perf_counter() - began
    finally:
        await database.close()


def measure(path: Path) -> dict[str, float] | None:
    """Run one start on a copy of ``path`` in a fresh interpreter (its own peak RSS); None if it failed."""
    try:
        with tempfile.TemporaryDirectory() as folder:
            copy = Path(folder) / "copy.sqlite3"
            copy.write_bytes(path.read_bytes())
            done = subprocess.run(
                [sys.executable, __file__, "--start", str(copy)],
                capture_output=True,
                text=True,
                check=True,
                cwd=Path.cwd(),
                timeout=600,
            )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as error:
        print(f"        start failed: {error}", file=sys.stderr)
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(sizes: list[int]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        empty = Path(folder) / "empty.sqlite3"
        asyncio.run(build(empty, 0))
        base = measure(empty)
        assert base is not None
        empty_rebuild = asyncio.run(rebuild_only(empty))
        print(
            f"empty database: setup_hook done in {base['seconds']:.3f} s, peak RSS {base['rss_mb']:.0f} MiB; "
            f"leaders.rebuild alone {empty_rebuild * 1000:.1f} ms"
        )
        previous: tuple[int, float] | None = None
        for size in sizes:
            path = Path(folder) / f"d{size}.sqlite3"
            counts = asyncio.run(build(path, size))
            first = asyncio.run(rebuild_only(path))  # plans every leader once, noting what each was planned from
            steady = asyncio.run(rebuild_only(path))  # every later start
            growth = ""
            if previous is not None:
                growth = f", x{steady / previous[1]:.2f} for x{size / previous[0]:.2f} dialogues"
            print(
                f"{size:>6} dialogues ({counts['leaders']} leaders, {counts['posts']} posts, {counts['threads']} "
                f"threads, {counts['pending reminders']} pending reminders): leaders.rebuild alone "
                f"{steady * 1000:.1f} ms{growth} (first start after the upgrade, planning every leader: "
                f"{first * 1000:.0f} ms)"
            )
            previous = (size, steady)
            figures = measure(path)
            if figures is None:
                print("        start-up failed (not measured)")
                continue
            print(
                f"        start-up: setup_hook done in {figures['seconds']:.3f} s "
                f"= {figures['seconds'] / base['seconds']:.1f}x empty; "
                f"of which leaders.rebuild {figures['leaders']:.3f} s, dialogues.schedule_all "
                f"{figures['dialogues']:.3f} s; {figures['jobs']:.0f} scheduler jobs; one more dialogue "
                f"{figures['create_ms']:.1f} ms; peak RSS {figures['rss_mb']:.0f} MiB = "
                f"{figures['rss_mb'] / base['rss_mb']:.2f}x empty"
            )


if __name__ == "__main__":
    if sys.argv[1:2] == ["--start"]:
        # As given: a PostgreSQL URL must not go through Path (bench_backends.py starts on one).
        print(json.dumps(asyncio.run(start_once(sys.argv[2]))))
    else:
        main([int(arg) for arg in sys.argv[1:]] or [1000, 2000, 5000, 10000])
