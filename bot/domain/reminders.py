"""Conversation leaders' reminders, decided from records and ``now`` alone: due times, staleness, texts.

Check-ins fall at the leader's check-in hour in their own time zone, on every local day whose check-in
instant lies strictly inside the dialogue's window. Local times are turned into UTC with ``zoneinfo`` at the
moment they are needed, so daylight-saving changes fall out naturally: 09:00 in Toronto is 14:00 UTC in
winter and 13:00 UTC in summer. An hour that does not exist on a spring-forward day (02:00) is read with the
offset before the change, i.e. it arrives an hour later on the wall clock; an hour that occurs twice on a
fall-back day is the first one.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from .models import State

__all__ = (
    "DAY",
    "LATE_LIMIT",
    "MAX_LISTED",
    "PLANNED_KINDS",
    "CheckinCounts",
    "CheckinReport",
    "Kind",
    "Leader",
    "LeaderCounts",
    "Leadership",
    "MemberZone",
    "Outcome",
    "Owed",
    "Planned",
    "Reconciled",
    "Reminder",
    "ReminderState",
    "RosterLine",
    "ThreadLink",
    "UnansweredPost",
    "Via",
    "Zone",
    "ZoneSource",
    "added_reply",
    "broadcast_reply",
    "broadcast_text",
    "checkin_text",
    "checkin_times",
    "closes_soon_text",
    "jump_link",
    "leaders_thread_intro",
    "leaders_thread_name",
    "local_instant",
    "opened_text",
    "opens_soon_text",
    "plan",
    "plan_key",
    "reconcile",
    "removed_reply",
    "roster_text",
    "stale_reason",
    "status_text",
    "thanks_text",
    "thread_post_text",
    "welcome_text",
)

DAY = timedelta(hours=24)
# A reminder missed (bot down) by less than this is still sent, late, once; a later one is skipped.
LATE_LIMIT = timedelta(hours=6)
# Unanswered posts listed in one check-in; the rest are counted.
MAX_LISTED = 10
_DM_LIMIT = 2000
MIN_COMMITMENT = 1
_TITLE_LIMIT = 40  # a thread title in a check-in line: ten lines must fit in one message
MAX_COMMITMENT = 20


class Kind(enum.StrEnum):
    """What a reminder is for."""

    WELCOME = "welcome"
    OPENS_SOON = "opens_soon"
    OPENED = "opened"
    CHECKIN = "checkin"
    CLOSES_SOON = "closes_soon"
    THANKS = "thanks"
    BROADCAST = "broadcast"


# Kinds whose rows are derived from the window and the leader's time zone, and re-planned on changes.
# The others are made by events: being added, the opening, the close, a facilitator's message.
PLANNED_KINDS: tuple[Kind, ...] = (Kind.OPENS_SOON, Kind.CHECKIN, Kind.CLOSES_SOON)


class ReminderState(enum.StrEnum):
    """Where a reminder row is in its life: pending -> sent | skipped | held (-> sent)."""

    PENDING = "pending"
    SENT = "sent"
    SKIPPED = "skipped"
    HELD = "held"  # DMs closed before the Leaders thread existed: posted there once it is created


class Via(enum.StrEnum):
    """How a sent reminder reached its leader (``reminders.via``)."""

    DM = "dm"
    THREAD = "thread"  # the private Leaders thread, because the leader's DMs are closed


class Outcome(enum.StrEnum):
    """What one delivery attempt did."""

    DM = "dm"
    THREAD = "thread"
    HELD = "held"  # kept for the Leaders thread, which does not exist yet
    SKIPPED = "skipped"  # stale, or no longer a leader: recorded as skipped
    RETRY = "retry"  # Discord failed; tried again later
    NONE = "none"  # already done by someone else


class ZoneSource(enum.StrEnum):
    """Who chose a member's stored time zone (``members.source``): only the member's own choice outranks a plan."""

    SELF = "self"
    PLAN = "plan"


@dataclass(frozen=True, slots=True)
class MemberZone:
    """A member's stored time zone and check-in hour in one server."""

    timezone: str
    hour: int
    source: ZoneSource


@dataclass(frozen=True, slots=True)
class Zone:
    """Where and when a leader's check-ins fall; ``own`` is False while the dialogue's zone stands in."""

    timezone: str
    hour: int
    own: bool


@dataclass(frozen=True, slots=True)
class Leader:
    """One leader of one dialogue (active while ``removed_at`` is None)."""

    dialogue_id: int
    user_id: int
    commitment: int
    added_at: datetime
    removed_at: datetime | None
    reachable: bool

    @property
    def active(self) -> bool:
        """Whether the leader is still on the dialogue (not removed)."""
        return self.removed_at is None


