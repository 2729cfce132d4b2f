"""The state machine: every (state, action) pair, and what is due at every moment of the window."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.errors import DialogueError, InvalidTransition
from bot.domain.lifecycle import ALLOWED, Action, due_action, next_wake, require_transition
from bot.domain.models import Dialogue, State
from bot.domain.progress import Progress

OPENS = datetime(2026, 12, 1, 13, 0, tzinfo=UTC)
CLOSES = OPENS + timedelta(days=5)


def dialogue(state: State) -> Dialogue:
    return Dialogue(
        id=7,
        guild_id=1,
        title="Defenders and the HRC",
        framing="",
        timezone="Europe/Zurich",
        opens_at=OPENS,
        closes_at=CLOSES,
        state=state,
        failure_reason="missing permissions" if state is State.FAILED else None,
        channel_id=None,
        created_by=42,
        created_at=OPENS - timedelta(days=1),
    )


# The whole table, written out by hand: a change to ALLOWED must change this too.
TRANSITIONS: dict[tuple[State, Action], State] = {
    (State.SCHEDULED, Action.OPEN): State.OPEN,
    (State.FAILED, Action.OPEN): State.OPEN,
    (State.OPEN, Action.CLOSE): State.CLOSED,
    (State.SCHEDULED, Action.CANCEL): State.CANCELLED,
    (State.FAILED, Action.CANCEL): State.CANCELLED,
    (State.OPEN, Action.FAIL): State.FAILED,
    (State.SCHEDULED, Action.MISS): State.MISSED,
    (State.FAILED, Action.MISS): State.MISSED,
}

ALL_PAIRS = [(state, action) for state in State for action in Action]

# What a refused request says, for the pairs a facilitator can actually ask for.
REFUSALS: dict[tuple[State, Action], str] = {
    (State.OPEN, Action.OPEN): "it is already open",
    (State.CLOSED, Action.OPEN): "it has already closed",
    (State.CANCELLED, Action.OPEN): "it was cancelled; start a new one with `/dialogue create`",
    (State.MISSED, Action.OPEN): "its whole window passed before it opened; start a new one with `/dialogue create`",
    (State.SCHEDULED, Action.CLOSE): "it has not opened yet; use `/dialogue cancel` to call it off",
    (State.FAILED, Action.CLOSE): "it never opened; fix the problem and run `/dialogue open`, or `/dialogue cancel`",
    (State.CLOSED, Action.CLOSE): "it is already closed",
    (State.CANCELLED, Action.CLOSE): "it was cancelled before it opened",
    (State.MISSED, Action.CLOSE): "it never opened: its whole window passed",
    (State.OPEN, Action.CANCEL): "it is already open; use `/dialogue close` to end it now",
    (State.CLOSED, Action.CANCEL): "it has already closed",
    (State.CANCELLED, Action.CANCEL): "it is already cancelled",
    (State.MISSED, Action.CANCEL): "it never opened: its whole window passed, so there is nothing to cancel",
}


def test_the_table_covers_every_pair() -> None:
    assert len(ALL_PAIRS) == len(State) * len(Action) == 30
    assert len(TRANSITIONS) == 8


def test_allowed_matches_the_table() -> None:
    derived = {(state, action): target for action, (sources, target) in ALLOWED.items() for state in sources}
    assert derived == TRANSITIONS


@pytest.mark.parametrize(("state", "action"), [pair for pair in ALL_PAIRS if pair in TRANSITIONS])
def test_require_transition_allowed(state: State, action: Action) -> None:
    assert require_transition(dialogue(state), action) is TRANSITIONS[(state, action)]


@pytest.mark.parametrize(("state", "action"), [pair for pair in ALL_PAIRS if pair not in TRANSITIONS])
def test_require_transition_refused(state: State, action: Action) -> None:
    with pytest.raises(InvalidTransition) as caught:
        require_transition(dialogue(state), action)
    message = str(caught.value)
    assert message.startswith(f"Cannot {action.value} “Defenders and the HRC”: it")
    assert message.endswith(".")
    assert isinstance(caught.value, DialogueError)
    if (state, action) in REFUSALS:
        assert message == f"Cannot {action.value} “Defenders and the HRC”: {REFUSALS[(state, action)]}."
    else:
        # Internal actions (fail, miss) name the state it is in.
        assert message == f"Cannot {action.value} “Defenders and the HRC”: it is {state.value}."


@pytest.mark.parametrize("state", [State.CLOSED, State.CANCELLED, State.MISSED])
def test_final_states_allow_nothing(state: State) -> None:
    for action in Action:
        with pytest.raises(InvalidTransition):
            require_transition(dialogue(state), action)


def test_require_transition_does_not_change_the_dialogue() -> None:
    before = dialogue(State.SCHEDULED)
    require_transition(before, Action.OPEN)
    assert before.state is State.SCHEDULED


# ----- what is due -----------------------------------------------------------------------------------

MOMENTS = {
    "long before": OPENS - timedelta(days=3),
    "a second before opening": OPENS - timedelta(seconds=1),
    "at opening": OPENS,
    "between": OPENS + timedelta(days=2),
    "a second before closing": CLOSES - timedelta(seconds=1),
    "at closing": CLOSES,
    "after closing": CLOSES + timedelta(hours=1),
    "long after": CLOSES + timedelta(days=30),
}

DUE: dict[State, dict[str, Action | None]] = {
    State.SCHEDULED: {
        "long before": None,
        "a second before opening": None,
        "at opening": Action.OPEN,
        "between": Action.OPEN,
        "a second before closing": Action.OPEN,
        "at closing": Action.MISS,
        "after closing": Action.MISS,
        "long after": Action.MISS,
    },
    State.OPEN: {
        "long before": None,
        "a second before opening": None,
        "at opening": None,
        "between": None,
        "a second before closing": None,
        "at closing": Action.CLOSE,
        "after closing": Action.CLOSE,
        "long after": Action.CLOSE,
    },
    # A failed dialogue waits for a facilitator while its window lasts.
    State.FAILED: {
        "long before": None,
        "a second before opening": None,
        "at opening": None,
        "between": None,
        "a second before closing": None,
        "at closing": Action.MISS,
        "after closing": Action.MISS,
        "long after": Action.MISS,
    },
    State.CLOSED: dict.fromkeys(MOMENTS),
    State.CANCELLED: dict.fromkeys(MOMENTS),
    State.MISSED: dict.fromkeys(MOMENTS),
}


def test_due_table_covers_every_state() -> None:
    assert set(DUE) == set(State)
    assert all(set(row) == set(MOMENTS) for row in DUE.values())


@pytest.mark.parametrize(("state", "moment"), [(state, moment) for state in State for moment in MOMENTS])
def test_due_action(state: State, moment: str) -> None:
    assert due_action(dialogue(state), MOMENTS[moment]) is DUE[state][moment]


@pytest.mark.parametrize(("state", "moment"), [(state, moment) for state in State for moment in MOMENTS])
def test_due_action_is_always_allowed(state: State, moment: str) -> None:
    """Whatever the scheduler is told to do, the state machine lets it happen."""
    action = due_action(dialogue(state), MOMENTS[moment])
    if action is not None:
        assert (state, action) in TRANSITIONS


def test_due_action_reads_the_dialogue_times_not_the_table_constants() -> None:
    extended = replace(dialogue(State.OPEN), closes_at=CLOSES + timedelta(days=2))
    assert due_action(extended, CLOSES + timedelta(hours=1)) is None
    assert due_action(extended, CLOSES + timedelta(days=2)) is Action.CLOSE


def test_due_action_in_another_offset_is_the_same_instant() -> None:
    from zoneinfo import ZoneInfo

    local_opening = OPENS.astimezone(ZoneInfo("Pacific/Auckland"))
    assert due_action(dialogue(State.SCHEDULED), local_opening) is Action.OPEN
    assert due_action(dialogue(State.SCHEDULED), local_opening - timedelta(seconds=1)) is None


# ----- when the timer next looks at a dialogue --------------------------------------------------------

NOW = OPENS + timedelta(days=1)
RELEASE = NOW + timedelta(hours=6)
RETRY = NOW + timedelta(minutes=5)


def progress(state: State, **changes: object) -> Progress:
    """A dialogue whose every step is done, with ``changes`` applied."""
    done = Progress(
        dialogue_id=7,
        state=state,
        has_channel=True,
        intro_posted=True,
        intro_pinned=True,
        questions_due=2,
        questions_made=2,
        ready=True,
        channel_locked=state is State.CLOSED,
        threads_unlocked=0,
        wrapup_expected=1 if state is State.CLOSED else None,
        wrapup_posted=1 if state is State.CLOSED else 0,
    )
    return replace(done, **changes)  # type: ignore[arg-type]


# (case, state, progress changes (None: no progress read), earliest unreleased question, expected wake-up)
WAKES: list[tuple[str, State, dict[str, object] | None, datetime | None, datetime | None]] = [
    ("scheduled: at its opening", State.SCHEDULED, {}, None, OPENS),
    ("scheduled, no progress read", State.SCHEDULED, None, None, OPENS),
    (
        "scheduled, a try failed: at the retry",
        State.SCHEDULED,
        {"retry_at": OPENS + timedelta(minutes=5)},
        None,
        OPENS + timedelta(minutes=5),
    ),
    (
        "scheduled, a retry past the closing: missed at the closing",
        State.SCHEDULED,
        {"retry_at": CLOSES + timedelta(hours=1)},
        None,
        CLOSES,
    ),
    (
        "scheduled, a stale retry before the opening",
        State.SCHEDULED,
        {"retry_at": OPENS - timedelta(days=1)},
        None,
        OPENS,
    ),
    ("failed: at its closing, to be missed", State.FAILED, {}, None, CLOSES),
    ("failed, a retry pending: still its closing", State.FAILED, {"retry_at": RETRY}, None, CLOSES),
    ("open, all done: at its closing", State.OPEN, {}, None, CLOSES),
    ("open, a later release: at the release", State.OPEN, {}, RELEASE, RELEASE),
    ("open, a retry pending: at the retry", State.OPEN, {"retry_at": RETRY, "pending_step": "x"}, RELEASE, RETRY),
    ("open, a release after the closing: at the closing", State.OPEN, {}, CLOSES + timedelta(days=1), CLOSES),
    (
        "open, a retry after the closing: at the closing",
        State.OPEN,
        {"retry_at": CLOSES + timedelta(hours=1)},
        None,
        CLOSES,
    ),
    ("open, an opening step unfinished, no retry: now", State.OPEN, {"intro_pinned": False}, RELEASE, NOW),
    ("open, due questions not made, no retry: now", State.OPEN, {"questions_due": 3}, None, NOW),
    (
        "open, an opening step unfinished, a retry: the retry",
        State.OPEN,
        {"questions_due": 3, "retry_at": RETRY},
        None,
        RETRY,
    ),
    ("closed, complete: never", State.CLOSED, {}, None, None),
    ("closed without a channel: never", State.CLOSED, {"has_channel": False, "channel_locked": False}, None, None),
    ("closed, no progress read: never", State.CLOSED, None, None, None),
    ("closed, not locked: now", State.CLOSED, {"channel_locked": False}, None, NOW),
    (
        "closed, a thread unlocked, a retry: the retry",
        State.CLOSED,
        {"threads_unlocked": 1, "retry_at": RETRY},
        None,
        RETRY,
    ),
    ("closed, the wrap-up unfinished: now", State.CLOSED, {"wrapup_posted": 0}, None, NOW),
    ("closed, done, summary notices owed: now", State.CLOSED, {"notices_pending": 3}, None, NOW),
    (
        "closed, done, summary notices paced: their next batch",
        State.CLOSED,
        {"notices_pending": 3, "notices_resume_at": NOW + timedelta(seconds=10)},
        None,
        NOW + timedelta(seconds=10),
    ),
    ("closed, done, every summary notice tried: never", State.CLOSED, {"notices_resume_at": RETRY}, None, None),
    ("closed, the summary out, no notice drawn up yet: now", State.CLOSED, {"notices_unplanned": True}, None, NOW),
    ("closed, a summary not wholly posted: now", State.CLOSED, {"summary_pending": True}, None, NOW),
    (
        "closed, comments open until the summary: at the safety limit",
        State.CLOSED,
        {"comments_open": True, "comments_until": CLOSES + timedelta(days=30), "channel_locked": False},
        None,
        CLOSES + timedelta(days=30),
    ),
    (
        "closed, comments open, the wrap-up unfinished: now",
        State.CLOSED,
        {"comments_open": True, "comments_until": CLOSES + timedelta(days=30), "wrapup_posted": 0},
        None,
        NOW,
    ),
    (
        "closed, the safety lock done but its notice not: now",
        State.CLOSED,
        {"comments_notice_due": True},
        None,
        NOW,
    ),
    (
        "closed, a summary step failed: the retry",
        State.CLOSED,
        {"summary_pending": True, "retry_at": RETRY},
        None,
        RETRY,
    ),
    ("cancelled: never", State.CANCELLED, {}, RELEASE, None),
    ("missed: never", State.MISSED, {"retry_at": RETRY}, None, None),
]


def test_the_wake_table_covers_every_state() -> None:
    assert {state for _, state, *_ in WAKES} == set(State)


@pytest.mark.parametrize(
    ("state", "changes", "release", "expected"), [case[1:] for case in WAKES], ids=[case[0] for case in WAKES]
)
def test_next_wake(
    state: State, changes: dict[str, object] | None, release: datetime | None, expected: datetime | None
) -> None:
    recorded = None if changes is None else progress(state, **changes)
    assert next_wake(dialogue(state), recorded, release, NOW) == expected


@pytest.mark.parametrize(("state", "moment"), [(state, moment) for state in State for moment in MOMENTS])
def test_the_timer_never_sleeps_past_a_due_transition(state: State, moment: str) -> None:
    """Woken at ``next_wake`` computed at any earlier moment, the timer is in time for every transition."""
    due_at = MOMENTS[moment]
    if due_action(dialogue(state), due_at) is None:
        return
    for earlier in (m for m in MOMENTS.values() if m <= due_at):
        wake = next_wake(dialogue(state), progress(state), None, earlier)
        assert wake is not None and wake <= due_at


@pytest.mark.parametrize("state", [State.SCHEDULED, State.OPEN])
def test_a_pending_retry_covers_a_transition_already_due(state: State) -> None:
    """Its miss or its close failed and is retried later: the timer waits for the retry, not the passed closing."""
    after_closing = CLOSES + timedelta(minutes=1)
    retry = after_closing + timedelta(minutes=5)
    recorded = progress(state, retry_at=retry, pending_step="run a scheduled step")
    assert next_wake(dialogue(state), recorded, None, after_closing) == retry
    without_retry = next_wake(dialogue(state), progress(state), None, after_closing)
    assert without_retry is not None and without_retry <= after_closing  # no retry: due now
