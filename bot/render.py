"""Texts the bot posts, built from domain records (no Discord objects), split to Discord's limits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from .domain.models import AfterClose, Dialogue, PostStats, Question, State, ThreadOrigin
from .domain.parsing import cut
from .domain.plan import Plan, PlanLeader
from .domain.progress import Progress

__all__ = (
    "MESSAGE_LIMIT",
    "cancelled_reply",
    "carries_marker",
    "channel_topic",
    "close_interrupted",
    "close_reply",
    "created_confirmation",
    "dialogue_list",
    "extended_reply",
    "import_expired",
    "import_question",
    "intro",
    "intro_posts",
    "open_reply",
    "open_step_failed",
    "pending",
    "plan_exported",
    "plan_imported",
    "plural",
    "seed_post",
    "split_message",
    "status",
    "step_marker",
    "timestamp",
    "timezone_saved",
    "topic_marker",
    "window",
    "wrapup",
    "wrapup_posts",
)

MESSAGE_LIMIT = 2000
TOPIC_LIMIT = 1024
# Room kept at the end of a message for its step marker (a line of about 40 characters at most).
MARKER_ROOM = 64
# Room the wrap-up's last part keeps for the line that links to the summary, added once it is posted.
SUMMARY_LINK_ROOM = 140


def timestamp(moment: datetime, style: str = "F") -> str:
    """Return a Discord timestamp that each reader sees in their own time zone."""
    return f"<t:{int(moment.timestamp())}:{style}>"


def window(dialogue: Dialogue) -> str:
    """Describe the window: full dates for both ends, and the relative time of the next one."""
    return (
        f"{timestamp(dialogue.opens_at)} ({timestamp(dialogue.opens_at, 'R')}) to "
        f"{timestamp(dialogue.closes_at)} ({timestamp(dialogue.closes_at, 'R')})"
    )


def plural(count: int, word: str) -> str:
    """Return ``1 post`` / ``2 posts``."""
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def created_confirmation(dialogue: Dialogue, questions: int) -> str:
    """The reply to a facilitator whose dialogue was scheduled."""
    return (
        f"Scheduled **{dialogue.title}** (#{dialogue.id}) with {plural(questions, 'seed question')}.\n"
        f"Opens {timestamp(dialogue.opens_at)} ({timestamp(dialogue.opens_at, 'R')})\n"
        f"Closes {timestamp(dialogue.closes_at)} ({timestamp(dialogue.closes_at, 'R')})\n"
        f"Time zone: {dialogue.timezone}"
        + (
            "\nAfter the window: comments stay open until you post the summary (`/dialogue summary`)."
            if dialogue.after_close is AfterClose.COMMENTS_UNTIL_SUMMARY
            else ""
        )
    )


def extended_reply(dialogue: Dialogue) -> str:
    """The answer to /dialogue extend: the new closing time, absolute and relative."""
    return f"“{dialogue.title}” now closes {timestamp(dialogue.closes_at)} ({timestamp(dialogue.closes_at, 'R')})."


def cancelled_reply(dialogue: Dialogue) -> str:
    """The answer to /dialogue cancel."""
    return f"“{dialogue.title}” is cancelled; it will not open."


def plan_exported(dialogue: Dialogue, *, opening_passed: bool) -> str:
    """The note above an exported plan file; warns when its opening lies in the past."""
    note = f"The plan of **{dialogue.title}** (#{dialogue.id})."
    if opening_passed:
        note += " Its opening has passed: change `opens` before importing it again."
    return note


def topic_marker(dialogue_id: int) -> str:
    """How a dialogue channel's topic ends: it names the dialogue, so a resumed opening adopts only its own."""
    return f" · dialogue #{dialogue_id}"


def plan_imported(dialogue: Dialogue, plan: Plan, leader_ids: Sequence[int]) -> str:
    """What the facilitator reads after a plan import: the schedule, staged questions and the leaders found."""
    lines = [created_confirmation(dialogue, len(plan.questions))]
    for number, question in enumerate(plan.questions, start=1):
        if question.release_at is not None:
            lines.append(f"Question {number} opens {timestamp(question.release_at)}")
    if plan.leaders:
        lines.append(
            f"Leaders: {', '.join(f'<@{user_id}>' for user_id in leader_ids) or 'none'} "
            f"({len(leader_ids)} of {len(plan.leaders)} in the plan)"
        )
    return "\n".join(lines)


