"""Plan files: a whole dialogue written once in TOML, checked, imported, exported and rehearsed.

Pure standard library. ``parse_plan`` turns the text of a plan into a ``Plan`` or raises ``PlanError``
listing every problem with its key path and what would be valid; ``render_plan`` writes a ``Plan``
back as TOML that ``parse_plan`` reads to the same ``Plan`` (the round trip).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from .errors import DialogueError, InvalidInput
from .models import DialogueDraft
from .parsing import (
    MAX_DURATION,
    MAX_FRAMING_LENGTH,
    MAX_QUESTION_LENGTH,
    MAX_QUESTIONS,
    MAX_TITLE_LENGTH,
    MIN_DURATION,
    _parse_absolute,
    _parse_offset,
    format_duration,
    parse_duration,
    parse_timezone,
)

_T = TypeVar("_T")

__all__ = (
    "MAX_LEADERS",
    "MAX_PLAN_BYTES",
    "Plan",
    "PlanError",
    "PlanLeader",
    "PlanProblem",
    "PlanQuestion",
    "decode_plan",
    "parse_plan",
    "render_plan",
    "shift_weeks",
)

MAX_LEADERS = 50
MAX_COMMITMENT = 20
DEFAULT_COMMITMENT = 2
MAX_PLAN_BYTES = 256 * 1024
# A plan's opening this far in the past still means "now": the file took a moment to upload.
_PAST_GRACE = timedelta(minutes=2)
# An opening further ahead than this is a typo, not a plan.
_FARTHEST = timedelta(days=3660)

_USERNAME = re.compile(r"^[a-z0-9_.]{2,32}$")
_DAY = re.compile(r"^day\s+(\d{1,2})(?:\s+(\d{1,2}):(\d{2}))?$", re.IGNORECASE)
_OFFSET = re.compile(r"^\+\s*(.+)$")
_RELATIVE = re.compile(r"^in\s+(.+)$", re.IGNORECASE)

_TOP_KEYS = ("dialogue", "questions", "leaders", "reminders")
_DIALOGUE_KEYS = ("title", "framing", "timezone", "opens", "duration", "closes")
_QUESTION_KEYS = ("text", "release")
_LEADER_KEYS = ("user", "commitment", "timezone", "checkin_hour")
_REMINDER_KEYS = ("checkin_hour", "unanswered_after")

_EXAMPLE_TIME = "2027-03-01 09:00"


@dataclass(frozen=True, slots=True)
class PlanProblem:
    """One thing wrong with a plan: where (a key path such as ``questions[2].release``) and what."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class PlanError(DialogueError):
    """A plan that cannot be used; ``problems`` lists every problem found, in file order."""

    def __init__(self, problems: list[PlanProblem]) -> None:
        self.problems = tuple(problems)
        count = len(self.problems)
        heading = "The plan has 1 problem:" if count == 1 else f"The plan has {count} problems:"
        super().__init__(heading + "\n" + "\n".join(f"- {problem}" for problem in self.problems))


@dataclass(frozen=True, slots=True)
class PlanQuestion:
    """A seed question in a plan, released at opening or at its own time."""

    text: str
    # None: the thread is created at opening.
    release_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class PlanLeader:
    """A conversation leader named in a plan, by user id or username."""

    # A Discord user id, or a username (lowercase, as Discord shows it under "Username").
    user: int | str
    commitment: int = DEFAULT_COMMITMENT
    timezone: str | None = None
    checkin_hour: int | None = None

    @property
    def label(self) -> str:
        """How the leader is named in messages: the id, or ``@username``."""
        return str(self.user) if isinstance(self.user, int) else f"@{self.user}"


