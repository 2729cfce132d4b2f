"""Texts for searching the record and withdrawing from it (no Discord objects)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime

from db.search import MATCH_END, MATCH_START, Hit, HitPage
from db.withdrawals import WithdrawnDialogue

from .domain.parsing import cut
from .render import MESSAGE_LIMIT, plural, timestamp, truncate

__all__ = (
    "forget_cancelled",
    "forget_done",
    "forget_expired",
    "forget_not_yours",
    "forget_nothing",
    "forget_question",
    "jump_url",
    "search_expired",
    "search_not_yours",
    "search_nothing_readable",
    "search_page",
)

# Longest excerpts tried, in characters before escaping: a page of five must fit one message, so long excerpts
# (or long titles) are cut shorter until it does (snippet() already cuts to a few words around the match).
_EXCERPT_LIMITS = (300, 160, 80, 40, 20)
# Thread titles are cut too: the excerpt, not the title, is what a reader scans.
_THREAD_TITLE_LIMIT = 60
# Characters that Discord reads as formatting (and < for mentions): shown as typed instead.
_MARKDOWN = re.compile(r"([\\*_~`|>#\[\]()<:-])")


def _plain(text: str) -> str:
    """Someone's words on one line, with Discord formatting escaped so they show as typed."""
    return _MARKDOWN.sub(r"\\\1", " ".join(text.split()))


def _excerpt(text: str, limit: int) -> str:
    cut = text[:limit]
    if cut.count(MATCH_START) > cut.count(MATCH_END):
        cut += MATCH_END  # a match cut in half would leave the rest of the message bold
    shown = _plain(cut + ("…" if len(text) > limit else ""))
    return shown.replace(MATCH_START, "**").replace(MATCH_END, "**")


def jump_url(guild_id: int, hit: Hit) -> str:
    """The link that opens a post in Discord: in the dialogue's channel for a top-level post, else its thread."""
    channel = hit.channel_id if hit.top_level or hit.thread_id is None else hit.thread_id
    return f"https://discord.com/channels/{guild_id}/{channel}/{hit.message_id}"


def _hit_lines(number: int, guild_id: int, hit: Hit, limit: int) -> str:
    place = f"**{hit.dialogue_title}**"
    if hit.thread_title and not hit.top_level:
        place += f" › {_plain(cut(hit.thread_title, _THREAD_TITLE_LIMIT))}"  # a participant's thread: their words
    author = hit.author_name or "someone"
    return (
        f"{number}. {place} · {_plain(author)} · {timestamp(hit.created_at, 'd')}\n"
        f"> {_excerpt(hit.excerpt, limit)}\n"
        f"[Jump to the post]({jump_url(guild_id, hit)})"
    )


def search_page(query: str, page: HitPage, guild_id: int, *, per_page: int, scope: str | None) -> str:
    """One page of results, best match first, or a plain "nothing found"."""
    where = f"in “{scope}”" if scope else "in the dialogues you can search"
    if not page.hits:
        if page.page == 0:
            return f"No posts match “{_plain(query)}” {where}. Try fewer or other words."
        return f"No more posts match “{_plain(query)}” {where}."
    first = page.page * per_page + 1
    header = f"Posts matching “{_plain(query)}” {where}, best match first (page {page.page + 1}):"
    for limit in _EXCERPT_LIMITS:
        text = "\n\n".join(
            [header, *(_hit_lines(first + index, guild_id, hit, limit) for index, hit in enumerate(page.hits))]
        )
        if len(text) <= MESSAGE_LIMIT:
            break
    return truncate(text, MESSAGE_LIMIT)


def search_nothing_readable(*, facilitator: bool) -> str:
    """Someone with no dialogue to search: none at all, or (for a member) none closed that they can read."""
    if facilitator:
        return "There are no dialogues in this server yet, so there is nothing to search."
    return (
        "There is nothing you can search yet: members can search dialogues that have closed, in channels they can read."
    )


def search_expired() -> str:
    """A page button pressed after its search expired."""
    return "This search has expired. Run `/search` again to see its results."


def _dialogue_counts(entries: Sequence[WithdrawnDialogue]) -> str:
    return ", ".join(f"“{entry.title}” ({plural(entry.posts, 'post')})" for entry in entries)


def _summary(entries: Sequence[WithdrawnDialogue]) -> str:
    posts = sum(entry.posts for entry in entries)
    return f"**{plural(posts, 'post')}** in **{plural(len(entries), 'dialogue')}**: {_dialogue_counts(entries)}"


def forget_question(entries: Sequence[WithdrawnDialogue], expires_at: datetime, *, member: str | None) -> str:
    """Ask before erasing; ``member`` is the person's name when a facilitator asks for them."""
    whose = "you wrote" if member is None else f"written by **{_plain(member)}**"
    return truncate(
        f"This erases the text of the posts {whose} so far: {_summary(entries)}.\n"
        "They will be left out of every later export and search; the numbers in wrap-ups already posted stay. "
        "This cannot be undone.\n"
        f"Confirm by {timestamp(expires_at, 't')} ({timestamp(expires_at, 'R')}); after that, nothing is erased.",
        MESSAGE_LIMIT,
    )


def forget_nothing(dialogue: str | None, *, member: str | None) -> str:
    """Nothing recorded to erase."""
    whose = "You have" if member is None else f"**{_plain(member)}** has"
    where = f"in “{dialogue}”" if dialogue else "in this server's dialogues"
    return f"{whose} no recorded posts {where} to erase. Nothing was changed."


def forget_done(entries: Sequence[WithdrawnDialogue], *, member: str | None) -> str:
    """What was erased, exactly, and what remains the person's to delete on Discord."""
    if not entries:
        return "There was nothing left to erase: those posts were already erased or deleted."
    lines = [
        f"Erased the text of {_summary(entries)}.",
        "They are left out of every later export and search; counts in wrap-ups already posted stay as history.",
    ]
    if member is None:
        lines.append(
            "Your messages on Discord itself are still there: they are yours to delete (hover over a message, "
            "then ⋯ › Delete Message)."
        )
    else:
        lines.append(
            f"Their messages on Discord itself are still there: **{_plain(member)}** can delete them, "
            "or a moderator can."
        )
    still_open = [entry.title for entry in entries if entry.still_open]
    if still_open:
        names = ", ".join(f"“{title}”" for title in still_open)
        again = "`/forget-me`" if member is None else "`/dialogue forget`"
        lines.append(
            f"{names} {'is' if len(still_open) == 1 else 'are'} still open: posts written from now on are recorded "
            f"as usual. Run {again} again to erase them too."
        )
    return truncate("\n".join(lines), MESSAGE_LIMIT)


def forget_cancelled() -> str:
    """The Cancel button."""
    return "Cancelled. Nothing was erased."


def forget_expired(expires_at: datetime, *, facilitator: bool) -> str:
    """A confirmation pressed too late."""
    again = "`/dialogue forget`" if facilitator else "`/forget-me`"
    return f"This confirmation expired at {timestamp(expires_at, 't')}. Nothing was erased; run {again} again."


def search_not_yours() -> str:
    """A page button pressed by someone other than the searcher."""
    return "These buttons belong to someone else's search. Run `/search` yourself."


def forget_not_yours() -> str:
    """A confirmation pressed by someone it was not asked of."""
    return "This question was not asked of you; nothing was erased."
