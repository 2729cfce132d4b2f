"""Pseudonymised exports: who is in a dialogue, by role, and a ``Naming`` that shows them only by pseudonym."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import db.record as record_db
from db import Database

from ..domain.models import Dialogue
from ..domain.parsing import slugify
from .pseudonym import Person, Pseudonymiser, Role

__all__ = ("Identity", "PseudonymNaming", "pseudonym_naming")


@dataclass(frozen=True, slots=True)
class Identity:
    """Names the server knows someone by, beyond those the record holds (username, global name, nickname)."""

    user_id: int
    display_name: str
    username: str
    aliases: tuple[str, ...] = ()


class PseudonymNaming:
    """Shows every person by pseudonym and scrubs names, mentions, ids and Discord links out of every text."""

    pseudonymised = True

    def __init__(self, pseudonymiser: Pseudonymiser, channels: Mapping[int, str], roles: Mapping[int, str]) -> None:
        self._pseudonymiser = pseudonymiser
        self._channels = dict(channels)
        self._roles = dict(roles)

    @property
    def pseudonymiser(self) -> Pseudonymiser:
        """The pseudonymiser (the activity chart's labels are scrubbed with the same one)."""
        return self._pseudonymiser

    def author(self, author_id: int, name: str) -> str:
        """The author's pseudonym ("Participant 7")."""
        return self._pseudonymiser.name(author_id)

    def key(self, author_id: int) -> str:
        """The pseudonym as an id ("participant-7")."""
        return slugify(self._pseudonymiser.name(author_id))

    def text(self, text: str) -> str:
        """The text with every identity replaced."""
        return self._pseudonymiser.scrub(text, channels=self._channels, roles=self._roles)


async def pseudonym_naming(
    database: Database,
    dialogue: Dialogue,
    *,
    known: Sequence[Identity] = (),
    channels: Mapping[int, str] | None = None,
    roles: Mapping[int, str] | None = None,
) -> PseudonymNaming:
    """Everyone in the dialogue (its facilitator, leaders and authors, in order of first post) under pseudonyms.

    ``known`` adds the names the server knows people by; only people of this dialogue are taken from it.
    ``channels`` names channel mentions (the dialogue's threads are added from the record).
    """
    authors = await record_db.authors(database, dialogue.id)
    leaders = set(await record_db.leader_ids(database, dialogue.id))

    def role(user_id: int) -> Role:
        if user_id == dialogue.created_by:
            return Role.FACILITATOR
        return Role.LEADER if user_id in leaders else Role.PARTICIPANT

    people = [Person(a.author_id, a.name, a.name, role(a.author_id)) for a in authors]
    posted = {a.author_id for a in authors}
    # Those who never posted are still named in others' posts (an empty name is never searched for).
    people += [
        Person(user_id, "", "", role(user_id)) for user_id in [dialogue.created_by, *leaders] if user_id not in posted
    ]
    # Who withdrew has no name left in the record, but the server's names for them must still be scrubbed.
    listed = posted | leaders | {dialogue.created_by}
    withdrawn = [i for i in await record_db.withdrawn_author_ids(database, dialogue.id) if i not in listed]
    people += [Person(user_id, "", "", role(user_id)) for user_id in withdrawn]
    ids = listed | set(withdrawn)
    people += [
        Person(i.user_id, i.display_name, i.username, role(i.user_id), i.aliases) for i in known if i.user_id in ids
    ]
    threads = {thread.thread_id: thread.title for thread in await record_db.threads(database, dialogue.id)}
    named = {**threads, **(channels or {})}
    return PseudonymNaming(Pseudonymiser(people), named, roles or {})
