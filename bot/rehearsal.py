"""The offline rehearsal: run the real bot on a plan, in SimCord's virtual time, and write down what it did.

The bot is built by ``create_bot`` on a temporary SQLite file, exactly as in production; SimCord stands in
for Discord. A simulated server gets the plan's leaders, a facilitator and synthetic participants who post
deterministic placeholder replies. The facilitator imports the plan through ``/dialogue create plan:``; then
time moves from a day before the opening to two days after the closing, and every message the bot posts, every
direct message, thread, lock and the wrap-up is recorded with its UTC and local time. The after-life is played
too: comments after the window (when the plan keeps them open until the summary), a scripted summary posted
through ``/dialogue summary``, the notices it sends, and a few answers to the feedback survey.
"""

from __future__ import annotations

import logging
import math
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import discord
import simcord

import db.dialogues as dialogues_db
import db.summaries as summaries_db
from db import Database

from .afterlife.buttons import FEEDBACK, custom_id
from .app import DialogueBot, create_bot
from .config import Settings
from .domain.models import AfterClose, BotMessageKind, Dialogue, State
from .domain.parsing import slugify, thread_name
from .domain.plan import Plan, PlanLeader, render_plan, shift_weeks
from .record.export import ExportFormat, export

__all__ = (
    "AFTERLIFE",
    "SCRIPTED_SUMMARY",
    "SIM_START",
    "SUMMARY_AFTER",
    "SURVEY_AFTER",
    "Event",
    "PlaceholderPost",
    "RehearsalResult",
    "distinct",
    "place_plan",
    "readable",
    "rehearse",
)

log = logging.getLogger(__name__)

# SimCord's virtual clock starts here and only moves forward.
SIM_START = datetime(2026, 1, 1, tzinfo=UTC)
EARLIEST_OPENING = SIM_START + timedelta(days=1)
STEP = timedelta(hours=1)
POSTS_PER_PARTICIPANT = 3
# The after-life: comments for a few hours after the window (two-phase plans), then the facilitator's summary,
# then a few answers to the feedback survey; virtual time ends two days after the close.
AFTER_COMMENTS = 4
SUMMARY_AFTER = timedelta(hours=6)
SURVEY_AFTER = timedelta(days=1)
AFTERLIFE = timedelta(days=2)


@dataclass(frozen=True, slots=True)
class Event:
    """One thing the bot did, as a reader of the timeline sees it."""

    at: datetime
    kind: str  # message, intro, wrap-up, summary, comment, dm, thread, lock, note, survey
    where: str
    text: str
    zone: str  # the time zone the local time is shown in (the dialogue's, or a DM recipient's)
    message_id: int | None = None

    @property
    def local(self) -> datetime:
        """When it happened, in the event's time zone."""
        return self.at.astimezone(ZoneInfo(self.zone))

    @property
    def label(self) -> str:
        """The kind, and for a DM its first line (neutral by design: it names the kind of message)."""
        if self.kind == "dm" and self.text:
            return f"dm: {self.text.splitlines()[0]}"
        return self.kind

    def heading(self) -> str:
        """The event's line in the timeline: UTC time, local time, place."""
        utc = f"{self.at:%a %Y-%m-%d %H:%M} UTC"
        local = f"{self.local:%a %H:%M} {self.zone}"
        return f"{utc} · {local} · {self.where}"


@dataclass(frozen=True, slots=True)
class PlaceholderPost:
    """One post a cast member made during the rehearsal, and the thread it belongs to."""

    author: str
    thread: str  # the thread's name: a question's, or the one the bot gives a new topic