def import_question(plan: Plan, missing: Sequence[PlanLeader], expires_at: datetime) -> str:
    """Ask whether to create a plan whose leaders are not all members, and until when the answer is taken."""
    names = ", ".join(leader.label for leader in missing)
    return (
        f"**{plan.title}**: {plural(len(missing), 'leader')} in this plan "
        f"{'is not a member' if len(missing) == 1 else 'are not members'} of this server: {names}.\n"
        "Create the dialogue without them? You can add them later with `/dialogue leaders add`.\n"
        f"Answer by {timestamp(expires_at, 't')} ({timestamp(expires_at, 'R')}); after that, nothing is created."
    )


def import_expired(expires_at: datetime) -> str:
    """The answer to a button pressed after its import's time ran out."""
    return (
        f"This import expired at {timestamp(expires_at, 't')}: nothing was created. Import the plan again to create it."
    )


def channel_topic(dialogue: Dialogue) -> str:
    """The dialogue channel's topic: title and window, ending with the dialogue's marker (kept when cut)."""
    marker = topic_marker(dialogue.id)
    text = f"{dialogue.title} · {timestamp(dialogue.opens_at)} to {timestamp(dialogue.closes_at)}"
    return text[: TOPIC_LIMIT - len(marker)] + marker


def step_marker(dialogue_id: int, step: str) -> str:
    """The small last line of a bot message naming its dialogue and step (Discord's history keeps no nonce)."""
    return f"-# dialogue #{dialogue_id} · {step}"


def carries_marker(content: str, marker: str) -> bool:
    """Whether a message's text ends with this step marker line."""
    return content == marker or content.endswith("\n" + marker)


def intro_posts(dialogue: Dialogue, questions: Sequence[Question]) -> list[str]:
    """The intro as posted: each part ends with a marker naming the dialogue and the part."""
    bodies = intro(dialogue, questions, MESSAGE_LIMIT - MARKER_ROOM)
    total = len(bodies)
    return [f"{body}\n{step_marker(dialogue.id, f'intro {n}/{total}')}" for n, body in enumerate(bodies, 1)]


def seed_post(question: Question) -> str:
    """A seed question as posted in its thread, ending with a marker naming the dialogue and the question."""
    return f"{question.text}\n{step_marker(question.dialogue_id, f'question {question.position}')}"


def intro(dialogue: Dialogue, questions: Sequence[Question], limit: int = MESSAGE_LIMIT) -> list[str]:
    """The opening message: title, framing, numbered seed questions, the window and how to take part."""
    blocks = [f"# {dialogue.title}"]
    if dialogue.framing.strip():
        blocks.append(dialogue.framing.strip())
    listed = [f"**{q.position}.** {q.text}" for q in questions if q.release_at is None]
    later = [q for q in questions if q.release_at is not None]
    if listed:
        blocks.append("**Seed questions**\n" + "\n".join(listed))
    if later:
        blocks.append(
            "**Later questions**\n"
            + "\n".join(f"**{q.position}.** opens {timestamp(q.release_at, 'F')}" for q in later if q.release_at)
        )
    blocks.append(f"**Open** from {window(dialogue)}.")
    blocks.append(
        "**How to take part:** reply in the thread of a question below, or post a message in this "
        "channel to start a new topic: it gets a thread of its own, named from its first line."
    )
    return split_message("\n\n".join(blocks), limit)


def wrapup_posts(dialogue: Dialogue, stats: PostStats) -> list[str]:
    """The wrap-up as posted: each part ends with a marker naming the dialogue and the part."""
    bodies = wrapup(dialogue, stats, MESSAGE_LIMIT - MARKER_ROOM - SUMMARY_LINK_ROOM)
    return [f"{body}\n{step_marker(dialogue.id, f'wrap-up part {n}')}" for n, body in enumerate(bodies, 1)]


