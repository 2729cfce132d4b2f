"""Turn what facilitators type into typed values, or raise ``InvalidInput`` naming the field."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

from .errors import InvalidInput
from .models import DialogueDraft

__all__ = (
    "MAX_DURATION",
    "MAX_FRAMING_LENGTH",
    "MAX_QUESTIONS",
    "MAX_QUESTION_LENGTH",
    "MAX_TITLE_LENGTH",
    "MIN_DURATION",
    "OPENING_GRACE",
    "RELATIVE_OPENING",
    "check_length",
    "check_question_count",
    "cut",
    "distinct_name",
    "format_duration",
    "is_visible",
    "parse_draft",
    "parse_duration",
    "parse_framing",
    "parse_moment",
    "parse_offset",
    "parse_opens",
    "parse_question",
    "parse_questions",
    "parse_timezone",
    "parse_title",
    "shown",
    "slugify",
    "thread_name",
    "unique_slug",
)

MAX_TITLE_LENGTH = 100
MAX_FRAMING_LENGTH = 4000  # what one Discord paragraph input holds
MAX_QUESTIONS = 20
MAX_QUESTION_LENGTH = 1000
MAX_NAME_LENGTH = 100  # Discord's limit for channel and thread names.
MIN_DURATION = timedelta(minutes=10)
MAX_DURATION = timedelta(days=60)
# A typed opening time this far in the past still means "now": it took a moment to submit the form.
OPENING_GRACE = timedelta(minutes=2)
# The latest opening time whose window still fits in a datetime (anything later is a typo, not a plan).
_LATEST_OPENING = datetime.max.replace(tzinfo=UTC) - MAX_DURATION - timedelta(days=1)

_UNIT_SECONDS = {"w": 7 * 86400, "d": 86400, "h": 3600, "m": 60}
_DURATION_PART = re.compile(r"(\d+)\s*([wdhm])")
_DURATION_FULL = re.compile(r"^\s*(?:\d+\s*[wdhm]\s*)+$")
RELATIVE_OPENING = re.compile(r"^in\s+(.+)$", re.IGNORECASE)
_LOCAL_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S")


# What renders as nothing: spaces, control and format characters (zero-width spaces and joiners, direction
# marks, soft hyphens), combining marks with nothing to combine with, and the blank letters (Hangul fillers,
# the braille blank) that people use to fake an empty name.
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zs", "Zl", "Zp", "Mn", "Me"})
_BLANK_CHARACTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")
_INVISIBLE_ONLY = "only spaces or invisible characters (such as zero-width spaces); write text people can read."
_TITLE_EXAMPLE = "Defenders and the Human Rights Council"
_QUESTION_EXAMPLE = "What has engagement added to your advocacy at home?"
# Digits beyond this in one number of a duration are a typo; checking first keeps int() and timedelta in range.
_MAX_DIGITS = 9


def shown(text: str, limit: int = 40) -> str:
    """Quote what the user wrote in a message, cut so that a pasted essay does not flood the reply."""
    return f"`{text if len(text) <= limit else text[: limit - 1] + '…'}`"


def is_visible(text: str) -> bool:
    """Return whether ``text`` has at least one character a reader can see."""
    return any(
        char not in _BLANK_CHARACTERS and unicodedata.category(char) not in _INVISIBLE_CATEGORIES for char in text
    )


def parse_title(raw: str, field: str = "Title") -> str:
    """Return the title with its spaces collapsed: visible text of at most 100 characters."""
    title = " ".join(raw.split())
    if not title:
        raise InvalidInput(field, "a title is required.", _TITLE_EXAMPLE)
    if not is_visible(title):
        raise InvalidInput(field, f"it has {_INVISIBLE_ONLY}", _TITLE_EXAMPLE)
    if len(title) > MAX_TITLE_LENGTH:
        raise InvalidInput(
            field, f"it is {len(title)} characters long; the limit is {MAX_TITLE_LENGTH}. Shorten it.", _TITLE_EXAMPLE
        )
    return title


def parse_framing(raw: str, field: str = "Framing") -> str:
    """Return the framing, stripped: optional, at most 4,000 characters."""
    framing = raw.strip()
    if len(framing) > MAX_FRAMING_LENGTH:
        raise InvalidInput(
            field,
            f"it is {len(framing)} characters long; the limit is {MAX_FRAMING_LENGTH}.",
            "A few sentences on why this topic, and for whom.",
        )
    return framing


def parse_question(raw: str, field: str = "Questions", which: str = "it") -> str:
    """Return one seed question, stripped: visible text of at most 1,000 characters (``which`` names it)."""
    question = raw.strip()
    if not question:
        raise InvalidInput(field, f"{which} is empty; write the question's text.", _QUESTION_EXAMPLE)
    if not is_visible(question):
        raise InvalidInput(field, f"{which} has {_INVISIBLE_ONLY}", _QUESTION_EXAMPLE)
    if len(question) > MAX_QUESTION_LENGTH:
        raise InvalidInput(
            field,
            f"{which} is {len(question)} characters long; the limit is {MAX_QUESTION_LENGTH}. "
            "Shorten it or split it into two questions.",
            _QUESTION_EXAMPLE,
        )
    return question


def check_question_count(count: int, field: str = "Questions", how: str = ", one per line") -> None:
    """Refuse fewer than 1 or more than 20 seed questions; ``how`` says how to write one."""
    if count == 0:
        raise InvalidInput(field, f"write at least one seed question{how}.", _QUESTION_EXAMPLE)
    if count > MAX_QUESTIONS:
        raise InvalidInput(
            field, f"there are {count} questions; the limit is {MAX_QUESTIONS}. Merge or drop some.", _QUESTION_EXAMPLE
        )


def parse_questions(raw: str) -> tuple[str, ...]:
    """Return one seed question per non-blank line: 1 to 20 of them, each at most 1,000 characters."""
    lines = [line for line in raw.splitlines() if line.strip()]
    check_question_count(len(lines))
    return tuple(parse_question(line, which=f"question {number}") for number, line in enumerate(lines, start=1))


def _number(digits: str) -> int:
    # Leading zeros count towards Python's 4,300-digit limit on int(); they change nothing.
    return int(digits.lstrip("0") or "0")


def parse_timezone(raw: str, field: str = "Time zone") -> str:
    """Return a valid IANA time zone name (case-insensitive match)."""
    name = raw.strip()
    example = "Europe/Zurich"
    if not name:
        raise InvalidInput(field, "a time zone is required.", example)
    # Only IANA names: ZoneInfo would also load host files such as `localtime` (the server's own zone).
    zones = _zone_names()
    if name in zones:
        return name
    matches = sorted(zone for zone in zones if zone.lower() == name.lower())
    if matches:
        return matches[0]
    raise InvalidInput(field, f"{shown(name)} is not an IANA time zone name.", example)


def check_length(seconds: float, field: str, written: str, example: str = "5d") -> timedelta:
    """Return a dialogue's length if it is from 10 minutes to 60 days; ``written`` is how the user gave it."""
    # Compare seconds first: a huge number would overflow timedelta.
    if seconds < MIN_DURATION.total_seconds():
        raise InvalidInput(
            field, f"{written} is too short; the minimum is {MIN_DURATION.seconds // 60} minutes.", example
        )
    if seconds > MAX_DURATION.total_seconds():
        raise InvalidInput(field, f"{written} is too long; the maximum is {MAX_DURATION.days} days.", example)
    return timedelta(seconds=seconds)


