"""Read a dialogue's activity from the record, with thread titles scrubbed of people's names."""

from __future__ import annotations

import db.record_stats as record_stats_db
from db import Database

from ..domain.activity import Activity, ThreadLabel, build_activity
from ..domain.models import Dialogue
from .pseudonym import Person, Pseudonymiser, Role

__all__ = ("CHANNEL_LABEL", "dialogue_activity", "posters")

# Posts straight in the channel that started no thread (rare: each top-level post normally starts one).
CHANNEL_LABEL = "In the channel"


async def posters(db: Database, dialogue_id: int) -> Pseudonymiser:
    """A pseudonymiser knowing everyone who posted, under every name they posted with (all as participants)."""
    authors = await record_stats_db.authors(db, dialogue_id)
    return Pseudonymiser(Person(user_id, name, name, Role.PARTICIPANT) for user_id, name in authors)


async def dialogue_activity(db: Database, dialogue: Dialogue, pseudonymiser: Pseudonymiser | None = None) -> Activity:
    """Posts per day per thread in the dialogue's zone; labels are thread titles with names replaced.

    A thread's title is often its first post's opening words, or "Post by <name>": it is scrubbed with
    ``pseudonymiser`` (an export passes its own, so the chart and the text agree), else with everyone who posted.
    """
    scrubber = pseudonymiser or await posters(db, dialogue.id)
    threads = [
        ThreadLabel(t.thread_id, scrubber.scrub(t.label)) for t in await record_stats_db.thread_titles(db, dialogue.id)
    ]
    threads.append(ThreadLabel(None, CHANNEL_LABEL))
    return build_activity(
        title=scrubber.scrub(dialogue.title),
        timezone=dialogue.timezone,
        opens_at=dialogue.opens_at,
        closes_at=dialogue.closes_at,
        threads=threads,
        counts=await record_stats_db.activity_counts(db, dialogue.id),
    )
