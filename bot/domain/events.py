"""A dialogue's window as a Discord scheduled event: which event state the dialogue wants, from its record alone."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from .models import Dialogue, State

__all__ = ("EventState", "EventStatus", "next_statuses", "wanted_event")


class EventStatus(enum.IntEnum):
    """Discord's scheduled-event statuses (the values its API uses)."""

    SCHEDULED = 1
    ACTIVE = 2
    COMPLETED = 3
    CANCELLED = 4

    @property
    def final(self) -> bool:
        """Whether Discord allows no change after this status."""
        return self in (EventStatus.COMPLETED, EventStatus.CANCELLED)


@dataclass(frozen=True, slots=True)
class EventState:
    """What an event should look like (or last looked like when the bot applied it): status and window."""

    status: EventStatus
    start: datetime
    end: datetime


def wanted_event(dialogue: Dialogue) -> EventState:
    """The event a dialogue wants now: scheduled before it opens, active while open, then completed or cancelled."""
    if dialogue.state is State.OPEN:
        status = EventStatus.ACTIVE
    elif dialogue.state is State.CLOSED:
        status = EventStatus.COMPLETED
    elif dialogue.state in (State.CANCELLED, State.MISSED):
        status = EventStatus.CANCELLED
    else:  # scheduled, or failed and waiting for a facilitator: the window is still announced
        status = EventStatus.SCHEDULED
    return EventState(status, dialogue.opened_at or dialogue.opens_at, dialogue.closes_at)


def next_statuses(current: EventStatus, wanted: EventStatus) -> tuple[EventStatus, ...]:
    """The status changes that lead from ``current`` to ``wanted``, in Discord's allowed order (maybe none).

    Discord moves an event only scheduled -> active -> completed, or scheduled -> cancelled; an active event
    cannot be cancelled (it is ended instead), and a completed or cancelled one never changes again.
    """
    if current.final or current == wanted:
        return ()
    if current is EventStatus.SCHEDULED:
        if wanted is EventStatus.ACTIVE:
            return (EventStatus.ACTIVE,)
        if wanted is EventStatus.COMPLETED:
            return (EventStatus.ACTIVE, EventStatus.COMPLETED)
        if wanted is EventStatus.CANCELLED:
            return (EventStatus.CANCELLED,)
        return ()
    # Active: it can only end (a cancelled dialogue's active event is ended too); it never goes back.
    if wanted in (EventStatus.COMPLETED, EventStatus.CANCELLED):
        return (EventStatus.COMPLETED,)
    return ()