def parse_duration(raw: str, field: str = "Duration") -> timedelta:
    """Parse ``90m``, ``36h``, ``5d`` or combinations like ``1w2d``; from 10 minutes to 60 days."""
    text = raw.strip().lower()
    example = "5d"
    if not text:
        raise InvalidInput(field, "a duration is required.", example)
    if not _DURATION_FULL.match(text):
        raise InvalidInput(
            field,
            f"{shown(raw.strip())} is not a duration. Use numbers with m (minutes), h (hours), "
            "d (days) or w (weeks), e.g. `90m`, `36h` or `1w2d`.",
            example,
        )
    parts = _DURATION_PART.findall(text)
    if any(len(amount.lstrip("0")) > _MAX_DIGITS for amount, _ in parts):
        seconds = float("inf")
    else:
        seconds = sum(_number(amount) * _UNIT_SECONDS[unit] for amount, unit in parts)
    return check_length(seconds, field, shown(raw.strip()), example)


def parse_opens(raw: str, timezone: str, now: datetime) -> datetime:
    """Return the opening instant in UTC.

    Accepts ``now``, ``in 2h`` / ``in 3d``, a local ``2026-12-01 14:00`` read in ``timezone``, or
    ISO-8601 with an offset.
    """
    text = raw.strip()
    example = "2026-12-01 14:00"
    if not text or text.lower() == "now":
        return now
    too_far = InvalidInput("Opens", f"{shown(text)} is too far in the future. Use a real date.", example)
    relative = RELATIVE_OPENING.match(text)
    if relative:
        try:
            offset = parse_offset(relative.group(1))
        except ValueError:
            raise InvalidInput(
                "Opens", f"{shown(text)} is not a time from now; write `in` and a duration.", "in 2h"
            ) from None
        except OverflowError:
            raise too_far from None
        if offset > _LATEST_OPENING - now:
            raise too_far
        return now + offset
    moment = parse_moment(text, ZoneInfo(timezone))
    if moment is None:
        raise InvalidInput(
            "Opens",
            f"{shown(text)} is not a time. Use `now`, `in 2h`, a local date and time "
            f"(read in {timezone}), or ISO-8601 with an offset.",
            example,
        )
    if moment < now - OPENING_GRACE:
        raise InvalidInput("Opens", f"{shown(text)} has already passed. Use `now` or a time ahead.", example)
    if moment > _LATEST_OPENING:
        raise too_far
    return max(moment, now)


