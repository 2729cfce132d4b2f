"""Restarts, Discord refusing a step, missing permissions: the record always says what exists."""

from __future__ import annotations

import discord
import pytest
import simcord

import db.dialogues as dialogues_db
from bot import create_bot, render
from bot.app import DialogueBot
from bot.domain.models import State
from bot.services import TIMER_JOB
from db import Database
from tests.conftest import World
from tests.integration.support import (
    DAY,
    HOUR,
    bot_messages,
    channel,
    create_dialogue,
    reload,
    run,
    stats,
    take_bot_permissions,
)

# Both backends: these run on SQLite and on a real PostgreSQL server (tests/conftest.py).
pytestmark = pytest.mark.both_backends


def dialogue_channels(world: World, name: str = "engaging-the-council") -> list[object]:
    return [c for c in world.guild.channels.values() if c.name == name]


def wrapups(world: World, dialogue) -> list[discord.Message]:  # type: ignore[no-untyped-def]
    return [m for m in bot_messages(channel(world, dialogue), world) if m.content.startswith("# Thank you")]


def last_dm(world: World, member) -> str:  # type: ignore[no-untyped-def]
    message = member.user.dm_channel.last_message
    assert message is not None
    return message.content


async def test_restart_before_opening_still_opens_once(world: World) -> None:
    dialogue = await create_dialogue(world, opens="in 2h")
    await world.env.advance_time(HOUR)
    await world.restart()
    await world.env.advance_time(HOUR)
    opened = await reload(world, dialogue.id)
    assert opened.state is State.OPEN
    assert len(dialogue_channels(world)) == 1
    assert len(channel(world, opened).pinned_messages()) == 1


async def test_restart_during_the_window_keeps_recording_and_closes_once(world: World) -> None:
    dialogue = await create_dialogue(world, opens="now", duration="1d")
    await world.env.advance_time(1)
    room = channel(world, await reload(world, dialogue.id))
    seed = room.threads[0]
    await world.alice.send(seed, "Before the restart.")
    intro_count = len(bot_messages(room, world))

    await world.restart()
    await world.env.advance_time(HOUR)
    await world.bob.send(seed, "After the restart.")
    assert len(dialogue_channels(world)) == 1
    assert len(bot_messages(room, world)) == intro_count  # no second intro
    await world.env.advance_time(DAY)
    closed = await reload(world, dialogue.id)
    assert closed.state is State.CLOSED
    assert len(wrapups(world, closed)) == 1
    assert "**2 posts from 2 participants.**" in wrapups(world, closed)[0].content


async def test_close_time_passing_while_down_closes_once_at_start_up(world: World) -> None:
    dialogue = await create_dialogue(world, opens="now", duration="1d")
    await world.env.advance_time(1)
    await world.alice.send(channel(world, await reload(world, dialogue.id)).threads[0], "One post.")

    await world.bot.close()  # down across the closing time
    await world.env.advance_time(DAY + HOUR)
    assert await _state_while_down(world, dialogue.id) is State.OPEN
    await world.env.restart_bot(_fresh(world))
    await world.env.advance_time(1)
    closed = await reload(world, dialogue.id)
    assert closed.state is State.CLOSED
    assert len(wrapups(world, closed)) == 1

    await world.restart()  # and a further restart posts nothing more
    await world.env.advance_time(HOUR)
    assert len(wrapups(world, closed)) == 1


async def test_open_time_passing_while_down_opens_at_start_up(world: World) -> None:
    dialogue = await create_dialogue(world, opens="in 1h", duration="2d")
    await world.bot.close()
    await world.env.advance_time(3 * HOUR)
    await world.env.restart_bot(_fresh(world))
    await world.env.advance_time(1)
    opened = await reload(world, dialogue.id)
    assert opened.state is State.OPEN
    assert len(dialogue_channels(world)) == 1


async def test_window_passing_while_down_is_missed_and_reported(world: World) -> None:
    dialogue = await create_dialogue(world, opens="in 1h", duration="2h")
    await world.bot.close()
    await world.env.advance_time(5 * HOUR)
    await world.env.restart_bot(_fresh(world))
    await world.env.advance_time(1)
    missed = await reload(world, dialogue.id)
    assert missed.state is State.MISSED
    assert dialogue_channels(world) == []
    assert "never opened" in last_dm(world, world.fac)


