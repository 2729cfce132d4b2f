"""Reminders that become meaningless once the window has ended, even if the record still says open."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.models import State
from bot.domain.reminders import Kind, stale_reason

OPENS = datetime(2026, 1, 1, 10, tzinfo=UTC)
CLOSES = datetime(2026, 1, 2, 10, tzinfo=UTC)


@pytest.mark.parametrize("kind", [Kind.CHECKIN, Kind.OPENED])
def test_overdue_reminders_found_after_the_close_are_stale(kind: Kind) -> None:
    # The bot was down across the close: at start-up the record still says open for a moment.
    due = CLOSES - timedelta(hours=1)
    assert stale_reason(kind, due, State.OPEN, OPENS, CLOSES, CLOSES + timedelta(hours=2)) is not None


@pytest.mark.parametrize("kind", [Kind.CHECKIN, Kind.OPENED])
def test_a_little_late_inside_the_window_is_still_sent(kind: Kind) -> None:
    due = CLOSES - timedelta(hours=5)
    assert stale_reason(kind, due, State.OPEN, OPENS, CLOSES, due + timedelta(hours=2)) is None
