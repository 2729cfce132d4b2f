"""The shard list a process runs and Discord's ownership rule."""

from __future__ import annotations

import pytest

from bot.domain.sharding import ShardSpecError, parse_shards, shard_of


@pytest.mark.parametrize(
    ("text", "count", "expected"),
    [
        ("0-3", 4, (0, 1, 2, 3)),
        ("0,2", 4, (0, 2)),
        ("2,0", 4, (0, 2)),
        (" 1 - 2 , 0 ", 4, (0, 1, 2)),
        ("0-1,1-2", 4, (0, 1, 2)),
        ("3", 4, (3,)),
        ("0", 1, (0,)),
    ],
)
def test_shard_lists_parse_to_sorted_unique_ids(text: str, count: int, expected: tuple[int, ...]) -> None:
    assert parse_shards(text, count) == expected


@pytest.mark.parametrize(
    ("text", "count", "names"),
    [
        ("0-4", 4, "ids go from 0 to 3"),
        ("4", 4, "ids go from 0 to 3"),
        ("3-1", 4, "lower id to the higher"),
        ("a", 4, "“a” is not a shard id or range"),
        ("-1", 4, "not a shard id or range"),
        ("0,,1", 4, "is not a shard list"),
        ("", 4, "is not a shard list"),
        ("0", 0, "shard count must be a whole number from 1"),
    ],
)
def test_bad_shard_lists_say_what_is_wrong(text: str, count: int, names: str) -> None:
    with pytest.raises(ShardSpecError, match=names):
        parse_shards(text, count)


@pytest.mark.parametrize(
    ("guild_id", "count", "shard"),
    [
        (0, 4, 0),
        ((5 << 22) + 12345, 4, 1),
        ((7 << 22) | ((1 << 22) - 1), 2, 1),  # the low 22 bits (worker, increment) never count
        (81384788765712384, 1, 0),
        (81384788765712384, 16, (81384788765712384 >> 22) % 16),
    ],
)
def test_a_guild_belongs_to_the_shard_discord_gives_it(guild_id: int, count: int, shard: int) -> None:
    assert shard_of(guild_id, count) == shard