@dataclass
class RehearsalResult:
    """What a rehearsal found: the timeline, problems, and the written report."""

    plan: Plan
    events: list[Event] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    markdown: str = ""
    path: Path | None = None
    posts: int = 0
    made: list[PlaceholderPost] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # user id -> username of everyone in the simulated server.
    people: dict[int, str] = field(default_factory=dict)
    # The rehearsed dialogue's exports (Markdown, HTML, JSON), written next to the timeline.
    exports: list[Path] = field(default_factory=list)
    # Comments posted after the window, while a two-phase dialogue waits for its summary (not in ``made``).
    comments: list[PlaceholderPost] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether the rehearsal found no errors."""
        return not self.errors


def place_plan(plan: Plan, earliest: datetime = EARLIEST_OPENING) -> tuple[Plan, int]:
    """Move a plan that opens before ``earliest`` (or relative to now) by whole weeks to open after it."""
    if plan.relative_opening is None and plan.opens_at >= earliest:
        return plan, 0
    weeks = math.ceil((earliest - plan.opens_at) / timedelta(weeks=1))
    placed = shift_weeks(plan, weeks)
    while placed.opens_at < earliest:  # a daylight-saving change can cost an hour
        weeks += 1
        placed = shift_weeks(plan, weeks)
    return placed, weeks


class _LogRecords(logging.Handler):
    """Collects every warning and error the bot logs during the rehearsal."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


class _Recorder:
    """Listens on the bot like any cog would, and turns what it did into timeline events."""

    def __init__(self, bot: DialogueBot, plan: Plan, zones: dict[int, str], echo: Callable[[str], None]) -> None:
        self.bot = bot
        self.plan = plan
        self.zones = zones
        self.echo = echo
        self.events: list[Event] = []
        self.channel_id: int | None = None
        self.printed = 0
        # DM channel id -> recipient, for DM channels discord.py has not cached with their recipient.
        self.names: dict[int, discord.abc.User] = {}
        # user id -> username, to show mentions readably.
        self.people: dict[int, str] = {}
        self.intro_seen = False
        self.locked = False
        bot.add_listener(self.on_message, "on_message")
        bot.add_listener(self.on_thread_create, "on_thread_create")
        bot.add_listener(self.on_thread_update, "on_thread_update")
        bot.add_listener(self.on_guild_channel_update, "on_guild_channel_update")
        bot.add_listener(self.on_guild_channel_create, "on_guild_channel_create")
        self.category = bot.settings.category

    def add(self, event: Event) -> None:
        self.events.append(event)

    def flush(self) -> None:
        """Print what happened since the last flush."""
        for event in sorted(self.events[self.printed :], key=lambda e: e.at):
            self.echo(f"  {event.heading()} [{event.label}]")
            if event.text:
                for line in readable(event.text, event.zone, event.at, self.people).splitlines():
                    self.echo(f"      {line}")
        self.printed = len(self.events)

    async def on_message(self, message: discord.Message) -> None:
        if self.bot.user is None or message.author.id != self.bot.user.id:
            return
        if message.type is not discord.MessageType.default:
            return
        channel = message.channel
        if isinstance(channel, discord.DMChannel):
            recipient: discord.abc.User | None = channel.recipient or next(
                (
                    c.recipient
                    for c in self.bot.private_channels
                    if isinstance(c, discord.DMChannel) and c.id == channel.id and c.recipient
                ),
                None,
            )
            if recipient is None:
                recipient = self.names.get(channel.id)
            user_id = recipient.id if recipient else 0
            name = recipient.name if recipient else "?"
            zone = self.zones.get(user_id, self.plan.timezone)
            self.add(Event(message.created_at, "dm", f"DM to @{name}", message.content, zone, message.id))
            return
        where = f"#{channel.name}" if isinstance(channel, discord.TextChannel) else f"thread “{channel}”"
        kind = "message"
        if channel.id == self.channel_id:
            if _SUMMARY_MARK.search(message.content):
                kind = "summary"
            elif not self.intro_seen:
                kind, self.intro_seen = "intro", True
            elif self.locked:
                kind = "wrap-up"
        self.add(Event(message.created_at, kind, where, message.content, self.plan.timezone, message.id))

    async def on_guild_channel_create(self, channel: discord.abc.GuildChannel) -> None:
        if isinstance(channel, discord.TextChannel) and channel.category and channel.category.name == self.category:
            self.channel_id = channel.id
            self.add(
                Event(
                    discord.utils.snowflake_time(channel.id),
                    "channel",
                    f"#{channel.name}",
                    f"dialogue channel created in category “{channel.category.name}”",
                    self.plan.timezone,
                )
            )

    async def on_thread_create(self, thread: discord.Thread) -> None:
        kind = "private" if thread.type is discord.ChannelType.private_thread else "public"
        self.add(
            Event(
                discord.utils.snowflake_time(thread.id),
                "thread",
                f"#{thread.parent.name if thread.parent else '?'}",
                f"{kind} thread created: “{thread.name}”",
                self.plan.timezone,
            )
        )

    async def on_thread_update(self, before: discord.Thread, after: discord.Thread) -> None:
        if after.locked and not before.locked:
            self.add(
                Event(
                    self.bot.clock(), "lock", f"thread “{after.name}”", "thread locked and archived", self.plan.timezone
                )
            )

    async def on_guild_channel_update(self, before: discord.abc.GuildChannel, after: discord.abc.GuildChannel) -> None:
        if not isinstance(after, discord.TextChannel) or after.id != self.channel_id or self.locked:
            return
        everyone = after.guild.default_role
        if after.overwrites_for(everyone).send_messages is False and (
            before.overwrites_for(everyone).send_messages is not False
        ):
            self.locked = True
            self.add(
                Event(
                    self.bot.clock(),
                    "lock",
                    f"#{after.name}",
                    "channel locked: @everyone may no longer post or create threads",
                    self.plan.timezone,
                )
            )


