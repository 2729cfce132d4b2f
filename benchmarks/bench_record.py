"""Benchmark: a MESSAGE_CREATE payload, parsed by discord.py and handed to the bot's listener, to a durable row.

Prints figures, never asserts: run `python benchmarks/bench_record.py [POSTS] [ROUNDS]`. Each round records POSTS
replies through ``Participation.on_message`` (called directly with a ``discord.Message`` built from a gateway
payload; SimCord's actors would measure their own settle loop) and, interleaved in the same process, inserts as
many rows with a plain single INSERT + COMMIT on a bare table of the same columns and indexes (the baseline).
Both use a SQLite file in WAL mode with synchronous=NORMAL, as the bot does. Reports the median of the rounds.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiosqlite
import discord

import db.dialogues as dialogues_db
import db.posts as posts_db
from bot.app import _Services
from bot.config import Settings
from bot.domain.models import DialogueDraft, State
from bot.gateway import Gateway
from bot.scheduler import Scheduler
from cogs.participation import Participation
from db import Database

GUILD, CHANNEL, THREAD = 100, 1000, 2000
THREADS = 12
PARTICIPANTS = 40
START = datetime(2026, 1, 1, tzinfo=UTC)

_BASELINE_SCHEMA = (
    "CREATE TABLE posts (message_id BIGINT PRIMARY KEY, dialogue_id INTEGER NOT NULL, thread_id BIGINT, "
    "author_id BIGINT NOT NULL, author_name TEXT NOT NULL, content TEXT NOT NULL, created_at BIGINT NOT NULL, "
    "edited_at BIGINT, deleted_at BIGINT, reply_to_id BIGINT)",
    "CREATE INDEX posts_by_thread_author ON posts (dialogue_id, thread_id, author_id)",
    "CREATE INDEX posts_by_time ON posts (dialogue_id, created_at)",
)


def _guild_state() -> tuple[discord.Client, dict[int, discord.Thread]]:
    """A discord.py connection state holding one guild, its dialogue channel and threads, as after READY."""
    client = discord.Client(intents=discord.Intents.default())
    state = client._connection
    stamp = START.isoformat()
    threads = [
        {
            "id": str(THREAD + n),
            "type": 11,
            "guild_id": str(GUILD),
            "parent_id": str(CHANNEL),
            "name": f"Question {n}?",
            "owner_id": "1",
            "message_count": 0,
            "member_count": 1,
            "thread_metadata": {
                "archived": False,
                "auto_archive_duration": 10080,
                "archive_timestamp": stamp,
                "locked": False,
            },
        }
        for n in range(THREADS)
    ]
    guild = discord.Guild(
        data={
            "id": str(GUILD),
            "name": "Benchmark",
            "roles": [{"id": str(GUILD), "name": "@everyone", "permissions": "0", "position": 0}],
            "channels": [{"id": str(CHANNEL), "type": 0, "guild_id": str(GUILD), "name": "dialogue", "position": 0}],
            "threads": threads,
            "members": [],
            "member_count": PARTICIPANTS,
        },
        state=state,
    )
    state._add_guild(guild)
    return client, {n: guild.get_thread(THREAD + n) for n in range(THREADS)}  # type: ignore[misc]


def _payload(n: int) -> dict[str, Any]:
    """A member's reply as the gateway sends it (MESSAGE_CREATE)."""
    author = 5000 + n % PARTICIPANTS
    return {
        "id": str(10_000_000 + n),
        "channel_id": str(THREAD + n % THREADS),
        "guild_id": str(GUILD),
        "author": {"id": str(author), "username": f"member{author}", "discriminator": "0", "avatar": None},
        "member": {"roles": [], "joined_at": START.isoformat(), "deaf": False, "mute": False, "flags": 0},
        "content": "A considered reply " * 10,
        "timestamp": (START + timedelta(seconds=n)).isoformat(),
        "edited_timestamp": None,
        "tts": False,
        "mention_everyone": False,
        "mentions": [],
        "mention_roles": [],
        "attachments": [],
        "embeds": [],
        "pinned": False,
        "type": 0,
    }


