"""Reading a plan: ``decode_plan`` checks the uploaded bytes, ``parse_plan`` turns TOML into a ``Plan``.

Every problem is collected with its key path and what would be valid, then raised together as ``PlanError``.
"""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from ..errors import InvalidInput
from ..models import AfterClose
from ..parsing import (
    OPENING_GRACE,
    RELATIVE_OPENING,
    check_length,
    check_question_count,
    parse_duration,
    parse_framing,
    parse_moment,
    parse_offset,
    parse_question,
    parse_timezone,
    parse_title,
    shown,
)
from ..reminders import MAX_COMMITMENT
from .model import (
    DEFAULT_COMMITMENT,
    MAX_LEADERS,
    MAX_PLAN_BYTES,
    Plan,
    PlanError,
    PlanLeader,
    PlanProblem,
    PlanQuestion,
)

_T = TypeVar("_T")

__all__ = ("EXAMPLE_TIME", "decode_plan", "parse_moment_quietly", "parse_plan")

# An opening further ahead than this is a typo, not a plan.
_FARTHEST = timedelta(days=3660)

_USERNAME = re.compile(r"^[a-z0-9_.]{2,32}$")
_DIGITS = re.compile(r"^[0-9]+$")
_MAX_ID_DIGITS = 20  # a snowflake is below 2**63
_DAY = re.compile(r"^day\s+(\d{1,2})(?:\s+(\d{1,2}):(\d{2}))?$", re.IGNORECASE)
_OFFSET = re.compile(r"^\+\s*(.+)$")

_TOP_KEYS = ("dialogue", "questions", "leaders", "reminders")
_DIALOGUE_KEYS = ("title", "framing", "timezone", "opens", "duration", "closes", "after_close")
_QUESTION_KEYS = ("text", "release")
_LEADER_KEYS = ("user", "commitment", "timezone", "checkin_hour")
_REMINDER_KEYS = ("checkin_hour", "unanswered_after")

EXAMPLE_TIME = "2027-03-01 09:00"


