"""A dialogue's progress: which step is next, and when closing counts as done."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.domain.models import State
from bot.domain.progress import Progress, Step

CLOSED = Progress(
    dialogue_id=1,
    state=State.CLOSED,
    has_channel=True,
    intro_posted=True,
    intro_pinned=True,
    questions_due=2,
    questions_made=2,
    ready=True,
    channel_locked=True,
    threads_unlocked=0,
    wrapup_expected=3,
    wrapup_posted=3,
)


def test_closing_is_done_only_with_every_step() -> None:
    assert CLOSED.closing_done and CLOSED.closing_next is None


@pytest.mark.parametrize(
    ("changes", "step"),
    [
        ({"channel_locked": False}, Step.LOCK_CHANNEL),
        ({"channel_locked": False, "threads_unlocked": 3}, Step.LOCK_CHANNEL),
        ({"threads_unlocked": 1}, Step.LOCK_THREADS),
        ({"wrapup_posted": 2}, Step.WRAPUP),  # one part of three missing
        ({"wrapup_posted": 0, "wrapup_expected": None}, Step.WRAPUP),  # never started
    ],
)
def test_the_first_missing_closing_step_is_next(changes: dict[str, object], step: Step) -> None:
    progress = replace(CLOSED, **changes)  # type: ignore[arg-type]
    assert not progress.closing_done
    assert progress.closing_next is step


def test_a_dialogue_without_a_channel_has_nothing_to_close() -> None:
    bare = replace(CLOSED, has_channel=False, channel_locked=False, wrapup_expected=None, wrapup_posted=0)
    assert bare.closing_done
    assert all(done for _, done in bare.closing_steps)


def test_an_open_dialogue_is_not_closing() -> None:
    progress = replace(CLOSED, state=State.OPEN, channel_locked=False, wrapup_expected=None, wrapup_posted=0)
    assert not progress.closing_done and progress.closing_next is None


@pytest.mark.parametrize(
    ("changes", "step"),
    [
        ({"has_channel": False}, Step.CHANNEL),
        ({"intro_posted": False}, Step.INTRO),
        ({"intro_pinned": False}, Step.PIN),
        ({"questions_made": 1}, Step.THREADS),
        ({}, None),
    ],
)
def test_the_first_missing_opening_step_is_next(changes: dict[str, object], step: Step | None) -> None:
    progress = replace(CLOSED, state=State.OPEN, **changes)  # type: ignore[arg-type]
    assert progress.opening_next is step
