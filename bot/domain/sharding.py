"""Discord gateway sharding: which shard owns a guild, and the ``--shards`` list a process runs."""

from __future__ import annotations

__all__ = ("MAX_SHARD_COUNT", "ShardSpecError", "parse_shards", "shard_of")

# Discord asks for a shard per 1,000-2,500 guilds; far more than any deployment of this bot needs.
MAX_SHARD_COUNT = 4096


class ShardSpecError(ValueError):
    """A shard count or shard list that cannot be used, described for the person who typed it."""


def shard_of(guild_id: int, shard_count: int) -> int:
    """Return the shard that owns ``guild_id`` (Discord's rule: ``(guild_id >> 22) % shard_count``)."""
    return (guild_id >> 22) % shard_count


def parse_shards(text: str, shard_count: int) -> tuple[int, ...]:
    """Parse ``"0-3"``, ``"0,2"`` or ``"0-1,4"`` into sorted shard ids, each below ``shard_count``."""
    if not 1 <= shard_count <= MAX_SHARD_COUNT:
        raise ShardSpecError(f"the shard count must be a whole number from 1 to {MAX_SHARD_COUNT}, not {shard_count}")
    ids: set[int] = set()
    parts = [part.strip() for part in text.split(",")]
    if not text.strip() or any(not part for part in parts):
        raise ShardSpecError(f"“{text}” is not a shard list: write ids and ranges such as 0-3 or 0,2")
    for part in parts:
        low_text, dash, high_text = part.partition("-")
        try:
            low = int(low_text.strip())
            high = int(high_text.strip()) if dash else low
        except ValueError:
            raise ShardSpecError(
                f"“{part}” is not a shard id or range: write ids and ranges such as 0-3 or 0,2"
            ) from None
        if low < 0 or high < 0:
            raise ShardSpecError(f"“{part}”: shard ids start at 0")
        if high < low:
            raise ShardSpecError(f"“{part}”: a range goes from the lower id to the higher, as in {high}-{low}")
        if high >= shard_count:
            raise ShardSpecError(f"“{part}”: with {shard_count} shards the ids go from 0 to {shard_count - 1}")
        ids.update(range(low, high + 1))
    return tuple(sorted(ids))
