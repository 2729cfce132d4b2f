"""Leases: a named piece of work held by one process (its owner) until it releases it or the lease expires."""

from __future__ import annotations

from datetime import datetime

from .connection import Database
from .timeutil import from_epoch, to_epoch

__all__ = ("claim", "holder", "release", "renew")


async def claim(db: Database, name: str, owner: str, now: datetime, until: datetime) -> bool:
    """Take the lease ``name`` for ``owner`` until ``until`` if it is free, expired or already ours; return if won.

    Compare-and-set: the row is made to exist first (a no-op when it does), then one UPDATE decides.
    """
    await db.execute(
        "INSERT INTO leases (name, owner, expires_at) VALUES (?, NULL, 0) ON CONFLICT (name) DO NOTHING", (name,)
    )
    changed = await db.execute(
        "UPDATE leases SET owner = ?, expires_at = ? WHERE name = ? AND (owner IS NULL OR owner = ? OR expires_at < ?)",
        (owner, to_epoch(until), name, owner, to_epoch(now)),
    )
    return changed == 1


async def renew(db: Database, name: str, owner: str, until: datetime) -> bool:
    """Extend a lease we hold to ``until``; return False if it is no longer ours (it expired and was taken)."""
    changed = await db.execute(
        "UPDATE leases SET expires_at = ? WHERE name = ? AND owner = ?", (to_epoch(until), name, owner)
    )
    return changed == 1


async def release(db: Database, name: str, owner: str) -> bool:
    """Give a lease we hold back at once; return whether it was still ours."""
    changed = await db.execute(
        "UPDATE leases SET owner = NULL, expires_at = 0 WHERE name = ? AND owner = ?", (name, owner)
    )
    return changed == 1


async def holder(db: Database, name: str, now: datetime) -> tuple[str, datetime] | None:
    """Return who holds the lease ``name`` and until when, or None if nobody holds it at ``now``."""
    row = await db.fetchone("SELECT owner, expires_at FROM leases WHERE name = ?", (name,))
    if row is None or row["owner"] is None or row["expires_at"] < to_epoch(now):
        return None
    return str(row["owner"]), from_epoch(row["expires_at"])
