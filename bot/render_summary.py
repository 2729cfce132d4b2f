"""Texts of the after-life: the summary as posted, its link from the wrap-up, and the facilitator's replies."""

from __future__ import annotations

from .domain.models import AfterClose, Dialogue, PostStats, State
from .domain.progress import Progress
from .domain.splitting import split_text
from .render import MARKER_ROOM, MESSAGE_LIMIT, pending, plural, step_marker, timestamp

__all__ = (
    "MAX_SUMMARY_BYTES",
    "MAX_SUMMARY_CHARS",
    "comments_closed_notice",
    "jump_url",
    "phase_section",
    "summary_closing_unfinished",
    "summary_done",
    "summary_empty",
    "summary_file_not_downloaded",
    "summary_file_not_text",
    "summary_file_not_utf8",
    "summary_file_too_big",
    "summary_interrupted",
    "summary_link",
    "summary_marker",
    "summary_no_channel",
    "summary_not_closed",
    "summary_pending_reply",
    "summary_posts",
    "summary_too_long",
    "with_summary_link",
)

# A summary is at most this long: about ten messages in the channel.
MAX_SUMMARY_CHARS = 20_000
# An attached summary file is at most this big (checked before it is downloaded).
MAX_SUMMARY_BYTES = 64 * 1024


def jump_url(guild_id: int, channel_id: int, message_id: int) -> str:
    """The link that opens a message in Discord."""
    return f"https://discord.com/channels/{guild_id}/{channel_id}/{message_id}"


def summary_marker(dialogue_id: int, number: int) -> str:
    """The marker line a summary part ends with (``number`` counts from 1)."""
    return step_marker(dialogue_id, f"summary {number}")


def summary_posts(dialogue_id: int, text: str) -> list[str]:
    """The summary as posted: split at paragraphs (then lines, then words), each part ending with its marker."""
    bodies = split_text(text, MESSAGE_LIMIT - MARKER_ROOM)
    return [f"{body}\n{summary_marker(dialogue_id, number)}" for number, body in enumerate(bodies, 1)]


_LINK_LEAD = "📌 **The summary is posted:** "


def summary_link(url: str) -> str:
    """The line the wrap-up gains once the summary is posted."""
    return _LINK_LEAD + url


def with_summary_link(content: str, url: str) -> str | None:
    """The wrap-up part's text with the summary link just above its marker line; None if it has it already.

    A link to an earlier first part (deleted by hand and posted again) is replaced, never doubled.
    """
    line = summary_link(url)
    if line in content:
        return None
    body, _, marker = content.rpartition("\n")
    if not body:
        return f"{line}\n{content}"
    kept = [text for text in body.split("\n") if not text.startswith(_LINK_LEAD)]
    return "\n".join(kept).rstrip("\n") + f"\n\n{line}\n{marker}"


# ----- the facilitator's replies ----------------------------------------------------------------------------

_NOTHING = "Nothing was posted."


def comments_closed_notice(dialogue: Dialogue, days: int) -> str:
    """Posted in the channel when the safety limit locks a dialogue whose summary did not come."""
    return (
        f"**Comments are now closed.** No summary was posted within {plural(days, 'day')} of the window's end, so "
        "the channel and its threads are locked. Thank you for your comments: the summary will still be posted "
        f"here when it is ready.\n{step_marker(dialogue.id, 'comments closed')}"
    )


def phase_section(dialogue: Dialogue, stats: PostStats, progress: Progress | None, summary_url: str | None) -> str:
    """``/dialogue status``: which phase of its after-life a closed dialogue is in, and its posts counted apart."""
    if dialogue.state is not State.CLOSED:
        if dialogue.after_close is AfterClose.COMMENTS_UNTIL_SUMMARY:
            return "**After the window:** comments stay open until the summary is posted (`/dialogue summary`)."
        return ""
    lines = ["**After the window**"]
    two_phase = dialogue.after_close is AfterClose.COMMENTS_UNTIL_SUMMARY
    if progress is not None and progress.comments_open and progress.comments_until is not None:
        lines.append(
            "Phase: comments open until the summary is posted; if none comes, the safety lock falls "
            f"{timestamp(progress.comments_until)} ({timestamp(progress.comments_until, 'R')})."
        )
    elif two_phase and dialogue.locked_at is not None:
        lines.append(f"Phase: locked {timestamp(dialogue.locked_at)}, comments closed.")
    elif dialogue.locked_at is not None:
        lines.append("Phase: locked at the window's end.")
    if dialogue.summary_posted_at is not None:
        lines.append(
            f"Summary: posted {timestamp(dialogue.summary_posted_at)}" + (f" ({summary_url})." if summary_url else ".")
        )
    elif progress is not None and progress.summary_pending:
        lines.append(f"Summary: being posted; {pending(progress) or 'a step is still to do'}.")
    else:
        lines.append("Summary: not yet posted; `/dialogue summary` posts it.")
    if two_phase:
        lines.append(
            f"Posts during the window: {stats.posts_during}; after it: {stats.posts_after} "
            f"from {plural(stats.participants_after, 'participant')}."
        )
    return "\n".join(lines)


