"""Withdrawal: a member's right to have the text of their posts erased from the record (``/forget-me``).

What is erased: the text and recorded name of every post the member wrote so far in one dialogue or in all of
this server's dialogues. The rows stay (marked ``withdrawn_at``) so that counts, and wrap-ups already posted,
stay as history; exports and search omit them. Posts written after a withdrawal, in a dialogue still open, are
recorded as usual: a withdrawal covers what was written up to it, and can be repeated.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import db.withdrawals as withdrawals_db
from db import Database
from db.withdrawals import WithdrawnDialogue

from .clock import Clock

__all__ = ("CONFIRM_WITHIN", "WithdrawalRequest", "WithdrawalService")

log = logging.getLogger(__name__)

# How long a confirmation button works; after that the member runs the command again.
CONFIRM_WITHIN = timedelta(minutes=15)


@dataclass(frozen=True, slots=True)
class WithdrawalRequest:
    """What a confirmation button asks for: whose posts, where (None: every dialogue), who asked, until when."""

    member_id: int
    dialogue_id: int | None
    by_facilitator: bool
    expires_at: datetime


class WithdrawalService:
    """Previews and carries out withdrawals; logs each one without any content."""

    def __init__(self, database: Database, clock: Clock) -> None:
        self.db = database
        self.clock = clock

    async def preview(self, guild_id: int, member_id: int, dialogue_id: int | None) -> list[WithdrawnDialogue]:
        """What withdrawing would erase now, per dialogue."""
        return await withdrawals_db.withdrawable(self.db, guild_id, member_id, dialogue_id)

    def request(self, member_id: int, dialogue_id: int | None, *, by_facilitator: bool) -> WithdrawalRequest:
        """A request to confirm within ``CONFIRM_WITHIN``."""
        return WithdrawalRequest(member_id, dialogue_id, by_facilitator, self.clock() + CONFIRM_WITHIN)

    def expired(self, request: WithdrawalRequest) -> bool:
        """Whether the confirmation came too late."""
        return self.clock() >= request.expires_at

    async def withdraw(self, guild_id: int, request: WithdrawalRequest) -> list[WithdrawnDialogue]:
        """Erase the posts now; return what was erased, per dialogue."""
        done = await withdrawals_db.withdraw(
            self.db,
            guild_id,
            request.member_id,
            request.dialogue_id,
            self.clock(),
            by_facilitator=request.by_facilitator,
        )
        for entry in done:
            # Never the member or the text: which dialogue, how many, and who asked.
            log.info(
                "Withdrew %d posts from dialogue %s (%s)",
                entry.posts,
                entry.dialogue_id,
                "by a facilitator" if request.by_facilitator else "by the author",
            )
        return done
