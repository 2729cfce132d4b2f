"""Settings: parsed once at start-up from TOML, or built in code (``Settings(database=path)``)."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from db.shards import Ownership

from .domain.errors import InvalidInput
from .domain.parsing import parse_duration, parse_timezone
from .domain.sharding import MAX_SHARD_COUNT, ShardSpecError, parse_shards
from .domain.survey import MAX_SURVEY_DAYS

__all__ = ("DATABASE_URL_ENV", "ConfigError", "Settings", "is_database_url", "load_settings")

# Overrides the config's ``database``: a PostgreSQL URL kept out of the config file (it holds a password).
DATABASE_URL_ENV = "DIALOGUE_DATABASE_URL"


def is_database_url(database: str) -> bool:
    """Whether ``database`` names a PostgreSQL server (``postgresql://...``) rather than a SQLite file."""
    return database.startswith(("postgresql://", "postgres://"))


class ConfigError(Exception):
    """A configuration problem, described in one line that names the key."""


@dataclass(frozen=True, slots=True)
class Settings:
    """The bot's settings, read once at start-up from config.toml and the environment."""

    database: str = "dialogue-bot.sqlite3"
    default_timezone: str = "UTC"
    default_duration: str = "5d"
    facilitator_role: str = "Facilitators"
    category: str = "Dialogues"
    log_channel: str | None = None
    token_env: str = "DISCORD_TOKEN"
    guild_ids: tuple[int, ...] = ()
    # Leader check-ins flag posts with no reply for longer than this.
    unanswered_after: str = "12h"
    default_checkin_hour: int = 9
    # Each dialogue's window is also a Discord scheduled event (needs Manage Events; a plan's `event` can opt out).
    scheduled_events: bool = True
    # The feedback survey takes answers for this many days after a dialogue closes (a plan may say otherwise).
    survey_days: int = 14
    # The wrap-up's first part carries a PNG of posts per day per thread (bot/record/chart.py).
    activity_chart: bool = True
    # Post texts are purged this many days after a dialogue closes (or after its summary); None (0 in the
    # file) keeps them.
    keep_transcripts_days: int | None = None
    # A dialogue that keeps taking comments until its summary locks anyway this many days after its close.
    comments_limit_days: int = 30
    # Gateway sharding: the total number of shards (None: one unsharded connection), and the ones this process
    # runs (empty: all of them). The process acts only for the guilds its shards own.
    shard_count: int | None = None
    shards: tuple[int, ...] = ()

    @property
    def default_duration_delta(self) -> timedelta:
        """The default dialogue length as a duration."""
        return parse_duration(self.default_duration)

    @property
    def comments_limit(self) -> timedelta:
        """How long a comments-until-summary dialogue stays open after its close if no summary comes."""
        return timedelta(days=self.comments_limit_days)

    @property
    def unanswered_after_delta(self) -> timedelta:
        """How long a post waits before a leader's check-in lists it as unanswered."""
        return parse_duration(self.unanswered_after, "unanswered_after")

    @property
    def ownership(self) -> Ownership | None:
        """The shards this process runs, out of how many (None: unsharded, it acts for every guild)."""
        if self.shard_count is None:
            return None
        return Ownership(self.shard_count, self.shards or tuple(range(self.shard_count)))

    def validate(self) -> None:
        """Raise ``ConfigError`` naming the first bad key."""
        checks = (
            ("default_timezone", lambda: parse_timezone(self.default_timezone)),
            ("default_duration", lambda: self.default_duration_delta),
            ("unanswered_after", lambda: self.unanswered_after_delta),
        )
        for key, check in checks:
            try:
                check()
            except InvalidInput as error:
                raise ConfigError(f"{key}: {error.problem}") from None
        if not 0 <= self.default_checkin_hour <= 23:
            raise ConfigError("default_checkin_hour: must be a whole hour from 0 to 23")
        if not 1 <= self.survey_days <= MAX_SURVEY_DAYS:
            raise ConfigError(f"survey_days: must be a whole number of days from 1 to {MAX_SURVEY_DAYS}")
        if self.keep_transcripts_days is not None and not 1 <= self.keep_transcripts_days <= 36500:
            raise ConfigError("keep_transcripts_days: must be a whole number of days from 1 to 36500, or 0 to keep")
        if not 1 <= self.comments_limit_days <= 365:
            raise ConfigError("comments_limit_days: must be a whole number of days from 1 to 365")
        if self.shard_count is not None and not 1 <= self.shard_count <= MAX_SHARD_COUNT:
            raise ConfigError(f"shard_count: must be a whole number from 1 to {MAX_SHARD_COUNT}")
        if self.shards and self.shard_count is None:
            raise ConfigError("shards: needs shard_count (the total number of shards across every process)")
        if self.shard_count is not None and any(not 0 <= shard < self.shard_count for shard in self.shards):
            raise ConfigError(
                f"shards: with shard_count = {self.shard_count} the ids go from 0 to {self.shard_count - 1}"
            )
        if not self.facilitator_role.strip():
            raise ConfigError("facilitator_role: must not be empty")
        if not self.category.strip() or len(self.category) > 100:
            raise ConfigError("category: must be 1 to 100 characters")


_TYPES: dict[str, type | tuple[type, ...]] = {
    "database": str,
    "default_timezone": str,
    "default_duration": str,
    "facilitator_role": str,
    "category": str,
    "log_channel": str,
    "token_env": str,
    "guild_ids": list,
    "unanswered_after": str,
    "default_checkin_hour": int,
    "scheduled_events": bool,
    "survey_days": int,
    "activity_chart": bool,
    "keep_transcripts_days": int,
    "comments_limit_days": int,
    "shard_count": int,
    "shards": str,
}


def load_settings(path: str | Path | None, environ: Mapping[str, str] | None = None) -> Settings:
    """Read a TOML config (all keys optional) and DIALOGUE_DATABASE_URL; raise ``ConfigError`` naming a bad key."""
    settings = _load(path)
    url = (os.environ if environ is None else environ).get(DATABASE_URL_ENV, "").strip()
    if url:
        if not is_database_url(url):
            raise ConfigError(f"{DATABASE_URL_ENV}: expected a postgresql:// URL")
        settings = replace(settings, database=url)
    return settings


def _load(path: str | Path | None) -> Settings:
    if path is None:
        settings = Settings()
        settings.validate()
        return settings
    location = Path(path)
    try:
        raw = tomllib.loads(location.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {location}") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{location}: invalid TOML: {error}") from None
    known = {f.name for f in fields(Settings)}
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in known:
            raise ConfigError(f"{key}: unknown key (see config.example.toml for the keys)")
        expected = _TYPES[key]
        if (isinstance(value, bool) and expected is not bool) or not isinstance(value, expected):
            raise ConfigError(f"{key}: expected {_type_name(expected)}, got {type(value).__name__}")
        values[key] = value
    if "guild_ids" in values:
        ids = values["guild_ids"]
        if not all(isinstance(item, int) and not isinstance(item, bool) and item > 0 for item in ids):
            raise ConfigError("guild_ids: expected a list of server ids (whole numbers)")
        values["guild_ids"] = tuple(ids)
    if values.get("shard_count") == 0:
        values["shard_count"] = None
    if values.get("shards") == "":
        del values["shards"]
    if "shards" in values:
        values["shards"] = _shards(values["shards"], values.get("shard_count"))
    if values.get("keep_transcripts_days") == 0:
        values["keep_transcripts_days"] = None
    if values.get("log_channel") == "":
        values["log_channel"] = None
    database = values.get("database")
    if database is not None and not is_database_url(database) and not Path(database).is_absolute():
        values["database"] = str((location.parent / values["database"]).resolve())
    settings = Settings(**values)
    settings.validate()
    return settings


def _shards(text: str, shard_count: int | None) -> tuple[int, ...]:
    """Parse the ``shards`` key ("0-3", "0,2") against ``shard_count``; raise ``ConfigError`` naming it."""
    if shard_count is None:
        raise ConfigError("shards: needs shard_count (the total number of shards across every process)")
    try:
        return parse_shards(text, shard_count)
    except ShardSpecError as error:
        raise ConfigError(f"shards: {error}") from None


def _type_name(expected: type | tuple[type, ...]) -> str:
    names = {str: "a string", int: "a whole number", list: "a list", bool: "true or false"}
    if isinstance(expected, tuple):
        return " or ".join(names[t] for t in expected)
    return names[expected]
