"""Leases in the shared database, ownership as SQL, and reminder rows leased in batches."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

import db.dialogues as dialogues_db
import db.leases as leases_db
import db.reminders as reminders_db
import db.retention as retention_db
import db.survey as survey_db
from bot.domain.models import DialogueDraft, State
from bot.domain.reminders import Kind, Owed
from bot.domain.sharding import shard_of
from db import Database
from db.shards import Ownership, owned

pytestmark = pytest.mark.both_backends

NOW = datetime(2026, 11, 27, 18, 0, tzinfo=UTC)
TTL = timedelta(minutes=5)


async def test_a_free_lease_is_won_by_one_owner_only(database: Database) -> None:
    assert await leases_db.claim(database, "dialogue:1", "a", NOW, NOW + TTL)
    assert not await leases_db.claim(database, "dialogue:1", "b", NOW, NOW + TTL)
    assert await leases_db.holder(database, "dialogue:1", NOW) == ("a", NOW + TTL)
    # Its owner may claim it again (a second step of the same process), and another name is free.
    assert await leases_db.claim(database, "dialogue:1", "a", NOW, NOW + TTL)
    assert await leases_db.claim(database, "dialogue:2", "b", NOW, NOW + TTL)


async def test_a_released_lease_is_free_at_once(database: Database) -> None:
    assert await leases_db.claim(database, "dialogue:1", "a", NOW, NOW + TTL)
    assert not await leases_db.release(database, "dialogue:1", "b")  # only its owner gives it back
    assert await leases_db.release(database, "dialogue:1", "a")
    assert await leases_db.holder(database, "dialogue:1", NOW) is None
    assert await leases_db.claim(database, "dialogue:1", "b", NOW, NOW + TTL)


async def test_an_expired_lease_is_taken_over_and_its_old_owner_cannot_renew_it(database: Database) -> None:
    assert await leases_db.claim(database, "dialogue:1", "crashed", NOW, NOW + TTL)
    assert not await leases_db.claim(database, "dialogue:1", "b", NOW + TTL, NOW + 2 * TTL)  # not yet expired
    later = NOW + TTL + timedelta(seconds=1)
    assert await leases_db.holder(database, "dialogue:1", later) is None
    assert await leases_db.claim(database, "dialogue:1", "b", later, later + TTL)
    assert not await leases_db.renew(database, "dialogue:1", "crashed", later + TTL)
    assert await leases_db.renew(database, "dialogue:1", "b", later + 2 * TTL)
    assert await leases_db.holder(database, "dialogue:1", later) == ("b", later + 2 * TTL)


def draft() -> DialogueDraft:
    return DialogueDraft(
        title="T",
        framing="",
        questions=("Q?",),
        timezone="UTC",
        opens_at=NOW + timedelta(hours=1),
        closes_at=NOW + timedelta(days=1),
    )


async def test_the_sql_ownership_rule_is_discords(database: Database) -> None:
    guilds = [(shard << 22) + 7 for shard in range(6)] + [1_234_567_890_123_456_789, 987_654_321_098_765_432]
    for guild_id in guilds:
        await dialogues_db.create(database, guild_id, 1, draft(), NOW)
    for count, ids in [(2, (0,)), (2, (1,)), (3, (0, 2)), (4, (0, 1, 2, 3))]:
        mine, params = owned(Ownership(count, ids))
        rows = await database.fetchall(f"SELECT guild_id FROM dialogues WHERE 1 = 1{mine}", params)
        assert sorted(row["guild_id"] for row in rows) == sorted(g for g in guilds if shard_of(g, count) in ids)
    assert owned(None) == ("", [])


async def test_the_dialogue_timer_reads_only_owned_dialogues(database: Database) -> None:
    even = await dialogues_db.create(database, 2 << 22, 1, draft(), NOW)
    odd = await dialogues_db.create(database, (3 << 22) + 1, 1, draft(), NOW)
    await dialogues_db.set_wake(database, odd.id, NOW - timedelta(minutes=1))  # the odd one is due first
    due_at = NOW + timedelta(hours=2)
    zero, one = Ownership(2, (0,)), Ownership(2, (1,))
    assert await dialogues_db.earliest_wake(database, (), zero) == even.opens_at
    assert await dialogues_db.earliest_wake(database, (), one) == NOW - timedelta(minutes=1)
    assert await dialogues_db.due_for_wake(database, due_at, 10, (), zero) == [even.id]
    assert await dialogues_db.due_for_wake(database, due_at, 10, (), one) == [odd.id]
    assert await dialogues_db.due_for_wake(database, due_at, 10) == [odd.id, even.id]


async def test_due_reminders_are_leased_once_and_fall_due_again_when_the_lease_runs_out(database: Database) -> None:
    mine = await dialogues_db.create(database, 2 << 22, 1, draft(), NOW)
    other = await dialogues_db.create(database, 3 << 22, 1, draft(), NOW)
    due = NOW - timedelta(minutes=1)
    await reminders_db.add_many(
        database, [Owed(mine.id, 5, Kind.CHECKIN, "c1", due), Owed(other.id, 6, Kind.CHECKIN, "c1", due)]
    )
    zero = Ownership(2, (0,))
    assert await reminders_db.next_wake(database, zero) == due
    taken = await reminders_db.claim_due(database, NOW, NOW + TTL, 10, zero)
    assert [(r.dialogue_id, r.user_id) for r in taken] == [(mine.id, 5)]
    # Leased: no process sees it due (not even a second one running the same shard) until the lease runs out.
    assert await reminders_db.claim_due(database, NOW, NOW + TTL, 10, zero) == []
    assert await reminders_db.next_wake(database, zero) == NOW + TTL
    again = await reminders_db.claim_due(database, NOW + TTL, NOW + 2 * TTL, 10, zero)
    assert [r.id for r in again] == [taken[0].id]
    # Delivery's own compare-and-set is what sends: it is won once, whoever holds the lease.
    assert await reminders_db.claim(database, taken[0].id, NOW, source=taken[0].state)
    assert not await reminders_db.claim(database, taken[0].id, NOW, source=taken[0].state)


async def test_retention_purges_only_owned_guilds_transcripts(database: Database) -> None:
    ids = {}
    for guild_id in (2 << 22, 3 << 22):
        dialogue = await dialogues_db.create(database, guild_id, 1, draft(), NOW)
        assert await dialogues_db.transition(database, dialogue.id, (State.SCHEDULED,), State.OPEN, NOW)
        assert await dialogues_db.transition(database, dialogue.id, (State.OPEN,), State.CLOSED, NOW)
        await dialogues_db.mark_locked(database, dialogue.id, NOW)
        ids[shard_of(guild_id, 2)] = dialogue.id
    keep, later = timedelta(days=30), NOW + timedelta(days=31)
    assert await retention_db.due(database, later, keep, Ownership(2, (0,))) == [ids[0]]
    assert await retention_db.due(database, later, keep, Ownership(2, (1,))) == [ids[1]]
    assert await retention_db.next_due(database, keep, Ownership(2, (1,))) == NOW + keep
    assert sorted(await retention_db.due(database, later, keep)) == sorted(ids.values())


async def test_surveys_end_only_for_owned_guilds(database: Database) -> None:
    ids = {}
    for guild_id in (2 << 22, 3 << 22):
        dialogue = await dialogues_db.create(database, guild_id, 1, draft(), NOW)
        closed_at = int((NOW - timedelta(days=20)).timestamp())
        await database.execute(
            "UPDATE dialogues SET state = 'closed', closed_at = ? WHERE id = ?", (closed_at, dialogue.id)
        )
        assert await survey_db.ensure_secret(database, dialogue.id, b"s" * 32) is not None
        ids[shard_of(guild_id, 2)] = dialogue.id
    assert await survey_db.end_surveys(database, NOW, 14, Ownership(2, (1,))) == 1
    # Shard 0's survey is untouched: it still hands out its secret; shard 1's never will again.
    assert await survey_db.ensure_secret(database, ids[0], b"n" * 32) == b"s" * 32
    assert await survey_db.ensure_secret(database, ids[1], b"n" * 32) is None
