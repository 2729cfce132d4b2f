"""Small pieces of text every export format shares."""

from __future__ import annotations

from datetime import UTC, datetime

from .transcript import Record, SurveyFigures

__all__ = ("after_window_line", "local_time", "plural", "survey_lines", "utc_time")


def local_time(record: Record, moment: datetime) -> str:
    """A moment in the dialogue's time zone, named."""
    return f"{record.local(moment):%a %Y-%m-%d %H:%M} {record.timezone}"


def utc_time(moment: datetime) -> str:
    """A moment in UTC."""
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def plural(count: int, word: str) -> str:
    """``1 post``, ``2 posts``."""
    return f"{count:,} {word}{'' if count == 1 else 's'}"


def after_window_line(record: Record) -> str | None:
    """How many of the posts came after the window, when comments stayed open until the summary."""
    if record.after_close == "lock" and not record.posts_after:
        return None
    return (
        f"{plural(record.posts_after, 'post')} from {plural(record.participants_after, 'participant')} came after "
        "the window, while comments stayed open until the summary."
    )


def survey_lines(survey: SurveyFigures) -> list[str]:
    """The survey's aggregates in a few lines: responses, the mean rating, each rating's count."""
    lines = [f"{plural(survey.responses, 'response')}."]
    if survey.mean is not None:
        lines.append(f"Mean rating {survey.mean:.1f} out of 5, from {plural(survey.rated, 'rating')}.")
        lines.append("Ratings: " + ", ".join(f"{rating}: {count}" for rating, count in survey.distribution) + ".")
    return lines
