"""Summary notices: who is told when a dialogue's summary is out, and how each notice went (pure records)."""

from __future__ import annotations

import enum
from dataclasses import dataclass

__all__ = ("Choice", "NoticeState", "NoticeTally")


class Choice(enum.StrEnum):
    """A member's latest press under the wrap-up: be told when the summary is out, or not."""

    NOTIFY = "notify"
    OPT_OUT = "opt_out"


class NoticeState(enum.StrEnum):
    """Where one recipient's notice is; every state but PENDING and SENDING is final."""

    PENDING = "pending"
    SENDING = "sending"  # claimed: the DM is being sent (found later, the send was interrupted)
    SENT = "sent"
    DMS_CLOSED = "dms_closed"
    FAILED = "failed"
    SKIPPED = "skipped"  # opted out after the recipients were drawn up, before the DM went


@dataclass(frozen=True, slots=True)
class NoticeTally:
    """How a dialogue's summary notices went so far (zero everywhere before the summary is out)."""

    planned: bool = False
    sent: int = 0
    dms_closed: int = 0
    failed: int = 0
    pending: int = 0  # pending or being sent
    skipped: int = 0

    @property
    def finished(self) -> bool:
        """Drawn up, and nothing is left to send."""
        return self.planned and self.pending == 0