# The wrap-up names this many threads, the busiest; the rest are summed up in one line. Participants read it in
# the channel: a dialogue of 200 threads gets one message, not five (its full breakdown is in /dialogue status).
WRAPUP_THREADS = 15


def wrapup(dialogue: Dialogue, stats: PostStats, limit: int = MESSAGE_LIMIT) -> list[str]:
    """The closing message: thanks, the window, totals and the busiest threads' activity."""
    lines = [
        f"# Thank you for taking part in “{dialogue.title}”",
        f"This dialogue ran from {timestamp(dialogue.opens_at)} to {timestamp(dialogue.closes_at)}.",
        f"**{plural(stats.posts, 'post')} from {plural(stats.participants, 'participant')}.**",
    ]
    if stats.threads:
        lines.append("")
        lines.append("**Threads**")
        public = [thread for thread in stats.threads if thread.origin is not ThreadOrigin.LEADERS]
        # Busiest first; equally busy threads keep the order they were made in.
        busiest = sorted(public, key=lambda thread: -thread.posts)[:WRAPUP_THREADS]
        lines += [
            f"- {thread.title}: {plural(thread.posts, 'post')} from {plural(thread.participants, 'participant')}"
            for thread in busiest
        ]
        rest = [thread for thread in public if thread not in busiest]
        if rest:
            lines.append(
                f"- …and {plural(len(rest), 'more thread')} with {plural(sum(t.posts for t in rest), 'post')} "
                "between them"
            )
    lines.append("")
    if dialogue.after_close is AfterClose.COMMENTS_UNTIL_SUMMARY:
        until = f" (at the latest {timestamp(dialogue.comments_until)})" if dialogue.comments_until else ""
        lines.append(
            "The window has ended, and with it the leaders' part: thank you. Comments stay open here and in the "
            f"threads until the summary is posted{until}; then the channel locks."
        )
    else:
        lines.append("The dialogue is now closed: the channel and its threads are locked. A summary will follow.")
    return split_message("\n".join(lines), limit)


def pending(progress: Progress) -> str | None:
    """The step still to do, why it failed and when it is retried (a Discord relative time); None if none is."""
    step = progress.closing_next if progress.state is State.CLOSED else progress.opening_next
    if step is None and progress.pending_step is None:
        return None
    if progress.pending_step is None:
        return f"it still has to {step}"
    text = f"the bot could not {step or progress.pending_step}"
    if progress.pending_reason:
        text += f" ({progress.pending_reason})"
    if progress.retry_at is not None:
        text += f"; it tries again {timestamp(progress.retry_at, 'R')}"
    return text


def _channel_gone(progress: Progress) -> bool:
    # A close that found its channel deleted records a wrap-up of no parts: nothing was locked or posted.
    return progress.has_channel and progress.wrapup_expected == 0


def _closing_line(progress: Progress) -> str:
    if progress.closing_done and progress.comments_open:
        return "Closing: the wrap-up is posted; comments stay open until the summary (see below)."
    if progress.closing_done and _channel_gone(progress):
        return "Closing: done: the channel had been deleted, so there was nothing to lock or post."
    if progress.closing_done:
        return "Closing: done: the channel and its threads are locked and the wrap-up is posted."
    steps = ", ".join(f"{step.value} {'✓' if done else '…'}" for step, done in progress.closing_steps)
    waiting = pending(progress)
    return f"Closing: not finished ({steps})" + (f"; {waiting}." if waiting else ".")


def close_reply(dialogue: Dialogue, progress: Progress) -> str:
    """The answer to ``/dialogue close``: "done" only when every closing step is recorded as done."""
    if progress.closing_done and _channel_gone(progress):
        return f"“{dialogue.title}” is closed. Its channel had been deleted, so there was nothing to lock or post."
    if progress.closing_done and progress.comments_open and progress.comments_until is not None:
        return (
            f"“{dialogue.title}”'s window has ended: the wrap-up is posted, the leaders are thanked, and comments "
            "stay open until you post the summary with `/dialogue summary` (the channel locks then). If no summary "
            f"comes, it locks anyway {timestamp(progress.comments_until)} "
            f"({timestamp(progress.comments_until, 'R')})."
        )
    if progress.closing_done:
        return f"“{dialogue.title}” is closed: the channel and its threads are locked and the wrap-up is posted."
    text = f"“{dialogue.title}” is closed, but not finished: {pending(progress) or 'a step is still to do'}."
    if not progress.channel_locked:
        text += " Until the lock takes effect people can still post, and their posts are recorded."
    text += " `/dialogue status` shows where it stands; `/dialogue close` again retries now."
    return text


