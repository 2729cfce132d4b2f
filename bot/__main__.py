"""The ``dialogue-bot`` command line: run, check, invite-url."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import os
import sys
from collections.abc import Callable, Sequence
from urllib.parse import urlsplit

import discord

from .config import ConfigError, Settings, is_database_url, load_settings
from .domain.sharding import MAX_SHARD_COUNT, ShardSpecError, parse_shards
from .gateway import OPTIONAL_PERMISSIONS, REQUIRED_PERMISSIONS
from .plan_cli import register as register_plan_commands
from .record.cli import register as register_export_command

__all__ = ("main",)

log = logging.getLogger("bot")

EXIT_USAGE = 2


def configure_logging(level: int = logging.INFO) -> None:
    """Log to stderr once, for the whole program."""
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)-7s %(name)s: %(message)s")
    # discord.py's HTTP logger would print request bodies at DEBUG; keep it at INFO or above.
    logging.getLogger("discord.http").setLevel(max(level, logging.INFO))
    logging.getLogger("apscheduler").setLevel(logging.WARNING)


def _settings(path: str | None) -> Settings:
    if path is None and os.path.exists("config.toml"):
        path = "config.toml"
    return load_settings(path)


def with_shards(settings: Settings, shard_count: int | None, shards: str | None) -> Settings:
    """Apply ``--shard-count`` and ``--shards`` over the config's keys; raise ``ShardSpecError`` naming the flag."""
    count = settings.shard_count if shard_count is None else shard_count
    if shards is not None and count is None:
        raise ShardSpecError("--shards needs --shard-count (the total number of shards across every process)")
    if count is None:
        return settings
    if not 1 <= count <= MAX_SHARD_COUNT:
        raise ShardSpecError(f"--shard-count: must be a whole number from 1 to {MAX_SHARD_COUNT}, not {count}")
    if shards is not None:
        ids = parse_shards(shards, count)
    elif shard_count is not None and settings.shard_count != shard_count:
        ids = ()  # a new total makes the config's list meaningless: run every shard unless --shards says
    else:
        ids = settings.shards
    try:
        changed = dataclasses.replace(settings, shard_count=count, shards=ids)
        changed.validate()
    except ConfigError as error:
        raise ShardSpecError(str(error)) from None
    return changed


def cmd_run(args: argparse.Namespace) -> int:
    """Start the bot with the token from the environment."""
    settings = _settings(args.config)
    try:
        settings = with_shards(settings, args.shard_count, args.shards)
    except ShardSpecError as error:
        text = str(error)
        flag = "" if text.startswith("--") else "--shards: "
        print(f"dialogue-bot: {flag}{text}", file=sys.stderr)
        return EXIT_USAGE
    token = os.environ.get(settings.token_env, "").strip()
    if not token:
        print(
            f"dialogue-bot: no Discord token: set the {settings.token_env} environment variable "
            "(or try the offline rehearsal: dialogue-bot rehearse examples/human-rights-council.toml)",
            file=sys.stderr,
        )
        return EXIT_USAGE
    configure_logging()
    from .app import create_bot

    bot = create_bot(settings)
    if settings.ownership is not None:
        log.info("Running shards %s of %d", list(settings.ownership.ids), settings.ownership.count)
    # log_handler=None: logging is configured above, and the token is never logged.
    bot.run(token, log_handler=None)
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    """Validate the config and open (and migrate) the database."""
    settings = _settings(args.config)

    async def probe() -> int:
        from db import Database

        database = await Database.connect(settings.database)
        try:
            return await database.schema_version()
        finally:
            await database.close()

    from db.connection import mask_url

    shown = mask_url(settings.database)  # a URL's password is never printed
    try:
        version = asyncio.run(probe())
    except Exception as error:  # any failure to open the database is reported in one line
        print(f"database: cannot open {shown}: {_without_password(str(error), settings.database)}", file=sys.stderr)
        return 1
    print(f"config OK; database {shown} at schema version {version}")
    return 0


def _without_password(text: str, database: str) -> str:
    """``text`` with the database URL's password (if the driver repeated it) replaced by ``***``."""
    password = urlsplit(database).password if is_database_url(database) else None
    return text.replace(password, "***") if password else text


def invite_url(client_id: int) -> str:
    """The OAuth2 URL that adds the bot with exactly the permissions it needs."""
    permissions = discord.Permissions(**dict.fromkeys(REQUIRED_PERMISSIONS + OPTIONAL_PERMISSIONS, True))
    return discord.utils.oauth_url(client_id, permissions=permissions, scopes=("bot", "applications.commands"))


def cmd_invite_url(args: argparse.Namespace) -> int:
    print(invite_url(args.client_id))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dialogue-bot", description="Facilitated, time-boxed dialogues on Discord.")
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="start the bot (token from the environment)")
    run.add_argument("--config", metavar="PATH", help="TOML config file (default: ./config.toml if present)")
    run.add_argument(
        "--shard-count", type=int, metavar="N", help="total gateway shards across every process (config: shard_count)"
    )
    run.add_argument(
        "--shards", metavar="IDS", help="the shards this process runs, e.g. 0-3 or 0,2 (default: all; config: shards)"
    )
    run.set_defaults(handler=cmd_run)

    check = commands.add_parser("check", help="validate the config and the database")
    check.add_argument("--config", metavar="PATH", help="TOML config file (default: ./config.toml if present)")
    check.set_defaults(handler=cmd_check)

    invite = commands.add_parser("invite-url", help="print the URL that adds the bot to a server")
    invite.add_argument("--client-id", type=int, required=True, metavar="ID", help="the application's client id")
    invite.set_defaults(handler=cmd_invite_url)

    for register in EXTRA_COMMANDS:
        register(commands)
    return parser


# Other features register their sub-commands here: (subparsers) -> None.
EXTRA_COMMANDS: list[Callable[[argparse._SubParsersAction[argparse.ArgumentParser]], None]] = [
    register_plan_commands,
    register_export_command,
]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return its exit status."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except ConfigError as error:
        print(f"config: {error}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
