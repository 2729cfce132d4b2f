"""The scheduled event a dialogue wants, and the status changes Discord allows to get there; the plan's key."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.events import EventStatus, next_statuses, wanted_event
from bot.domain.models import Dialogue, State
from bot.domain.plan import PlanError, parse_plan, render_plan

OPENS = datetime(2027, 1, 11, 9, 0, tzinfo=UTC)
DIALOGUE = Dialogue(
    id=7,
    guild_id=1,
    title="T",
    framing="",
    timezone="UTC",
    opens_at=OPENS,
    closes_at=OPENS + timedelta(days=2),
    state=State.SCHEDULED,
    failure_reason=None,
    channel_id=None,
    created_by=2,
    created_at=OPENS - timedelta(days=1),
)
S, A, C, X = EventStatus.SCHEDULED, EventStatus.ACTIVE, EventStatus.COMPLETED, EventStatus.CANCELLED


@pytest.mark.parametrize(
    ("state", "status"),
    [
        (State.SCHEDULED, S),
        (State.FAILED, S),
        (State.OPEN, A),
        (State.CLOSED, C),
        (State.CANCELLED, X),
        (State.MISSED, X),
    ],
)
def test_the_wanted_status_follows_the_dialogue(state: State, status: EventStatus) -> None:
    wanted = wanted_event(replace(DIALOGUE, state=state))
    assert (wanted.status, wanted.start, wanted.end) == (status, DIALOGUE.opens_at, DIALOGUE.closes_at)


def test_an_early_opening_starts_the_window_when_it_opened() -> None:
    early = OPENS - timedelta(hours=3)
    assert wanted_event(replace(DIALOGUE, state=State.OPEN, opened_at=early)).start == early


@pytest.mark.parametrize(
    ("current", "wanted", "steps"),
    [
        (S, S, ()),
        (S, A, (A,)),
        (S, C, (A, C)),
        (S, X, (X,)),
        (A, A, ()),
        (A, S, ()),
        (A, C, (C,)),
        (A, X, (C,)),  # an active event cannot be cancelled: it is ended
        (C, X, ()),
        (C, A, ()),
        (X, A, ()),
        (X, C, ()),
    ],
)
def test_status_changes_follow_discords_order(current: EventStatus, wanted: EventStatus, steps: tuple) -> None:
    assert next_statuses(current, wanted) == steps


PLAN = """
[dialogue]
title = "Mapping the mechanisms"
timezone = "America/Toronto"
opens = "2027-01-11 09:30"
duration = "4d"
{event}
[[questions]]
text = "Which mechanism have you used?"
"""
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def test_the_event_key_round_trips_and_defaults_to_on() -> None:
    assert parse_plan(PLAN.format(event=""), NOW).event is True
    off = parse_plan(PLAN.format(event="event = false"), NOW)
    assert off.event is False and off.draft().event is False
    written = render_plan(off)
    assert "event = false" in written
    assert parse_plan(written, NOW) == off
    assert "event" not in render_plan(parse_plan(PLAN.format(event="event = true"), NOW))


def test_a_bad_event_value_is_located() -> None:
    with pytest.raises(PlanError) as caught:
        parse_plan(PLAN.format(event='event = "no"'), NOW)
    assert [str(problem) for problem in caught.value.problems] == [
        "dialogue.event: expected true or false, got a string."
    ]