async def test_a_failed_thread_creation_is_retried_without_duplicates(world: World) -> None:
    dialogue = await create_dialogue(world, opens="in 1h")
    world.env.inject_error("POST", "/channels/*/threads", status=500, code=0, message="Server trouble", times=1)
    await world.env.advance_time(HOUR)

    failed = await reload(world, dialogue.id)
    assert failed.state is State.FAILED
    assert "create the thread for question 1" in (failed.failure_reason or "")
    assert failed.channel_id is not None  # the channel and intro exist and are recorded
    room = channel(world, failed)
    assert len(bot_messages(room, world)) == 1
    assert "could not open" in last_dm(world, world.fac)
    assert "/dialogue open" in last_dm(world, world.fac)

    reply = await run(world, "dialogue open", dialogue=str(dialogue.id))
    assert "is open" in reply
    opened = await reload(world, dialogue.id)
    assert opened.state is State.OPEN and opened.failure_reason is None
    assert len(dialogue_channels(world)) == 1
    assert len(bot_messages(room, world)) == 1
    assert len(room.pinned_messages()) == 1
    seeds = [t.name for t in room.threads if not t.name.startswith("Leaders · #")]
    assert seeds == ["What does engagement add at home?", "What outcomes are realistic?"]


async def test_a_failed_close_step_is_retried_with_one_wrapup(world: World) -> None:
    dialogue = await create_dialogue(world, opens="now", duration="1d")
    await world.env.advance_time(1)
    world.env.inject_error("PATCH", "/channels/*", status=500, code=0, message="Server trouble", times=1)
    await world.env.advance_time(DAY)
    interrupted = await reload(world, dialogue.id)
    assert interrupted.state is State.CLOSED
    assert wrapups(world, interrupted) == []
    assert "was interrupted" in last_dm(world, world.fac)

    await world.env.advance_time(10 * 60)  # the retry
    assert len(wrapups(world, interrupted)) == 1
    assert await dialogues_db.thread_ids(world.bot.database, dialogue.id, unlocked_only=True) == []
    assert "already closed" in await run(world, "dialogue close", dialogue=str(dialogue.id))
    assert len(wrapups(world, interrupted)) == 1


async def test_missing_bot_permissions_fail_the_opening_by_name(world: World) -> None:
    await take_bot_permissions(world, "manage_roles", "manage_threads")

    dialogue = await create_dialogue(world, opens="in 1h")
    await world.env.advance_time(HOUR)
    failed = await reload(world, dialogue.id)
    assert failed.state is State.FAILED
    assert failed.failure_reason == "the bot is missing permissions: Manage Roles, Manage Threads"
    assert failed.channel_id is None
    assert dialogue_channels(world) == []
    assert "Manage Roles, Manage Threads" in last_dm(world, world.fac)
    status = await run(world, "dialogue status", dialogue=str(dialogue.id))
    assert "State: failed — the bot is missing permissions: Manage Roles, Manage Threads" in status

    await take_bot_permissions(world)  # given back
    await run(world, "dialogue open", dialogue=str(dialogue.id))
    assert (await reload(world, dialogue.id)).state is State.OPEN
    assert len(dialogue_channels(world)) == 1


async def test_failures_go_to_the_log_channel_when_configured(world: World) -> None:
    log_room = world.guild.create_text_channel("facilitators-log")
    await world.restart_with(log_channel="facilitators-log")
    world.env.inject_error("POST", "/guilds/*/channels", status=500, code=0, message="Server trouble", times=None)
    dialogue = await create_dialogue(world, opens="in 1h")
    await world.env.advance_time(HOUR)
    assert (await reload(world, dialogue.id)).state is State.FAILED
    assert log_room.last_message is not None
    assert "could not open" in log_room.last_message.content


async def _state_while_down(world: World, dialogue_id: int) -> State:
    """Read a dialogue's state straight from the database while the bot is down."""
    database = await Database.connect(world.settings.database)
    try:
        found = await dialogues_db.get(database, dialogue_id)
        assert found is not None
        return found.state
    finally:
        await database.close()


def _fresh(world: World) -> DialogueBot:
    return create_bot(world.settings)


async def test_posts_made_while_the_bot_is_away_are_recorded_at_start_up(world: World) -> None:
    dialogue = await create_dialogue(world, opens="now", duration="1d")
    await world.env.advance_time(1)
    room = channel(world, await reload(world, dialogue.id))
    seed = room.threads[0]
    await world.alice.send(seed, "Seen live.")

    await world.bot.ws.close()  # offline: gateway events are dropped from here on
    await world.bob.send(seed, "Written while the bot was away.")
    await world.chen.send(room, "A new topic while away\nDetails.")
    await world.restart()
    await world.env.advance_time(1)

    numbers = await stats(world, dialogue.id)
    assert (numbers.posts, numbers.participants) == (3, 3)
    assert "A new topic while away" in [t.name for t in room.threads]
    await world.restart()  # catching up twice records nothing twice
    await world.env.advance_time(1)
    assert (await stats(world, dialogue.id)).posts == 3


async def test_close_stops_the_scheduler_and_the_database(world: World) -> None:
    bot = world.bot
    await create_dialogue(world, opens="in 1h")
    assert TIMER_JOB in bot.scheduler.job_ids()
    await bot.close()
    assert bot.scheduler.running is False
    assert bot._database is None


