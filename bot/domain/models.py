"""Domain records: plain frozen dataclasses with aware UTC datetimes."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

__all__ = (
    "AfterClose",
    "BotMessageKind",
    "Dialogue",
    "DialogueDraft",
    "PostStats",
    "Question",
    "State",
    "ThreadOrigin",
    "ThreadStats",
)


class ThreadOrigin(enum.StrEnum):
    """Who made a thread of a dialogue: the bot for a seed question, a participant, or the bot's Leaders room."""

    SEED = "seed"
    PARTICIPANT = "participant"
    LEADERS = "leaders"


class BotMessageKind(enum.StrEnum):
    """What a message the bot posted for a dialogue is; with its part number, it names one step's message."""

    INTRO = "intro"
    QUESTION = "question"
    WRAPUP = "wrapup"
    LEADERS_INTRO = "leaders_intro"
    SUMMARY = "summary"
    # The notice that the safety limit locked a comments-until-summary dialogue with no summary.
    COMMENTS_CLOSED = "comments_closed"


class AfterClose(enum.StrEnum):
    """What happens at the window's end: lock at once, or keep taking comments until the summary is posted."""

    LOCK = "lock"
    COMMENTS_UNTIL_SUMMARY = "comments-until-summary"


class State(enum.StrEnum):
    """Where a dialogue is in its life; stored as its value."""

    SCHEDULED = "scheduled"
    OPEN = "open"
    CLOSED = "closed"
    CANCELLED = "cancelled"
    FAILED = "failed"
    MISSED = "missed"


@dataclass(frozen=True, slots=True)
class DialogueDraft:
    """A validated dialogue that has not been stored yet."""

    title: str
    framing: str
    questions: tuple[str, ...]
    timezone: str
    opens_at: datetime
    closes_at: datetime
    # Offsets from opening for staged questions; None releases the question at opening.
    releases: tuple[datetime | None, ...] = ()
    after_close: AfterClose = AfterClose.LOCK


@dataclass(frozen=True, slots=True)
class Dialogue:
    """A stored dialogue: its text, window, state and the Discord objects it owns."""

    id: int
    guild_id: int
    title: str
    framing: str
    timezone: str
    opens_at: datetime
    closes_at: datetime
    state: State
    failure_reason: str | None
    channel_id: int | None
    created_by: int
    created_at: datetime
    opened_at: datetime | None = None
    closed_at: datetime | None = None
    locked_at: datetime | None = None
    after_close: AfterClose = AfterClose.LOCK
    # Comments-until-summary: when the safety limit locks the dialogue if no summary came (set at the close).
    comments_until: datetime | None = None
    # When every part of the current summary was recorded; None before (and while a replacement is posted).
    summary_posted_at: datetime | None = None

    @property
    def duration(self) -> timedelta:
        """How long the dialogue is open."""
        return self.closes_at - self.opens_at


@dataclass(frozen=True, slots=True)
class Question:
    """A seed question: the thread it becomes, now or at its release time."""

    dialogue_id: int
    position: int
    text: str
    release_at: datetime | None
    thread_id: int | None


@dataclass(frozen=True, slots=True)
class ThreadStats:
    """Activity in one thread of a dialogue."""

    thread_id: int
    title: str
    origin: ThreadOrigin
    posts: int
    participants: int


@dataclass(frozen=True, slots=True)
class PostStats:
    """Activity in a whole dialogue, with each thread's share."""

    posts: int
    participants: int
    threads: tuple[ThreadStats, ...]
    # Of those, the posts written after the window's close (comments-until-summary), and by how many people.
    posts_after: int = 0
    participants_after: int = 0

    @property
    def posts_during(self) -> int:
        """Posts written during the window."""
        return self.posts - self.posts_after
