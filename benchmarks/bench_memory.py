"""Benchmark: memory per open dialogue while recording, and the whole bot's RSS with 1,000 open dialogues.

Prints figures, never asserts: run ``python benchmarks/bench_memory.py [DIALOGUES ...] [--replies R]`` (default
100 500 1000 dialogues, 20 replies in each). The real bot (``create_bot``) runs under SimCord on a SQLite file.
Each size runs twice, each time in a fresh process (so that its peak RSS is its own):

- once untraced, for the resident set size (RSS, current from ``/proc/self/statm`` and the peak from
  ``getrusage``), which is what the operating system sees;
- once under ``tracemalloc``, for the Python heap, split by whose code allocated it: the project's own files
  (``bot/``, ``cogs/``, ``db/``), discord.py, SimCord, and everything else.

Each process: a guild with a facilitator and eight members; the bot starts (stage "started"); a facilitator
creates the first dialogue through ``/dialogue create`` and its form, the others are created through the same
service the form calls (``DialogueService.create``; through the form each costs SimCord's settle loop twice),
each with three questions, all opening an hour later; virtual time moves past the opening, so the bot's own
timer opens every dialogue (a channel, three question threads and their posts each; stage "opened"); then
members post R replies in every dialogue, spread over its three threads, through SimCord (``member.send``),
each handed by discord.py to the bot's ``on_message`` listener and recorded (stage "recorded").

Honest caveat: SimCord simulates Discord in the same process, so its own state (every guild, channel, thread
and message it keeps, and the interaction log) is inside the RSS figures, as is SQLite's page cache (C memory
that tracemalloc does not see). The traced split shows how much of the Python heap the bot's own code holds
and how much SimCord and discord.py's cache hold; on a real deployment SimCord's part does not exist, so "RSS
less SimCord's heap" is printed as the nearest figure to a real bot's. Heap is charged to the line that
allocated it, not to whoever keeps it: the bot's lines that grow while opening (the intro and question texts in
``bot/render.py``, the nonces in ``bot/steps.py``) are kept by SimCord's request log and stored messages and by
discord.py's message cache (1,000 messages at most), not by the bot.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import logging
import os
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PAGE = os.sysconf("SC_PAGE_SIZE")
MEMBERS = 8
MIB = 1024 * 1024
PROJECT = "project (bot/ cogs/ db/)"
_PROJECT = tuple(f"{ROOT}/{folder}/" for folder in ("bot", "cogs", "db"))
# This script's own bookkeeping is not the bot's.
_NOT_MINE = frozenset((__file__, tracemalloc.__file__))
FRAMES = 2  # enough to see past generated code (a dataclass's __init__) to who called it


def _rss() -> int:
    """The process's resident set size now, in bytes."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * PAGE