async def test_a_crash_between_creating_and_recording_adopts_only_what_carries_the_dialogues_mark(
    world: World,
) -> None:
    dialogue = await create_dialogue(world, opens="in 1h")
    # The channel and the first thread get made, but the records are lost as in a crash between the two.
    world.env.inject_error("POST", "/channels/*/threads", status=500, code=0, message="Server trouble", times=1)
    await world.env.advance_time(HOUR)
    failed = await reload(world, dialogue.id)
    room = channel(world, failed)
    orphan = await world.bot.dialogues.gateway.create_thread(
        world.bot.get_channel(room.id), "What does engagement add at home?"
    )
    await world.bot.database.execute("UPDATE dialogues SET channel_id = NULL WHERE id = ?", (dialogue.id,))

    await run(world, "dialogue open", dialogue=str(dialogue.id))
    opened = await reload(world, dialogue.id)
    # The channel's topic names this dialogue: it is adopted, not made twice.
    assert opened.state is State.OPEN and opened.channel_id == room.id
    assert len(dialogue_channels(world)) == 1
    # An unrecorded thread carries no mark of its question: a new one is made rather than a look-alike adopted.
    questions = await dialogues_db.questions(world.bot.database, dialogue.id)
    assert orphan.id not in {q.thread_id for q in questions}
    for question in questions:
        seed = next(t for t in room.threads if t.id == question.thread_id)
        assert [m.content for m in bot_messages(seed, world)] == [render.seed_post(question)]


async def test_posts_made_while_away_count_when_the_close_passed_during_the_downtime(world: World) -> None:
    dialogue = await create_dialogue(world, opens="now", duration="1d")
    await world.env.advance_time(1)
    seed = channel(world, await reload(world, dialogue.id)).threads[0]
    await world.alice.send(seed, "Seen live.")
    await world.bot.ws.close()
    await world.bob.send(seed, "Written while the bot was away.")
    await world.bot.close()
    await world.env.advance_time(DAY + HOUR)
    await world.env.restart_bot(_fresh(world))
    await world.env.advance_time(1)
    closed = await reload(world, dialogue.id)
    assert closed.state is State.CLOSED
    assert "**2 posts from 2 participants.**" in wrapups(world, closed)[0].content


async def test_cancelling_a_failed_opening_locks_what_it_left(world: World) -> None:
    dialogue = await create_dialogue(world, opens="in 1h")
    world.env.inject_error("POST", "/channels/*/threads", status=500, code=0, message="Server trouble", times=1)
    await world.env.advance_time(HOUR)
    room = channel(world, await reload(world, dialogue.id))
    assert "cancelled" in await run(world, "dialogue cancel", dialogue=str(dialogue.id))
    with pytest.raises(simcord.BackendError):
        await world.alice.send(room, "Is anyone here?")


async def test_a_close_that_keeps_failing_backs_off_and_tells_facilitators_once(world: World) -> None:
    dialogue = await create_dialogue(world, opens="now", duration="1d")
    await world.env.advance_time(1)
    world.env.inject_error("PATCH", "/channels/*", status=500, code=0, message="Server trouble", times=4)
    await world.env.advance_time(DAY)
    notices = lambda: [m for m in world.fac.user.dm_channel.history() if "was interrupted" in m.content]  # noqa: E731
    assert len(notices()) == 1
    await world.env.advance_time(5 * 60 + 10 * 60 + 20 * 60 + 40 * 60)  # retries at +5, +10, +20, +40 minutes
    closed = await reload(world, dialogue.id)
    assert len(wrapups(world, closed)) == 1
    assert len(notices()) == 1


async def test_an_intro_or_wrapup_posted_but_not_recorded_is_adopted(world: World) -> None:
    dialogue = await create_dialogue(world, opens="now", duration="1d")
    await world.env.advance_time(1)
    room = channel(world, await reload(world, dialogue.id))
    before = len(bot_messages(room, world))
    # As if the bot crashed after posting the intro and before recording it.
    await world.bot.database.execute(
        "DELETE FROM bot_messages WHERE dialogue_id = ? AND kind = 'intro'", (dialogue.id,)
    )
    await world.restart()
    await world.env.advance_time(1)
    assert len(bot_messages(room, world)) == before
    assert len(await dialogues_db.bot_messages(world.bot.database, dialogue.id, "intro")) == 1

    await world.env.advance_time(DAY)
    closed = await reload(world, dialogue.id)
    assert len(wrapups(world, closed)) == 1
    await world.bot.database.execute(
        "DELETE FROM bot_messages WHERE dialogue_id = ? AND kind = 'wrapup'", (dialogue.id,)
    )
    await world.restart()
    await world.env.advance_time(1)
    assert len(wrapups(world, closed)) == 1
    assert len(await dialogues_db.bot_messages(world.bot.database, dialogue.id, "wrapup")) == 1
