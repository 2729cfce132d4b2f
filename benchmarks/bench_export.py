"""Benchmark: exporting a dialogue of 20,000 posts in each format, in seconds and peak memory.

Prints figures, never asserts: run ``python benchmarks/bench_export.py [POSTS] [--pseudonymise]`` (default
20000). The dialogue has 40 threads (three seed questions, the rest participants' topics), 120 authors,
posts of 80 to 900 characters (some Arabic), a third of them replies, one in fifty with an attachment and one
in a hundred deleted; the rows are written with plain SQL for speed (this is a script, not the bot).

Each format is exported in a fresh process, twice: untraced, for the time and the peak RSS (``VmHWM``, the
process's high-water mark, printed with the RSS before the export so the export's own share shows), then
under ``tracemalloc`` for the Python heap's peak during the export alone. The file goes to disk, as the CLI
writes it. ``--pseudonymise`` adds the pseudonymised exports.
"""

from __future__ import annotations

import asyncio
import json
import random
import subprocess
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

OPENS = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
THREADS = 40
AUTHORS = 120
WORDS = [
    "the",
    "council",
    "review",
    "report",
    "network",
    "shadow",
    "mechanism",
    "follow-up",
    "state",
    "civil",
    "society",
    "session",
]
ARABIC = ["نحن", "بحاجة", "إلى", "آليات", "حماية", "أقوى", "للمدافعين", "عن", "حقوق", "الإنسان"]


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


async def build(path: Path, posts: int) -> int:
    """Write one closed dialogue with ``posts`` posts; return its id."""
    from db import Database

    rng = random.Random(posts)
    database = await Database.connect(path)
    try:
        opens, closes = _epoch(OPENS), _epoch(OPENS + timedelta(days=7))
        dialogue_id = await database.insert(
            "INSERT INTO dialogues (guild_id, title, framing, timezone, opens_at, closes_at, state, channel_id, "
            "created_by, created_at, updated_at, locked_at, closed_at, opened_at) "
            "VALUES (1, 'Benchmark dialogue', 'Framing', 'Europe/Zurich', ?, ?, 'closed', 2, 3, ?, ?, ?, ?, ?)",
            (opens, closes, opens, closes, closes, closes, opens),
        )
        threads = [10**17 + n for n in range(THREADS)]
        await database.executemany(
            "INSERT INTO questions (dialogue_id, position, text, thread_id) VALUES (?, ?, ?, ?)",
            [(dialogue_id, n + 1, f"Seed question {n + 1}?", threads[n]) for n in range(3)],
        )
        await database.executemany(
            "INSERT INTO threads (thread_id, dialogue_id, origin, title, created_at) VALUES (?, ?, ?, ?, ?)",
            [
                (thread, dialogue_id, "seed" if n < 3 else "participant", f"Thread {n + 1}", opens + n * 600)
                for n, thread in enumerate(threads)
            ],
        )
        rows = []
        files = []
        last: dict[int, int] = {}
        for number in range(posts):
            message_id = 2 * 10**17 + number
            thread = threads[rng.randrange(THREADS)]
            author = 5000 + rng.randrange(AUTHORS)
            words = ARABIC if number % 17 == 0 else WORDS
            text = " ".join(rng.choice(words) for _ in range(rng.randint(12, 140)))
            reply = last.get(thread) if number % 3 == 0 else None
            created = opens + number * (closes - opens) // posts
            deleted = created if number % 100 == 99 else None
            rows.append((message_id, dialogue_id, thread, author, f"Member {author}", text, created, deleted, reply))
            if number % 50 == 0:
                files.append((message_id, 0, "notes.pdf", f"https://cdn.example/{message_id}/notes.pdf", None, 4096))
            last[thread] = message_id
        await database.executemany(
            "INSERT INTO posts (message_id, dialogue_id, thread_id, author_id, author_name, content, created_at, "
            "deleted_at, reply_to_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        await database.executemany(
            "INSERT INTO post_attachments (message_id, position, filename, url, content_type, size) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            files,
        )
        return dialogue_id
    finally:
        await database.close()


def _rss_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


async def _export_once(database_path: str, dialogue_id: int, fmt: str, pseudonymise: bool, out: Path) -> int:
    from bot.record.cli import write_export
    from bot.record.export import ExportFormat

    with out.open("wb") as file:
        exported = await write_export(database_path, dialogue_id, ExportFormat(fmt), file, pseudonymise=pseudonymise)
    return exported.size


def one(database_path: str, dialogue_id: int, fmt: str, pseudonymise: bool, traced: bool) -> dict[str, float]:
    """Export once in this process and return its figures."""
    # Imports first, so their memory is not the export's (matplotlib loads for HTML's chart).
    import bot.record.cli
    import bot.record.naming

    if fmt == "html":
        import bot.record.chart  # noqa: F401
    out = Path(tempfile.mkdtemp()) / f"export.{fmt}"
    before = _rss_kib("VmRSS")
    if traced:
        tracemalloc.start()
    start = time.perf_counter()
    size = asyncio.run(_export_once(database_path, dialogue_id, fmt, pseudonymise, out))
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1] if traced else 0
    return {
        "seconds": seconds,
        "bytes": size,
        "rss_before_mib": before / 1024,
        "rss_peak_mib": _rss_kib("VmHWM") / 1024,
        "heap_peak_mib": peak / 2**20,
    }


def _run(database_path: str, dialogue_id: int, fmt: str, pseudonymise: bool, traced: bool) -> dict[str, float]:
    command = [sys.executable, __file__, "--one", database_path, str(dialogue_id), fmt]
    command += ["--pseudonymise"] if pseudonymise else []
    command += ["--traced"] if traced else []
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    figures: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def main(argv: list[str]) -> None:
    if argv and argv[0] == "--one":
        path, dialogue_id, fmt = argv[1], int(argv[2]), argv[3]
        print(json.dumps(one(path, dialogue_id, fmt, "--pseudonymise" in argv, "--traced" in argv)))
        return
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    numbers = [a for a in argv if not a.startswith("--")]
    posts = int(numbers[0]) if numbers else 20000
    variants = [False, True] if "--pseudonymise" in argv else [False]
    with tempfile.TemporaryDirectory(prefix="bench-export-") as folder:
        path = Path(folder) / "export.sqlite3"
        started = time.perf_counter()
        dialogue_id = asyncio.run(build(path, posts))
        print(f"{posts:,} posts in {THREADS} threads written in {time.perf_counter() - started:.1f} s")
        for pseudonymise in variants:
            for fmt in ("markdown", "html", "json"):
                plain = _run(str(path), dialogue_id, fmt, pseudonymise, traced=False)
                traced = _run(str(path), dialogue_id, fmt, pseudonymise, traced=True)
                label = fmt + (" pseudonymised" if pseudonymise else "")
                print(
                    f"{label:>22}: {plain['seconds']:6.2f} s, {plain['bytes'] / 1e6:5.1f} MB file, "
                    f"peak RSS {plain['rss_peak_mib']:.0f} MiB (before the export {plain['rss_before_mib']:.0f} MiB), "
                    f"Python heap peak during the export {traced['heap_peak_mib']:.1f} MiB"
                )


if __name__ == "__main__":
    main(sys.argv[1:])