# The footer the bot puts under each part of a summary; the database confirms the ids afterwards (``_label``).
_SUMMARY_MARK = re.compile(r"-# dialogue #\d+ · summary \d+$")


@dataclass
class _Post:
    at: datetime
    author: int  # index into the cast
    target: str  # "thread:<question position>" or "channel"
    reply: bool
    after: bool = False  # a comment after the window, while a two-phase dialogue waits for its summary


def _schedule_posts(plan: Plan, participants: int, leaders: int) -> list[_Post]:
    """Deterministic placeholder activity: participants spread over the window, leaders once a day."""
    window = plan.closes_at - plan.opens_at
    start = plan.opens_at + min(timedelta(hours=1), window / 10)
    span = window - (start - plan.opens_at) - min(timedelta(hours=2), window / 10)
    total = participants * POSTS_PER_PARTICIPANT
    posts: list[_Post] = []
    for number in range(total):
        at = start + span * (number / max(total, 1))
        at = at.replace(second=0, microsecond=0) + timedelta(minutes=7 * (number % 5))
        author = number % max(participants, 1)
        open_questions = [
            position
            for position, question in enumerate(plan.questions, start=1)
            if question.release_at is None or question.release_at <= at
        ]
        if number % 5 == 4 or not open_questions:
            # Every fifth post starts a new topic in the channel; nobody replies to these.
            posts.append(_Post(at, author, "channel", reply=False))
        else:
            position = open_questions[number % len(open_questions)]
            posts.append(_Post(at, author, f"thread:{position}", reply=number % 3 == 1))
    days = max(1, int(window / timedelta(days=1)))
    for day in range(days):
        for index in range(leaders):
            at = plan.opens_at + timedelta(days=day, hours=3 + 2 * index, minutes=30)
            if at >= plan.closes_at:
                continue
            open_questions = [
                position
                for position, question in enumerate(plan.questions, start=1)
                if question.release_at is None or question.release_at <= at
            ]
            if not open_questions:
                # Every question is released later: the leader starts a topic of their own meanwhile.
                posts.append(_Post(at, participants + index, "channel", reply=False))
                continue
            position = open_questions[(day + index) % len(open_questions)]
            posts.append(_Post(at, participants + index, f"thread:{position}", reply=True))
    return sorted(posts, key=lambda post: post.at)


def _schedule_comments(plan: Plan, participants: int) -> list[_Post]:
    """A few comments in the hours after the window, when the plan keeps comments open until the summary."""
    if plan.after_close is not AfterClose.COMMENTS_UNTIL_SUMMARY or not participants:
        return []
    positions = [position for position, _ in enumerate(plan.questions, start=1)]
    return [
        _Post(
            plan.closes_at + timedelta(hours=1 + number, minutes=10),
            number % participants,
            f"thread:{positions[number % len(positions)]}",
            reply=True,
            after=True,
        )
        for number in range(AFTER_COMMENTS)
    ]


