"""Posting on someone's behalf: the name and text a facilitator types, checked before anything is posted."""

from __future__ import annotations

import re

from .errors import InvalidInput

__all__ = ("MAX_PROXY_NAME", "parse_proxy_name", "parse_proxy_text", "proxy_identity")

MAX_PROXY_NAME = 80

# A mention in any of Discord's syntaxes (user, role, channel, slash command) or a mass ping.
_MENTION = re.compile(r"<(@[!&]?|#|/)[^>]*>|@(everyone|here)\b", re.IGNORECASE)


def parse_proxy_name(text: str) -> str:
    """Return the name a post is made on behalf of: one line, 1 to 80 characters, no mentions."""
    name = " ".join(text.split())
    if not name:
        raise InvalidInput("name", "give the name of the person you are posting for.", "Maria (by email)")
    if len(name) > MAX_PROXY_NAME:
        raise InvalidInput("name", f"it is {len(name)} characters; at most {MAX_PROXY_NAME} fit.")
    if _MENTION.search(name):
        raise InvalidInput("name", "it contains a mention; write the person's name as plain text.", "Maria")
    return name


def parse_proxy_text(text: str, room: int) -> str:
    """Return the text to post: not blank, and at most ``room`` characters (one message with its attribution)."""
    body = text.strip()
    if not body:
        raise InvalidInput("text", "it is empty; paste what the person asked you to post.")
    if len(body) > room:
        raise InvalidInput(
            "text",
            f"it is {len(body):,} characters; at most {room:,} fit in one message with the attribution line. "
            "Shorten it, or post it in two parts (run the command again for the second).",
        )
    return body


def proxy_identity(name: str) -> str:
    """The form of a name that makes two posts one person's: spaces collapsed, case folded."""
    return " ".join(name.split()).casefold()