@dataclass(frozen=True, slots=True)
class Leadership:
    """An active leader with the dialogue's window and every zone input planning needs, read in one query."""

    dialogue_id: int
    guild_id: int
    user_id: int
    added_at: datetime
    state: State
    opens_at: datetime
    closes_at: datetime
    opened_at: datetime | None
    closed_at: datetime | None
    dialogue_timezone: str
    member_timezone: str | None  # what the member (or a plan) stored for this server
    member_hour: int | None
    plan_hour: int | None  # the dialogue's plan file [reminders] checkin_hour
    leaders_thread_id: int | None
    planned_with: str | None = None  # plan_key() of the inputs the stored rows were planned from

    def zone(self, default_hour: int) -> Zone:
        """Return the leader's own zone and hour, or the dialogue's zone at the plan's (or default) hour."""
        if self.member_timezone is not None and self.member_hour is not None:
            return Zone(self.member_timezone, self.member_hour, True)
        return Zone(self.dialogue_timezone, default_hour if self.plan_hour is None else self.plan_hour, False)


@dataclass(frozen=True, slots=True)
class Reminder:
    """One message owed to one leader, as stored."""

    id: int
    dialogue_id: int
    user_id: int
    kind: Kind
    key: str
    due_at: datetime
    state: ReminderState
    sent_at: datetime | None
    via: Via | None
    body: str | None
    note: str | None


@dataclass(frozen=True, slots=True)
class Planned:
    """A reminder row that should exist: its kind, unique key and due instant."""

    kind: Kind
    key: str
    due_at: datetime


@dataclass(frozen=True, slots=True)
class Owed:
    """A reminder row that should exist for one leader."""

    dialogue_id: int
    user_id: int
    kind: Kind
    key: str
    due_at: datetime


@dataclass(frozen=True, slots=True)
class Reconciled:
    """What re-planning changes: pending rows to drop (by id) and rows to add."""

    drop: tuple[int, ...]
    add: tuple[Planned, ...]


@dataclass(frozen=True, slots=True)
class ThreadLink:
    """A seed thread named in the opening message."""

    name: str
    url: str


@dataclass(frozen=True, slots=True)
class CheckinCounts:
    """The post counts one check-in reports, from one query."""

    own_last_day: int
    own_total: int
    total: int
    new_since_last: int


@dataclass(frozen=True, slots=True)
class LeaderCounts:
    """One leader's posts in the last 24 hours and in total."""

    last_day: int
    total: int


@dataclass(frozen=True, slots=True)
class UnansweredPost:
    """A post still waiting for someone else's answer."""

    message_id: int
    channel_id: int  # the thread, or the dialogue channel for a top-level post
    author_name: str
    where: str  # the thread's title, or "" for the channel
    created_at: datetime


@dataclass(frozen=True, slots=True)
class CheckinReport:
    """Everything a check-in message says."""

    title: str
    commitment: int
    own_last_day: int
    own_total: int
    total: int
    new_since_last: int
    unanswered: Sequence[UnansweredPost]
    unanswered_after: timedelta
    guild_id: int
    closes_at: datetime


# ----- when ----------------------------------------------------------------------------------------


def local_instant(day: date, hour: int, zone: ZoneInfo) -> datetime:
    """Return the UTC instant of ``hour``:00 on local ``day`` in ``zone`` (see the module notes on DST)."""
    return datetime.combine(day, time(hour), tzinfo=zone).astimezone(UTC)


def checkin_times(
    opens_at: datetime, closes_at: datetime, timezone: str, hour: int, not_before: datetime
) -> list[datetime]:
    """Return the check-in instants strictly inside (opens_at, closes_at), at or after ``not_before``."""
    zone = ZoneInfo(timezone)
    day = opens_at.astimezone(zone).date() - timedelta(days=1)
    last = closes_at.astimezone(zone).date() + timedelta(days=1)
    found: list[datetime] = []
    while day <= last:
        moment = local_instant(day, hour, zone)
        if opens_at < moment < closes_at and moment >= not_before:
            found.append(moment)
        day += timedelta(days=1)
    return found