def _stand_in_name(leader: PlanLeader, number: int) -> str:
    return leader.user if isinstance(leader.user, str) else f"leader_{number}"


async def rehearse(
    plan: Plan,
    *,
    participants: int = 8,
    out: Path | None = Path("rehearsal"),
    source: str = "plan",
    echo: Callable[[str], None] = print,
) -> RehearsalResult:
    """Run the plan's whole life on SimCord and return (and write) its timeline."""
    placed, weeks = place_plan(plan)
    result = RehearsalResult(plan=placed)
    if weeks:
        direction = f"{abs(weeks)} weeks {'later' if weeks > 0 else 'earlier'}"
        where = f"{placed.local(placed.opens_at):%a %Y-%m-%d %H:%M} {placed.timezone}"
        if plan.relative_opening:
            why = f"The plan opens relative to now (`{plan.relative_opening}`)"
        else:
            why = f"The plan opens {plan.local(plan.opens_at):%a %Y-%m-%d %H:%M}, before the simulated clock"
        result.notes.append(
            f"{why}; SimCord's clock starts at {SIM_START:%Y-%m-%d} UTC, so the rehearsal moves the whole plan "
            f"{direction}, to open {where}: weekdays and local times of day are kept."
        )
    errors = _LogRecords()
    root = logging.getLogger()
    root.addHandler(errors)
    level = root.level
    if root.level > logging.WARNING or root.level == logging.NOTSET:
        root.setLevel(logging.WARNING)
    try:
        with tempfile.TemporaryDirectory(prefix="dialogue-rehearsal-") as folder:
            settings = Settings(database=str(Path(folder) / "rehearsal.sqlite3"), default_timezone=placed.timezone)
            try:
                await _run(placed, settings, participants, result, echo)
            except Exception as error:  # a fault of the rehearsal itself: report it and still write the timeline
                result.errors.append(f"the rehearsal stopped: {type(error).__name__}: {error}")
            if out is not None:
                # The database lives only as long as this folder: export the record before it goes.
                try:
                    result.exports = await _export(settings.database, placed, out)
                except Exception as error:  # the timeline is still written; the failure is reported
                    result.errors.append(f"the exports failed: {type(error).__name__}: {error}")
    finally:
        root.removeHandler(errors)
        root.setLevel(level)
    for record in errors.records:
        line = f"{record.name}: {record.getMessage()}"
        if record.exc_info and record.exc_info[1] is not None:
            line += f" ({type(record.exc_info[1]).__name__}: {record.exc_info[1]})"
        if record.levelno >= logging.ERROR:
            result.errors.append(f"the bot logged an error: {line}")
        else:
            result.warnings.append(line)
    result.markdown = _markdown(result, source, participants)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        result.path = out / f"{slugify(placed.title)}.md"
        result.path.write_text(result.markdown, encoding="utf-8")
    return result


async def _run(
    plan: Plan, settings: Settings, participants: int, result: RehearsalResult, echo: Callable[[str], None]
) -> None:
    bot = create_bot(settings)
    zones: dict[int, str] = {}
    recorder = _Recorder(bot, plan, zones, echo)
    try:
        async with simcord.run(bot, check_errors=False) as env:
            try:
                await _play(env, bot, recorder, zones, plan, participants, result, echo)
            finally:
                # Whatever happened, stop the bot: its database thread would keep the process from exiting.
                await bot.close()
    finally:
        if not bot.is_closed():  # SimCord could not start it
            await bot.close()