@dataclass(frozen=True, slots=True)
class Plan:
    """A validated plan; every instant is aware UTC."""

    title: str
    framing: str
    timezone: str
    opens_at: datetime
    closes_at: datetime
    questions: tuple[PlanQuestion, ...]
    leaders: tuple[PlanLeader, ...] = ()
    checkin_hour: int | None = None
    unanswered_after: timedelta | None = None
    # How the opening was written, when it was relative to the moment of reading ("now", "in 2d").
    relative_opening: str | None = field(default=None, compare=False)

    @property
    def zone(self) -> ZoneInfo:
        """The plan's time zone."""
        return ZoneInfo(self.timezone)

    def draft(self) -> DialogueDraft:
        """The dialogue this plan creates (without its leaders and reminder settings)."""
        return DialogueDraft(
            title=self.title,
            framing=self.framing,
            questions=tuple(q.text for q in self.questions),
            timezone=self.timezone,
            opens_at=self.opens_at,
            closes_at=self.closes_at,
            releases=tuple(q.release_at for q in self.questions),
        )

    def local(self, moment: datetime) -> datetime:
        """Return ``moment`` on the dialogue's wall clock."""
        return moment.astimezone(self.zone)


# ----- reading -----------------------------------------------------------------------------------


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
    return _Reader(now, allow_past).read(raw)


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

    def guarded(self, path: str, parse: Callable[[], _T]) -> _T | None:
        """Run one of the shared field parsers, turning its ``InvalidInput`` into a problem at ``path``."""
        try:
            return parse()
        except InvalidInput as error:
            message = error.problem
            if error.example:
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
        )

    def title(self, dialogue: Mapping[str, Any]) -> str | None:
        value = self.string(
            dialogue, "title", "dialogue.title", required=True, hint="give a title of at most 100 characters."
        )
        if value is None:
            return None
        title = " ".join(value.split())
        if not title:
            self.problem("dialogue.title", "must not be empty.")
            return None
        if len(title) > MAX_TITLE_LENGTH:
            self.problem(
                "dialogue.title", f"is {len(title)} characters long; the limit is {MAX_TITLE_LENGTH}. Shorten it."
            )
            return None
        return title

    def framing(self, dialogue: Mapping[str, Any]) -> str:
        value = self.string(dialogue, "framing", "dialogue.framing", required=False) or ""
        framing = value.strip()
        if len(framing) > MAX_FRAMING_LENGTH:
            self.problem("dialogue.framing", f"is {len(framing)} characters long; the limit is {MAX_FRAMING_LENGTH}.")
        return framing

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
        try:
            return parse_timezone(value)
        except InvalidInput:
            self.problem(path, f"`{value}` is not an IANA time zone name. Example: `Europe/Zurich`.")
            return None

    def opening(self, dialogue: Mapping[str, Any], zone: str) -> tuple[datetime | None, str | None]:
        value = self.string(
            dialogue,
            "opens",
            "dialogue.opens",
            required=True,
            hint=f"give a local date and time like `{_EXAMPLE_TIME}`, `in 2d` or `now`.",
        )
        if value is None:
            return None, None
        text = value.strip()
        if text.lower() == "now":
            return self.now, "now"
        relative = _RELATIVE.match(text)
        if relative:
            try:
                offset = _parse_offset(relative.group(1))
                if offset > _FARTHEST:
                    raise OverflowError(text)
                return self.now + offset, text
            except (ValueError, OverflowError):
                self.problem(
                    "dialogue.opens", f"`{text}` is not a time from now; write `in` and a duration like `in 2d`."
                )
                return None, None
        moment = self.moment(text, zone, "dialogue.opens")
        if moment is None:
            return None, None
        if moment - self.now > _FARTHEST:
            self.problem("dialogue.opens", f"`{text}` is more than 10 years ahead; check the year.")
            return None, None
        if not self.allow_past and moment < self.now - _PAST_GRACE:
            self.problem("dialogue.opens", f"`{text}` has already passed. Use a time ahead, `now`, or `in 2d`.")
            return None, None
        return (moment if self.allow_past else max(moment, self.now)), None

    def moment(self, text: str, zone: str, path: str) -> datetime | None:
        """Read a local date and time (in ``zone``) or ISO-8601 with an offset."""
        try:
            moment = _parse_absolute(text, ZoneInfo(zone))
        except InvalidInput as error:
            self.problem(path, f"{error.problem} Example: `{error.example}`.")
            return None
        if moment is None:
            self.problem(
                path,
                f"`{text}` is not a date and time. Write `YYYY-MM-DD HH:MM` (read in {zone}) "
                f"or ISO-8601 with an offset. Example: `{_EXAMPLE_TIME}`.",
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
        length = closes_at - opens_at
        if length < MIN_DURATION:
            self.problem("dialogue.closes", "must be at least 10 minutes after the opening.")
            return None
        if length > MAX_DURATION:
            self.problem("dialogue.closes", "must be at most 60 days after the opening.")
            return None
        return closes_at

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
        if not entries:
            self.problem("questions", 'add at least one [[questions]] entry with `text = "..."`.')
        if len(entries) > MAX_QUESTIONS:
            self.problem("questions", f"there are {len(entries)}; the limit is {MAX_QUESTIONS}. Merge or drop some.")
        found: list[PlanQuestion] = []
        for number, entry in enumerate(entries, start=1):
            path = f"questions[{number}]"
            self.unknown_keys(entry, _QUESTION_KEYS, path)
            value = self.string(entry, "text", f"{path}.text", required=True, hint="give the question's text.")
            text = (value or "").strip()
            if value is not None and not text:
                self.problem(f"{path}.text", "must not be empty.")
            elif len(text) > MAX_QUESTION_LENGTH:
                self.problem(f"{path}.text", f"is {len(text)} characters long; the limit is {MAX_QUESTION_LENGTH}.")
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
        valid = f'use "day 2", "day 2 09:00", an offset like "+36h", or a local date and time like "{_EXAMPLE_TIME}".'
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
                self.problem(path, f"`{text}` has no valid time of day; {valid}")
                return None
            naive = datetime(date.year, date.month, date.day, hour, minute, local.second if not day.group(2) else 0)
            moment = self.guarded(path, lambda: _local(naive, place, path))
        elif offset:
            try:
                moment = anchor + _parse_offset(offset.group(1))
            except (ValueError, OverflowError):
                self.problem(path, f"`{text}` is not an offset; {valid}")
                return None
        else:
            moment = _parse_absolute_quiet(text, place)
            if moment is None:
                self.problem(path, f"`{text}` is not a release time; {valid}")
                return None
        if moment is None or zone is None or opens_at is None or closes_at is None:
            return None
        if moment < opens_at:
            self.problem(path, f"`{text}` is before the opening; release a question at the opening (day 1) or later.")
            return None
        if moment >= closes_at:
            self.problem(path, f"`{text}` is not before the closing; release questions while the dialogue is open.")
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
        if isinstance(value, int) or value.strip().isdigit():
            number = int(value)
            if not 10**15 <= number < 2**63:
                self.problem(path, f"{number} is not a Discord user id; give {valid}")
                return None
            return number
        name = value.strip().removeprefix("@").lower()
        if not _USERNAME.match(name):
            self.problem(
                path,
                f"`{value}` is not a Discord username (2 to 32 characters: a-z, 0-9, _ and .); give {valid}",
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
    from .parsing import local_to_utc

    return local_to_utc(naive, ZoneInfo(zone), path)


def _parse_absolute_quiet(text: str, zone: str) -> datetime | None:
    try:
        return _parse_absolute(text, ZoneInfo(zone))
    except InvalidInput:
        return None


# ----- writing -----------------------------------------------------------------------------------


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
    if _parse_absolute_quiet(text, zone) == moment.replace(microsecond=0):
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
        if _parse_absolute_quiet(f"{local:%Y-%m-%d %H:%M}", plan.timezone) == release_at:
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


# ----- placing a plan in time --------------------------------------------------------------------


def shift_weeks(plan: Plan, weeks: int) -> Plan:
    """Move every instant of the plan by whole weeks on its own wall clock (weekday and time of day kept)."""
    if weeks == 0:
        return plan
    zone = plan.zone

    def move(moment: datetime) -> datetime:
        local = moment.astimezone(zone).replace(tzinfo=None) + timedelta(weeks=weeks)
        shifted = local.replace(tzinfo=zone).astimezone(UTC)
        return shifted

    return replace(
        plan,
        opens_at=move(plan.opens_at),
        closes_at=move(plan.closes_at),
        questions=tuple(
            replace(q, release_at=None if q.release_at is None else move(q.release_at)) for q in plan.questions
        ),
    )
