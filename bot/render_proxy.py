"""Texts of posts made on someone's behalf: the attribution line, the post, the facilitator's answers."""

from __future__ import annotations

from .domain.models import Dialogue
from .render import MESSAGE_LIMIT, step_marker

__all__ = ("proxy_marker", "proxy_post", "proxy_posted", "proxy_room")

_MARKDOWN = "\\*_~`|>[]()#-"
# The marker is sized for the largest ids it may carry.
_WIDEST_ID = 10**12


def _escape(name: str) -> str:
    """Show a name as typed: Markdown characters are escaped, never formatting."""
    return "".join(f"\\{char}" if char in _MARKDOWN else char for char in name)


def proxy_marker(dialogue_id: int, proxy_id: int) -> str:
    """The small last line naming the dialogue and this post (a resumed step adopts only its own message)."""
    return step_marker(dialogue_id, f"on behalf {proxy_id}")


def _attribution(name: str, facilitator_id: int) -> str:
    return f"**Posted on behalf of {_escape(name)}** by <@{facilitator_id}>"


def proxy_post(name: str, facilitator_id: int, text: str, dialogue_id: int, proxy_id: int) -> str:
    """The post as it appears: the attribution line, the person's text, the step marker."""
    return f"{_attribution(name, facilitator_id)}\n{text}\n{proxy_marker(dialogue_id, proxy_id)}"


def proxy_room(name: str, facilitator_id: int, dialogue_id: int) -> int:
    """How many characters of text fit in one message after the attribution line (and before the marker)."""
    return MESSAGE_LIMIT - len(proxy_post(name, max(facilitator_id, _WIDEST_ID), "", dialogue_id, _WIDEST_ID))


def proxy_posted(dialogue: Dialogue, name: str, thread_id: int, jump_url: str) -> str:
    """The facilitator's answer once the post is up and recorded."""
    return (
        f"Posted in <#{thread_id}> on behalf of {_escape(name)}: {jump_url}\n"
        f"It counts as {_escape(name)}'s post in “{dialogue.title}”."
    )
