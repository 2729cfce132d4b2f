"""The activity chart: posts per day per thread, the dialogue's window shaded, as a PNG (matplotlib, Agg).

Two layouts, so it reads well at 2 threads and at 40. Up to ``STACK_LIMIT`` threads: one stacked bar per day,
a colour per thread, the thread titles in a legend below. More threads: a bar of daily totals above a heatmap
with one row per thread (the ``HEATMAP_ROWS`` - 1 busiest keep their own row, the rest share an "other" row),
each cell showing its count. Labels are the thread titles given in ``Activity`` (the loader scrubs people's
names out of them), truncated; nothing else from the record is drawn.

No pyplot: a ``Figure`` with its own Agg canvas keeps no global state, so renders never leak into each other.
"""

from __future__ import annotations

import io
import warnings
from datetime import date

import matplotlib

matplotlib.use("Agg")  # no display, ever: the bot runs headless; set before anything else touches matplotlib

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from bot.domain.activity import Activity, ThreadActivity

__all__ = ("HEATMAP_ROWS", "STACK_LIMIT", "Activity", "activity_figure", "activity_png", "truncate")

STACK_LIMIT = 10
HEATMAP_ROWS = 40
LABEL_LENGTH = 40
WINDOW_COLOUR = "#f6d365"
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def truncate(label: str, length: int = LABEL_LENGTH) -> str:
    """A label cut to ``length`` characters with an ellipsis, on one line."""
    label = " ".join(label.split())
    return label if len(label) <= length else label[: length - 1].rstrip() + "…"


def activity_png(activity: Activity) -> bytes:
    """Render the chart as PNG bytes."""
    figure = activity_figure(activity)
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        # A glyph missing from the bundled font (some scripts in thread titles) is drawn as a box, not an error.
        warnings.simplefilter("ignore", UserWarning)
        figure.savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()


def activity_figure(activity: Activity) -> Figure:
    """Draw the chart on a new figure (tests read its text objects before it is saved)."""
    active = [t for t in activity.threads if t.total]
    if len(active) <= STACK_LIMIT:
        return _stacked(activity, active)
    return _heatmap(activity, active)


def _stacked(activity: Activity, threads: list[ThreadActivity]) -> Figure:
    """One bar per day, a coloured segment per thread, the window shaded behind."""
    days = len(activity.days)
    figure = Figure(figsize=(max(6.0, min(14.0, 2.0 + 0.7 * days)), 5.0 + 0.25 * len(threads)), layout="constrained")
    FigureCanvasAgg(figure)
    ax = figure.add_subplot()
    _window(ax, activity)
    bottoms = [0] * days
    colours = [matplotlib.colormaps["tab10"](n) for n in range(10)]
    for n, thread in enumerate(threads):
        ax.bar(
            [i + 0.5 for i in range(days)],
            thread.per_day,
            width=0.8,
            bottom=bottoms,
            color=colours[n % len(colours)],
            label=truncate(thread.label),
            zorder=2,
        )
        bottoms = [b + c for b, c in zip(bottoms, thread.per_day, strict=True)]
    _day_axis(ax, activity.days)
    ax.set_ylabel("posts")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylim(0, max([*bottoms, 1]) * 1.1)
    _title(ax, activity, len(threads))
    if not threads:
        ax.text(days / 2, 0.5, "No posts", ha="center", va="center")
    figure.legend(loc="outside lower center", ncols=1 if len(threads) <= 5 else 2, fontsize="small", frameon=False)
    return figure


def _heatmap(activity: Activity, threads: list[ThreadActivity]) -> Figure:
    """Daily totals above a heatmap of one row per thread (the busiest; the rest in one "other" row)."""
    rows = _rows(threads)
    days = len(activity.days)
    figure = Figure(figsize=(max(8.0, min(16.0, 5.0 + 0.7 * days)), 2.5 + 0.3 * len(rows)), layout="constrained")
    FigureCanvasAgg(figure)
    top, ax = figure.subplots(2, 1, sharex=True, height_ratios=[1, max(2, len(rows) // 4)])
    _window(top, activity)
    totals = activity.per_day
    top.bar([i + 0.5 for i in range(days)], totals, width=0.8, color="#4c72b0", zorder=2)
    top.set_ylabel("posts")
    top.yaxis.set_major_locator(MaxNLocator(integer=True))
    _title(top, activity, len(threads))
    grid = [list(row.per_day) for row in rows]
    image = ax.imshow(
        grid, aspect="auto", cmap="Blues", extent=(0, days, len(rows), 0), interpolation="nearest", vmin=0
    )
    peak = max((max(row) for row in grid), default=0)
    if days * len(rows) <= 800:
        for y, row in enumerate(grid):
            for x, count in enumerate(row):
                if count:
                    colour = "white" if count > peak * 0.6 else "black"
                    ax.text(x + 0.5, y + 0.5, str(count), ha="center", va="center", fontsize=7, color=colour)
    for edge in (activity.window_start, activity.window_end):
        ax.axvline(edge, color="#b45309", linewidth=1.5, linestyle="--")
    ax.set_yticks([y + 0.5 for y in range(len(rows))], [truncate(row.label) for row in rows], fontsize=8)
    ax.set_xlim(0, days)
    _day_axis(ax, activity.days)
    figure.colorbar(image, ax=ax, label="posts", shrink=0.8)
    return figure


def _rows(threads: list[ThreadActivity]) -> list[ThreadActivity]:
    """The heatmap's rows in the threads' own order: the busiest keep a row, the rest are summed in the last."""
    if len(threads) <= HEATMAP_ROWS:
        return threads
    busiest = set(map(id, sorted(threads, key=lambda t: -t.total)[: HEATMAP_ROWS - 1]))
    kept = [t for t in threads if id(t) in busiest]
    rest = [t for t in threads if id(t) not in busiest]
    other = tuple(sum(column) for column in zip(*(t.per_day for t in rest), strict=True))
    return [*kept, ThreadActivity(f"Other ({len(rest)} threads)", other)]


def _window(ax: Axes, activity: Activity) -> None:
    """Shade the dialogue's window."""
    ax.axvspan(activity.window_start, activity.window_end, color=WINDOW_COLOUR, alpha=0.45, zorder=0, label="window")
    ax.set_xlim(0, len(activity.days))


def _title(ax: Axes, activity: Activity, threads: int) -> None:
    """The chart's heading: what it shows, for which dialogue."""
    ax.set_title(
        f"{truncate(activity.title, 70)}\nposts per day, {activity.total} in {threads} "
        f"thread{'s' if threads != 1 else ''} · shaded: the dialogue's window",
        fontsize=10,
    )


def _day_axis(ax: Axes, days: tuple[date, ...]) -> None:
    """Label the days (weekday and date, in English whatever the host's locale), thinned when there are many."""
    step = max(1, len(days) // 14 + (1 if len(days) % 14 else 0)) if len(days) > 14 else 1
    ticks = list(range(0, len(days), step))
    ax.set_xticks(
        [i + 0.5 for i in ticks],
        [f"{_WEEKDAYS[days[i].weekday()]}\n{days[i].day} {_MONTHS[days[i].month - 1]}" for i in ticks],
        fontsize=8,
    )