def decode_plan(data: bytes) -> str:
    """Return the text of an uploaded plan, or raise ``PlanError`` if it is too big or not UTF-8."""
    if len(data) > MAX_PLAN_BYTES:
        raise PlanError(
            [PlanProblem("", f"the file is {len(data):,} bytes; a plan is at most {MAX_PLAN_BYTES:,} bytes.")]
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise PlanError(
            [PlanProblem("", f"the file is not UTF-8 text (byte {error.start + 1}); save it as UTF-8 TOML.")]
        ) from None


def parse_plan(text: str, now: datetime, *, allow_past: bool = False) -> Plan:
    """Validate a plan's TOML text and return the ``Plan``; raise ``PlanError`` listing every problem.

    ``now`` anchors relative openings (``now``, ``in 2d``) and, unless ``allow_past``, refuses an
    opening that has passed.
    """
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise PlanError([PlanProblem("", _syntax_message(str(error)))]) from None
    except RecursionError:
        # tomllib reads nested arrays and inline tables recursively; a plan never needs more than two levels.
        raise PlanError([PlanProblem("", _TOO_DEEP)]) from None
    except ValueError:
        # Python refuses to convert integers of more than 4,300 digits (a guard against slow conversions).
        raise PlanError([PlanProblem("", _TOO_LONG_NUMBER)]) from None
    return _Reader(now, allow_past).read(raw)


_TOO_DEEP = (
    "the file nests arrays or inline tables (`[...]`, `{...}`) too deeply to read; "
    "a plan uses plain keys in [dialogue], [reminders], [[questions]] and [[leaders]]."
)
_TOO_LONG_NUMBER = "the file has a number with too many digits to read; a Discord user id has at most 20 digits."


def _syntax_message(message: str) -> str:
    """Put tomllib's ``... (at line 3, column 7)`` first: ``line 3, column 7: ...``."""
    found = re.search(r"\s*\(at line (\d+), column (\d+)\)$", message)
    if found:
        detail = message[: found.start()]
        return f"TOML syntax error at line {found.group(1)}, column {found.group(2)}: {detail}."
    found = re.search(r"\s*\(at end of document\)$", message)
    if found:
        return f"TOML syntax error at the end of the file: {message[: found.start()]}."
    return f"TOML syntax error: {message}."


def _type_name(value: object) -> str:
    names = {
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        str: "a string",
        list: "an array",
        dict: "a table",
    }
    for kind, name in names.items():
        if type(value) is kind:
            return name
    return "a date or time (write it as a quoted string)" if isinstance(value, datetime) else type(value).__name__


class _Reader:
    """Collects every problem instead of stopping at the first one."""

    def __init__(self, now: datetime, allow_past: bool) -> None:
        self.now = now
        self.allow_past = allow_past
        self.problems: list[PlanProblem] = []

    def problem(self, path: str, message: str) -> None:
        self.problems.append(PlanProblem(path, message))

    def unknown_keys(self, table: Mapping[str, Any], allowed: tuple[str, ...], prefix: str) -> None:
        for key in table:
            if key not in allowed:
                path = f"{prefix}.{key}" if prefix else key
                self.problem(path, f"unknown key; valid keys here are {', '.join(allowed)}.")

    def table(self, raw: Mapping[str, Any], key: str, *, required: bool) -> Mapping[str, Any] | None:
        value = raw.get(key)
        if value is None:
            if required:
                self.problem(key, f"missing; add a [{key}] table.")
            return None
        if not isinstance(value, dict):
            self.problem(key, f"expected a table ([{key}]), got {_type_name(value)}.")
            return None
        return value

    def tables(self, raw: Mapping[str, Any], key: str) -> list[Mapping[str, Any]] | None:
        value = raw.get(key)
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
            self.problem(key, f"expected [[{key}]] entries, got {_type_name(value)}.")
            return None
        return value

    def string(self, table: Mapping[str, Any], key: str, path: str, *, required: bool, hint: str = "") -> str | None:
        value = table.get(key)
        if value is None:
            if required:
                self.problem(path, f"missing; {hint or 'this key is required.'}")
            return None
        if not isinstance(value, str):
            self.problem(path, f"expected a string, got {_type_name(value)}.")
            return None
        return value

    def integer(self, table: Mapping[str, Any], key: str, path: str, low: int, high: int) -> int | None:
        value = table.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.problem(path, f"expected a whole number from {low} to {high}, got {_type_name(value)}.")
            return None
        if not low <= value <= high:
            self.problem(path, f"{value} is out of range; use a whole number from {low} to {high}.")
            return None
        return value

    def guarded(self, path: str, parse: Callable[[], _T], *, example: bool = True) -> _T | None:
        """Run one of the shared field parsers, turning its ``InvalidInput`` into a problem at ``path``.

        ``example=False`` leaves out the form's example where the key path already says what to fix.
        """
        try:
            return parse()
        except InvalidInput as error:
            message = error.problem
            if error.example and example:
                message += f" Example: `{error.example}`."
            self.problem(path, message)
            return None

    # ----- the sections ----------------------------------------------------------------------

    def read(self, raw: Mapping[str, Any]) -> Plan:
        self.unknown_keys(raw, _TOP_KEYS, "")
        dialogue = self.table(raw, "dialogue", required=True) or {}
        if dialogue:
            self.unknown_keys(dialogue, _DIALOGUE_KEYS, "dialogue")
        present = bool(dialogue) or isinstance(raw.get("dialogue"), dict)
        title = self.title(dialogue) if present else None
        framing = self.framing(dialogue)
        zone = self.zone(dialogue) if present else None
        opens_at, relative = self.opening(dialogue, zone) if zone else (None, None)
        closes_at = self.closing(dialogue, zone, opens_at) if zone and opens_at else None
        after_close = self.after_close(dialogue)
        questions = self.questions(raw, zone, opens_at, closes_at)
        leaders = self.leaders(raw)
        checkin_hour, unanswered_after = self.reminders(raw)
        if self.problems:
            raise PlanError(self.problems)
        assert title is not None and zone is not None and opens_at is not None and closes_at is not None
        return Plan(
            title=title,
            framing=framing,
            timezone=zone,
            opens_at=opens_at,
            closes_at=closes_at,
            questions=tuple(questions),
            leaders=tuple(leaders),
            checkin_hour=checkin_hour,
            unanswered_after=unanswered_after,
            relative_opening=relative,
            after_close=after_close,
        )

    def title(self, dialogue: Mapping[str, Any]) -> str | None:
        value = self.string(
            dialogue, "title", "dialogue.title", required=True, hint="give a title of at most 100 characters."
        )
        if value is None:
            return None
        title: str | None = self.guarded("dialogue.title", lambda: parse_title(value), example=False)
        return title

    def after_close(self, dialogue: Mapping[str, Any]) -> AfterClose:
        value = self.string(dialogue, "after_close", "dialogue.after_close", required=False)
        if value is None:
            return AfterClose.LOCK
        try:
            return AfterClose(value.strip())
        except ValueError:
            choices = " or ".join(f"`{choice.value}`" for choice in AfterClose)
            self.problem("dialogue.after_close", f"{shown(value)} is not a choice; use {choices}.")
            return AfterClose.LOCK

    def framing(self, dialogue: Mapping[str, Any]) -> str:
        value = self.string(dialogue, "framing", "dialogue.framing", required=False) or ""
        framing: str | None = self.guarded("dialogue.framing", lambda: parse_framing(value), example=False)
        return framing or ""

    def zone(self, dialogue: Mapping[str, Any]) -> str | None:
        value = self.string(
            dialogue,
            "timezone",
            "dialogue.timezone",
            required=True,
            hint="give an IANA time zone, e.g. `Europe/Zurich`.",
        )
        if value is None:
            return None
        return self.zone_name(value, "dialogue.timezone")

    def zone_name(self, value: str, path: str) -> str | None:
        zone: str | None = self.guarded(path, lambda: parse_timezone(value))
        return zone

    def opening(self, dialogue: Mapping[str, Any], zone: str) -> tuple[datetime | None, str | None]:
        value = self.string(
            dialogue,
            "opens",
            "dialogue.opens",
            required=True,
            hint=f"give a local date and time like `{EXAMPLE_TIME}`, `in 2d` or `now`.",
        )
        if value is None:
            return None, None
        text = value.strip()
        if text.lower() == "now":
            return self.now, "now"
        relative = RELATIVE_OPENING.match(text)
        if relative:
            try:
                offset = parse_offset(relative.group(1))
            except ValueError:
                self.problem(
                    "dialogue.opens", f"{shown(text)} is not a time from now; write `in` and a duration like `in 2d`."
                )
                return None, None
            except OverflowError:
                offset = None
            if offset is None or offset > _FARTHEST:
                self.problem("dialogue.opens", f"{shown(text)} is more than 10 years ahead; check the numbers.")
                return None, None
            return self.now + offset, text
        moment = self.moment(text, zone, "dialogue.opens")
        if moment is None:
            return None, None
        if moment - self.now > _FARTHEST:
            self.problem("dialogue.opens", f"{shown(text)} is more than 10 years ahead; check the year.")
            return None, None
        if not self.allow_past and moment < self.now - OPENING_GRACE:
            self.problem("dialogue.opens", f"{shown(text)} has already passed. Use a time ahead, `now`, or `in 2d`.")
            return None, None
        return (moment if self.allow_past else max(moment, self.now)), None

    def moment(self, text: str, zone: str, path: str) -> datetime | None:
        """Read a local date and time (in ``zone``) or ISO-8601 with an offset."""
        try:
            moment = parse_moment(text, ZoneInfo(zone))
        except InvalidInput as error:
            self.problem(path, f"{error.problem} Example: `{error.example}`.")
            return None
        if moment is None:
            self.problem(
                path,
                f"{shown(text)} is not a date and time. Write `YYYY-MM-DD HH:MM` (read in {zone}) "
                f"or ISO-8601 with an offset. Example: `{EXAMPLE_TIME}`.",
            )
        return moment

    def closing(self, dialogue: Mapping[str, Any], zone: str, opens_at: datetime) -> datetime | None:
        has_duration = "duration" in dialogue
        has_closes = "closes" in dialogue
        if has_duration and has_closes:
            self.problem("dialogue", "give either `duration` or `closes`, not both.")
            return None
        if not has_duration and not has_closes:
            self.problem("dialogue", 'give how long it runs: `duration = "5d"` or `closes = "2027-03-06 17:00"`.')
            return None
        if has_duration:
            duration = self.string(dialogue, "duration", "dialogue.duration", required=True)
            if duration is None:
                return None
            length = self.guarded("dialogue.duration", lambda: parse_duration(duration, "duration"))
            return None if length is None else opens_at + length
        value = self.string(dialogue, "closes", "dialogue.closes", required=True)
        if value is None:
            return None
        closes_at = self.moment(value.strip(), zone, "dialogue.closes")
        if closes_at is None:
            return None
        seconds = (closes_at - opens_at).total_seconds()
        written = "the time from the opening to `closes`"
        length = self.guarded("dialogue.closes", lambda: check_length(seconds, "closes", written), example=False)
        return None if length is None else closes_at

    def questions(
        self,
        raw: Mapping[str, Any],
        zone: str | None,
        opens_at: datetime | None,
        closes_at: datetime | None,
    ) -> list[PlanQuestion]:
        entries = self.tables(raw, "questions")
        if entries is None:
            if "questions" not in raw:
                self.problem("questions", 'missing; add at least one [[questions]] entry with `text = "..."`.')
            return []
        how = ' as a [[questions]] entry with `text = "..."`'
        self.guarded("questions", lambda: check_question_count(len(entries), how=how), example=False)
        found: list[PlanQuestion] = []
        for number, entry in enumerate(entries, start=1):
            path = f"questions[{number}]"
            self.unknown_keys(entry, _QUESTION_KEYS, path)
            value = self.string(entry, "text", f"{path}.text", required=True, hint="give the question's text.")
            text = ""
            if value is not None:
                text = self.guarded(f"{path}.text", functools.partial(parse_question, value), example=False) or ""
            release_at = None
            release = self.string(entry, "release", f"{path}.release", required=False)
            if release is not None:
                release_at = self.release(release, zone, opens_at, closes_at, f"{path}.release")
            found.append(PlanQuestion(text=text, release_at=release_at))
        return found

    def release(
        self, value: str, zone: str | None, opens_at: datetime | None, closes_at: datetime | None, path: str
    ) -> datetime | None:
        """Read a release time; without a valid zone or window, check only how it is written."""
        text = value.strip()
        valid = f'use "day 2", "day 2 09:00", an offset like "+36h", or a local date and time like "{EXAMPLE_TIME}".'
        anchor = opens_at or self.now
        place = zone or "UTC"
        day = _DAY.match(text)
        offset = _OFFSET.match(text)
        if day:
            number = int(day.group(1))
            if number < 1:
                self.problem(path, f"there is no day {number}; day 1 is the opening day.")
                return None
            local = anchor.astimezone(ZoneInfo(place))
            date = local.date() + timedelta(days=number - 1)
            hour, minute = (int(day.group(2)), int(day.group(3))) if day.group(2) else (local.hour, local.minute)
            if hour > 23 or minute > 59:
                self.problem(path, f"{shown(text)} has no valid time of day; {valid}")
                return None
            naive = datetime(date.year, date.month, date.day, hour, minute, local.second if not day.group(2) else 0)
            moment = self.guarded(path, lambda: _local(naive, place, path))
        elif offset:
            try:
                moment = anchor + parse_offset(offset.group(1))
            except ValueError:
                self.problem(path, f"{shown(text)} is not an offset; {valid}")
                return None
            except OverflowError:
                self.problem(
                    path, f"{shown(text)} is not before the closing; release questions while the dialogue is open."
                )
                return None
        else:
            moment = parse_moment_quietly(text, place)
            if moment is None:
                self.problem(path, f"{shown(text)} is not a release time; {valid}")
                return None
        if moment is None or zone is None or opens_at is None or closes_at is None:
            return None
        if moment < opens_at:
            self.problem(
                path, f"{shown(text)} is before the opening; release a question at the opening (day 1) or later."
            )
            return None
        if moment >= closes_at:
            self.problem(
                path, f"{shown(text)} is not before the closing; release questions while the dialogue is open."
            )
            return None
        return None if moment == opens_at else moment

    def leaders(self, raw: Mapping[str, Any]) -> list[PlanLeader]:
        entries = self.tables(raw, "leaders")
        if not entries:
            return []
        if len(entries) > MAX_LEADERS:
            self.problem("leaders", f"there are {len(entries)}; the limit is {MAX_LEADERS}.")
        found: list[PlanLeader] = []
        seen: dict[int | str, int] = {}
        for number, entry in enumerate(entries, start=1):
            path = f"leaders[{number}]"
            self.unknown_keys(entry, _LEADER_KEYS, path)
            user = self.user(entry, f"{path}.user")
            commitment = self.integer(entry, "commitment", f"{path}.commitment", 1, MAX_COMMITMENT)
            zone_value = self.string(entry, "timezone", f"{path}.timezone", required=False)
            zone = self.zone_name(zone_value, f"{path}.timezone") if zone_value is not None else None
            hour = self.integer(entry, "checkin_hour", f"{path}.checkin_hour", 0, 23)
            if user is None:
                continue
            if user in seen:
                self.problem(f"{path}.user", f"{user} is listed twice (also leaders[{seen[user]}]); list each once.")
                continue
            seen[user] = number
            found.append(
                PlanLeader(
                    user=user,
                    commitment=DEFAULT_COMMITMENT if commitment is None else commitment,
                    timezone=zone,
                    checkin_hour=hour,
                )
            )
        return found

    def user(self, entry: Mapping[str, Any], path: str) -> int | str | None:
        value = entry.get("user")
        valid = 'a Discord user id (e.g. `user = 412345678901234567`) or a username (e.g. `user = "amara.k"`).'
        if value is None:
            self.problem(path, f"missing; give {valid}")
            return None
        if isinstance(value, bool) or not isinstance(value, int | str):
            self.problem(path, f"expected {valid}")
            return None
        # Only ASCII digits make an id: str.isdigit() also accepts "²" and other scripts' digits.
        if isinstance(value, int) or _DIGITS.match(value.strip()):
            digits = str(value).strip()
            if len(digits) > _MAX_ID_DIGITS or not 10**15 <= int(digits) < 2**63:
                self.problem(path, f"{shown(digits)} is not a Discord user id; give {valid}")
                return None
            return int(digits)
        name = value.strip().removeprefix("@").lower()
        if not _USERNAME.match(name):
            self.problem(
                path,
                f"{shown(value)} is not a Discord username (2 to 32 characters: a-z, 0-9, _ and .); give {valid}",
            )
            return None
        return name

    def reminders(self, raw: Mapping[str, Any]) -> tuple[int | None, timedelta | None]:
        table = self.table(raw, "reminders", required=False)
        if not table:
            return None, None
        self.unknown_keys(table, _REMINDER_KEYS, "reminders")
        hour = self.integer(table, "checkin_hour", "reminders.checkin_hour", 0, 23)
        after = None
        value = self.string(table, "unanswered_after", "reminders.unanswered_after", required=False)
        if value is not None:
            after = self.guarded("reminders.unanswered_after", lambda: parse_duration(value, "unanswered_after"))
        return hour, after


def _local(naive: datetime, zone: str, path: str) -> datetime:
    from ..parsing import local_to_utc

    return local_to_utc(naive, ZoneInfo(zone), path)


def parse_moment_quietly(text: str, zone: str) -> datetime | None:
    """``parse_moment``, with a time that daylight saving skips read as None instead of refused."""
    try:
        return parse_moment(text, ZoneInfo(zone))
    except InvalidInput:
        return None