def plan(
    *,
    state: State,
    opens_at: datetime,
    closes_at: datetime,
    added_at: datetime,
    timezone: str,
    hour: int,
    now: datetime,
) -> list[Planned]:
    """Return the time-driven reminders a leader should still get from ``now`` on.

    "Opens tomorrow" only if they were a leader before that point; check-ins on each local day of the
    window; "closes tomorrow" 24 hours before the close if that falls inside the window.
    """
    if state not in (State.SCHEDULED, State.OPEN, State.FAILED):
        return []
    wanted: list[Planned] = []
    opens_soon = opens_at - DAY
    if state is State.SCHEDULED and added_at <= opens_soon and now <= opens_soon:
        wanted.append(Planned(Kind.OPENS_SOON, f"opens_soon:{_epoch(opens_soon)}", opens_soon))
    for moment in checkin_times(opens_at, closes_at, timezone, hour, max(now, added_at)):
        wanted.append(Planned(Kind.CHECKIN, f"checkin:{_epoch(moment)}", moment))
    closes_soon = closes_at - DAY
    if closes_soon > opens_at and closes_soon >= now:
        wanted.append(Planned(Kind.CLOSES_SOON, f"closes_soon:{_epoch(closes_soon)}", closes_soon))
    return wanted


def plan_key(
    *, state: State, opens_at: datetime, closes_at: datetime, added_at: datetime, timezone: str, hour: int
) -> str:
    """Name every input of ``plan`` but the clock: rows planned under the same key need no re-planning.

    A later ``now`` only narrows what ``plan`` wants to rows that already exist, so an unchanged key means
    re-planning would change nothing.
    """
    phase = "scheduled" if state is State.SCHEDULED else "live"
    return f"{phase}|{_epoch(opens_at)}|{_epoch(closes_at)}|{_epoch(added_at)}|{timezone}|{hour}"


def reconcile(wanted: Sequence[Planned], existing: Sequence[Reminder], timezone: str, now: datetime) -> Reconciled:
    """Compare one leader's wanted time-driven rows with the stored ones; return what to drop and add.

    ``existing`` holds the leader's stored rows of the planned kinds (at least those due from a day before
    ``now``). Only pending rows due at or after ``now`` are dropped: overdue ones are left to delivery, which
    decides whether they are still worth sending. A key stored in any state is never added again, and a
    local day whose check-in was sent gets no second one (a new hour or zone must not add one).
    """
    local = ZoneInfo(timezone)
    served = {
        row.due_at.astimezone(local).date()
        for row in existing
        if row.kind is Kind.CHECKIN and row.state is ReminderState.SENT
    }
    kept = [w for w in wanted if w.kind is not Kind.CHECKIN or w.due_at.astimezone(local).date() not in served]
    keys = {w.key for w in kept}
    stored = {row.key for row in existing}
    drop = tuple(
        row.id
        for row in existing
        if row.state is ReminderState.PENDING
        and row.kind in PLANNED_KINDS
        and row.due_at >= now
        and row.key not in keys
    )
    return Reconciled(drop=drop, add=tuple(w for w in kept if w.key not in stored))


def stale_reason(
    kind: Kind, due_at: datetime, state: State, opens_at: datetime, closes_at: datetime, now: datetime
) -> str | None:
    """Return why a reminder should no longer be sent at ``now`` (it is then recorded as skipped), or None."""
    late = now - due_at
    if kind is Kind.OPENS_SOON:
        if state is not State.SCHEDULED or now >= opens_at:
            return "the dialogue is no longer waiting to open"
    elif kind is Kind.CHECKIN:
        if state is not State.OPEN:
            return f"the dialogue is {state.value}"
        if now >= closes_at:
            return "the dialogue's window has ended"
        if late > LATE_LIMIT:
            return "missed by more than 6 hours"
    elif kind is Kind.CLOSES_SOON:
        if state is not State.OPEN or now >= closes_at:
            return "the dialogue is no longer open"
        if late > LATE_LIMIT:
            return "missed by more than 6 hours"
    elif kind is Kind.OPENED:
        if state is not State.OPEN:
            return f"the dialogue is {state.value}"
        if now >= closes_at:
            return "the dialogue's window has ended"
    elif kind is Kind.WELCOME:
        if state not in (State.SCHEDULED, State.OPEN, State.FAILED):
            return f"the dialogue is {state.value}"
    elif kind is Kind.THANKS:
        if state is not State.CLOSED:
            return f"the dialogue is {state.value}"
        if late > DAY:
            return "missed by more than a day"
    elif kind is Kind.BROADCAST and late > LATE_LIMIT:
        return "missed by more than 6 hours"
    return None


# ----- what ----------------------------------------------------------------------------------------
# The first line of every direct message is neutral: lock-screen previews may be read by others.


