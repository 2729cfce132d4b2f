"""Settings from TOML: defaults, every key, and one line naming any bad key."""

from __future__ import annotations

import asyncio
import logging
import tomllib
from dataclasses import fields
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.__main__ import main
from bot.config import ConfigError, Settings, load_settings
from bot.domain.parsing import parse_timezone
from db.connection import mask_url

REPO = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def config_error(tmp_path: Path, text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        load_settings(write(tmp_path, text))
    message = str(caught.value)
    assert "\n" not in message, "a config problem is reported in one line"
    return message


def test_no_file_gives_the_defaults() -> None:
    settings = load_settings(None)
    assert settings == Settings()
    assert settings == Settings(
        database="dialogue-bot.sqlite3",
        default_timezone="UTC",
        default_duration="5d",
        facilitator_role="Facilitators",
        category="Dialogues",
        log_channel=None,
        token_env="DISCORD_TOKEN",
        guild_ids=(),
        unanswered_after="12h",
        default_checkin_hour=9,
        scheduled_events=True,
        activity_chart=True,
        keep_transcripts_days=None,
        comments_limit_days=30,
    )
    assert settings.default_duration_delta == timedelta(days=5)
    assert settings.unanswered_after_delta == timedelta(hours=12)


def test_empty_file_gives_the_defaults(tmp_path: Path) -> None:
    assert load_settings(write(tmp_path, "# nothing set\n")) == Settings()


def test_every_key(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        database = "data/bot.sqlite3"
        default_timezone = "Europe/Zurich"
        default_duration = "1w2d"
        facilitator_role = "Hosts"
        category = "Conversations"
        log_channel = "mod-log"
        token_env = "MY_BOT_TOKEN"
        guild_ids = [123456789012345678, 876543210987654321]
        unanswered_after = "6h"
        default_checkin_hour = 17
        scheduled_events = false
        survey_days = 30
        activity_chart = false
        keep_transcripts_days = 90
        comments_limit_days = 14
        shard_count = 4
        shards = "0,2-3"
        """,
    )
    settings = load_settings(path)
    assert settings == Settings(
        database=str((tmp_path / "data" / "bot.sqlite3").resolve()),
        default_timezone="Europe/Zurich",
        default_duration="1w2d",
        facilitator_role="Hosts",
        category="Conversations",
        log_channel="mod-log",
        token_env="MY_BOT_TOKEN",
        guild_ids=(123456789012345678, 876543210987654321),
        unanswered_after="6h",
        default_checkin_hour=17,
        scheduled_events=False,
        survey_days=30,
        activity_chart=False,
        keep_transcripts_days=90,
        comments_limit_days=14,
        shard_count=4,
        shards=(0, 2, 3),
    )
    assert settings.default_duration_delta == timedelta(days=9)


def test_the_test_covers_every_setting() -> None:
    assert {f.name for f in fields(Settings)} == {
        "database",
        "default_timezone",
        "default_duration",
        "facilitator_role",
        "category",
        "log_channel",
        "token_env",
        "guild_ids",
        "unanswered_after",
        "default_checkin_hour",
        "scheduled_events",
        "survey_days",
        "activity_chart",
        "keep_transcripts_days",
        "comments_limit_days",
        "shard_count",
        "shards",
    }


def test_example_config_documents_every_key_and_loads() -> None:
    example = REPO / "config.example.toml"
    keys = set(tomllib.loads(example.read_text(encoding="utf-8")))
    assert keys == {f.name for f in fields(Settings)}
    settings = load_settings(example)
    assert settings.default_timezone == Settings().default_timezone
    assert settings.guild_ids == ()
    assert settings.log_channel is None


def test_keep_transcripts_days_of_zero_keeps_them(tmp_path: Path) -> None:
    assert load_settings(write(tmp_path, "keep_transcripts_days = 0\n")).keep_transcripts_days is None


def test_absolute_database_path_is_kept(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere" / "x.sqlite3"
    settings = load_settings(write(tmp_path, f'database = "{target.as_posix()}"\n'))
    assert settings.database == target.as_posix()


def test_relative_database_path_is_relative_to_the_config_file(tmp_path: Path) -> None:
    nested = tmp_path / "conf"
    nested.mkdir()
    path = nested / "bot.toml"
    path.write_text('database = "db.sqlite3"\n', encoding="utf-8")
    assert load_settings(path).database == str((nested / "db.sqlite3").resolve())


def test_time_zone_name_is_accepted_in_any_case(tmp_path: Path) -> None:
    # The stored spelling stays as typed; what matters is that it names a real zone, by its IANA name.
    settings = load_settings(write(tmp_path, 'default_timezone = "europe/zurich"\n'))
    settings.validate()
    assert settings.default_timezone.lower() == "europe/zurich"
    assert parse_timezone(settings.default_timezone) == "Europe/Zurich"
    # Dialogues get the zone's real name: ZoneInfo on a case-sensitive file system knows no other.
    assert ZoneInfo(parse_timezone(settings.default_timezone)).key == "Europe/Zurich"


@pytest.mark.parametrize(
    ("text", "expected"),
    [('log_channel = ""\n', None), ('log_channel = "mod-log"\n', "mod-log"), ('log_channel = "1234"\n', "1234")],
)
def test_log_channel(tmp_path: Path, text: str, expected: str | None) -> None:
    assert load_settings(write(tmp_path, text)).log_channel == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("guild_ids = []\n", ()), ("guild_ids = [1]\n", (1,)), ("guild_ids = [3, 1, 2]\n", (3, 1, 2))],
)
def test_guild_ids(tmp_path: Path, text: str, expected: tuple[int, ...]) -> None:
    settings = load_settings(write(tmp_path, text))
    assert settings.guild_ids == expected
    assert isinstance(settings.guild_ids, tuple)


@pytest.mark.parametrize(
    "text",
    ['guild_ids = ["123"]\n', "guild_ids = [0]\n", "guild_ids = [-5]\n", "guild_ids = [true]\n", "guild_ids = [1.5]\n"],
)
def test_guild_ids_must_be_server_ids(tmp_path: Path, text: str) -> None:
    assert config_error(tmp_path, text) == "guild_ids: expected a list of server ids (whole numbers)"


def test_unknown_key_is_named(tmp_path: Path) -> None:
    message = config_error(tmp_path, 'default_timezone = "UTC"\ncolour = "blue"\n')
    assert message == "colour: unknown key (see config.example.toml for the keys)"


def test_a_table_is_an_unknown_key(tmp_path: Path) -> None:
    assert config_error(tmp_path, "[bot]\ndatabase = 'x'\n").startswith("bot: unknown key")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("database = 1\n", "database: expected a string, got int"),
        ("default_timezone = 2\n", "default_timezone: expected a string, got int"),
        ("default_duration = 5\n", "default_duration: expected a string, got int"),
        ("facilitator_role = true\n", "facilitator_role: expected a string, got bool"),
        ("category = ['a']\n", "category: expected a string, got list"),
        ("log_channel = 1234\n", "log_channel: expected a string, got int"),
        ("token_env = {a = 1}\n", "token_env: expected a string, got dict"),
        ('guild_ids = "123"\n', "guild_ids: expected a list, got str"),
        ("guild_ids = 123\n", "guild_ids: expected a list, got int"),
        ("unanswered_after = 12\n", "unanswered_after: expected a string, got int"),
        ('default_checkin_hour = "9"\n', "default_checkin_hour: expected a whole number, got str"),
        ("default_checkin_hour = 9.5\n", "default_checkin_hour: expected a whole number, got float"),
        ("default_checkin_hour = true\n", "default_checkin_hour: expected a whole number, got bool"),
        ('survey_days = "14"\n', "survey_days: expected a whole number, got str"),
        ('activity_chart = "yes"\n', "activity_chart: expected true or false, got str"),
        ("activity_chart = 1\n", "activity_chart: expected true or false, got int"),
        ('keep_transcripts_days = "30d"\n', "keep_transcripts_days: expected a whole number, got str"),
        ("keep_transcripts_days = true\n", "keep_transcripts_days: expected a whole number, got bool"),
        ('comments_limit_days = "30"\n', "comments_limit_days: expected a whole number, got str"),
    ],
)
def test_wrong_type_is_named(tmp_path: Path, text: str, message: str) -> None:
    assert config_error(tmp_path, text) == message


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            'default_timezone = "Mars/Olympus"\n',
            "default_timezone: `Mars/Olympus` is not an IANA time zone name.",
        ),
        ('default_timezone = ""\n', "default_timezone: a time zone is required."),
        ('default_duration = "5x"\n', "default_duration: `5x` is not a duration."),
        ('default_duration = "9m"\n', "default_duration: `9m` is too short; the minimum is 10 minutes."),
        ('default_duration = "61d"\n', "default_duration: `61d` is too long; the maximum is 60 days."),
        ('unanswered_after = "never"\n', "unanswered_after: `never` is not a duration."),
        ("default_checkin_hour = 24\n", "default_checkin_hour: must be a whole hour from 0 to 23"),
        ("default_checkin_hour = -1\n", "default_checkin_hour: must be a whole hour from 0 to 23"),
        (
            "keep_transcripts_days = -3\n",
            "keep_transcripts_days: must be a whole number of days from 1 to 36500, or 0 to keep",
        ),
        ("comments_limit_days = 0\n", "comments_limit_days: must be a whole number of days from 1 to 365"),
        ('facilitator_role = "  "\n', "facilitator_role: must not be empty"),
        ('category = ""\n', "category: must be 1 to 100 characters"),
        (f'category = "{"c" * 101}"\n', "category: must be 1 to 100 characters"),
    ],
)
def test_bad_value_is_named(tmp_path: Path, text: str, message: str) -> None:
    assert config_error(tmp_path, text).startswith(message)


def test_first_bad_key_is_reported(tmp_path: Path) -> None:
    message = config_error(tmp_path, 'default_timezone = "Nowhere"\ndefault_duration = "5x"\n')
    assert message.startswith("default_timezone:")


def test_missing_file_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "missing.toml"
    with pytest.raises(ConfigError) as caught:
        load_settings(missing)
    assert str(caught.value) == f"config file not found: {missing}"


def test_invalid_toml_is_one_line(tmp_path: Path) -> None:
    message = config_error(tmp_path, "database = \n")
    assert message.startswith(f"{tmp_path / 'config.toml'}: invalid TOML: ")


def test_settings_built_in_code_validate() -> None:
    Settings(database="x.sqlite3").validate()
    with pytest.raises(ConfigError, match=r"^default_duration: `1y` is not a duration\."):
        Settings(default_duration="1y").validate()
    with pytest.raises(ConfigError, match=r"^default_timezone: "):
        Settings(default_timezone="Mars/Olympus").validate()


def test_check_command_names_a_bad_key_in_one_line_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, 'default_timezone = "Mars/Olympus"\n')
    assert main(["check", "--config", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == ("config: default_timezone: `Mars/Olympus` is not an IANA time zone name.\n")


def test_check_command_accepts_a_good_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, 'database = "ok.sqlite3"\n')
    assert main(["check", "--config", str(path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"config OK; database {(tmp_path / 'ok.sqlite3').resolve()} at schema version ")
    assert (tmp_path / "ok.sqlite3").exists()


def test_scheduled_events_must_be_true_or_false(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="scheduled_events: expected true or false, got str"):
        load_settings(write(tmp_path, 'scheduled_events = "yes"\n'))


@pytest.mark.parametrize("days", [0, -1, 366])
def test_survey_days_out_of_range_is_named(tmp_path: Path, days: int) -> None:
    assert config_error(tmp_path, f"survey_days = {days}\n") == (
        "survey_days: must be a whole number of days from 1 to 365"
    )


def test_the_database_url_comes_from_the_environment_and_wins(tmp_path: Path) -> None:
    path = write(tmp_path, 'database = "file.sqlite3"\n')
    url = "postgresql://bot:pw@db.example:5432/dialogues"
    assert load_settings(path, {"DIALOGUE_DATABASE_URL": url}).database == url
    assert load_settings(path, {}).database == str((tmp_path / "file.sqlite3").resolve())
    # A URL in the file is kept as written, not taken for a relative path.
    assert load_settings(write(tmp_path, f'database = "{url}"\n'), {}).database == url
    with pytest.raises(ConfigError, match="DIALOGUE_DATABASE_URL: expected a postgresql:// URL"):
        load_settings(path, {"DIALOGUE_DATABASE_URL": "/var/lib/bot.sqlite3"})


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://bot:s3cret@db.example:5432/dialogues", "postgresql://bot:***@db.example:5432/dialogues"),
        ("postgresql://bot:s3cret@/dialogues?host=/run/pg", "postgresql://bot:***@/dialogues?host=/run/pg"),
        ("postgresql://bot@db.example/dialogues", "postgresql://bot@db.example/dialogues"),
        ("/srv/bot/dialogue.sqlite3", "/srv/bot/dialogue.sqlite3"),
    ],
)
def test_a_database_url_is_shown_without_its_password(url: str, shown: str) -> None:
    assert mask_url(url) == shown


@pytest.mark.parametrize("backend", ["postgresql"])
async def test_check_masks_the_password_and_never_logs_it(
    db_location: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    caplog.set_level(logging.DEBUG)
    # The throwaway server trusts local connections, so any password is accepted, and must never be shown.
    url = db_location.replace("postgresql://postgres@", "postgresql://postgres:s3cret-pw@")
    monkeypatch.setenv("DIALOGUE_DATABASE_URL", url)
    path = write(tmp_path, 'database = "unused.sqlite3"\n')
    # check runs its own event loop: run it in a thread, outside this test's loop.
    assert await asyncio.to_thread(main, ["check", "--config", str(path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("config OK; database postgresql://postgres:***@/") and "schema version" in out
    assert "s3cret-pw" not in out and "s3cret-pw" not in caplog.text
    # A database that does not exist: the one-line error names the URL, masked.
    monkeypatch.setenv("DIALOGUE_DATABASE_URL", url.replace("/test_", "/missing_"))
    assert await asyncio.to_thread(main, ["check", "--config", str(path)]) == 1
    captured = capsys.readouterr()
    assert captured.err.startswith("database: cannot open postgresql://postgres:***@/missing_")
    assert "s3cret-pw" not in captured.err + captured.out + caplog.text
    assert not (tmp_path / "unused.sqlite3").exists()
