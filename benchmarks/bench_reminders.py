"""Benchmark: a restart with many pending reminders spread over a month; each must arrive once, at its time.

Prints figures, never asserts: run ``python benchmarks/bench_reminders.py [ROWS]`` (default 100000). The real
bot runs under SimCord: a facilitator creates a 31-day dialogue and adds 20 leaders through slash commands,
the bot goes down, ROWS facilitator messages due over the month (one every 26 s for 100,000) are written
straight into the database, the bot starts again and virtual time runs through the month, an hour per step,
with a second restart half way. It prints the start-up time and the scheduler's job count after each restart,
how many reminders arrived once, twice and never, the largest gap between a DM and its due time, and the
delivery rate. The suite runs the same story with 1,000 rows (tests/integration/test_leaders.py).

Two things SimCord keeps grow with every DM and make each step slower, neither of them the bot's: every
clock move scans every stored message for polls to expire (simcord/backend/ops/polls.py ``next_poll_deadline``
and ``expire_due_polls``, called from env.py ``_next_resource_deadline`` and ``_process_resource_deadlines``),
and a virtual timer that is cancelled (APScheduler re-arms its wake-up each time the reminder job moves) leaves
its real-clock fallback (env.py ``_schedule_timer.run_real``) in the event loop's heap, which settling scans
(``_dpy_internals.is_sleep_waiter``). So after each hour the script (1) reads the DMs SimCord stored during
that hour, with the instant each was created, and drops them from SimCord's store (the bot never reads DM
history); the hour's REST log is counted and dropped too, with SimCord's transcript; and (2) cancels the real
fallbacks whose virtual timer was cancelled: ``run_real`` does nothing for those when it fires, so cancelling
them changes nothing the bot sees. Deliveries are counted from the stored DMs (content and creation instant)
and checked against the broadcast ``POST /channels/{dm}/messages`` in the REST log and against the database.
"""

from __future__ import annotations

import asyncio
import logging
import resource
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import discord
import simcord

import db.reminders as reminders_db
from bot import Settings, create_bot
from bot.domain.reminders import Kind, Owed, ReminderState, Via
from db import Database

LEADERS = 20
DAY = 86400
SPACING = 26  # seconds between two rows' due instants: 100,000 rows span 30.1 days
PREFIX = "A message from"  # how a broadcast reminder's DM begins (bot/domain/reminders.py)


@dataclass
class Tally:
    """What arrived: per reminder key, how many DMs, and the largest gap between a DM and its due time."""

    due: dict[str, datetime]
    seen: Counter[str] = field(default_factory=Counter)
    worst: float = 0.0
    posts: int = 0  # broadcast POSTs to DM channels in SimCord's REST log


def harvest(env: simcord.Env, tally: Tally) -> None:
    """Count the DMs and REST calls SimCord stored since the last call, then drop them from its store."""
    backend = env.backend
    dm_channels = set(backend.dm_channels.values())
    for channel_id in dm_channels:
        stored = backend.messages.get(channel_id)
        if not stored:
            continue
        for message in stored.values():
            if message.author_id != backend.bot_user.id or not message.content.startswith(PREFIX):
                continue
            key = message.content.rsplit("\n", 1)[1]
            if key not in tally.due:
                continue
            tally.seen[key] += 1
            sent = datetime.fromisoformat(message.timestamp)
            tally.worst = max(tally.worst, abs((sent - tally.due[key]).total_seconds()))
        stored.clear()
    paths = {f"/channels/{channel_id}/messages" for channel_id in dm_channels}
    tally.posts += sum(
        1
        for entry in env.http_requests
        if entry.method == "POST"
        and entry.path in paths
        and isinstance(entry.json, dict)
        and str(entry.json.get("content", "")).startswith(PREFIX)
    )
    env.http_requests.clear()
    backend.transcript.clear()  # the log behind env.transcript(), only read when a test fails


def drop_dead_fallbacks(loop: asyncio.AbstractEventLoop) -> int:
    """Cancel SimCord's real-clock fallbacks whose virtual timer was cancelled (they would do nothing); count them."""
    dropped = 0
    for handle in list(getattr(loop, "_scheduled", ())):
        callback = handle._callback
        if handle.cancelled() or getattr(callback, "__qualname__", "") != "Env._schedule_timer.<locals>.run_real":
            continue
        cells = dict(zip(callback.__code__.co_freevars, callback.__closure__ or (), strict=True))
        record = cells["record"].cell_contents if "record" in cells else None
        if record is not None and record.handle is not None and record.handle.cancelled():
            handle.cancel()
            dropped += 1
    return dropped