def parse_offset(text: str) -> timedelta:
    """Parse a relative duration of any length (``in 5m`` is allowed where a window is not)."""
    cleaned = text.strip().lower()
    if not _DURATION_FULL.match(cleaned):
        raise ValueError(text)
    parts = _DURATION_PART.findall(cleaned)
    if any(len(amount.lstrip("0")) > _MAX_DIGITS for amount, _ in parts):
        raise OverflowError(text)
    return timedelta(seconds=sum(_number(n) * _UNIT_SECONDS[u] for n, u in parts))


def parse_moment(text: str, zone: ZoneInfo) -> datetime | None:
    """Read ISO-8601 (with or without an offset) or ``YYYY-MM-DD HH:MM`` local to ``zone``; None if it is neither."""
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        parsed = None
    if parsed is None:
        for fmt in _LOCAL_FORMATS:
            try:
                parsed = datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
    if parsed is None:
        return None
    try:
        if parsed.tzinfo is not None:
            return parsed.astimezone(UTC)
        return local_to_utc(parsed, zone, "Opens")
    except OverflowError:  # e.g. year 1 or 9999 shifted past the range of datetime
        return None


def local_to_utc(naive: datetime, zone: ZoneInfo, field: str) -> datetime:
    """Read a wall-clock time in ``zone``; refuse times that a daylight-saving jump skips."""
    aware = naive.replace(tzinfo=zone)
    round_trip = aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None)
    if round_trip != naive:
        raise InvalidInput(
            field,
            f"{naive:%Y-%m-%d %H:%M} does not exist in {zone.key}: the clocks skip it for "
            "daylight-saving time. Pick a time an hour later.",
            f"{naive:%Y-%m-%d} {(naive + timedelta(hours=1)):%H:%M}",
        )
    return aware.astimezone(UTC)


def format_duration(duration: timedelta) -> str:
    """Render a duration compactly, e.g. ``5d`` or ``1d12h``."""
    seconds = int(duration.total_seconds())
    parts: list[str] = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        amount, seconds = divmod(seconds, size)
        if amount:
            parts.append(f"{amount}{unit}")
    return "".join(parts) or "0m"


def cut(text: str, limit: int) -> str:
    """Cut ``text`` to ``limit`` characters at a word boundary where possible, marking the cut with …."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    space = head.rfind(" ")
    if space >= limit // 2:
        head = head[:space]
    return head.rstrip(" ,;:.-") + "…"


def thread_name(text: str) -> str:
    """Name a thread after the first line of ``text``, cut cleanly to Discord's 100 characters."""
    first_line = next((line for line in text.splitlines() if line.strip()), "")
    return cut(first_line, MAX_NAME_LENGTH) or "Discussion"


def slugify(title: str) -> str:
    """Make a Discord text-channel name: lowercase words joined by hyphens, at most 100 characters."""
    # casefold first: ß becomes ss rather than vanishing.
    ascii_text = unicodedata.normalize("NFKD", title.casefold()).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    slug = slug[:MAX_NAME_LENGTH].rstrip("-")
    return slug or "dialogue"


@cache
def _zone_names() -> frozenset[str]:
    # Host files that are not zone names: `localtime` is whatever zone the server runs in.
    return frozenset(available_timezones() - {"localtime", "posixrules"})


def unique_slug(title: str, taken: Iterable[str]) -> str:
    """Return a slug for ``title`` that is not in ``taken``, adding ``-2``, ``-3``… as needed."""
    return _numbered(
        slugify(title), taken, lambda base, n: base[: MAX_NAME_LENGTH - len(f"-{n}")].rstrip("-") + f"-{n}"
    )


def distinct_name(name: str, taken: Iterable[str]) -> str:
    """Return ``name``, or ``name (2)``, ``name (3)``… cut to fit Discord's 100 characters, not in ``taken``."""
    return _numbered(name, taken, lambda base, n: cut(base, MAX_NAME_LENGTH - len(f" ({n})")) + f" ({n})")


def _numbered(base: str, taken: Iterable[str], numbered: Callable[[str, int], str]) -> str:
    used = set(taken)
    if base not in used:
        return base
    number = 2
    while (candidate := numbered(base, number)) in used:
        number += 1
    return candidate


def parse_draft(
    *,
    title: str,
    framing: str,
    questions: str,
    opens: str,
    duration: str,
    timezone: str,
    default_duration: str,
    now: datetime,
) -> DialogueDraft:
    """Validate the create form as a whole; the first bad field raises ``InvalidInput``."""
    zone = parse_timezone(timezone)
    clean_title = parse_title(title)
    clean_framing = parse_framing(framing)
    seeds = parse_questions(questions)
    opens_at = parse_opens(opens, zone, now)
    length = parse_duration(duration if duration.strip() else default_duration)
    return DialogueDraft(
        title=clean_title,
        framing=clean_framing,
        questions=seeds,
        timezone=zone,
        opens_at=opens_at,
        closes_at=opens_at + length,
    )