def close_interrupted(dialogue: Dialogue, progress: Progress) -> str:
    """Tell facilitators (once per run of failures) that closing stopped at a step, and when it is retried."""
    return (
        f"Closing “{dialogue.title}” (#{dialogue.id}) was interrupted: {pending(progress) or 'a step failed'}. "
        "The bot keeps trying; `/dialogue close` retries now."
    )


def open_step_failed(
    dialogue: Dialogue, step: str, reason: str, retry_at: datetime, *, channel_gone: bool = False
) -> str:
    """Tell facilitators (once) that a live dialogue's later opening step failed, and what happens next."""
    head = f"“{dialogue.title}” (#{dialogue.id}) is open, but the bot could not {step}: {reason}. "
    if channel_gone:
        # Advice that works in this state: an open dialogue can be closed, not cancelled.
        return head + "It cannot go on without its channel: end it with `/dialogue close` (what was recorded is kept)."
    return head + f"It tries again {timestamp(retry_at, 'R')}."


def step_failed(dialogue: Dialogue, reason: str, retry_at: datetime) -> str:
    """Tell facilitators (once) that a scheduled step of a dialogue failed unexpectedly, and when it is retried."""
    return (
        f"A step of “{dialogue.title}” (#{dialogue.id}) failed: {reason}. "
        f"The bot tries again {timestamp(retry_at, 'R')}."
    )


def open_reply(dialogue: Dialogue, progress: Progress) -> str:
    """The answer to ``/dialogue open``, naming any opening step still pending."""
    if dialogue.state is State.FAILED:
        return f"“{dialogue.title}” could not open: {dialogue.failure_reason}."
    text = f"“{dialogue.title}” is open in <#{dialogue.channel_id}> until {timestamp(dialogue.closes_at)}."
    waiting = pending(progress)
    if waiting:
        text += f" One step is not done yet: {waiting}."
    return text


def status(
    dialogue: Dialogue,
    stats: PostStats,
    extra_sections: Sequence[str] = (),
    *,
    progress: Progress | None = None,
) -> str:
    """A facilitator's overview of one dialogue, cut to one message."""
    state = dialogue.state.value
    if dialogue.state is State.FAILED and dialogue.failure_reason:
        state += f" — {dialogue.failure_reason}"
    lines = [
        f"**{dialogue.title}** (#{dialogue.id})",
        f"State: {state}",
        f"Window: {window(dialogue)}",
        f"Time zone: {dialogue.timezone}",
    ]
    if dialogue.channel_id:
        lines.append(f"Channel: <#{dialogue.channel_id}>")
    if progress is not None and progress.state is State.CLOSED:
        lines.append(_closing_line(progress))
    elif progress is not None and (waiting := pending(progress)):
        lines.append(f"{'Opening: not finished' if progress.opening_next else 'Pending'}: {waiting}.")
    lines.append(f"Activity: {plural(stats.posts, 'post')} from {plural(stats.participants, 'participant')}")
    tail = "".join("\n\n" + section for section in extra_sections)
    # The sections (summary phase, notices, survey, event, retention) stay whole: the thread list gives way.
    room = MESSAGE_LIMIT - len("\n".join(lines)) - len(tail)
    for shown, thread in enumerate(stats.threads):
        line = (
            f"- <#{thread.thread_id}> {thread.title}: {plural(thread.posts, 'post')}, "
            f"{plural(thread.participants, 'participant')}"
        )
        rest = len(stats.threads) - shown
        # Room is kept for the line that counts the threads left out, should the next one not fit.
        reserve = len(f"\n- …and {plural(rest - 1, 'more thread')}") if rest > 1 else 0
        if len(line) + 1 + reserve > room:
            lines.append(f"- …and {plural(rest, 'more thread')}")
            break
        lines.append(line)
        room -= len(line) + 1
    return truncate("\n".join(lines) + tail, MESSAGE_LIMIT)