def _peak() -> int:
    """The process's peak resident set size so far, in bytes."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


@functools.cache
def _owner(filename: str) -> str:
    """Whose code allocated: the project, discord.py, SimCord, or something else (string tests: nothing to trace)."""
    if filename.startswith(_PROJECT):
        return PROJECT
    for name in ("simcord", "discord", "aiosqlite", "apscheduler"):
        if f"/{name}/" in filename:
            return name
    if filename.startswith("<frozen importlib"):
        return "imported modules' code"
    return "other (stdlib, asyncio, ...)"


def _allocator(traceback: tracemalloc.Traceback) -> tracemalloc.Frame:
    """The line whose code made an allocation: generated code (a dataclass's ``__init__``) counts as its caller's."""
    for frame in reversed(traceback):  # most recent frame last
        if not frame.filename.startswith("<"):
            return frame
    return traceback[-1]


@functools.cache
def _short(filename: str) -> str:
    for anchor in ("/site-packages/", "/python3.11/", f"{ROOT}/"):
        if anchor in filename:
            return filename.split(anchor, 1)[1]
    return filename


def _stage(traced: bool) -> dict[str, Any]:
    """Measure the process now: RSS and peak, and with tracing the Python heap by owner and by file."""
    import gc

    gc.collect()
    figures: dict[str, Any] = {"rss": _rss(), "peak": _peak()}
    if traced:
        owners: Counter[str] = Counter()
        files: Counter[str] = Counter()
        lines: Counter[str] = Counter()  # the project's own lines, to see what the bot keeps per post
        for stat in tracemalloc.take_snapshot().statistics("traceback"):
            frame = _allocator(stat.traceback)
            if frame.filename in _NOT_MINE:
                continue
            owner = _owner(frame.filename)
            owners[owner] += stat.size
            files[_short(frame.filename)] += stat.size
            if owner == PROJECT:
                lines[f"{_short(frame.filename)}:{frame.lineno}"] += stat.size
        figures["traced"] = sum(owners.values())
        figures["owners"] = dict(owners)
        figures["files"] = dict(files)
        figures["lines"] = dict(lines)
    return figures


async def run(dialogues: int, replies: int, traced: bool) -> dict[str, Any]:
    """One process's story: start, open ``dialogues`` dialogues, record ``replies`` replies in each."""
    import discord
    import simcord

    import db.dialogues as dialogues_db
    from bot import Settings, create_bot
    from bot.domain.models import DialogueDraft, State

    logging.disable(logging.CRITICAL)
    stages: dict[str, Any] = {}
    seconds: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(database=str(Path(folder) / "memory.sqlite3"), default_timezone="UTC")
        async with simcord.run(create_bot(settings), check_errors=False, settle_timeout=60) as env:
            guild = env.create_guild("Bench")
            general = guild.create_text_channel("general")
            role = guild.create_role("Facilitators", permissions=discord.Permissions(manage_channels=True))
            fac = guild.add_member(env.create_user("facilitator"), roles=[role])
            members = [guild.add_member(env.create_user(f"member{n}")) for n in range(MEMBERS)]
            await env.bot.tree.sync()
            bot = env.bot
            stages["started"] = _stage(traced)

            began = time.perf_counter()
            questions = "What does engagement add at home?\nWhat outcomes are realistic?\nWho should speak first?"
            shown = await fac.slash(general, "dialogue create", timezone="UTC")
            fields = {"title": "Dialogue 1", "framing": "Why now?", "questions": questions, "opens": "in 1h"}
            await fac.submit_modal(shown, {**fields, "duration": "5d"})
            first = (await dialogues_db.in_guild(bot.database, guild.id))[0]
            draft = DialogueDraft(
                title=first.title,
                framing=first.framing,
                questions=tuple(questions.split("\n")),
                timezone="UTC",
                opens_at=first.opens_at,
                closes_at=first.closes_at,
            )
            for number in range(2, dialogues + 1):
                await bot.dialogues.create(guild.id, fac.id, replace(draft, title=f"Dialogue {number}"))
            await env.advance_time(3600 + 60)
            stored = await dialogues_db.in_guild(bot.database, guild.id)
            opened = [d for d in stored if d.state is State.OPEN and d.channel_id is not None]
            seconds["open"] = time.perf_counter() - began
            stages["opened"] = _stage(traced)

            began = time.perf_counter()
            channels = {c.id: c for c in guild.channels.values()}
            posts = 0
            text = "A considered reply that takes the question seriously and adds a point of view. " * 2
            for index, dialogue in enumerate(opened):
                threads = [t for t in channels[dialogue.channel_id].threads if not t.name.startswith("Leaders")]
                for reply in range(replies):
                    member = members[(index + reply) % MEMBERS]
                    await member.send(threads[reply % len(threads)], text)
                    posts += 1
            seconds["record"] = time.perf_counter() - began
            recorded = await bot.database.fetchone("SELECT COUNT(*) AS n FROM posts")
            stages["recorded"] = _stage(traced)
            await bot.close()
    return {
        "dialogues": dialogues,
        "opened": len(opened),
        "posts": posts,
        "recorded": recorded["n"] if recorded else 0,
        "stages": stages,
        "seconds": seconds,
    }


def _child(dialogues: int, replies: int, traced: bool) -> dict[str, Any]:
    """Run one measurement in a fresh process and return its figures."""
    command = [sys.executable, __file__, "--child", str(dialogues), "--replies", str(replies)]
    if traced:
        command.append("--traced")
    done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=ROOT)
    if done.returncode != 0:
        raise SystemExit(f"child {command[2:]} failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _mib(size: float) -> str:
    return f"{size / MIB:8.1f} MiB"


def _growth(before: dict[str, int], after: dict[str, int], count: int) -> list[tuple[str, int]]:
    """The ``count`` keys that grew most from ``before`` to ``after``, with their growth in bytes."""
    grown = {key: size - before.get(key, 0) for key, size in after.items()}
    return sorted(grown.items(), key=lambda item: -item[1])[:count]


def report(plain: dict[str, Any], traced: dict[str, Any], replies: int) -> None:
    """Print one size's figures: RSS from the untraced run, the heap's split from the traced one."""
    n = plain["dialogues"]
    names = ("started", "opened", "recorded")
    rss = {name: plain["stages"][name] for name in names}
    heap = {name: traced["stages"][name] for name in names}
    posts = plain["recorded"]
    print(
        f"\n== {n} dialogues ({plain['opened']} opened in {plain['seconds']['open']:.1f} s), {replies} replies in "
        f"each: {posts:,} of {plain['posts']:,} posts recorded in {plain['seconds']['record']:.1f} s =="
    )
    owners = (PROJECT, "discord", "simcord")
    print(f"{'stage':<9} {'RSS':>12} {'peak RSS':>12} {'traced heap':>12} {'bot/cogs/db':>12} {'discord.py':>12} "
          f"{'SimCord':>12}")  # fmt: skip
    for name in names:
        split = " ".join(_mib(heap[name]["owners"].get(owner, 0)) for owner in owners)
        print(f"{name:<9} {_mib(rss[name]['rss'])} {_mib(rss[name]['peak'])} {_mib(heap[name]['traced'])} {split}")

    def per(figure: float) -> str:
        return f"{figure / n:>9,.0f}"

    print("increase per open dialogue since start-up, bytes (RSS less SimCord's heap: the nearest to a real bot's):")
    for name in names[1:]:
        grown = {
            owner: heap[name]["owners"].get(owner, 0) - heap["started"]["owners"].get(owner, 0) for owner in owners
        }
        rss_grown = rss[name]["rss"] - rss["started"]["rss"]
        print(
            f"  {name:<9} RSS {per(rss_grown)}  less SimCord {per(rss_grown - grown['simcord'])}  "
            f"heap {per(heap[name]['traced'] - heap['started']['traced'])}  bot/cogs/db "
            f"{per(grown[PROJECT])}  discord.py {per(grown['discord'])}  SimCord {per(grown['simcord'])}"
        )
    if posts:
        kept = heap["recorded"]["owners"].get(PROJECT, 0) - heap["opened"]["owners"].get(PROJECT, 0)
        print(
            f"  recording, per post: RSS {(rss['recorded']['rss'] - rss['opened']['rss']) / posts:,.0f} bytes, "
            f"of which the bot's own code holds {kept / posts:,.1f} bytes"
        )
    base = rss["started"]["rss"]
    sim = {name: heap[name]["owners"].get("simcord", 0) for name in names}
    print(
        f"RSS with {n} open dialogues / with none: {rss['opened']['rss'] / base:.2f}x "
        f"({rss['recorded']['rss'] / base:.2f}x after recording); less SimCord's heap: "
        f"{(rss['opened']['rss'] - sim['opened']) / (base - sim['started']):.2f}x "
        f"({(rss['recorded']['rss'] - sim['recorded']) / (base - sim['started']):.2f}x)"
    )
    print("largest growth of the traced heap since start-up, by file:")
    for filename, size in _growth(heap["started"]["files"], heap["recorded"]["files"], 5):
        print(f"  {_mib(size)}  {filename}")
    for phase, before, after in (("opening", "started", "opened"), ("recording", "opened", "recorded")):
        print(f"the bot's own lines (bot/ cogs/ db/) that grew most while {phase}:")
        for line, size in _growth(heap[before]["lines"], heap[after]["lines"], 3):
            print(f"  {size:>9,} bytes  {line}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dialogues", nargs="*", type=int, default=[100, 500, 1000])
    parser.add_argument("--replies", type=int, default=20)
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--traced", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        if args.traced:
            tracemalloc.start(FRAMES)
        print(json.dumps(asyncio.run(run(args.child, args.replies, args.traced))))
        return
    for size in args.dialogues:
        report(_child(size, args.replies, False), _child(size, args.replies, True), args.replies)


if __name__ == "__main__":
    main()
