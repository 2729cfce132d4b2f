"""Split a long text into messages at the most natural break that fits: paragraph, then line, then word."""

from __future__ import annotations

import re
from collections.abc import Callable

__all__ = ("split_text",)

# Paragraphs are separated by a blank line (which may hold spaces); lines by one newline; words by a space.
_PARAGRAPH = re.compile(r"\n[ \t]*\n")


def split_text(text: str, limit: int) -> list[str]:
    """Split ``text`` into parts of at most ``limit`` characters, never empty, keeping the text's order.

    Whole paragraphs are packed into each part; a paragraph longer than ``limit`` is split at line breaks, a line
    longer than that at spaces, and a word longer than that (a long link, say) is cut, deliberately, at ``limit``.
    """
    if limit < 1:
        raise ValueError("limit must be positive")
    normalised = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not normalised:
        return []
    paragraphs = [paragraph.strip() for paragraph in _PARAGRAPH.split(normalised)]
    parts = _pack([p for p in paragraphs if p], "\n\n", limit, _split_paragraph)
    return [part for part in (part.strip() for part in parts) if part]


def _split_paragraph(paragraph: str, limit: int) -> list[str]:
    return _pack(paragraph.split("\n"), "\n", limit, _split_line)


def _split_line(line: str, limit: int) -> list[str]:
    return _pack(line.split(" "), " ", limit, _cut_word)


def _cut_word(word: str, limit: int) -> list[str]:
    return [word[start : start + limit] for start in range(0, len(word), limit)]


def _pack(units: list[str], separator: str, limit: int, split_unit: Callable[[str, int], list[str]]) -> list[str]:
    """Join consecutive units with ``separator`` into parts of at most ``limit``; a unit too long is split finer."""
    parts: list[str] = []
    current: str | None = None
    for unit in units:
        if len(unit) > limit:
            # Split finer; its last piece may still take the units that follow.
            if current is not None:
                parts.append(current)
            *whole, current = split_unit(unit, limit)
            parts.extend(whole)
            continue
        joined = unit if current is None else current + separator + unit
        if len(joined) <= limit:
            current = joined
        else:
            if current is not None:
                parts.append(current)
            current = unit
    if current is not None:
        parts.append(current)
    return parts