async def restart(env: simcord.Env, settings: Settings) -> tuple[float, int]:
    """Start the bot again; return the seconds it took and the scheduler's job count."""
    began = time.perf_counter()
    await env.restart_bot(create_bot(settings))
    return time.perf_counter() - began, len(env.bot.scheduler.job_ids())


@dataclass(frozen=True)
class Outcome:
    """How a run went: what arrived once, twice, never; the largest lateness; what the log and the record say."""

    rows: int
    days: float
    once: int
    twice: int
    never: int
    worst: float
    posts: int
    recorded: int
    starts: list[tuple[float, int]]
    elapsed: float
    dropped: int


async def run_story(rows: int) -> Outcome:
    """Run the month with ``rows`` pending reminders across two restarts (see the module's docstring)."""
    loop = asyncio.get_running_loop()
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(database=str(Path(folder) / "reminders.sqlite3"), default_timezone="UTC")
        async with simcord.run(create_bot(settings), check_errors=False, settle_timeout=120) as env:
            guild = env.create_guild("Bench")
            general = guild.create_text_channel("general")
            role = guild.create_role("Facilitators", permissions=discord.Permissions(manage_channels=True))
            fac = guild.add_member(env.create_user("fac"), roles=[role])
            leaders = [guild.add_member(env.create_user(f"leader{n}")) for n in range(LEADERS)]
            await env.bot.tree.sync()
            shown = await fac.slash(general, "dialogue create", timezone="UTC")
            fields = {"title": "Bench", "framing": "x", "questions": "Q?", "opens": "in 1h", "duration": "31d"}
            await fac.submit_modal(shown, fields)
            for member in leaders:
                await fac.slash(general, "dialogue leaders add", dialogue="1", member=member, commitment=2)
            await env.advance_time(2 * 3600)
            start = env.now() + timedelta(hours=1)
            owed = [
                Owed(
                    1,
                    leaders[n % LEADERS].id,
                    Kind.BROADCAST,
                    f"broadcast:bulk{n}",
                    start + timedelta(seconds=n * SPACING),
                )
                for n in range(rows)
            ]
            tally = Tally(due={row.key: row.due_at for row in owed})
            harvest(env, tally)  # the welcome and opening DMs are not counted
            await env.bot.close()
            database = await Database.connect(settings.database)
            await reminders_db.add_many(database, owed)
            await database.execute("UPDATE reminders SET body = reminder_key WHERE reminder_key LIKE 'broadcast:bulk%'")
            await database.close()

            starts = [await restart(env, settings)]
            span = (owed[-1].due_at - env.now()).total_seconds() + 3600
            hours = int(span // 3600) + 1
            dropped = 0
            began = time.perf_counter()
            for hour in range(hours):
                if hour == hours // 2:
                    await env.bot.close()
                    starts.append(await restart(env, settings))
                await env.advance_time(3600)  # an hour per step keeps each step's work small for SimCord
                harvest(env, tally)
                dropped += drop_dead_fallbacks(loop)
            elapsed = time.perf_counter() - began

            stored = await reminders_db.reminders_for(env.bot.database, 1)
            bulk = [row for row in stored if row.key.startswith("broadcast:bulk")]
            recorded = sum(1 for row in bulk if row.state is ReminderState.SENT and row.via is Via.DM)
            await env.bot.close()
            once = sum(1 for key in tally.due if tally.seen[key] == 1)
            twice = sum(1 for key in tally.due if tally.seen[key] > 1)
            never = sum(1 for key in tally.due if not tally.seen[key])
            return Outcome(
                rows, span / DAY, once, twice, never, tally.worst, tally.posts, recorded, starts, elapsed, dropped
            )


async def main(rows: int) -> None:
    logging.disable(logging.CRITICAL)
    began = time.perf_counter()
    outcome = await run_story(rows)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    restarts = "; ".join(f"{seconds:.2f} s, {jobs} scheduler jobs" for seconds, jobs in outcome.starts)
    print(
        f"{rows} reminders over {outcome.days:.1f} days for {LEADERS} leaders\n"
        f"start-up after each restart: {restarts}\n"
        f"arrived once {outcome.once}, twice {outcome.twice}, never {outcome.never}; largest gap between a DM and "
        f"its due time {outcome.worst:.0f} s\n"
        f"DM POSTs in the REST log {outcome.posts}; rows recorded sent by DM {outcome.recorded} of {rows}\n"
        f"delivered in {outcome.elapsed:.1f} s of real time ({rows / outcome.elapsed:.0f} reminders/s, a restart "
        f"included; {time.perf_counter() - began:.0f} s in all); peak RSS {peak:.0f} MiB; {outcome.dropped} dead "
        "SimCord timer fallbacks cancelled"
    )


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if sys.argv[1:] else 100000))
