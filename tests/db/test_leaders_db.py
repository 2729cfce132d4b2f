"""Leader storage against a real SQLite file: roster, compare-and-set claims, re-planning, unanswered posts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

import db.checkins as checkins_db
import db.dialogues as dialogues_db
import db.leaders as leaders_db
import db.posts as posts_db
import db.reminders as reminders_db
from bot.domain.models import Dialogue, DialogueDraft, State
from bot.domain.reminders import Kind, Owed, Planned, ReminderState, Via, reconcile
from db import Database

pytestmark = pytest.mark.both_backends

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
OPENS = datetime(2026, 3, 6, 12, 0, tzinfo=UTC)
CLOSES = OPENS + timedelta(days=4)
ALICE, BOB, CHEN = 1001, 1002, 1003
CHANNEL = 5000


async def create(database: Database) -> Dialogue:
    draft = DialogueDraft(title="T", framing="", questions=("Q?",), timezone="UTC", opens_at=OPENS, closes_at=CLOSES)
    return await dialogues_db.create(database, 1, 42, draft, NOW)


async def test_add_remove_and_readd_a_leader(database: Database) -> None:
    dialogue = await create(database)
    assert await leaders_db.add_leader(database, dialogue.id, ALICE, 2, NOW) is True
    assert await leaders_db.add_leader(database, dialogue.id, ALICE, 3, NOW + timedelta(hours=1)) is False
    leader = await leaders_db.get_leader(database, dialogue.id, ALICE)
    assert leader is not None and (leader.commitment, leader.added_at, leader.active) == (3, NOW, True)
    assert await leaders_db.remove_leader(database, dialogue.id, ALICE, NOW + timedelta(hours=2)) is True
    assert await leaders_db.remove_leader(database, dialogue.id, ALICE, NOW + timedelta(hours=2)) is False
    assert await leaders_db.leaders(database, dialogue.id) == []
    later = NOW + timedelta(days=1)
    assert await leaders_db.add_leader(database, dialogue.id, ALICE, 5, later) is True
    again = await leaders_db.get_leader(database, dialogue.id, ALICE)
    assert again is not None and (again.commitment, again.added_at, again.removed_at) == (5, later, None)


async def test_claim_is_compare_and_set(database: Database) -> None:
    dialogue = await create(database)
    owed = Owed(dialogue.id, ALICE, Kind.WELCOME, "welcome:1", NOW)
    reminder = await reminders_db.add_reminder(database, owed)
    same = await reminders_db.add_reminder(database, owed)
    assert same.id == reminder.id  # planning twice never makes two rows
    assert await reminders_db.claim(database, reminder.id, NOW, source=ReminderState.PENDING) is True
    assert await reminders_db.claim(database, reminder.id, NOW, source=ReminderState.PENDING) is False
    await reminders_db.hold(database, reminder.id, "body")
    held = await reminders_db.get_reminder(database, reminder.id)
    assert held is not None and (held.state, held.body, held.sent_at) == (ReminderState.HELD, "body", None)
    assert await reminders_db.claim(database, reminder.id, NOW, source=ReminderState.HELD) is True
    assert await reminders_db.claim(database, reminder.id, NOW, source=ReminderState.HELD) is False
    await reminders_db.set_via(database, reminder.id, Via.THREAD)
    sent = await reminders_db.get_reminder(database, reminder.id)
    assert sent is not None and (sent.state, sent.via, sent.sent_at) == (ReminderState.SENT, Via.THREAD, NOW)


async def test_a_released_reminder_waits_until_its_retry_time(database: Database) -> None:
    dialogue = await create(database)
    reminder = await reminders_db.add_reminder(database, Owed(dialogue.id, ALICE, Kind.CHECKIN, "checkin:1", NOW))
    assert [r.id for r in await reminders_db.due(database, NOW, 10)] == [reminder.id]
    assert await reminders_db.claim(database, reminder.id, NOW, source=ReminderState.PENDING)
    assert await reminders_db.due(database, NOW, 10) == []
    retry = NOW + timedelta(minutes=10)
    assert await reminders_db.release(database, reminder.id, "Discord failed: HTTP 500", retry)
    assert await reminders_db.due(database, retry - timedelta(seconds=1), 10) == []
    assert await reminders_db.next_wake(database) == retry
    back = await reminders_db.due(database, retry, 10)
    assert [(r.id, r.state, r.due_at) for r in back] == [(reminder.id, ReminderState.PENDING, NOW)]


async def replan(database: Database, dialogue: Dialogue, wanted: list[Planned], now: datetime) -> tuple[int, ...]:
    """Reconcile ALICE's stored rows with ``wanted`` and apply it, as the planner does; return the dropped ids."""
    stored = await reminders_db.planned_rows(database, now - timedelta(days=2), [dialogue.id])
    change = reconcile(wanted, stored, "UTC", now)
    owed = [Owed(dialogue.id, ALICE, p.kind, p.key, p.due_at) for p in change.add]
    await reminders_db.apply_plan(database, change.drop, owed, {})
    return change.drop


