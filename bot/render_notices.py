"""Texts of the summary notices: the DM, the button answers, and what facilitators are told."""

from __future__ import annotations

from .domain.models import Dialogue
from .domain.notices import NoticeTally
from .render import plural, step_marker

__all__ = (
    "ChoiceCounts",
    "notice_dm",
    "notice_line",
    "notice_marker",
    "notice_report",
    "notify_answer",
    "opt_out_answer",
)

ChoiceCounts = tuple[int, int]  # (asked by the button, opted out)


def notice_marker(dialogue_id: int) -> str:
    """The marker line a summary notice ends with: it names the dialogue, so an interrupted send is found again."""
    return step_marker(dialogue_id, "summary notice")


def notice_dm(dialogue: Dialogue, link: str) -> str:
    """The DM: a first line that says nothing of the topic, then the link; the title comes last.

    Notification previews show the first line or two, so the topic is kept out of both.
    """
    return (
        "A dialogue summary you may want to read is ready.\n"
        f"Read it here: {link}\n"
        f"It is the summary of **{dialogue.title}**.\n"
        "You get this once, because you took part or asked to be told.\n"
        f"{notice_marker(dialogue.id)}"
    )


def notify_answer(dialogue: Dialogue, summary_link: str | None) -> str:
    """The answer to "Tell me when the summary is out": a promise, or the link if it is out already."""
    if summary_link is not None:
        return f"The summary of “{dialogue.title}” is already out: {summary_link}"
    return f"You'll get a DM when the summary of “{dialogue.title}” is out."


def opt_out_answer(dialogue: Dialogue, *, already_sent: bool) -> str:
    """The answer to "Don't notify me"."""
    if already_sent:
        return f"The summary notice for “{dialogue.title}” was already sent to you; nothing more will come."
    return f"You won't be notified when the summary of “{dialogue.title}” is out."


def notice_line(tally: NoticeTally, choices: ChoiceCounts = (0, 0)) -> str:
    """One line for facilitators: "Summary notice: 14 sent, 2 with closed DMs, 1 pending"."""
    if not tally.planned:
        asked, opted_out = choices
        return (
            f"Summary notice: sent by DM when the summary is out to everyone who posted, plus {asked} who asked"
            f" by the button, minus {opted_out} who opted out."
        )
    parts = [f"{tally.sent} sent", f"{tally.dms_closed} with closed DMs"]
    if tally.failed:
        parts.append(f"{tally.failed} failed")
    parts.append(f"{tally.pending} pending")
    return "Summary notice: " + ", ".join(parts)


def notice_report(dialogue: Dialogue, tally: NoticeTally) -> str:
    """Told to facilitators once, when every notice of a dialogue has been tried."""
    text = (
        f"The summary notices for “{dialogue.title}” (#{dialogue.id}) are done: "
        f"{plural(tally.sent, 'member')} told by DM"
    )
    if tally.dms_closed:
        text += f"; {tally.dms_closed} could not be reached (DMs closed) and were not pinged in public instead"
    if tally.failed:
        text += f"; {tally.failed} failed (Discord kept refusing)"
    return text + "."