async def _play(
    env: simcord.Env,
    bot: DialogueBot,
    recorder: _Recorder,
    zones: dict[int, str],
    plan: Plan,
    participants: int,
    result: RehearsalResult,
    echo: Callable[[str], None],
) -> None:
    """Build the server, import the plan as the facilitator would, and let the dialogue live its whole life."""
    guild = env.create_guild("Rehearsal server")
    lobby = guild.create_text_channel("general")
    role = guild.create_role("Facilitators", permissions=discord.Permissions(manage_channels=True))
    facilitator = guild.add_member(env.create_user("facilitator"), roles=[role])
    zones[facilitator.id] = plan.timezone
    leaders = []
    stand_ins: list[PlanLeader] = []
    for number, leader in enumerate(plan.leaders, start=1):
        member = guild.add_member(env.create_user(_stand_in_name(leader, number)))
        leaders.append(member)
        zones[member.id] = leader.timezone or plan.timezone
        stand_ins.append(replace(leader, user=member.id))
        if isinstance(leader.user, int):
            result.notes.append(f"Leader {leader.user} is played by @{member.name}.")
    people = [guild.add_member(env.create_user(f"participant-{n:02d}")) for n in range(1, participants + 1)]
    for member in [facilitator, *leaders, *people]:
        recorder.people[member.id] = member.name
    await bot.tree.sync()

    echo(f"Rehearsal of “{plan.title}” ({plan.timezone}), {participants} participants, {len(leaders)} leaders")
    for note in result.notes:
        echo(f"  note: {note}")
    upload = render_plan(replace(plan, leaders=tuple(stand_ins)))
    answer = await facilitator.slash(lobby, "dialogue create", plan=("plan.toml", upload.encode()))
    shown = answer.followups[-1] if answer.followups else answer.response
    reply = shown.content if shown is not None else ""
    recorder.add(Event(env.now(), "note", "/dialogue create plan: (ephemeral reply)", reply, plan.timezone))
    recorder.flush()
    found = await dialogues_db.in_guild(bot.database, guild.id)
    if not found or not reply.startswith("Scheduled"):
        result.errors.append(f"the import failed: {reply or 'no reply'}")
        return
    dialogue = found[0]

    posts = sorted(
        _schedule_posts(plan, participants, len(leaders)) + _schedule_comments(plan, participants),
        key=lambda post: post.at,
    )
    cast = people + leaders
    finish = plan.closes_at + AFTERLIFE
    before = plan.opens_at - timedelta(days=1)
    echo(
        f"Virtual time runs from {max(before, env.now()):%Y-%m-%d %H:%M} UTC (a day before the opening) "
        f"to {finish:%Y-%m-%d %H:%M} UTC (two days after the closing), in hourly steps."
    )
    stops = sorted({*(p.at for p in posts), *_hours(max(before, env.now()), finish)})
    last_in_thread: dict[int, discord.Message] = {}
    summarised = surveyed = False
    day_shown = None
    index = 0
    for stop in stops:
        if stop > env.now():
            await env.advance_time((stop - env.now()).total_seconds())
        current = await dialogues_db.get(bot.database, dialogue.id)
        assert current is not None
        if current.channel_id is not None:
            recorder.channel_id = current.channel_id
        while index < len(posts) and posts[index].at <= stop:
            post = posts[index]
            index += 1
            # Window posts while it is open; comments after it only while the summary has not locked it.
            wanted = State.CLOSED if post.after else State.OPEN
            if current.state is not wanted or current.locked_at is not None or current.channel_id is None:
                continue
            made = await _post(env, bot, guild, current.id, current.channel_id, post, cast, last_in_thread)
            if made is None:
                continue
            if post.after:
                result.comments.append(made)
                where = f"thread “{made.thread}”"
                text = f"{made.author} comments after the window, while it waits for the summary"
                recorder.add(Event(env.now(), "comment", where, text, plan.timezone))
            else:
                result.made.append(made)
                result.posts += 1
        closed = current.state is State.CLOSED
        if closed and not summarised and stop >= plan.closes_at + SUMMARY_AFTER:
            summarised = await _summary(env, recorder, current, lobby, facilitator)
        if closed and summarised and not surveyed and stop >= plan.closes_at + SURVEY_AFTER:
            surveyed = await _survey(env, bot, recorder, current, lobby, facilitator, people)
        recorder.flush()
        local_day = stop.astimezone(plan.zone).date()
        if local_day != day_shown:
            day_shown = local_day
            echo(f"[{stop:%Y-%m-%d %H:%M} UTC] {current.state.value}; {result.posts} placeholder posts so far")
    recorder.flush()
    final = await dialogues_db.get(bot.database, dialogue.id)
    assert final is not None
    intro = set((await dialogues_db.bot_messages(bot.database, dialogue.id, BotMessageKind.INTRO)).values())
    wrapup = set((await dialogues_db.bot_messages(bot.database, dialogue.id, BotMessageKind.WRAPUP)).values())
    summary = {part.message_id for part in (await summaries_db.parts(bot.database, dialogue.id)).values()}
    result.events = _label(recorder.events, intro, wrapup, summary)
    result.people = dict(recorder.people)
    if final.state is not State.CLOSED:
        result.errors.append(f"the dialogue ended the rehearsal {final.state.value}, not closed")
    elif not wrapup:
        result.errors.append("the dialogue closed without a wrap-up")
    elif final.summary_posted_at is None or final.locked_at is None:
        result.errors.append("the scripted summary was not posted, or did not leave the dialogue locked")
    elif not surveyed:
        result.errors.append("the rehearsal never reached the feedback survey")
    for error in env.errors:
        result.errors.append(f"the bot raised {type(error).__name__}: {error}")


