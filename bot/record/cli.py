"""``dialogue-bot export ID --format …``: a dialogue's record from the database alone (no Discord token)."""

from __future__ import annotations

import argparse
import asyncio
import functools
import os
import sys
from pathlib import Path
from typing import BinaryIO

from ..clock import default_clock
from ..config import is_database_url, load_settings
from ..domain.errors import DialogueError
from .export import Exported, ExportFormat, export

__all__ = ("cmd_export", "register", "write_export")

EXIT_FAILED = 1


async def write_export(
    database_path: str, dialogue_id: int, fmt: ExportFormat, out: BinaryIO, *, pseudonymise: bool
) -> Exported:
    """Open the database, write one dialogue's export to ``out`` and close the database again."""
    from db import Database

    from .naming import pseudonym_naming

    database = await Database.connect(database_path)
    try:
        naming = None
        if pseudonymise:
            import db.dialogues as dialogues_db

            dialogue = await dialogues_db.get(database, dialogue_id)
            if dialogue is None:
                raise DialogueError(f"There is no dialogue #{dialogue_id}.")
            naming = await pseudonym_naming(database, dialogue)
        return await export(database, dialogue_id, fmt, out, now=default_clock(), naming=naming)
    finally:
        await database.close()


def cmd_export(args: argparse.Namespace) -> int:
    """Write the export to a file (or standard output with ``-o -``); say where and how big."""
    path = args.config if args.config is not None else ("config.toml" if os.path.exists("config.toml") else None)
    settings = load_settings(path)
    if (
        settings.database != ":memory:"
        and not is_database_url(settings.database)
        and not Path(settings.database).exists()
    ):
        print(f"export: no database at {settings.database} (set `database` in the config)", file=sys.stderr)
        return EXIT_FAILED
    fmt = ExportFormat(args.format)
    run = functools.partial(write_export, settings.database, args.id, fmt, pseudonymise=args.pseudonymise)
    if args.output == "-":
        try:
            asyncio.run(run(sys.stdout.buffer))
        except DialogueError as error:
            print(f"export: {error}", file=sys.stderr)
            return EXIT_FAILED
        return 0
    # Written under a scratch name first, so a failure never leaves half a file under the final one.
    folder = Path(args.output).parent if args.output else Path()
    scratch = folder / f".dialogue-export-{os.getpid()}.partial"
    try:
        with scratch.open("wb") as out:
            exported = asyncio.run(run(out))
        target = Path(args.output) if args.output else folder / exported.filename
        scratch.replace(target)
    except DialogueError as error:
        print(f"export: {error}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        scratch.unlink(missing_ok=True)
    record = exported.record
    print(f"wrote {target}: “{record.title}” (#{record.dialogue_id}), {record.posts:,} posts, {exported.size:,} bytes")
    return 0


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``export`` to the command line."""
    parser = commands.add_parser("export", help="write a dialogue's record as Markdown, HTML or JSON (no token needed)")
    parser.add_argument("id", type=int, metavar="ID", help="the dialogue's number (as in /dialogue list)")
    parser.add_argument("--format", required=True, choices=[f.value for f in ExportFormat], help="the file's format")
    parser.add_argument(
        "--pseudonymise", action="store_true", help="replace every name with a pseudonym; remove mentions, ids, links"
    )
    parser.add_argument(
        "-o", "--output", metavar="FILE", help="where to write it (default: dialogue-ID-title.EXT here; - for stdout)"
    )
    parser.add_argument("--config", metavar="PATH", help="TOML config file (default: ./config.toml if present)")
    parser.set_defaults(handler=cmd_export)
