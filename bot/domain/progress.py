"""A dialogue's progress read in one place: which steps are done, which one is pending, why, and until when."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from .models import State

__all__ = ("Progress", "Step")


class Step(enum.StrEnum):
    """The recorded steps of opening and closing a dialogue, in the order they run."""

    CHANNEL = "create the channel"
    INTRO = "post the introduction"
    PIN = "pin the introduction"
    THREADS = "create the question threads"
    LOCK_CHANNEL = "lock the channel"
    LOCK_THREADS = "lock the threads"
    WRAPUP = "post the wrap-up"
    COMMENTS_NOTICE = "post the notice that comments are closed"


@dataclass(frozen=True, slots=True)
class Progress:
    """What the record says about one dialogue's opening and closing steps."""

    dialogue_id: int
    state: State
    has_channel: bool
    intro_posted: bool
    intro_pinned: bool
    questions_due: int  # seed questions released at opening or whose release time has come
    questions_made: int
    ready: bool  # every opening step was once completed
    channel_locked: bool  # every closing overwrite confirmed by Discord
    threads_unlocked: int
    wrapup_expected: int | None  # parts, recorded before the first part is posted
    wrapup_posted: int
    pending_step: str | None = None
    pending_reason: str | None = None
    retry_at: datetime | None = None
    notices_pending: int = 0  # summary notices drawn up and not yet sent (being sent included)
    notices_resume_at: datetime | None = None  # when their next batch may go (pacing or a retry); None: at once
    notices_unplanned: bool = False  # the summary is out and its notices' recipients are not drawn up yet
    # A summary was submitted and some part of it (or its pin, or its link) is not recorded yet.
    summary_pending: bool = False
    # Comments-until-summary: the channel stays open (no summary submitted, the safety limit not reached), and
    # when that limit falls; and whether its lock still owes the channel a notice.
    comments_open: bool = False
    comments_until: datetime | None = None
    comments_notice_due: bool = False

    @property
    def wrapup_done(self) -> bool:
        """Every part of the wrap-up is recorded."""
        return self.wrapup_expected is not None and self.wrapup_posted >= self.wrapup_expected

    @property
    def closing_done(self) -> bool:
        """Closed, and every closing step is recorded (a dialogue without a channel has nothing to lock)."""
        if self.state is not State.CLOSED:
            return False
        if not self.has_channel:
            return True
        if self.comments_open:
            return self.wrapup_done
        return self.channel_locked and self.threads_unlocked == 0 and self.wrapup_done and not self.comments_notice_due

    @property
    def closing_next(self) -> Step | None:
        """The first closing step not yet done, if the dialogue is closed."""
        if self.state is not State.CLOSED or self.closing_done:
            return None
        if self.comments_open:
            return Step.WRAPUP
        if not self.channel_locked:
            return Step.LOCK_CHANNEL
        if self.threads_unlocked:
            return Step.LOCK_THREADS
        if not self.wrapup_done:
            return Step.WRAPUP
        return Step.COMMENTS_NOTICE

    @property
    def opening_next(self) -> Step | None:
        """The first opening step not yet done, if the dialogue is open or failed to open."""
        if self.state not in (State.OPEN, State.FAILED):
            return None
        if not self.has_channel:
            return Step.CHANNEL
        if not self.intro_posted:
            return Step.INTRO
        if not self.intro_pinned:
            return Step.PIN
        if self.questions_made < self.questions_due:
            return Step.THREADS
        return None

    @property
    def closing_steps(self) -> tuple[tuple[Step, bool], ...]:
        """Each closing step with whether it is done, in order (the lock waits while comments are open)."""
        if self.comments_open:
            return ((Step.WRAPUP, not self.has_channel or self.wrapup_done),)
        return (
            (Step.LOCK_CHANNEL, not self.has_channel or self.channel_locked),
            (Step.LOCK_THREADS, not self.has_channel or (self.channel_locked and self.threads_unlocked == 0)),
            (Step.WRAPUP, not self.has_channel or self.wrapup_done),
        )