def _ts(moment: datetime, style: str = "F") -> str:
    return f"<t:{_epoch(moment)}:{style}>"


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def _posts(count: int) -> str:
    return "1 post" if count == 1 else f"{count} posts"


def _hours(duration: timedelta) -> str:
    hours = duration.total_seconds() / 3600
    if hours == int(hours):
        whole = int(hours)
        return "1 hour" if whole == 1 else f"{whole} hours"
    minutes = int(duration.total_seconds() // 60)
    return f"{minutes} minutes"


def jump_link(guild_id: int, channel_id: int, message_id: int) -> str:
    """Return a link that opens a message in the Discord client."""
    return f"https://discord.com/channels/{guild_id}/{channel_id}/{message_id}"


def welcome_text(
    *,
    title: str,
    guild_name: str,
    commitment: int,
    opens_at: datetime,
    closes_at: datetime,
    timezone: str,
    hour: int,
    own_zone: bool,
) -> str:
    """The DM a leader gets when added: the role, the window and when check-ins arrive."""
    source = "your time zone" if own_zone else "the dialogue's time zone, until you set your own"
    return "\n".join(
        (
            "Your dialogue role",
            f"You are a conversation leader in **{title}** on {guild_name}.",
            f"What is asked of you: about {_posts(commitment)} a day while it is open — replies count.",
            f"Window: {_ts(opens_at)} to {_ts(closes_at)}.",
            f"Daily check-ins arrive at {hour:02d}:00 in {timezone} ({source}).",
            "To change this, run `/my-timezone` in the server, e.g. `/my-timezone zone:Asia/Kathmandu checkin_hour:9`.",
        )
    )


def opens_soon_text(*, title: str, opens_at: datetime, questions: Sequence[str]) -> str:
    """The DM a day before opening, with the seed questions."""
    lines = [
        "Your dialogue reminder",
        f"**{title}** opens tomorrow: {_ts(opens_at)} ({_ts(opens_at, 'R')}).",
        "Seed questions:",
    ]
    lines += [f"{number}. {text}" for number, text in enumerate(questions, 1)]
    return "\n".join(lines)


def opened_text(*, title: str, channel_link: str, threads: Sequence[ThreadLink], closes_at: datetime) -> str:
    """The "it is live" DM: the channel and each seed thread, with the closing time."""
    lines = [
        "Your dialogue reminder",
        f"**{title}** is live now, until {_ts(closes_at)}: {channel_link}",
    ]
    if threads:
        lines.append("Seed threads:")
        lines += [f"- {thread.name}: {thread.url}" for thread in threads]
    return "\n".join(lines)


def checkin_text(report: CheckinReport) -> str:
    """The daily check-in DM built from ``report``."""
    lines = [
        "Your dialogue check-in",
        f"**{report.title}**",
        f"Your posts in the last 24 hours: {report.own_last_day} of the {report.commitment} a day you committed "
        f"to ({report.own_total} in total).",
        f"In the dialogue: {_posts(report.total)} / {report.new_since_last} new since your last check-in.",
    ]
    waited = _hours(report.unanswered_after)
    if report.unanswered:
        lines.append(f"Waiting for a reply for more than {waited}:")
        listed = 0
        for post in report.unanswered[:MAX_LISTED]:
            title = post.where if len(post.where) <= _TITLE_LIMIT else post.where[: _TITLE_LIMIT - 1] + "…"
            where = f" in “{title}”" if title else ""
            line = (
                f"- {post.author_name}{where}, {_ts(post.created_at, 'R')}: "
                f"{jump_link(report.guild_id, post.channel_id, post.message_id)}"
            )
            # One DM holds 2,000 characters: stop listing early rather than have Discord refuse it.
            if sum(len(text) + 1 for text in lines) + len(line) > _DM_LIMIT - len("… and 99999 more."):
                break
            lines.append(line)
            listed += 1
        rest = len(report.unanswered) - listed
        if rest > 0:
            lines.append(f"… and {rest} more.")
    else:
        lines.append(f"No post has been waiting for a reply for more than {waited}.")
    return "\n".join(lines)


def closes_soon_text(*, title: str, closes_at: datetime, channel_link: str) -> str:
    """The DM a day before closing."""
    return "\n".join(
        (
            "Your dialogue reminder",
            f"**{title}** closes tomorrow: {_ts(closes_at)} ({_ts(closes_at, 'R')}). {channel_link}",
        )
    )


def thanks_text(*, title: str, own_total: int) -> str:
    """The DM after closing, counting the leader's posts."""
    return "\n".join(
        (
            "Thank you",
            f"**{title}** has closed. You contributed {_posts(own_total)}. Thank you for leading the conversation.",
        )
    )


def broadcast_text(*, title: str, message: str) -> str:
    """A facilitator's message to every leader, under the dialogue's title."""
    return "\n".join(("A message from your dialogue facilitators", f"**{title}**", message))


# ----- the private Leaders thread and the status report ---------------------------------------------


def leaders_thread_name(dialogue_id: int) -> str:
    """Name the private Leaders thread after its dialogue: the id is what adoption after a crash matches."""
    return f"Leaders · #{dialogue_id}"


def leaders_thread_intro() -> str:
    """The Leaders thread's first message."""
    return (
        "This private thread is the backstage room for the conversation leaders and facilitators "
        "of this dialogue. Reminders for leaders whose direct messages are closed are posted here."
    )


def thread_post_text(user_id: int, text: str, *, held: bool) -> str:
    """A reminder posted in the Leaders thread for a leader whose DMs are closed (mentions that leader)."""
    note = "held until this thread existed, because" if held else "posted here because"
    return f"<@{user_id}> ({note} your direct messages are closed)\n{text}"


def status_text(leaders: Sequence[Leader], counts: Mapping[int, LeaderCounts]) -> str:
    """The leaders' part of /dialogue status: posts in 24 hours and in total, commitment, reachability."""
    if not leaders:
        return "**Leaders**: none. Add them with `/dialogue leaders add`."
    lines = [f"**Leaders** ({len(leaders)})"]
    for leader in leaders:
        found = counts.get(leader.user_id, LeaderCounts(0, 0))
        reach = (
            "reachable by DM" if leader.reachable else "**unreachable**: DMs closed, reminders go to the Leaders thread"
        )
        lines.append(
            f"- <@{leader.user_id}>: {found.last_day} in the last 24 hours (commitment {leader.commitment} a day), "
            f"{found.total} in total; {reach}"
        )
    return "\n".join(lines)


# ----- replies to facilitators (ephemeral) -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RosterLine:
    """One leader in ``/dialogue leaders list``, with where their check-ins fall."""

    leader: Leader
    zone: Zone


def added_reply(*, user_id: int, title: str, commitment: int, new: bool, reachable: bool) -> str:
    """Answer ``/dialogue leaders add``."""
    if not new:
        return f"<@{user_id}> already leads “{title}”; their commitment is now {commitment} a day."
    text = f"<@{user_id}> is now a conversation leader of “{title}” ({commitment} posts a day)."
    if not reachable:
        return (
            text + " Their direct messages are closed: their reminders go to the private Leaders thread "
            "(held until it is created at the opening)."
        )
    return text + " They have been sent a welcome."


def removed_reply(*, user_id: int, title: str) -> str:
    """Answer ``/dialogue leaders remove``."""
    return f"<@{user_id}> is no longer a leader of “{title}”; they will get no more reminders."


def roster_text(title: str, lines: Sequence[RosterLine]) -> str:
    """Answer ``/dialogue leaders list``: commitment, check-in time and reachability of each leader."""
    if not lines:
        return f"“{title}” has no leaders yet. Add them with `/dialogue leaders add`."
    out = [f"**Leaders of “{title}”** ({len(lines)})"]
    for line in lines:
        leader, zone = line.leader, line.zone
        reach = "reachable" if leader.reachable else "unreachable (DMs closed)"
        where = f"{zone.hour:02d}:00 {zone.timezone}" + ("" if zone.own else " (dialogue's zone)")
        out.append(
            f"- <@{leader.user_id}>: {leader.commitment} a day, check-ins at {where}, {reach}; "
            f"added {_ts(leader.added_at, 'R')}"
        )
    return "\n".join(out)


def broadcast_reply(title: str, outcomes: Sequence[Outcome]) -> str:
    """Answer ``/dialogue remind-leaders``: how many were reached, and how."""
    count = {outcome: outcomes.count(outcome) for outcome in Outcome}
    parts = [
        f"{count[Outcome.DM]} by direct message",
        f"{count[Outcome.THREAD]} in the Leaders thread (DMs closed)",
    ]
    if count[Outcome.HELD]:
        parts.append(f"{count[Outcome.HELD]} held for the Leaders thread (DMs closed, it opens with the dialogue)")
    if count[Outcome.RETRY]:
        parts.append(f"{count[Outcome.RETRY]} to be retried (Discord failed)")
    return f"Sent to the leaders of “{title}”: " + ", ".join(parts) + "."
