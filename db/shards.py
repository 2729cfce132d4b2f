"""Which guilds a process acts for, as a SQL condition: Discord's ``(guild_id >> 22) % shard_count``."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ("Ownership", "owned")

# guild_id >> 22, written as a division: portable integer arithmetic on SQLite and PostgreSQL alike.
_SHIFT = 4194304


@dataclass(frozen=True, slots=True)
class Ownership:
    """The shards a process runs out of ``count``: it acts only for the guilds they own."""

    count: int
    ids: tuple[int, ...]


def owned(ownership: Ownership | None, column: str = "guild_id") -> tuple[str, list[int]]:
    """An ``AND ...`` condition keeping the rows whose ``column`` guild is owned (empty when unsharded)."""
    if ownership is None:
        return "", []
    marks = ", ".join("?" for _ in ownership.ids)
    return f" AND ({column} / {_SHIFT}) % ? IN ({marks})", [ownership.count, *ownership.ids]