def summary_not_closed(dialogue: Dialogue) -> str:
    """Refusal: only a closed dialogue gets a summary."""
    if dialogue.state is State.OPEN:
        why = f"it is still open until {timestamp(dialogue.closes_at)}; close it first with `/dialogue close`"
    elif dialogue.state is State.SCHEDULED:
        why = "it has not even opened yet"
    else:
        why = f"it is {dialogue.state.value}, and only a closed dialogue gets a summary"
    return f"{_NOTHING} “{dialogue.title}” cannot have a summary yet: {why}."


def summary_no_channel(dialogue: Dialogue) -> str:
    """Refusal: the dialogue's channel was deleted, so there is nowhere to post."""
    return f"{_NOTHING} “{dialogue.title}” has no channel any more (it was deleted): nowhere to post a summary."


def summary_closing_unfinished(dialogue: Dialogue) -> str:
    """Refusal: the closing steps are not all done (the wrap-up the summary links from may be missing)."""
    return (
        f"{_NOTHING} “{dialogue.title}” has not finished closing (`/dialogue status` shows the step it waits on). "
        "Try again once the wrap-up is posted; `/dialogue close` retries the closing now."
    )


def summary_empty() -> str:
    """Refusal: nothing but spaces."""
    return f"{_NOTHING} The summary is empty: write it in the form, or attach a Markdown or text file."


def summary_too_long(length: int) -> str:
    """Refusal: more characters than a summary may have."""
    return (
        f"{_NOTHING} The summary is {length:,} characters long; the limit is {MAX_SUMMARY_CHARS:,}. "
        "Shorten it, or link to the full report from a shorter summary."
    )


def summary_file_too_big(size: int) -> str:
    """Refusal: the attached file is too big to be a summary."""
    return (
        f"{_NOTHING} The file is {size / 1024:,.0f} KiB; a summary file may be at most "
        f"{MAX_SUMMARY_BYTES // 1024} KiB ({MAX_SUMMARY_CHARS:,} characters)."
    )


def summary_file_not_text(filename: str) -> str:
    """Refusal: the attachment is not a Markdown or text file."""
    return f"{_NOTHING} “{filename}” is not a Markdown or text file: attach a `.md` or `.txt` file saved as UTF-8."


def summary_file_not_utf8(position: int) -> str:
    """Refusal: the file's bytes are not UTF-8."""
    return (
        f"{_NOTHING} The file is not UTF-8 text (the first bad byte is at position {position:,}). "
        "Save it as UTF-8 (most editors offer it under “Save as” or “Encoding”) and attach it again."
    )


def summary_file_not_downloaded() -> str:
    """Refusal: Discord did not hand over the attachment."""
    return f"{_NOTHING} The file could not be downloaded from Discord. Attach it again."


def summary_done(dialogue: Dialogue, parts: int, url: str | None, *, replaced: bool) -> str:
    """The answer once every part is posted (or replaced)."""
    what = "replaced" if replaced else "posted"
    text = f"The summary of “{dialogue.title}” is {what}: {plural(parts, 'message')}, the first one pinned"
    text += f" ({url})." if url else "."
    return text


def summary_interrupted(dialogue: Dialogue, reason: str, retry_at_text: str) -> str:
    """Posting the summary stopped at a step: what happened and when the bot tries again."""
    return (
        f"Posting the summary of “{dialogue.title}” (#{dialogue.id}) was interrupted: {reason}. "
        f"The bot tries again {retry_at_text}; what was posted is kept and nothing is posted twice."
    )


def summary_pending_reply(dialogue: Dialogue, progress: Progress) -> str:
    """The answer when a step of the summary failed: what is kept and when the rest follows."""
    waiting = pending(progress) or "a step is still to do"
    return (
        f"The summary of “{dialogue.title}” is saved but not wholly posted: {waiting}. "
        "What was posted is kept; the rest follows by itself, and `/dialogue status` shows where it stands."
    )
