"""Benchmark: a restart with many pending reminders spread over a month; each must arrive once, at its time.

Prints figures, never asserts: run ``python benchmarks/bench_reminders.py [ROWS]`` (default 100000). The real
bot runs under SimCord: a facilitator creates a 31-day dialogue and adds 20 leaders through slash commands,
the bot goes down, ROWS facilitator messages due over the month are written straight into the database, the
bot starts again and virtual time runs through the month, an hour per step, with a second restart half way.
It prints the start-up time, the scheduler's job count, how many reminders arrived, how many twice, how many
never, the largest gap between a DM and its due time, and the delivery rate. The suite runs the same story
with 1,000 rows (tests/integration/test_leaders.py).
"""

from __future__ import annotations

import asyncio
import logging
import resource
import sys
import tempfile
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import discord
import simcord

import db.reminders as reminders_db
from bot import Settings, create_bot
from bot.domain.reminders import Kind, Owed
from db import Database

LEADERS = 20
DAY = 86400


async def main(rows: int) -> None:
    logging.disable(logging.CRITICAL)
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
                    1, leaders[n % LEADERS].id, Kind.BROADCAST, f"broadcast:bulk{n}", start + timedelta(seconds=n * 26)
                )
                for n in range(rows)
            ]
            await env.bot.close()
            database = await Database.connect(settings.database)
            await reminders_db.add_many(database, owed)
            await database.execute("UPDATE reminders SET body = reminder_key WHERE reminder_key LIKE 'broadcast:bulk%'")
            await database.close()

            began = time.perf_counter()
            await env.restart_bot(create_bot(settings))
            started = time.perf_counter() - began
            jobs = len(env.bot.scheduler.job_ids())
            span = (owed[-1].due_at - env.now()).total_seconds() + 3600
            began = time.perf_counter()
            hours = int(span // 3600) + 1
            for hour in range(hours):
                if hour == hours // 2:
                    await env.bot.close()
                    await env.restart_bot(create_bot(settings))
                await env.advance_time(3600)  # an hour per step keeps each step's work small for SimCord
            elapsed = time.perf_counter() - began

            due = {owed_row.key: owed_row.due_at for owed_row in owed}
            seen: Counter[str] = Counter()
            worst = 0.0
            for member in leaders:
                for message in member.user.dm_channel.history():
                    if not message.content.startswith("A message from"):
                        continue
                    key = message.content.rsplit("\n", 1)[1]
                    seen[key] += 1
                    worst = max(worst, abs((message.created_at - due[key]).total_seconds()))
            arrived = sum(1 for key in due if seen[key])
            twice = sum(1 for count in seen.values() if count > 1)
            await env.bot.close()
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print(
                f"{rows} reminders over {span / DAY:.1f} days for {LEADERS} leaders: start-up {started:.2f} s with "
                f"{jobs} scheduler jobs; {arrived} arrived, {twice} twice, {rows - arrived} never; largest gap "
                f"between a DM and its due time {worst:.0f} s; delivered in {elapsed:.1f} s "
                f"({rows / elapsed:.0f}/s, a restart included); peak RSS {peak:.0f} MiB"
            )


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if sys.argv[1:] else 100000))
