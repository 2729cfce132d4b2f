"""Writing a plan: ``render_plan`` turns a ``Plan`` into TOML that ``parse_plan`` reads back to the same plan."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from zoneinfo import ZoneInfo

from ..models import AfterClose
from ..parsing import MAX_DURATION, MIN_DURATION, format_duration
from .model import Plan
from .reader import parse_moment_quietly

__all__ = ("render_plan",)


def render_plan(plan: Plan, names: Mapping[int, str] | None = None) -> str:
    """Write ``plan`` as TOML that ``parse_plan`` reads back to an equal ``Plan``.

    ``names`` (user id -> username) adds a comment naming each leader given by id.
    """
    lines = [
        "# dialogue-bot plan: check it with `dialogue-bot plan check FILE`, see it run with",
        "# `dialogue-bot rehearse FILE`, import it with `/dialogue create plan:`. Format: docs/plans.md",
        "",
        "[dialogue]",
        f"title = {_string(plan.title)}",
    ]
    if plan.framing:
        lines.append(f"framing = {_multiline(plan.framing)}")
    lines.append(f"timezone = {_string(plan.timezone)}")
    lines.append(f"opens = {_string(_moment_text(plan.opens_at, plan.timezone))}")
    length = plan.closes_at - plan.opens_at
    if length.total_seconds() % 60 == 0 and MIN_DURATION <= length <= MAX_DURATION:
        lines.append(f"duration = {_string(format_duration(length))}")
    else:
        lines.append(f"closes = {_string(_moment_text(plan.closes_at, plan.timezone))}")
    if plan.after_close is not AfterClose.LOCK:
        lines.append(f"after_close = {_string(plan.after_close.value)}")
    if plan.checkin_hour is not None or plan.unanswered_after is not None:
        lines += ["", "[reminders]"]
        if plan.checkin_hour is not None:
            lines.append(f"checkin_hour = {plan.checkin_hour}")
        if plan.unanswered_after is not None:
            lines.append(f"unanswered_after = {_string(format_duration(plan.unanswered_after))}")
    for question in plan.questions:
        lines += ["", "[[questions]]"]
        text = _multiline(question.text) if "\n" in question.text else _string(question.text)
        lines.append(f"text = {text}")
        if question.release_at is not None:
            lines.append(f"release = {_string(_release_text(plan, question.release_at))}")
    for leader in plan.leaders:
        lines += ["", "[[leaders]]"]
        if isinstance(leader.user, int):
            name = (names or {}).get(leader.user)
            comment = f"  # {_escape(name, keep_newlines=False)}" if name else ""
            lines.append(f"user = {leader.user}{comment}")
        else:
            lines.append(f"user = {_string(leader.user)}")
        lines.append(f"commitment = {leader.commitment}")
        if leader.timezone is not None:
            lines.append(f"timezone = {_string(leader.timezone)}")
        if leader.checkin_hour is not None:
            lines.append(f"checkin_hour = {leader.checkin_hour}")
    return "\n".join(lines) + "\n"


def _moment_text(moment: datetime, zone: str) -> str:
    """A local date and time when that reads back to the same instant, else ISO-8601 with an offset."""
    local = moment.astimezone(ZoneInfo(zone))
    text = f"{local:%Y-%m-%d %H:%M}" if local.second == 0 else f"{local:%Y-%m-%d %H:%M:%S}"
    if parse_moment_quietly(text, zone) == moment.replace(microsecond=0):
        return text
    return local.replace(microsecond=0).isoformat()


def _release_text(plan: Plan, release_at: datetime) -> str:
    """``day N`` when the release keeps the opening's time of day, else an offset or a local time."""
    zone = plan.zone
    opening = plan.opens_at.astimezone(zone)
    local = release_at.astimezone(zone)
    days = (local.date() - opening.date()).days
    if days >= 1 and local.time() == opening.time():
        return f"day {days + 1}"
    if days >= 1 and local.second == 0 and local.microsecond == 0 and days <= 99:
        text = f"day {days + 1} {local:%H:%M}"
        if parse_moment_quietly(f"{local:%Y-%m-%d %H:%M}", plan.timezone) == release_at:
            return text
    offset = release_at - plan.opens_at
    if offset.total_seconds() % 60 == 0:
        return "+" + format_duration(offset)
    return _moment_text(release_at, plan.timezone)


def _escape(text: str, *, keep_newlines: bool) -> str:
    out: list[str] = []
    for char in text:
        if char == "\\":
            out.append("\\\\")
        elif char == '"':
            out.append('\\"')
        elif char == "\n" and keep_newlines:
            out.append("\n")
        elif char == "\t":
            out.append("\\t")
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04X}")
        else:
            out.append(char)
    return "".join(out)


def _string(text: str) -> str:
    return '"' + _escape(text, keep_newlines=False) + '"'


def _multiline(text: str) -> str:
    return '"""\n' + _escape(text, keep_newlines=True) + '"""'