async def _bot_round(
    listener: Participation, client: discord.Client, threads: dict[int, discord.Thread], first: int, posts: int
) -> list[float]:
    state = client._connection
    latencies = []
    for n in range(first, first + posts):
        began = time.perf_counter()
        message = discord.Message(state=state, channel=threads[n % THREADS], data=_payload(n))  # type: ignore[arg-type]
        await listener.on_message(message)
        latencies.append(time.perf_counter() - began)
    return latencies


async def _baseline_round(connection: aiosqlite.Connection, first: int, posts: int) -> list[float]:
    latencies = []
    for n in range(first, first + posts):
        began = time.perf_counter()
        await connection.execute(
            "INSERT INTO posts (message_id, dialogue_id, thread_id, author_id, author_name, content, created_at, "
            "reply_to_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                10_000_000 + n,
                1,
                THREAD + n % THREADS,
                5000 + n % PARTICIPANTS,
                "m",
                "A considered reply " * 10,
                n,
                None,
            ),
        )
        await connection.commit()
        latencies.append(time.perf_counter() - began)
    return latencies


async def _open_dialogue(database: Database) -> int:
    draft = DialogueDraft(
        title="Benchmark",
        framing="",
        questions=tuple(f"Question {n}?" for n in range(THREADS)),
        timezone="UTC",
        opens_at=START,
        closes_at=START + timedelta(days=5),
    )
    dialogue = await dialogues_db.create(database, GUILD, 2, draft, START)
    await dialogues_db.set_channel(database, dialogue.id, CHANNEL, START)
    await dialogues_db.transition(database, dialogue.id, (State.SCHEDULED,), State.OPEN, START)
    for position in range(1, THREADS + 1):
        await dialogues_db.set_question_thread(database, dialogue.id, position, THREAD + position - 1, "t", START)
    return dialogue.id


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def main(posts: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        database = await Database.connect(Path(folder) / "bot.sqlite3")
        dialogue_id = await _open_dialogue(database)
        client, threads = _guild_state()
        clock = lambda: START  # noqa: E731 - a frozen clock is all the benchmark needs
        # The services as setup_hook builds them (the scheduler is never started: nothing is due here).
        services = _Services.build(database, Gateway(client), Scheduler(clock), clock, Settings())
        listener = Participation(services.dialogues)
        baseline = await aiosqlite.connect(Path(folder) / "baseline.sqlite3")
        await baseline.execute("PRAGMA journal_mode = WAL")
        await baseline.execute("PRAGMA synchronous = NORMAL")
        for statement in _BASELINE_SCHEMA:
            await baseline.execute(statement)
        await baseline.commit()

        # One untimed round each, so both sides start warm.
        await _bot_round(listener, client, threads, 0, 200)
        await _baseline_round(baseline, 0, 200)
        bot_rates, base_rates, ratios = [], [], []
        bot_latencies: list[float] = []
        base_latencies: list[float] = []
        for index in range(rounds):
            first = 1_000 + index * posts
            bot = await _bot_round(listener, client, threads, first, posts)
            base = await _baseline_round(baseline, first, posts)
            bot_rates.append(posts / sum(bot))
            base_rates.append(posts / sum(base))
            ratios.append(bot_rates[-1] / base_rates[-1])
            bot_latencies += bot
            base_latencies += base
        recorded = (await posts_db.stats(database, dialogue_id)).posts
        await baseline.close()
        await database.close()

    assert recorded == 200 + rounds * posts, recorded
    ms = 1000
    print(f"record path, {rounds} rounds of {posts} posts (median): {statistics.median(bot_rates):,.0f} posts/s")
    print(f"  p50 {_quantile(bot_latencies, 0.5) * ms:.3f} ms, p99 {_quantile(bot_latencies, 0.99) * ms:.3f} ms")
    print(f"baseline INSERT+COMMIT (median): {statistics.median(base_rates):,.0f} posts/s")
    print(f"  p50 {_quantile(base_latencies, 0.5) * ms:.3f} ms, p99 {_quantile(base_latencies, 0.99) * ms:.3f} ms")
    print(f"ratio record path / baseline (median of rounds): {statistics.median(ratios):.2f}x")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000, int(sys.argv[2]) if len(sys.argv) > 2 else 5))
