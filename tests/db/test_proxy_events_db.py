"""The records behind posts on someone's behalf and the window's scheduled event, on a real temporary database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

import db.dialogues as dialogues_db
import db.events as events_db
import db.proxy as proxy_db
from bot.domain.events import EventState, EventStatus
from bot.domain.models import DialogueDraft
from db import Database

pytestmark = pytest.mark.both_backends

OPENS = datetime(2026, 12, 1, 13, 0, tzinfo=UTC)
DRAFT = DialogueDraft(
    title="T", framing="", questions=("A?",), timezone="UTC", opens_at=OPENS, closes_at=OPENS + timedelta(days=2)
)


async def test_an_event_record_defaults_then_keeps_what_was_applied(database: Database) -> None:
    dialogue = await dialogues_db.create(database, 1, 2, DRAFT, OPENS)
    assert await events_db.get(database, dialogue.id) == events_db.EventRecord()
    await events_db.mark_creating(database, dialogue.id)
    assert (await events_db.get(database, dialogue.id)).creating
    await events_db.set_event(database, dialogue.id, 99)
    state = EventState(EventStatus.ACTIVE, OPENS, OPENS + timedelta(days=2))
    await events_db.mark_applied(database, dialogue.id, state)
    record = await events_db.get(database, dialogue.id)
    assert (record.event_id, record.creating, record.applied, record.enabled) == (99, False, state, True)
    await events_db.mark_gone(database, dialogue.id)
    gone = await events_db.get(database, dialogue.id)
    assert gone.gone and gone.applied is None and gone.event_id == 99


async def test_the_permission_notice_is_claimed_once(database: Database) -> None:
    dialogue = await dialogues_db.create(database, 1, 2, DRAFT, OPENS)
    assert await events_db.mark_noticed(database, dialogue.id, OPENS)
    assert not await events_db.mark_noticed(database, dialogue.id, OPENS + timedelta(hours=1))
    assert (await events_db.get(database, dialogue.id)).noticed


async def test_a_plan_can_turn_the_event_off(database: Database) -> None:
    dialogue = await dialogues_db.create(database, 1, 2, DRAFT, OPENS)
    await events_db.set_enabled(database, dialogue.id, False)
    assert not (await events_db.get(database, dialogue.id)).enabled


async def test_a_proxy_post_is_pending_until_posted_and_a_refused_one_is_forgotten(database: Database) -> None:
    dialogue = await dialogues_db.create(database, 1, 2, DRAFT, OPENS)
    first = await proxy_db.add(database, dialogue.id, 7001, "Maria", "Text", 5, OPENS)
    second = await proxy_db.add(database, dialogue.id, 7001, "Ana", "More", 5, OPENS)
    assert [p.id for p in await proxy_db.pending(database, dialogue.id)] == [first.id, second.id]
    await proxy_db.mark_posted(database, first.id, 123)
    await proxy_db.forget(database, first.id)  # posted: never forgotten
    await proxy_db.forget(database, second.id)
    assert await proxy_db.pending(database, dialogue.id) == []
    kept = await proxy_db.get(database, first.id)
    assert kept is not None and kept.message_id == 123 and kept.created_at == OPENS
