"""The activity chart: day bucketing in the dialogue's zone, and a readable PNG for 2 threads and for 40."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

import matplotlib.image
import pytest
from matplotlib.figure import Figure
from matplotlib.patches import Polygon, Rectangle
from matplotlib.text import Text

from bot.domain.activity import Activity, ActivityCount, ThreadLabel, build_activity
from bot.record.chart import HEATMAP_ROWS, STACK_LIMIT, activity_figure, activity_png, truncate

OPENS = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # Monday 09:00 in Zurich
CLOSES = OPENS + timedelta(days=5)
PNG = b"\x89PNG\r\n\x1a\n"


def activity(threads: int, *, zone: str = "Europe/Zurich", per_thread: int = 12) -> Activity:
    labels = [
        ThreadLabel(1000 + n, f"Question {n}: what does engagement add at home and abroad?") for n in range(threads)
    ]
    counts = [
        ActivityCount(1000 + n, OPENS + timedelta(hours=(n * 5 + k * 9) % 118), 1 + (n + k) % 3)
        for n in range(threads)
        for k in range(per_thread)
    ]
    return build_activity(
        title="Engaging the Council", timezone=zone, opens_at=OPENS, closes_at=CLOSES, threads=labels, counts=counts
    )


def texts(figure: Figure) -> list[str]:
    return [t.get_text() for t in figure.findobj(Text) if t.get_text()]


def decoded(png: bytes) -> tuple[int, int]:
    assert png.startswith(PNG)
    pixels = matplotlib.image.imread(io.BytesIO(png), format="png")
    return pixels.shape[1], pixels.shape[0]


# ----- the days ------------------------------------------------------------------------------------------------


def test_posts_fall_on_their_local_day() -> None:
    # 23:30 UTC on Monday is already Tuesday in Zurich (UTC+1) and still Monday in New York.
    late = datetime(2026, 3, 2, 23, 30, tzinfo=UTC)
    counts = [ActivityCount(1, late, 3), ActivityCount(1, OPENS, 1)]
    zurich = build_activity(
        title="t",
        timezone="Europe/Zurich",
        opens_at=OPENS,
        closes_at=CLOSES,
        threads=[ThreadLabel(1, "A")],
        counts=counts,
    )
    assert zurich.days[0] == date(2026, 3, 2)
    assert zurich.threads[0].per_day[:2] == (1, 3)
    new_york = build_activity(
        title="t",
        timezone="America/New_York",
        opens_at=OPENS,
        closes_at=CLOSES,
        threads=[ThreadLabel(1, "A")],
        counts=counts,
    )
    assert new_york.threads[0].per_day[:2] == (4, 0)


def test_a_zone_a_quarter_hour_off_the_hour() -> None:
    # Kathmandu is UTC+5:45: 18:15 UTC is midnight there, so a post at 18:15 belongs to the next day.
    before = datetime(2026, 3, 2, 18, 0, tzinfo=UTC)
    after = datetime(2026, 3, 2, 18, 15, tzinfo=UTC)
    built = build_activity(
        title="t",
        timezone="Asia/Kathmandu",
        opens_at=OPENS,
        closes_at=CLOSES,
        threads=[ThreadLabel(1, "A")],
        counts=[ActivityCount(1, before, 1), ActivityCount(1, after, 2)],
    )
    assert built.threads[0].per_day[:2] == (1, 2)


def test_the_window_in_days_and_the_range_of_days() -> None:
    built = activity(2)
    # Opens 09:00 local on the first day; closes five days later at 09:00.
    assert built.window_start == pytest.approx(9 / 24)
    assert built.window_end == pytest.approx(5 + 9 / 24)
    assert built.days == tuple(date(2026, 3, 2) + timedelta(days=n) for n in range(6))


def test_a_window_across_a_daylight_saving_change_keeps_wall_clock_hours() -> None:
    opens = datetime(2026, 3, 28, 8, 0, tzinfo=UTC)  # Saturday 09:00 CET; clocks go forward on Sunday
    built = build_activity(
        title="t", timezone="Europe/Zurich", opens_at=opens, closes_at=opens + timedelta(days=2), threads=[], counts=[]
    )
    assert built.window_start == pytest.approx(9 / 24)
    assert built.window_end == pytest.approx(2 + 10 / 24)  # 08:00 UTC on Monday is 10:00 CEST


def test_posts_outside_the_window_widen_the_days_and_a_midnight_close_does_not() -> None:
    midnight = datetime(2026, 3, 4, 23, 0, tzinfo=UTC)  # 00:00 on the 5th in Zurich
    early = OPENS - timedelta(days=2)
    built = build_activity(
        title="t",
        timezone="Europe/Zurich",
        opens_at=OPENS,
        closes_at=midnight,
        threads=[ThreadLabel(1, "A")],
        counts=[ActivityCount(1, early, 1), ActivityCount(99, OPENS, 2)],
    )
    assert built.days[0] == date(2026, 2, 28) and built.days[-1] == date(2026, 3, 4)
    assert [t.label for t in built.threads] == ["A", "Other posts"]
    assert built.total == 3


# ----- the picture ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("threads", [0, 2, STACK_LIMIT, STACK_LIMIT + 1, 40, 60])
def test_the_png_decodes_at_a_readable_size(threads: int) -> None:
    width, height = decoded(activity_png(activity(threads)))
    assert 600 <= width <= 1700 and 400 <= height <= 2000, (width, height)


def test_two_threads_are_stacked_bars_with_their_titles_in_a_legend() -> None:
    figure = activity_figure(activity(2))
    (ax,) = figure.axes
    labels = texts(figure)
    assert truncate("Question 0: what does engagement add at home and abroad?") in labels
    assert "Question 1: what does engagement add at…" in labels
    bars = [p for p in ax.patches if isinstance(p, Rectangle) and p.get_label() != "window"]
    assert sum(p.get_height() for p in bars) == activity(2).total


def test_the_window_is_shaded_where_it_falls() -> None:
    built = activity(2)
    figure = activity_figure(built)
    (span,) = [p for p in figure.axes[0].patches if p.get_label() == "window"]
    assert isinstance(span, (Polygon, Rectangle))
    xs = [x for x, _ in span.get_xy()] if isinstance(span, Polygon) else [span.get_x(), span.get_x() + span.get_width()]
    assert min(xs) == pytest.approx(built.window_start) and max(xs) == pytest.approx(built.window_end)


def test_forty_threads_are_a_heatmap_with_a_row_each() -> None:
    built = activity(40)
    figure = activity_figure(built)
    totals, heatmap, _colourbar = figure.axes
    rows = [t.get_text() for t in heatmap.get_yticklabels()]
    assert len(rows) == 40 and rows[0].startswith("Question 0:")
    assert all(len(row) <= 40 for row in rows)
    assert sum(p.get_height() for p in totals.patches if p.get_label() != "window") == built.total


def test_beyond_forty_threads_the_quietest_share_a_row() -> None:
    built = activity(60)
    heatmap = activity_figure(built).axes[1]
    rows = [t.get_text() for t in heatmap.get_yticklabels()]
    assert len(rows) == HEATMAP_ROWS
    assert rows[-1] == f"Other ({60 - HEATMAP_ROWS + 1} threads)"


def test_only_the_given_labels_and_the_chart_own_words_are_drawn() -> None:
    # The chart writes thread labels, the title, day names, numbers and its own captions: nothing else.
    built = activity(40)
    labels = {truncate(t.label) for t in built.threads} | {built.title}
    for text in texts(activity_figure(built)):
        words = set(text.replace("\n", " ").split())
        assert (
            text in labels
            or text.replace("−", "-").lstrip("-").isdigit()
            or words <= {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun", "Mar", "posts"} | {str(d) for d in range(32)}
            or text.startswith("Engaging the Council\nposts per day")
        ), text


def test_truncate() -> None:
    assert truncate("short") == "short"
    assert truncate("a\nmulti   line title") == "a multi line title"
    assert truncate("x" * 50, 10) == "xxxxxxxxx…"
