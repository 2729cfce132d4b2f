"""Benchmark: REST calls (and time) to close a dialogue with T threads, through SimCord's request log.

Prints figures, never asserts: run `python benchmarks/bench_close.py [T ...]` (default 5 50 200). Every post was
seen live, so nothing was missed: the floor is T + 4 calls (the command's answer 2, the channel lock 1, one lock
per thread, the wrap-up 1; more wrap-up parts when it is longer than one message).
"""

from __future__ import annotations

import asyncio
import re
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import discord
import simcord

import db.dialogues as dialogues_db
from bot import Settings, create_bot


async def close_with(threads: int) -> tuple[int, Counter[str], int, float]:
    """Close a dialogue with ``threads`` threads; return (threads, calls by route, wrap-up parts, seconds)."""
    with tempfile.TemporaryDirectory() as folder:
        # The closing's own calls: the scheduled event's (one read, one update) are its own step, counted apart
        # by tests/integration/test_closing.py.
        settings = Settings(
            database=str(Path(folder) / "bench.sqlite3"), default_timezone="UTC", scheduled_events=False
        )
        bot = create_bot(settings)
        async with simcord.run(bot, check_errors=False) as env:
            guild = env.create_guild("Bench")
            general = guild.create_text_channel("general")
            role = guild.create_role("Facilitators", permissions=discord.Permissions(manage_channels=True))
            fac = guild.add_member(env.create_user("facilitator"), roles=[role])
            member = guild.add_member(env.create_user("participant"))
            await env.bot.tree.sync()
            shown = await fac.slash(general, "dialogue create", timezone="UTC")
            await fac.submit_modal(
                shown,
                {"title": "Bench", "framing": "", "questions": "Q?", "opens": "now", "duration": "1d"},
            )
            await env.advance_time(1)
            dialogue = (await dialogues_db.in_guild(env.bot.database, guild.id))[0]
            room = next(c for c in guild.channels.values() if c.id == dialogue.channel_id)
            # Each top-level post gets a thread of its own: one per thread beyond the seed question's.
            existing = len(await dialogues_db.thread_ids(env.bot.database, dialogue.id))
            for n in range(threads - existing):
                await member.send(room, f"Topic {n}")
            count = len(await dialogues_db.thread_ids(env.bot.database, dialogue.id))
            mark = len(env.http_requests)
            began = time.perf_counter()
            await fac.slash(general, "dialogue close", dialogue=str(dialogue.id))
            elapsed = time.perf_counter() - began
            calls = Counter(r.method + " " + re.sub(r"/\d{6,}", "/{id}", r.path) for r in env.http_requests[mark:])
            calls = Counter({re.sub(r"simcord_interaction_\d+", "{token}", k): v for k, v in calls.items()})
            parts = len(await dialogues_db.bot_messages(env.bot.database, dialogue.id, "wrapup"))
            await env.bot.close()
            return count, calls, parts, elapsed


async def main(sizes: list[int]) -> None:
    print(f"{'T':>5} {'calls':>6} {'history':>8} {'other':>6} {'floor':>5} {'calls/floor':>12} {'parts':>6} {'s':>7}")
    for size in sizes:
        threads, calls, parts, elapsed = await close_with(size)
        total = sum(calls.values())
        history = calls["GET /channels/{id}/messages"]
        floor = threads + 4 + (parts - 1)
        print(
            f"{threads:>5} {total:>6} {history:>8} {total - history:>6} {floor:>5} {total / floor:>12.2f} "
            f"{parts:>6} {elapsed:>7.2f}"
        )
    print("history = reads by the catch-up before locking; other = the command's answer, locks and the wrap-up")


if __name__ == "__main__":
    asyncio.run(main([int(arg) for arg in sys.argv[1:]] or [5, 50, 200]))