# The facilitator's scripted summary: placeholder paragraphs, posted as the real command posts any summary.
SCRIPTED_SUMMARY = """Placeholder summary, written by the rehearsal. In a real dialogue the facilitator \
writes here what the conversation found: the main points, where people agreed and where they did not.

Placeholder: a paragraph per seed question would go here, each naming what was said in its thread.

Placeholder: what happens next, and who takes it forward."""


async def _summary(
    env: simcord.Env,
    recorder: _Recorder,
    dialogue: Dialogue,
    lobby: simcord.ChannelHandle,
    facilitator: simcord.MemberActor,
) -> bool:
    """The facilitator reads the status (comments counted apart), then posts the scripted summary through its form.

    Returns whether the summary's form was shown and submitted.
    """
    zone = dialogue.timezone
    if dialogue.after_close is AfterClose.COMMENTS_UNTIL_SUMMARY:
        status = await facilitator.slash(lobby, "dialogue status", dialogue=str(dialogue.id))
        recorder.add(Event(env.now(), "note", "/dialogue status (ephemeral reply)", _shown(status), zone))
    shown = await facilitator.slash(lobby, "dialogue summary", dialogue=str(dialogue.id))
    if shown.modal is None:
        recorder.add(Event(env.now(), "note", "/dialogue summary (ephemeral reply)", _shown(shown), zone))
        return False
    sent = await facilitator.submit_modal(shown, {"summary": SCRIPTED_SUMMARY})
    recorder.add(
        Event(env.now(), "note", "/dialogue summary, its form submitted (ephemeral reply)", _shown(sent), zone)
    )
    return True


def _shown(answer: simcord.InteractionResult) -> str:
    """What a member saw in answer to an interaction; a deferred answer's first follow-up is listed once."""
    parts = {part.id: part.content for part in [*([answer.response] if answer.response else []), *answer.followups]}
    return "\n".join(parts.values())


# What the first few stand-in participants write in the feedback form: (rating, first answer, second answer).
_SURVEY_ANSWERS = (
    ("5", "Placeholder: hearing how other networks prepared.", ""),
    ("4", "", "Placeholder: a shorter window."),
    ("3", "Placeholder: the second question.", "Placeholder: fewer questions at once."),
)


