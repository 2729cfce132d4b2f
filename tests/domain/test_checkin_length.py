"""A check-in listing long thread titles still fits in one direct message (found by the rehearsal)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.domain.reminders import CheckinReport, UnansweredPost, checkin_text


def test_a_check_in_with_ten_long_unanswered_posts_fits_in_one_message() -> None:
    at = datetime(2027, 3, 2, 9, tzinfo=UTC)
    posts = tuple(
        UnansweredPost(
            message_id=1610089035202560000 + n,
            channel_id=1609923192422400012,
            author_name=f"participant-{n:02d}",
            where="What would you tell a small organisation preparing its first submission? What is realistic to…",
            created_at=at - timedelta(hours=13 + n),
        )
        for n in range(14)
    )
    report = CheckinReport(
        title="Taking it to Geneva: what engaging the Human Rights Council changes",
        commitment=2,
        own_last_day=1,
        own_total=3,
        total=40,
        new_since_last=9,
        unanswered=posts,
        unanswered_after=timedelta(hours=12),
        guild_id=1456074443980800004,
        closes_at=at + timedelta(days=3),
    )
    text = checkin_text(report)
    assert len(text) <= 2000
    listed = [line for line in text.splitlines() if line.startswith("- participant-")]
    assert 1 <= len(listed) < 10
    assert text.endswith(f"… and {14 - len(listed)} more.")
