"""Full-text search over recorded posts, and the queries held for the result pages' buttons.

Everything full-text-specific is here and in migration 0017. On SQLite the index ``posts_fts`` (FTS5) has
``posts`` as its external content and is kept in step by triggers; on PostgreSQL a GIN expression index over
``to_tsvector('simple', content)`` of live posts (``migrations/postgresql/0017``). Either way only live posts (not
deleted, not withdrawn, not purged) are found. The query a person typed becomes ``match_expression``'s FTS5
expression; on PostgreSQL ``_tsquery`` reads that same expression back into a ``tsquery``.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import datetime

from .connection import Database, Row
from .posts import PUBLISHABLE
from .timeutil import from_epoch, to_epoch

__all__ = (
    "HeldSearch",
    "Hit",
    "HitPage",
    "QuerySyntaxError",
    "forget_erased",
    "get_search",
    "hold_search",
    "match_expression",
    "remove_expired",
    "search",
)

# Marks around the matched words in an excerpt: control characters no one types, replaced when rendering.
MATCH_START = "\x02"
MATCH_END = "\x03"
# Words of context in an excerpt (FTS5 allows at most 64).
_EXCERPT_WORDS = 16
# Bound on the words of one query: a long paste is not a search.
_MAX_TERMS = 32


class QuerySyntaxError(ValueError):
    """The search text could not be read as a query (only possible with operators)."""


@dataclass(frozen=True, slots=True)
class Hit:
    """One post found: where it is, who wrote it (as recorded) and an excerpt with the matches marked."""

    message_id: int
    dialogue_id: int
    dialogue_title: str
    channel_id: int | None
    thread_id: int | None
    thread_title: str | None
    top_level: bool  # written in the dialogue's channel itself (a thread may have started from it)
    author_name: str
    created_at: datetime
    excerpt: str


@dataclass(frozen=True, slots=True)
class HitPage:
    """One page of ranked hits and whether another page follows."""

    hits: tuple[Hit, ...]
    page: int
    has_next: bool


# How SQLite words a MATCH it cannot read; other operational errors are real failures.
_SYNTAX_SIGNS = ("fts5", "syntax error", "unterminated string", "unknown special query", "no such column")
_TOKEN = re.compile(r'"[^"]*"?|[^\s"]+')


def match_expression(text: str) -> str:
    """Turn what a person typed into an FTS5 query that cannot be a syntax error.

    Every word becomes a quoted string (so ``AND``, ``-``, ``*``, ``:``, ``(`` are plain text), and all must
    appear; a bare word ending in ``*`` is a prefix. A phrase in double quotes stays a phrase; an unbalanced
    quote runs to the end. Returns '' when
    nothing searchable is left.
    """
    terms: list[str] = []
    for token in _TOKEN.findall(text):
        # A bare word ending in * is a prefix ("wit*" finds "witness"); anywhere else * is plain text.
        prefix = not token.startswith('"') and token.endswith("*") and token.strip("*") != ""
        phrase = (token.rstrip("*") if prefix else token).strip('"').strip()
        if not phrase:
            continue
        terms.append('"' + phrase.replace('"', '""') + '"' + (" *" if prefix else ""))
        if len(terms) == _MAX_TERMS:
            break
    return " ".join(terms)


async def search(
    db: Database,
    expression: str,
    dialogue_ids: Collection[int],
    *,
    page: int,
    per_page: int,
) -> HitPage:
    """Return one page of live posts in the given dialogues matching an FTS5 ``expression``, best first (bm25).

    Raises ``QuerySyntaxError`` if FTS5 refuses the expression (``match_expression`` never gives one it does).
    """
    if not dialogue_ids or not expression:
        return HitPage((), page, False)
    ids = sorted(dialogue_ids)
    marks = ", ".join("?" for _ in ids)
    if db.dialect == "postgresql":
        query = _tsquery(expression)  # raises QuerySyntaxError as FTS5 would
        if not query:
            return HitPage((), page, False)
        rows = await db.fetchall(
            "SELECT p.message_id, p.dialogue_id, d.title AS dialogue_title, d.channel_id, p.thread_id, "
            "t.title AS thread_title, (p.thread_id IS NULL OR t.starter_message_id = p.message_id) AS top_level, "
            "p.author_name, p.created_at, p.content, "
            # A post short enough is its own excerpt, every match marked (as FTS5's snippet gives it).
            "ts_headline('simple', p.content, q.query, CASE WHEN "
            "cardinality(regexp_split_to_array(btrim(p.content), '\\s+')) <= ? THEN ? ELSE ? END) AS excerpt "
            "FROM posts p CROSS JOIN (SELECT to_tsquery('simple', ?) AS query) q "
            "JOIN dialogues d ON d.id = p.dialogue_id "
            "LEFT JOIN threads t ON t.thread_id = p.thread_id "
            # The expression and predicate of the GIN index posts_search, so that it answers the match.
            "WHERE to_tsvector('simple', p.content) @@ q.query "
            "AND p.deleted_at IS NULL AND p.withdrawn_at IS NULL AND p.content <> '' "
            f"AND p.dialogue_id IN ({marks}) "
            # Rank normalised by the post's length (1: divided by 1 + its log), as bm25 favours short matches.
            "ORDER BY ts_rank(to_tsvector('simple', p.content), q.query, 1) DESC, p.message_id LIMIT ? OFFSET ?",
            (_EXCERPT_WORDS, _HIGHLIGHT_ALL, _HEADLINE, query, *ids, per_page + 1, page * per_page),
        )
        hits = tuple(replace(hit, excerpt=_ellipsed(hit.excerpt, row["content"])) for hit, row in _hits(rows, per_page))
        return HitPage(hits, page, len(rows) > per_page)
    try:
        rows = await db.fetchall(
            "SELECT p.message_id, p.dialogue_id, d.title AS dialogue_title, d.channel_id, p.thread_id, "
            "t.title AS thread_title, (p.thread_id IS NULL OR t.starter_message_id = p.message_id) AS top_level, "
            "p.author_name, p.created_at, "
            f"snippet(posts_fts, 0, '{MATCH_START}', '{MATCH_END}', '…', {_EXCERPT_WORDS}) AS excerpt "
            "FROM posts_fts JOIN posts p ON p.message_id = posts_fts.rowid "
            "JOIN dialogues d ON d.id = p.dialogue_id "
            "LEFT JOIN threads t ON t.thread_id = p.thread_id "
            f"WHERE posts_fts MATCH ? AND p.dialogue_id IN ({marks}) "
            f"AND {PUBLISHABLE} "
            "ORDER BY bm25(posts_fts), p.message_id LIMIT ? OFFSET ?",
            (expression, *ids, per_page + 1, page * per_page),
        )
    except sqlite3.OperationalError as error:
        # FTS5 reports a bad query as "fts5: syntax error near ..."; anything else is a real failure.
        if any(sign in str(error) for sign in _SYNTAX_SIGNS):
            raise QuerySyntaxError(str(error)) from error
        raise
    return HitPage(tuple(_hit(row) for row in rows[:per_page]), page, len(rows) > per_page)


# ts_headline's options: FTS5 snippet's marks and length; one fragment with an ellipsis where text was cut.
_HEADLINE = (
    f"StartSel={MATCH_START}, StopSel={MATCH_END}, MaxWords={_EXCERPT_WORDS}, MinWords={_EXCERPT_WORDS // 2}, "
    "MaxFragments=1, FragmentDelimiter=…"
)
_HIGHLIGHT_ALL = f"StartSel={MATCH_START}, StopSel={MATCH_END}, HighlightAll=true"
_TERM = re.compile(r'"((?:[^"]|"")*)"( \*)?')
_WORD = re.compile(r"\w+")
_ONE = r'"(?:[^"]|"")*"(?: \*)?'
_EXPRESSION = re.compile(rf"\s*{_ONE}(?:\s+{_ONE})*\s*")


def _tsquery(expression: str) -> str:
    """The ``to_tsquery`` text of an FTS5 expression from ``match_expression``: every term, a phrase as words in a
    row (``<->``), a trailing ``*`` as a prefix (``:*``). Only words are kept, each quoted, so the text is always a
    valid tsquery; '' when no word is left.
    """
    if not _EXPRESSION.fullmatch(expression):
        raise QuerySyntaxError(f"not a search expression: {len(expression)} characters")
    terms: list[str] = []
    for phrase, star in _TERM.findall(expression):
        words = ["'" + word.lower() + "'" for word in _WORD.findall(phrase.replace('""', '"'))]
        if not words:
            continue
        if star:
            words[-1] += ":*"
        terms.append("(" + " <-> ".join(words) + ")")
    return " & ".join(terms)


def _hits(rows: list[Row], per_page: int) -> list[tuple[Hit, Row]]:
    return [(_hit(row), row) for row in rows[:per_page]]


def _ellipsed(excerpt: str, content: str) -> str:
    """``…`` where ts_headline cut the post's text, at either end (FTS5's snippet marks cuts the same way)."""
    plain = excerpt.replace(MATCH_START, "").replace(MATCH_END, "")
    if not plain:
        return excerpt
    start = "" if content.lstrip().startswith(plain) else "…"
    end = "" if content.rstrip().endswith(plain) else "…"
    return start + excerpt + end


def _hit(row: Row) -> Hit:
    return Hit(
        message_id=row["message_id"],
        dialogue_id=row["dialogue_id"],
        dialogue_title=row["dialogue_title"],
        channel_id=row["channel_id"],
        thread_id=row["thread_id"],
        thread_title=row["thread_title"],
        top_level=bool(row["top_level"]),
        author_name=row["author_name"],
        created_at=from_epoch(row["created_at"]),
        excerpt=row["excerpt"] or "",
    )


async def forget_erased(db: Database) -> None:
    """Merge the index so the words of erased posts leave its pages too, not only its results.

    PostgreSQL's GIN index drops the entries of a changed row when it is vacuumed; there is nothing to merge.
    """
    if db.dialect == "postgresql":
        return
    await db.execute("INSERT INTO posts_fts (posts_fts) VALUES ('optimize')")


# ----- searches held for their page buttons ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HeldSearch:
    """A search someone ran, kept so the Previous/Next buttons under its results can fetch other pages."""

    id: str
    guild_id: int
    user_id: int
    query: str
    dialogue_id: int | None
    expires_at: datetime


async def hold_search(
    db: Database,
    key: str,
    *,
    guild_id: int,
    user_id: int,
    query: str,
    dialogue_id: int | None,
    now: datetime,
    expires_at: datetime,
) -> HeldSearch:
    """Keep a search under ``key`` until ``expires_at``."""
    await db.execute(
        "INSERT INTO searches (id, guild_id, user_id, query, dialogue_id, created_at, expires_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (key, guild_id, user_id, query, dialogue_id, to_epoch(now), to_epoch(expires_at)),
    )
    return HeldSearch(key, guild_id, user_id, query, dialogue_id, from_epoch(to_epoch(expires_at)))


async def get_search(db: Database, key: str) -> HeldSearch | None:
    """Return a held search, or None if it expired and was removed (or never existed)."""
    row = await db.fetchone(
        "SELECT id, guild_id, user_id, query, dialogue_id, expires_at FROM searches WHERE id = ?", (key,)
    )
    if row is None:
        return None
    return HeldSearch(
        row["id"], row["guild_id"], row["user_id"], row["query"], row["dialogue_id"], from_epoch(row["expires_at"])
    )


async def remove_expired(db: Database, now: datetime) -> int:
    """Forget the held searches whose time has passed; return how many."""
    return await db.execute("DELETE FROM searches WHERE expires_at <= ?", (to_epoch(now),))
