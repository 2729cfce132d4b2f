"""One timer for every dialogue: a single scheduler job, each step at its time, once, across restarts."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import datetime, timedelta

import pytest

import db.dialogues as dialogues_db
from bot import create_bot
from bot.domain.models import Dialogue, DialogueDraft, State
from tests.conftest import World
from tests.integration.support import DAY, HOUR, bot_messages, channel, create_dialogue, reload, run, stats
from tests.integration.test_plan_import import OPENS, PLAN, import_plan

MINUTE = 60


def dialogue_jobs(world: World) -> list[str]:
    """The scheduler's jobs that belong to dialogues (leader reminders have their own)."""
    return [job for job in world.bot.scheduler.job_ids() if job.startswith("dialogue")]


def draft(number: int, opens: datetime, closes: datetime) -> DialogueDraft:
    return DialogueDraft(
        title=f"Topic {number:02d}",
        framing="Why do networks engage?",
        questions=("What changed at home?", "What is realistic?"),
        timezone="Europe/Zurich",
        opens_at=opens,
        closes_at=closes,
    )


async def test_fifty_dialogues_in_every_state_share_one_job_and_each_opens_and_closes_at_its_second(
    world: World,
) -> None:
    database = world.bot.database
    now = world.bot.clock().replace(microsecond=0)
    fac = world.fac.user.id
    expected: dict[int, tuple[datetime | None, datetime | None]] = {}  # id -> (opens at, closes at), None: never
    for number in range(30):  # scheduled, opening over the next 30 hours, each open a day and a bit
        opens = now + timedelta(hours=number + 1, minutes=7 * number)
        closes = opens + timedelta(days=1, minutes=13 * number)
        made = await dialogues_db.create(database, world.guild.id, fac, draft(number, opens, closes), now)
        expected[made.id] = (opens, closes)
    for number in range(30, 38):  # open already (as if the bot had opened them): they close on time
        closes = now + timedelta(hours=2 * (number - 29), minutes=number)
        made = await dialogues_db.create(database, world.guild.id, fac, draft(number, now, closes), now)
        await dialogues_db.transition(database, made.id, (State.SCHEDULED,), State.OPEN, now)
        expected[made.id] = (None, closes)
    others: dict[int, State] = {}
    for number, (state, path) in enumerate(
        [(State.FAILED, (State.OPEN, State.FAILED))] * 4
        + [(State.CLOSED, (State.OPEN, State.CLOSED))] * 4
        + [(State.CANCELLED, (State.CANCELLED,))] * 4,
        38,
    ):
        closes = now + timedelta(hours=number)
        made = await dialogues_db.create(database, world.guild.id, fac, draft(number, now, closes), now)
        source = State.SCHEDULED
        for target in path:
            await dialogues_db.transition(database, made.id, (source,), target, now)
            source = target
        others[made.id] = State.MISSED if state is State.FAILED else state
        if state is State.FAILED:
            expected[made.id] = (None, None)
    assert len(expected) + len(others) - 4 == 50

    await world.restart()  # start-up places the one timer from the record (the old database closes)
    assert dialogue_jobs(world) == ["dialogues:timer"]

    end = now + timedelta(days=3)
    while world.bot.clock() < end:
        await world.env.advance_time(HOUR)
        assert dialogue_jobs(world) in (["dialogues:timer"], [])
        moment = world.bot.clock()
        for dialogue_id, (opens, closes) in expected.items():
            dialogue = await reload(world, dialogue_id)
            if dialogue_id in others:  # failed: missed once its window has passed
                assert dialogue.state is (State.MISSED if moment >= dialogue.closes_at else State.FAILED)
                continue
            if closes is not None and moment >= closes:
                assert dialogue.state is State.CLOSED, (dialogue_id, moment)
                assert dialogue.closed_at == closes  # to the second
            elif opens is None or moment >= opens:
                assert dialogue.state is State.OPEN, (dialogue_id, moment)
                if opens is not None:
                    assert dialogue.opened_at == opens
            else:
                assert dialogue.state is State.SCHEDULED, (dialogue_id, moment)
    for dialogue_id, state in others.items():
        assert (await reload(world, dialogue_id)).state is state
    # Every dialogue that opened has one channel, with its intro pinned once and one wrap-up.
    names = Counter(c.name for c in world.guild.channels.values())
    assert all(count == 1 for count in names.values()), names
    for dialogue_id in expected:
        dialogue = await reload(world, dialogue_id)
        if dialogue.state is State.CLOSED:
            room = channel(world, dialogue)
            assert len(room.pinned_messages()) == 1
            assert len([m for m in bot_messages(room, world) if m.content.startswith("# Thank you")]) == 1
    assert dialogue_jobs(world) == []  # nothing is due any more
    assert await dialogues_db.earliest_wake(world.bot.database) is None


