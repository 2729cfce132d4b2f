"""``dialogue-bot run --shard-count N --shards ...``: validated before anything starts; the bot class follows."""

from __future__ import annotations

import pytest
from discord.ext import commands

from bot import Settings, create_bot
from bot.__main__ import main, with_shards
from bot.app import DialogueBot, ShardedDialogueBot
from db.shards import Ownership


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--shards", "0"], "--shards needs --shard-count"),
        (["--shard-count", "2", "--shards", "0-3"], "--shards: “0-3”: with 2 shards the ids go from 0 to 1"),
        (["--shard-count", "0"], "--shard-count: must be a whole number from 1"),
        (["--shard-count", "4", "--shards", "1,x"], "--shards: “x” is not a shard id or range"),
    ],
)
def test_bad_shard_flags_exit_2_naming_the_flag(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", "not-used")
    assert main(["run", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"dialogue-bot: {message}")
    assert "Traceback" not in err


def test_flags_override_the_config() -> None:
    configured = Settings(shard_count=4, shards=(0, 1))
    assert with_shards(configured, None, None).ownership == Ownership(4, (0, 1))
    assert with_shards(configured, None, "2-3").ownership == Ownership(4, (2, 3))
    # A new total drops the config's list: every shard, unless --shards says which.
    assert with_shards(configured, 8, None).ownership == Ownership(8, tuple(range(8)))
    assert with_shards(Settings(), 2, "0,1").ownership == Ownership(2, (0, 1))
    assert with_shards(Settings(), None, None).ownership is None


def test_the_bot_is_auto_sharded_only_when_sharding_is_configured() -> None:
    plain = create_bot(Settings())
    assert type(plain) is DialogueBot
    assert not isinstance(plain, commands.AutoShardedBot)
    sharded = create_bot(Settings(shard_count=4, shards=(1, 3)))
    assert isinstance(sharded, ShardedDialogueBot)
    assert isinstance(sharded, commands.AutoShardedBot)
    assert isinstance(sharded, DialogueBot)
    assert (sharded.shard_count, sharded.shard_ids) == (4, [1, 3])
