"""Due times, planning and staleness of leaders' reminders: pure functions, no Discord, no database."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.domain.models import State
from bot.domain.reminders import (
    CheckinReport,
    Kind,
    Planned,
    Reminder,
    ReminderState,
    UnansweredPost,
    checkin_text,
    checkin_times,
    local_instant,
    plan,
    plan_key,
    reconcile,
    stale_reason,
)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("day", "zone", "hour", "expected"),
    [
        # Kathmandu is UTC+5:45 all year.
        (date(2026, 3, 7), "Asia/Kathmandu", 9, utc(2026, 3, 7, 3, 15)),
        # Toronto: EST (UTC-5) until 2026-03-08 02:00, then EDT (UTC-4).
        (date(2026, 3, 7), "America/Toronto", 9, utc(2026, 3, 7, 14)),
        (date(2026, 3, 8), "America/Toronto", 9, utc(2026, 3, 8, 13)),
        # 02:00 does not exist on the spring-forward day: read with the offset before the change (03:00 EDT).
        (date(2026, 3, 8), "America/Toronto", 2, utc(2026, 3, 8, 7)),
        # 01:00 happens twice on the fall-back day: the first one (EDT).
        (date(2026, 11, 1), "America/Toronto", 1, utc(2026, 11, 1, 5)),
        (date(2026, 11, 1), "America/Toronto", 9, utc(2026, 11, 1, 14)),
        (date(2026, 3, 29), "Europe/Zurich", 9, utc(2026, 3, 29, 7)),
        (date(2026, 3, 28), "Europe/Zurich", 0, utc(2026, 3, 27, 23)),
    ],
)
def test_local_instant(day: date, zone: str, hour: int, expected: datetime) -> None:
    assert local_instant(day, hour, ZoneInfo(zone)) == expected


def test_checkins_toronto_across_dst() -> None:
    opens, closes = utc(2026, 3, 6, 12), utc(2026, 3, 10, 12)
    assert checkin_times(opens, closes, "America/Toronto", 9, opens) == [
        utc(2026, 3, 6, 14),
        utc(2026, 3, 7, 14),
        utc(2026, 3, 8, 13),
        utc(2026, 3, 9, 13),
    ]


def test_checkins_kathmandu_only_inside_window() -> None:
    opens, closes = utc(2026, 3, 6, 12), utc(2026, 3, 10, 12)
    # 03:15 UTC on the 6th is before the opening; on the 10th it is before the close.
    assert checkin_times(opens, closes, "Asia/Kathmandu", 9, opens) == [
        utc(2026, 3, 7, 3, 15),
        utc(2026, 3, 8, 3, 15),
        utc(2026, 3, 9, 3, 15),
        utc(2026, 3, 10, 3, 15),
    ]


def test_checkins_exclude_window_edges_and_the_past() -> None:
    opens, closes = utc(2026, 3, 6, 9), utc(2026, 3, 8, 9)
    assert checkin_times(opens, closes, "UTC", 9, opens) == [utc(2026, 3, 7, 9)]
    assert checkin_times(opens, closes, "UTC", 9, utc(2026, 3, 7, 9, 0, 1)) == []


def test_checkins_far_east_zone_local_day_starts_before_utc_day() -> None:
    opens, closes = utc(2026, 3, 6, 12), utc(2026, 3, 7, 12)
    # 09:00 in Auckland (UTC+13) on the 7th is 20:00 UTC on the 6th.
    assert checkin_times(opens, closes, "Pacific/Auckland", 9, opens) == [utc(2026, 3, 6, 20)]


def test_plan_before_opening() -> None:
    opens, closes = utc(2026, 3, 6, 12), utc(2026, 3, 9, 12)
    planned = plan(
        state=State.SCHEDULED,
        opens_at=opens,
        closes_at=closes,
        added_at=utc(2026, 3, 1),
        timezone="UTC",
        hour=9,
        now=utc(2026, 3, 1),
    )
    assert [(p.kind, p.due_at) for p in planned] == [
        (Kind.OPENS_SOON, utc(2026, 3, 5, 12)),
        (Kind.CHECKIN, utc(2026, 3, 7, 9)),
        (Kind.CHECKIN, utc(2026, 3, 8, 9)),
        (Kind.CHECKIN, utc(2026, 3, 9, 9)),
        (Kind.CLOSES_SOON, utc(2026, 3, 8, 12)),
    ]
    assert len({p.key for p in planned}) == len(planned)


def test_plan_added_within_a_day_of_opening_gets_no_opens_tomorrow() -> None:
    opens, closes = utc(2026, 3, 6, 12), utc(2026, 3, 7, 6)
    added = utc(2026, 3, 6)
    planned = plan(
        state=State.SCHEDULED, opens_at=opens, closes_at=closes, added_at=added, timezone="UTC", hour=9, now=added
    )
    # No "opens tomorrow" (added too late), no "closes tomorrow" (shorter than a day), no check-in (no 09:00 inside).
    assert planned == []


def test_plan_mid_dialogue_only_the_future() -> None:
    opens, closes = utc(2026, 3, 6, 12), utc(2026, 3, 9, 12)
    now = utc(2026, 3, 8, 10)
    planned = plan(state=State.OPEN, opens_at=opens, closes_at=closes, added_at=now, timezone="UTC", hour=9, now=now)
    assert [(p.kind, p.due_at) for p in planned] == [
        (Kind.CHECKIN, utc(2026, 3, 9, 9)),
        (Kind.CLOSES_SOON, utc(2026, 3, 8, 12)),
    ]


@pytest.mark.parametrize("state", [State.CLOSED, State.CANCELLED, State.MISSED])
def test_plan_nothing_for_ended_dialogues(state: State) -> None:
    opens, closes = utc(2026, 3, 6, 12), utc(2026, 3, 9, 12)
    assert plan(state=state, opens_at=opens, closes_at=closes, added_at=opens, timezone="UTC", hour=9, now=opens) == []


OPENS, CLOSES = utc(2026, 3, 6, 12), utc(2026, 3, 9, 12)


@pytest.mark.parametrize(
    ("kind", "due", "state", "now", "stale"),
    [
        (Kind.CHECKIN, utc(2026, 3, 7, 9), State.OPEN, utc(2026, 3, 7, 9), False),
        (Kind.CHECKIN, utc(2026, 3, 7, 9), State.OPEN, utc(2026, 3, 7, 14, 59), False),
        (Kind.CHECKIN, utc(2026, 3, 7, 9), State.OPEN, utc(2026, 3, 7, 15, 0, 1), True),
        (Kind.CHECKIN, utc(2026, 3, 7, 9), State.CLOSED, utc(2026, 3, 7, 9), True),
        (Kind.CHECKIN, utc(2026, 3, 7, 9), State.FAILED, utc(2026, 3, 7, 9), True),
        (Kind.OPENS_SOON, utc(2026, 3, 5, 12), State.SCHEDULED, utc(2026, 3, 5, 17), False),
        (Kind.OPENS_SOON, utc(2026, 3, 5, 12), State.SCHEDULED, utc(2026, 3, 6, 12), True),
        (Kind.OPENS_SOON, utc(2026, 3, 5, 12), State.OPEN, utc(2026, 3, 5, 13), True),
        (Kind.CLOSES_SOON, utc(2026, 3, 8, 12), State.OPEN, utc(2026, 3, 8, 13), False),
        (Kind.CLOSES_SOON, utc(2026, 3, 8, 12), State.CLOSED, utc(2026, 3, 8, 13), True),
        (Kind.OPENED, OPENS, State.OPEN, utc(2026, 3, 8), False),
        (Kind.OPENED, OPENS, State.CLOSED, utc(2026, 3, 10), True),
        (Kind.THANKS, CLOSES, State.CLOSED, CLOSES + timedelta(hours=1), False),
        (Kind.WELCOME, OPENS, State.CANCELLED, OPENS, True),
    ],
)
def test_stale_reason(kind: Kind, due: datetime, state: State, now: datetime, stale: bool) -> None:
    assert (stale_reason(kind, due, state, OPENS, CLOSES, now) is not None) is stale


def test_checkin_text_lists_ten_then_counts() -> None:
    posts = [
        UnansweredPost(message_id=100 + n, channel_id=7, author_name=f"p{n}", where="Q", created_at=OPENS)
        for n in range(12)
    ]
    report = CheckinReport(
        title="T",
        commitment=2,
        own_last_day=1,
        own_total=3,
        total=20,
        new_since_last=3,
        unanswered=posts,
        unanswered_after=timedelta(hours=12),
        guild_id=5,
        closes_at=CLOSES,
    )
    lines = checkin_text(report).splitlines()
    assert lines[0] == "Your dialogue check-in"
    assert "20 posts / 3 new since your last check-in" in lines[3]
    links = [line for line in lines if "https://discord.com/channels/5/7/" in line]
    assert len(links) == 10
    assert lines[-1] == "… and 2 more."


def test_checkin_text_with_long_names_fits_one_message() -> None:
    posts = [
        UnansweredPost(
            message_id=10**18 + n, channel_id=10**18, author_name="n" * 32, where="t" * 100, created_at=OPENS
        )
        for n in range(30)
    ]
    report = CheckinReport(
        title="x" * 100,
        commitment=20,
        own_last_day=20,
        own_total=200,
        total=5000,
        new_since_last=300,
        unanswered=posts,
        unanswered_after=timedelta(hours=12),
        guild_id=10**18,
        closes_at=CLOSES,
    )
    text = checkin_text(report)
    assert len(text) <= 2000
    assert text.endswith("… and 22 more.")  # 8 lines fit, so 22 of the 30 are counted


# ----- re-planning: what to drop and add --------------------------------------------------------------


def _row(number: int, kind: Kind, due: datetime, state: ReminderState) -> Reminder:
    key = f"{kind.value}:{int(due.timestamp())}"
    return Reminder(number, 1, 7, kind, key, due, state, None, None, None, None)


def _planned(kind: Kind, due: datetime) -> Planned:
    return Planned(kind, f"{kind.value}:{int(due.timestamp())}", due)


def test_reconcile_drops_only_future_pending_rows_and_adds_only_missing_keys() -> None:
    now = utc(2026, 1, 2, 12)
    sent = _row(1, Kind.CHECKIN, utc(2026, 1, 2, 9), ReminderState.SENT)  # today's, already sent
    overdue = _row(2, Kind.CHECKIN, utc(2026, 1, 2, 11), ReminderState.PENDING)  # left for delivery to judge
    moved = _row(3, Kind.CHECKIN, utc(2026, 1, 3, 9), ReminderState.PENDING)  # the hour changed: dropped
    kept = _row(4, Kind.CLOSES_SOON, utc(2026, 1, 4, 1), ReminderState.PENDING)  # still wanted
    welcome = _row(5, Kind.WELCOME, utc(2026, 1, 5), ReminderState.PENDING)  # not a planned kind: never dropped
    wanted = [
        _planned(Kind.CHECKIN, utc(2026, 1, 2, 14)),  # a second check-in today: not added
        _planned(Kind.CHECKIN, utc(2026, 1, 3, 14)),
        _planned(Kind.CLOSES_SOON, utc(2026, 1, 4, 1)),
    ]
    change = reconcile(wanted, [sent, overdue, moved, kept, welcome], "UTC", now)
    assert change.drop == (3,)
    assert change.add == (wanted[1],)
    # Planning again against the result changes nothing.
    after = [sent, overdue, kept, welcome, _row(6, Kind.CHECKIN, utc(2026, 1, 3, 14), ReminderState.PENDING)]
    assert reconcile(wanted, after, "UTC", now).drop == () and reconcile(wanted, after, "UTC", now).add == ()


def test_plan_key_names_every_input_but_the_clock() -> None:
    inputs = {
        "state": State.OPEN,
        "opens_at": utc(2026, 1, 1),
        "closes_at": utc(2026, 1, 5),
        "added_at": utc(2025, 12, 30),
        "timezone": "Asia/Kathmandu",
        "hour": 9,
    }
    key = plan_key(**inputs)  # type: ignore[arg-type]
    assert plan_key(**{**inputs, "state": State.FAILED}) == key  # type: ignore[arg-type]  # the same plan
    for name, other in [
        ("state", State.SCHEDULED),
        ("opens_at", utc(2026, 1, 2)),
        ("closes_at", utc(2026, 1, 6)),
        ("added_at", utc(2026, 1, 1)),
        ("timezone", "UTC"),
        ("hour", 8),
    ]:
        assert plan_key(**{**inputs, name: other}) != key, name  # type: ignore[arg-type]