async def _survey(
    env: simcord.Env,
    bot: DialogueBot,
    recorder: _Recorder,
    dialogue: Dialogue,
    lobby: simcord.ChannelHandle,
    facilitator: simcord.MemberActor,
    people: list[simcord.MemberActor],
) -> bool:
    """Once the wrap-up is out, a few participants answer its feedback survey and the facilitator reads the results.

    Returns False while there is no wrap-up to press the button under yet.
    """
    parts = await dialogues_db.bot_messages(bot.database, dialogue.id, BotMessageKind.WRAPUP)
    channel = bot.get_channel(dialogue.channel_id or 0)
    if not parts or not isinstance(channel, discord.TextChannel):
        return False
    wrapup = await channel.fetch_message(parts[max(parts)])
    zone = dialogue.timezone
    for member, (rating, first, second) in zip(people, _SURVEY_ANSWERS, strict=False):
        shown = await member.click(wrapup, custom_id=custom_id(FEEDBACK, dialogue.id))
        if shown.modal is None:
            refused = shown.response.content if shown.response is not None else ""
            recorder.add(Event(env.now(), "survey", "Give feedback (ephemeral reply)", refused, zone))
            break
        sent = await member.submit_modal(shown, {"rating": rating, "answer_1": first, "answer_2": second})
        told = sent.followups[-1] if sent.followups else sent.response
        text = told.content if told is not None else ""
        recorder.add(Event(env.now(), "survey", "a participant's feedback form (ephemeral reply)", text, zone))
    results = await facilitator.slash(lobby, "dialogue survey-results", dialogue=str(dialogue.id))
    recorder.add(Event(env.now(), "survey", "/dialogue survey-results (ephemeral reply)", _shown(results), zone))
    return True


async def _export(database_path: str, plan: Plan, out: Path) -> list[Path]:
    """Write the rehearsed dialogue's record in every export format, named after the timeline."""
    database = await Database.connect(database_path)
    try:
        found = await dialogues_db.in_states(database, list(State))
        if not found:
            return []
        out.mkdir(parents=True, exist_ok=True)
        written = []
        for fmt in ExportFormat:
            path = out / f"{slugify(plan.title)}.export{fmt.suffix}"
            with path.open("wb") as file:
                # Exported as of the end of the rehearsal's virtual time: the files do not depend on when it ran.
                await export(database, found[0].id, fmt, file, now=plan.closes_at + AFTERLIFE)
            written.append(path)
        return written
    finally:
        await database.close()


def _label(events: list[Event], intro: set[int], wrapup: set[int], summary: set[int]) -> list[Event]:
    """Name the intro, the wrap-up and the summary's parts among the bot's messages (the database knows their ids)."""
    labelled = []
    for event in sorted(events, key=lambda e: e.at):
        if event.message_id in intro:
            event = replace(event, kind="intro")
        elif event.message_id in wrapup:
            event = replace(event, kind="wrap-up")
        elif event.message_id in summary:
            event = replace(event, kind="summary")
        labelled.append(event)
    return labelled


_TIMESTAMP = re.compile(r"<t:(-?\d+)(?::([tTdDfFR]))?>")
_MENTION = re.compile(r"<@!?(\d+)>")


def readable(text: str, zone: str, at: datetime, names: dict[int, str] | None = None) -> str:
    """Show Discord timestamps as the reader in ``zone`` would see them, and mentions as @names."""

    def moment(found: re.Match[str]) -> str:
        when = datetime.fromtimestamp(int(found.group(1)), UTC)
        if found.group(2) == "R":
            return _relative(when - at)
        return f"{when.astimezone(ZoneInfo(zone)):%a %Y-%m-%d %H:%M} ({zone})"

    def mention(found: re.Match[str]) -> str:
        user_id = int(found.group(1))
        return f"@{(names or {}).get(user_id, user_id)}"

    return _MENTION.sub(mention, _TIMESTAMP.sub(moment, text))


def _relative(delta: timedelta) -> str:
    seconds = abs(delta.total_seconds())
    for size, unit in ((86400, "day"), (3600, "hour"), (60, "minute")):
        if seconds >= size:
            amount = round(seconds / size)
            text = f"{amount} {unit}{'' if amount == 1 else 's'}"
            return f"in {text}" if delta.total_seconds() > 0 else f"{text} ago"
    return "now"


def distinct(lines: list[str], limit: int = 10) -> list[str]:
    """Each distinct line once, with how often it occurred."""
    counts: dict[str, int] = {}
    for line in lines:
        counts[line] = counts.get(line, 0) + 1
    shown = [line if n == 1 else f"{line} (×{n})" for line, n in counts.items()]
    return shown[:limit] + ([f"… and {len(shown) - limit} more"] if len(shown) > limit else [])


