"""Searching what was said in this server's dialogues: who may search which dialogues, and the result pages."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta

import discord

import db.dialogues as dialogues_db
import db.search as search_db
from db import Database
from db.search import HeldSearch, HitPage

from .clock import Clock
from .domain.errors import DialogueError, InvalidInput
from .domain.models import Dialogue, State

__all__ = ("PER_PAGE", "QUERY_LIMIT", "SearchService", "Searcher", "checked_query", "readable_dialogues")

log = logging.getLogger(__name__)

# Results per page: each takes about four lines, so a page stays well inside one message.
PER_PAGE = 5
# The longest query accepted (Discord's option limit is set to it too).
QUERY_LIMIT = 200
# How long a result page's buttons keep working.
HELD_FOR = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class Searcher:
    """Who is searching and what they may read: facilitators every dialogue, members closed ones they can see."""

    user_id: int
    facilitator: bool
    readable: frozenset[int]


def readable_dialogues(dialogues: list[Dialogue], member: discord.Member, *, facilitator: bool) -> frozenset[int]:
    """The dialogues someone may search: every one for a facilitator; for a member, the closed dialogues whose
    channel they can open and read the history of (a private dialogue stays private).
    """
    if facilitator:
        return frozenset(dialogue.id for dialogue in dialogues)
    readable = set()
    for dialogue in dialogues:
        if dialogue.state is not State.CLOSED or dialogue.channel_id is None:
            continue
        channel = member.guild.get_channel(dialogue.channel_id)
        if channel is None:
            continue  # deleted: no one can read it on Discord either
        permissions = channel.permissions_for(member)
        if permissions.view_channel and permissions.read_message_history:
            readable.add(dialogue.id)
    return frozenset(readable)


def checked_query(query: str) -> str:
    """The query on one line; raise ``InvalidInput`` if it is too long or has nothing to search for."""
    text = " ".join(query.split())
    if not search_db.match_expression(text):
        raise InvalidInput("query", "type at least one word to search for.", "asylum procedures")
    if len(text) > QUERY_LIMIT:
        raise InvalidInput("query", f"keep it under {QUERY_LIMIT} characters.")
    return text


class SearchService:
    """Runs searches and keeps each one's query for its page buttons (which survive a restart)."""

    def __init__(self, database: Database, clock: Clock) -> None:
        self.db = database
        self.clock = clock

    async def searcher(self, member: discord.Member, *, facilitator: bool) -> Searcher:
        """Work out what ``member`` may search, now (permissions are checked again on every page)."""
        dialogues = await dialogues_db.in_guild(self.db, member.guild.id)
        return Searcher(member.id, facilitator, readable_dialogues(dialogues, member, facilitator=facilitator))

    async def start(
        self, guild_id: int, searcher: Searcher, query: str, dialogue: Dialogue | None
    ) -> tuple[HeldSearch, HitPage]:
        """Check the query and the scope, hold the search for its buttons and return its first page."""
        text = checked_query(query)
        if dialogue is not None and dialogue.id not in searcher.readable:
            raise DialogueError(_refusal(dialogue))
        now = self.clock()
        await search_db.remove_expired(self.db, now)
        held = await search_db.hold_search(
            self.db,
            secrets.token_urlsafe(12),
            guild_id=guild_id,
            user_id=searcher.user_id,
            query=text,
            dialogue_id=dialogue.id if dialogue else None,
            now=now,
            expires_at=now + HELD_FOR,
        )
        return held, await self.page(held, searcher, 0)

    async def held(self, key: str) -> HeldSearch | None:
        """Return a held search that has not expired."""
        held = await search_db.get_search(self.db, key)
        return held if held is not None and held.expires_at > self.clock() else None

    async def page(self, held: HeldSearch, searcher: Searcher, page: int) -> HitPage:
        """Return one page of a held search, within what the searcher may read now."""
        scope = searcher.readable if held.dialogue_id is None else searcher.readable & {held.dialogue_id}
        try:
            return await search_db.search(
                self.db, search_db.match_expression(held.query), scope, page=page, per_page=PER_PAGE
            )
        except search_db.QuerySyntaxError as error:
            # Never the query itself in the log: it may name people.
            log.warning("A search query could not be read by the index (%s)", type(error).__name__)
            raise InvalidInput(
                "query", "that search could not be read. Use plain words, or a phrase in double quotes."
            ) from error


def _refusal(dialogue: Dialogue) -> str:
    if dialogue.state is not State.CLOSED:
        return (
            f"You can search only dialogues that have closed, and “{dialogue.title}” is {dialogue.state.value}. "
            "Search again once it has closed."
        )
    return f"You can search only dialogues whose channel you can read, and you cannot read “{dialogue.title}”."