async def test_replan_drops_only_future_pending_rows_that_are_no_longer_wanted(database: Database) -> None:
    dialogue = await create(database)
    at = [OPENS + timedelta(days=n, hours=2) for n in range(3)]
    wanted = [Planned(Kind.CHECKIN, f"checkin:{int(t.timestamp())}", t) for t in at]
    assert await replan(database, dialogue, wanted, NOW) == ()
    assert await replan(database, dialogue, wanted, NOW) == ()  # planning twice changes nothing
    rows = await reminders_db.reminders_for(database, dialogue.id, ALICE)
    assert [r.due_at for r in rows] == at
    # The first was sent; the second is overdue and still pending; the zone changed for the future.
    await reminders_db.claim(database, rows[0].id, at[0], source=ReminderState.PENDING)
    now = at[1] + timedelta(minutes=5)
    moved = [Planned(Kind.CHECKIN, f"checkin:{int(t.timestamp())}", t) for t in (at[2] + timedelta(hours=3),)]
    assert await replan(database, dialogue, moved, now) == (rows[2].id,)
    after = await reminders_db.reminders_for(database, dialogue.id, ALICE)
    assert [(r.due_at, r.state) for r in after] == [
        (at[0], ReminderState.SENT),
        (at[1], ReminderState.PENDING),  # left for delivery to judge (late or stale)
        (at[2] + timedelta(hours=3), ReminderState.PENDING),
    ]
    assert await reminders_db.skip(database, dialogue.id, ALICE, now, "no longer a leader") == 2
    assert await reminders_db.pending(database) == []


async def record(
    database: Database,
    dialogue: Dialogue,
    message_id: int,
    author: int,
    *,
    thread: int | None,
    at: datetime,
    reply_to: int | None = None,
) -> None:
    await posts_db.record(
        database,
        message_id=message_id,
        dialogue_id=dialogue.id,
        thread_id=thread,
        author_id=author,
        author_name=f"user{author}",
        content="text",
        created_at=at,
        reply_to_id=reply_to,
    )


async def test_unanswered_posts_and_counts(database: Database) -> None:
    dialogue = await create(database)
    # Posts are recorded only while a dialogue takes them.
    await dialogues_db.transition(database, dialogue.id, (State.SCHEDULED,), State.OPEN, OPENS)
    seed, topic, quiet_topic, backstage = 7001, 7002, 7003, 7004
    await dialogues_db.add_thread(database, dialogue.id, seed, "seed", "Q?", seed, OPENS)
    await dialogues_db.add_thread(database, dialogue.id, topic, "participant", "Topic", 8003, OPENS)
    await dialogues_db.add_thread(database, dialogue.id, quiet_topic, "participant", "Quiet", 8006, OPENS)
    await dialogues_db.add_thread(database, dialogue.id, backstage, "leaders", "Leaders", None, OPENS)
    t = OPENS + timedelta(hours=1)
    await record(database, dialogue, 8001, ALICE, thread=seed, at=t)  # answered by bob's reply
    await record(database, dialogue, 8002, BOB, thread=seed, at=t, reply_to=8001)  # chen posted after it
    await record(database, dialogue, 8003, CHEN, thread=topic, at=t)  # thread starter, bob posted in it
    await record(database, dialogue, 8004, BOB, thread=topic, at=t + timedelta(minutes=1))
    await record(database, dialogue, 8005, CHEN, thread=seed, at=t)  # replied to by herself; alice later
    await record(database, dialogue, 8009, CHEN, thread=seed, at=t, reply_to=8005)
    await record(database, dialogue, 8006, ALICE, thread=quiet_topic, at=t)  # starter, only her own follow-up
    await record(database, dialogue, 8007, ALICE, thread=quiet_topic, at=t)
    await record(database, dialogue, 8008, BOB, thread=backstage, at=t)  # backstage: never counted
    await record(database, dialogue, 8010, ALICE, thread=seed, at=t + timedelta(hours=20))  # too recent
    await record(database, dialogue, 8011, BOB, thread=seed, at=t, reply_to=8010)
    await posts_db.clear(database, [8011], t)  # a deleted reply answers nothing

    found = await checkins_db.unanswered(database, dialogue.id, CHANNEL, t + timedelta(hours=12))
    # Answered: 8001 (bob replied), 8002, 8005, 8009 (someone else posted after them in the seed thread),
    # 8003 (bob posted in her thread). Waiting: alice's quiet topic, and bob's last word in chen's topic.
    assert [p.message_id for p in found] == [8006, 8007, 8004]
    assert {p.message_id: p.where for p in found}[8006] == "Quiet"
    counts = await checkins_db.checkin_counts(database, dialogue.id, BOB, day_start=t, since=t)
    assert (counts.total, counts.own_total, counts.new_since_last, counts.own_last_day) == (9, 2, 2, 1)  # 8004, 8010
    await leaders_db.add_leader(database, dialogue.id, BOB, 2, NOW)
    await leaders_db.add_leader(database, dialogue.id, CHEN, 2, NOW)
    by_leader = await checkins_db.leader_counts(database, dialogue.id, t)
    assert {user: (c.last_day, c.total) for user, c in by_leader.items()} == {BOB: (1, 2), CHEN: (0, 3)}
    assert await leaders_db.leaders_thread(database, dialogue.id) == backstage
