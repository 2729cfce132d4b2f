"""The dialogue state machine: which transition is due, decided from (dialogue, now) alone."""

from __future__ import annotations

import enum
from datetime import datetime

from .errors import InvalidTransition
from .models import Dialogue, State
from .progress import Progress

__all__ = ("ALLOWED", "Action", "due_action", "next_wake", "require_transition")


class Action(enum.StrEnum):
    """What can happen to a dialogue: each moves it from some states to one other."""

    OPEN = "open"
    CLOSE = "close"
    CANCEL = "cancel"
    FAIL = "fail"
    MISS = "miss"


# The states each action may start from, and the state it leads to.
ALLOWED: dict[Action, tuple[frozenset[State], State]] = {
    Action.OPEN: (frozenset({State.SCHEDULED, State.FAILED}), State.OPEN),
    Action.CLOSE: (frozenset({State.OPEN}), State.CLOSED),
    Action.CANCEL: (frozenset({State.SCHEDULED, State.FAILED}), State.CANCELLED),
    Action.FAIL: (frozenset({State.OPEN}), State.FAILED),
    Action.MISS: (frozenset({State.SCHEDULED, State.FAILED}), State.MISSED),
}

_REFUSALS: dict[tuple[Action, State], str] = {
    (Action.OPEN, State.OPEN): "it is already open",
    (Action.OPEN, State.CLOSED): "it has already closed",
    (Action.CLOSE, State.SCHEDULED): "it has not opened yet; use `/dialogue cancel` to call it off",
    (Action.CLOSE, State.FAILED): "it never opened; fix the problem and run `/dialogue open`, or `/dialogue cancel`",
    (Action.CLOSE, State.CLOSED): "it is already closed",
    (Action.CANCEL, State.OPEN): "it is already open; use `/dialogue close` to end it now",
    (Action.CANCEL, State.CLOSED): "it has already closed",
    (Action.OPEN, State.CANCELLED): "it was cancelled; start a new one with `/dialogue create`",
    (Action.OPEN, State.MISSED): "its whole window passed before it opened; start a new one with `/dialogue create`",
    (Action.CLOSE, State.CANCELLED): "it was cancelled before it opened",
    (Action.CLOSE, State.MISSED): "it never opened: its whole window passed",
    (Action.CANCEL, State.CANCELLED): "it is already cancelled",
    (Action.CANCEL, State.MISSED): "it never opened: its whole window passed, so there is nothing to cancel",
}


def require_transition(dialogue: Dialogue, action: Action) -> State:
    """Return the state ``action`` leads to, or raise a user-facing error naming why it cannot happen."""
    sources, target = ALLOWED[action]
    if dialogue.state in sources:
        return target
    reason = _REFUSALS.get((action, dialogue.state), f"it is {dialogue.state.value}")
    raise InvalidTransition(f"Cannot {action.value} “{dialogue.title}”: {reason}.")


def due_action(dialogue: Dialogue, now: datetime) -> Action | None:
    """Return the transition the scheduler owes this dialogue at ``now``, if any.

    A dialogue that should have opened opens while its window is still ahead; one whose whole window
    passed without opening is missed; an open one past its close time closes. Failed dialogues wait for
    a facilitator until their window has passed.
    """
    if dialogue.state is State.SCHEDULED:
        if now >= dialogue.closes_at:
            return Action.MISS
        if now >= dialogue.opens_at:
            return Action.OPEN
        return None
    if dialogue.state is State.FAILED:
        return Action.MISS if now >= dialogue.closes_at else None
    if dialogue.state is State.OPEN and now >= dialogue.closes_at:
        return Action.CLOSE
    return None


def next_wake(
    dialogue: Dialogue, progress: Progress | None, earliest_release: datetime | None, now: datetime
) -> datetime | None:
    """Return when the timer must next look at this dialogue, derived from its record alone (None: never).

    ``earliest_release`` is the earliest release time, later than ``now``, of a seed question with no thread yet;
    ``progress`` carries the pending step's ``retry_at`` and what is done. A scheduled dialogue wakes at its
    opening (or at a pending retry, never after its closing, when it is missed); a failed one at its closing,
    to be missed; an open one at the first of its closing, its next release and its retry, or now while an
    opening step is unfinished with no retry placed; a closed one until its closing steps are all recorded, then
    while summary notices are owed (at their next paced batch).
    """
    retry_at = progress.retry_at if progress is not None else None
    if dialogue.state is State.SCHEDULED:
        if retry_at is not None and retry_at > dialogue.opens_at:
            # What failed is tried again then; a miss already due waits for it too.
            return retry_at if dialogue.closes_at <= now else min(retry_at, dialogue.closes_at)
        return dialogue.opens_at
    if dialogue.state is State.FAILED:
        return dialogue.closes_at
    if dialogue.state is State.OPEN:
        moments = [dialogue.closes_at]
        if earliest_release is not None:
            moments.append(earliest_release)
        if retry_at is not None:
            # A pending retry covers whatever is already due (a close that failed is tried again at the retry).
            return min([moment for moment in moments if moment > now] + [retry_at])
        if progress is not None and progress.opening_next is not None:
            moments.append(now)
        return min(moments)
    if dialogue.state is State.CLOSED:
        if progress is None:
            return None
        if progress.closing_done and not progress.summary_pending:
            moments = []
            if progress.notices_pending or progress.notices_unplanned:
                # The summary notices owed are sent in paced batches; each batch says when the next may go.
                moments.append(progress.notices_resume_at or now)
            if progress.comments_open and progress.comments_until is not None:
                # Comments stay open until the summary: the safety limit locks the dialogue if none comes.
                moments.append(progress.comments_until)
            return min(moments) if moments else None
        return retry_at or now
    return None