def _hours(start: datetime, end: datetime) -> list[datetime]:
    """Whole hours from ``start`` up to ``end``, and ``end`` itself."""
    moment = start.replace(minute=0, second=0, microsecond=0) + STEP
    found = [start]
    while moment < end:
        found.append(moment)
        moment += STEP
    found.append(end)
    return found


async def _post(
    env: simcord.Env,
    bot: DialogueBot,
    guild: simcord.GuildHandle,
    dialogue_id: int,
    channel_id: int,
    post: _Post,
    cast: list[simcord.MemberActor],
    last_in_thread: dict[int, discord.Message],
) -> PlaceholderPost | None:
    """Make one cast member post a placeholder; return what was posted where, or None."""
    author = cast[post.author]
    channel = next((c for c in guild.channels.values() if c.id == channel_id), None)
    if channel is None:
        return None
    text = f"Placeholder post by {author.name} ({post.at:%a %H:%M} UTC)."
    if post.target == "channel":
        topic = f"Topic from {author.name}"
        await author.send(channel, f"{topic}\n{text}")
        return PlaceholderPost(author.name, thread_name(topic))
    position = int(post.target.split(":", 1)[1])
    questions = await dialogues_db.questions(bot.database, dialogue_id)
    thread_id = next((q.thread_id for q in questions if q.position == position), None)
    thread = next((t for t in channel.threads if t.id == thread_id), None)
    if thread is None:
        return None
    previous = last_in_thread.get(thread.id) if post.reply else None
    message = await author.send(thread, text, reply_to=previous) if previous else await author.send(thread, text)
    last_in_thread[thread.id] = message
    return PlaceholderPost(author.name, thread.name or "")


def _markdown(result: RehearsalResult, source: str, participants: int) -> str:
    plan = result.plan
    lines = [
        f"# Rehearsal: {plan.title}",
        "",
        f"- Plan: `{source}`",
        f"- Time zone: {plan.timezone}",
        f"- Opens: {plan.local(plan.opens_at):%a %Y-%m-%d %H:%M} {plan.timezone} ({plan.opens_at:%Y-%m-%d %H:%M} UTC)",
        f"- Closes: {plan.local(plan.closes_at):%a %Y-%m-%d %H:%M} {plan.timezone} "
        f"({plan.closes_at:%Y-%m-%d %H:%M} UTC)",
        f"- Seed questions: {len(plan.questions)}; leaders: {len(plan.leaders)}; synthetic participants: "
        f"{participants}; placeholder posts: {result.posts}; comments after the window: {len(result.comments)}",
        f"- Result: {'OK' if result.ok else 'FAILED'}",
    ]
    counts: dict[str, int] = {}
    for event in result.events:
        counts[event.label] = counts.get(event.label, 0) + 1
    lines.append("- What the bot did: " + ", ".join(f"{label} ×{n}" for label, n in sorted(counts.items())))
    if result.exports:
        lines.append("- The dialogue's record, exported: " + ", ".join(f"`{path.name}`" for path in result.exports))
    for note in result.notes:
        lines.append(f"- Note: {note}")
    for error in result.errors:
        lines.append(f"- **Error:** {error}")
    if result.warnings:
        lines.append(f"- Warnings logged by the bot: {len(result.warnings)}")
        lines += [f"  - {warning}" for warning in distinct(result.warnings)]
    day = None
    for event in sorted(result.events, key=lambda e: e.at):
        event_day = event.at.astimezone(plan.zone).date()
        if event_day != day:
            day = event_day
            lines += ["", f"## {event_day:%A %Y-%m-%d} ({plan.timezone})", ""]
        lines.append(f"- **{event.heading()}** — {event.label}")
        if event.text:
            text = readable(event.text, event.zone, event.at, result.people)
            lines += ["", *(f"  > {line}" if line else "  >" for line in text.splitlines()), ""]
    return "\n".join(lines) + "\n"
