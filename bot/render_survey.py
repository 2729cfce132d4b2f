"""What the feedback survey says: the form's wording, the answers to a press or a submission, the results."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from .domain.models import Dialogue
from .domain.survey import SurveyPhase, SurveyResults
from .render import MESSAGE_LIMIT, plural, split_message, timestamp, truncate

if TYPE_CHECKING:
    from .survey import SurveySummary

__all__ = (
    "RATING_DESCRIPTION",
    "RATING_LABEL",
    "RATING_OPTIONS",
    "form_title",
    "not_open_yet",
    "question_label",
    "results_messages",
    "saved",
    "status_section",
    "survey_ended",
)

_FORM_TITLE_LIMIT = 45
RATING_LABEL = "How useful was this dialogue to you?"
RATING_DESCRIPTION = "1 = not useful at all, 5 = very useful. Nobody can see who answered what."
RATING_OPTIONS = (
    (5, "5 · very useful"),
    (4, "4 · useful"),
    (3, "3 · somewhat useful"),
    (2, "2 · a little useful"),
    (1, "1 · not useful"),
)
# Discord shows a Label's text up to 45 characters; a longer question goes in its description.
_LABEL_LIMIT = 45


def question_label(number: int, question: str) -> tuple[str, str | None]:
    """The Label text and description that show one question in the form."""
    if len(question) <= _LABEL_LIMIT:
        return question, None
    return f"Question {number}", question


def form_title(dialogue: Dialogue) -> str:
    """The form's title (Discord shows at most 45 characters): it names the dialogue."""
    title = f"Feedback: {dialogue.title}"
    return title if len(title) <= _FORM_TITLE_LIMIT else title[: _FORM_TITLE_LIMIT - 1] + "…"


def not_open_yet(dialogue: Dialogue) -> str:
    """A press before the dialogue closed."""
    return f"The feedback survey for “{dialogue.title}” opens when the dialogue closes. Nothing was saved."


def survey_ended(dialogue: Dialogue, deadline: datetime) -> str:
    """A press or a form sent after the survey's window."""
    return (
        f"The feedback survey for “{dialogue.title}” closed {timestamp(deadline, 'f')}. "
        "Nothing was saved. Thank you for wanting to help all the same."
    )


def saved(replaced: bool, deadline: datetime) -> str:
    """The answer to a stored response."""
    first = "Thank you: your new answer replaced your earlier one." if replaced else "Thank you: your answer is saved."
    return (
        f"{first} It is kept without your name or account; the facilitators see only the totals and the texts, "
        f"in random order. You can change it by answering again until {timestamp(deadline, 'f')}."
    )


def _window_line(summary: SurveySummary) -> str:
    if summary.deadline is None:
        return "opens when the dialogue closes"
    if summary.phase is SurveyPhase.OPEN:
        return f"open until {timestamp(summary.deadline, 'f')}"
    return f"closed {timestamp(summary.deadline, 'f')}"


def _rating_lines(results: SurveyResults) -> list[str]:
    if not results.rated:
        return ["No ratings yet."]
    assert results.mean is not None
    lines = [f"Usefulness: mean **{results.mean:.1f}** of 5, from {plural(results.rated, 'rating')}"]
    for rating, count in sorted(results.distribution, reverse=True):
        bar = "█" * count if count <= 20 else "█" * 20 + "…"
        lines.append(f"`{rating}` {bar} {count}" if bar else f"`{rating}` {count}")
    return lines


def status_section(summary: SurveySummary) -> str:
    """The survey's part of /dialogue status: the numbers, and where to read the texts."""
    results = summary.results
    lines = [f"**Feedback survey** ({_window_line(summary)}): {plural(results.responses, 'response')}"]
    if results.responses:
        lines += _rating_lines(results)
        written = sum(len(texts) for _, texts in results.answers)
        lines.append(f"{plural(written, 'written answer')}: read them with `/dialogue survey-results`.")
    return "\n".join(lines)


def _quoted(text: str) -> str:
    return "\n".join(f"> {line}" if line.strip() else ">" for line in text.splitlines())


def results_messages(summary: SurveySummary, limit: int = MESSAGE_LIMIT) -> list[str]:
    """The whole results, split into messages of at most ``limit`` characters; texts in random order."""
    results = summary.results
    dialogue = summary.dialogue
    head = [
        f"**Feedback on “{dialogue.title}”** (#{dialogue.id}), {_window_line(summary)}",
        f"{plural(results.responses, 'response')}. Answers are anonymous and shown in random order.",
    ]
    blocks = ["\n".join(head)]
    if results.responses:
        blocks.append("\n".join(_rating_lines(results)))
    for number, (question, texts) in enumerate(results.answers, start=1):
        blocks.append(f"**{number}. {truncate(question, 200)}** ({plural(len(texts), 'answer')})")
        blocks += [_quoted(text) for text in texts]
    return split_message("\n\n".join(blocks), limit)