def timezone_saved(timezone: str, hour: int, upcoming: datetime | None) -> str:
    """The reply to /my-timezone: the zone and hour actually stored, and the next check-in if one is planned."""
    text = f"Saved: your check-ins in this server arrive at {hour:02d}:00 in {timezone}."
    if upcoming is not None:
        text += f" Next one: {timestamp(upcoming)} ({timestamp(upcoming, 'R')})."
    return text


# Dialogues that need a facilitator come first, so that cutting the list to one message never hides them.
_LIST_ORDER = (State.FAILED, State.MISSED, State.OPEN, State.SCHEDULED, State.CLOSED, State.CANCELLED)
_LIST_HEADINGS = {
    State.FAILED: "**Failed** (needs action: `/dialogue status` says why, `/dialogue open` retries)",
    State.MISSED: "**Missed** (needs action: its window passed before it could open)",
}
# Room kept at the end of a cut list for its "+N more: ..." line.
_MORE_ROOM = 100


def _list_order(state: State, dialogues: list[Dialogue]) -> list[Dialogue]:
    """What comes next first (scheduled and open), then the most recent (the others)."""
    if state is State.SCHEDULED:
        return sorted(dialogues, key=lambda d: (d.opens_at, d.id))
    if state is State.OPEN:
        return sorted(dialogues, key=lambda d: (d.closes_at, d.id))
    return sorted(dialogues, key=lambda d: (d.closes_at, d.id), reverse=True)


def _list_line(dialogue: Dialogue) -> str:
    window_text = f"{timestamp(dialogue.opens_at, 'f')} to {timestamp(dialogue.closes_at, 'f')}"
    line = f"- #{dialogue.id} {dialogue.title}: {window_text}"
    if dialogue.state is State.FAILED and dialogue.failure_reason:
        line += f" — {cut(dialogue.failure_reason, 100)}"
    return line


def dialogue_list(dialogues: Sequence[Dialogue], limit: int = MESSAGE_LIMIT) -> str:
    """This guild's dialogues by state, those needing action first; cut to ``limit`` with "+N more" at the end."""
    if not dialogues:
        return "There are no dialogues in this server yet. Start one with `/dialogue create`."
    lines: list[str] = []
    size = 0
    hidden: dict[State, int] = {}
    for state in _LIST_ORDER:
        group = _list_order(state, [d for d in dialogues if d.state is state])
        heading = _LIST_HEADINGS.get(state, f"**{state.value.capitalize()}**")
        for number, dialogue in enumerate(group):
            new = ([heading] if number == 0 else []) + [_list_line(dialogue)]
            added = sum(len(line) + 1 for line in new)
            if hidden or size + added > limit - _MORE_ROOM:
                hidden[state] = hidden.get(state, 0) + 1
                continue
            lines += new
            size += added
    if hidden:
        parts = ", ".join(f"{count} {state.value}" for state, count in hidden.items())
        lines.append(f"+{sum(hidden.values())} more ({parts})")
    return "\n".join(lines)


def truncate(text: str, limit: int) -> str:
    """Cut text to ``limit`` characters at a line break, saying that it was cut."""
    if len(text) <= limit:
        return text
    marker = "\n… (cut to fit one message)"
    head = text[: limit - len(marker)]
    if "\n" in head:
        head = head[: head.rfind("\n")]
    return head + marker


def split_message(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Split text into messages of at most ``limit`` characters, at paragraph, line or word breaks."""
    parts: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        window_text = rest[:limit]
        cut_at = max(window_text.rfind("\n\n"), -1)
        if cut_at < limit // 3:
            cut_at = window_text.rfind("\n")
        if cut_at < limit // 3:
            cut_at = window_text.rfind(" ")
        if cut_at < limit // 3:
            cut_at = limit
        parts.append(rest[:cut_at].rstrip())
        rest = rest[cut_at:].lstrip()
    if rest:
        parts.append(rest)
    return parts
