"""Leases in the shared database: one process at a time runs a step on a dialogue, even with overlapping shards.

A step claims ``dialogue:<id>`` (compare-and-set in ``db/leases.py``) before it touches Discord, renews the lease
while it runs and gives it back at the end. A process that dies holding one leaves it to expire: then any process
owning the guild takes it and resumes from the record, as it would after a restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

import db.leases as leases_db
from db import Database

from .clock import Clock
from .domain.errors import DialogueError

__all__ = ("LEASE_TTL", "Leases", "StepBusy", "process_owner")

log = logging.getLogger(__name__)

# How long a lease lasts without renewal: how long a crashed process's dialogue waits before another takes it.
LEASE_TTL = timedelta(minutes=5)


def process_owner() -> str:
    """A name for this process as a lease owner: host, pid and a random part (unique even in one process)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


class StepBusy(DialogueError):
    """Another process holds the dialogue's lease: its step runs there, not here."""

    def __init__(self, dialogue_id: int, until: datetime | None) -> None:
        self.dialogue_id = dialogue_id
        self.until = until
        super().__init__(
            f"Another instance of the bot is working on dialogue #{dialogue_id} right now. "
            "Try again in a minute; `/dialogue status` shows what it did."
        )


class Leases:
    """Claims, renews and releases named leases for one owner (this process)."""

    def __init__(self, database: Database, clock: Clock, owner: str, ttl: timedelta = LEASE_TTL) -> None:
        self.db = database
        self.clock = clock
        self.owner = owner
        self.ttl = ttl

    async def until(self, name: str) -> datetime | None:
        """When the lease ``name`` held by someone expires (None: nobody holds it)."""
        held = await leases_db.holder(self.db, name, self.clock())
        return None if held is None else held[1]

    @asynccontextmanager
    async def dialogue(self, dialogue_id: int) -> AsyncIterator[None]:
        """Hold ``dialogue:<id>`` for the block, renewing it meanwhile; raise ``StepBusy`` if another holds it."""
        name = f"dialogue:{dialogue_id}"
        now = self.clock()
        if not await leases_db.claim(self.db, name, self.owner, now, now + self.ttl):
            raise StepBusy(dialogue_id, await self.until(name))
        renewal = asyncio.create_task(self._renew(name), name=f"lease {name}")
        try:
            yield
        finally:
            renewal.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewal
            try:
                await leases_db.release(self.db, name, self.owner)
            except Exception:
                # It expires by itself; another process then takes it.
                log.exception("Could not release the lease %s", name)

    async def _renew(self, name: str) -> None:
        """Push the expiry forward every third of the lease's life while the step runs."""
        while True:
            await asyncio.sleep(self.ttl.total_seconds() / 3)
            try:
                if not await leases_db.renew(self.db, name, self.owner, self.clock() + self.ttl):
                    log.warning("Lease %s expired while its step ran and was taken by another process", name)
                    return
            except Exception:
                log.exception("Could not renew the lease %s; trying again", name)