async def test_steps_due_while_the_bot_was_down_each_happen_once(world: World) -> None:
    await import_plan(world, PLAN)  # opens at OPENS, releases its third question a day later
    (staged,) = await world.bot.dialogues.in_guild(world.guild.id)
    await world.env.advance_time((OPENS - world.env.now()).total_seconds() + 1)
    closing = await create_dialogue(world, title="Closes while down", opens="now", duration="2h")
    recording = await create_dialogue(world, title="Records while down", opens="now", duration="3d")
    opening = await create_dialogue(world, title="Opens while down", opens="in 3h", duration="2d")
    missed = await create_dialogue(world, title="Missed while down", opens="in 1h", duration="1h")
    await world.env.advance_time(1)
    room = channel(world, await reload(world, recording.id))

    await world.bot.close()  # down for a day and a bit: every kind of step falls due meanwhile
    await world.alice.send(room.threads[0], "Written while the bot was down.")
    await world.env.advance_time(DAY + HOUR)
    await world.env.restart_bot(create_bot(world.settings))
    await world.env.advance_time(1)

    def posted() -> Counter[str]:
        return Counter(f"{r.method} {r.path}" for r in world.env.http_requests if r.method in ("POST", "PUT", "PATCH"))

    assert (await reload(world, closing.id)).state is State.CLOSED
    assert (await reload(world, opening.id)).state is State.OPEN
    assert (await reload(world, missed.id)).state is State.MISSED
    staged_room = channel(world, await reload(world, staged.id))
    assert len([t for t in staged_room.threads if t.name.startswith("Who is missing")]) == 1
    assert (await stats(world, recording.id)).posts == 1
    for dialogue in (closing, opening, staged, recording):
        assert len(channel(world, await reload(world, dialogue.id)).pinned_messages()) == 1
    wrapups = [m for m in bot_messages(channel(world, closing), world) if m.content.startswith("# Thank you")]
    assert len(wrapups) == 1

    before = posted()
    await world.restart()  # and a further restart does nothing twice
    await world.env.advance_time(HOUR)
    after = posted()
    repeated = {call: after[call] - before[call] for call in after if after[call] != before[call]}
    assert all(call.startswith("PUT /applications/") for call in repeated), repeated  # only the command sync
    assert (await stats(world, recording.id)).posts == 1


async def test_a_retry_that_falls_due_while_a_slow_run_is_still_going_is_not_lost(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    await import_plan(world, PLAN)
    (dialogue,) = await world.bot.dialogues.in_guild(world.guild.id)
    release = OPENS + timedelta(days=1)
    await world.env.advance_time((OPENS - world.env.now()).total_seconds() + 1)
    room = channel(world, await reload(world, dialogue.id))
    service = world.bot.dialogues
    real_catch_up = service.recorder.catch_up
    slow: list[datetime] = []

    async def slow_after_the_first_retry(found: Dialogue, until: datetime | None = None) -> int:
        # Reading history is slow once: the run that tries the release again is still going 20 minutes later.
        if service.clock() >= release + timedelta(minutes=5) and not slow:
            slow.append(service.clock())
            await asyncio.sleep(20 * MINUTE)
        return await real_catch_up(found, until)

    monkeypatch.setattr(service.recorder, "catch_up", slow_after_the_first_retry)
    # The release fails, and so does its first retry (5 minutes later), which places the next try 10 minutes on,
    # while that same run is still catching up.
    world.env.inject_error("POST", "/channels/*/threads", status=500, message="Server trouble", times=2)
    await world.env.advance_time((release - world.env.now()).total_seconds())
    await world.env.advance_time(5 * MINUTE)
    assert slow, "the retry run did not start"
    await world.env.advance_time(30 * MINUTE)
    assert len([t for t in room.threads if t.name.startswith("Who is missing")]) == 1
    status = await run(world, "dialogue status", dialogue=str(dialogue.id))
    assert "Opening: not finished" not in status


async def test_a_slow_step_of_one_dialogue_does_not_hold_up_another_due_meanwhile(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    await import_plan(world, PLAN)
    (slow_one,) = await world.bot.dialogues.in_guild(world.guild.id)
    release = OPENS + timedelta(days=1)  # 10:00 in Zurich
    other = await create_dialogue(world, title="Due meanwhile", opens="2026-01-03 10:05", duration="1d")
    assert other.opens_at == release + timedelta(minutes=5)
    await world.env.advance_time((OPENS - world.env.now()).total_seconds() + 1)
    service = world.bot.dialogues
    real_catch_up = service.recorder.catch_up

    async def slow_at_the_release(found: Dialogue, until: datetime | None = None) -> int:
        if found.id == slow_one.id and service.clock() >= release:
            await asyncio.sleep(20 * MINUTE)  # a long history read after the staged question is released
        return await real_catch_up(found, until)

    monkeypatch.setattr(service.recorder, "catch_up", slow_at_the_release)
    await world.env.advance_time((other.opens_at - world.env.now()).total_seconds())
    opened = await reload(world, other.id)
    assert opened.state is State.OPEN
    assert opened.opened_at == other.opens_at  # on time, while the other dialogue's step is still running
    await world.env.advance_time(30 * MINUTE)
