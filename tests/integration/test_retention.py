"""Retention through the bot: the text goes keep_transcripts_days after the close, across restarts; counts stay."""

from __future__ import annotations

import re

import simcord

from bot import create_bot
from bot.domain.models import Dialogue, State
from bot.record.retention import JOB_ID
from tests.conftest import World
from tests.integration.support import DAY, HOUR, channel, create_dialogue, reload, run, thread

HOME = "What does engagement add at home?"
KEEP_DAYS = 3


async def closed_dialogue(world: World) -> tuple[Dialogue, simcord.ChannelHandle]:
    dialogue = await create_dialogue(world, opens="now", duration="1d")
    await world.env.advance_time(1)
    room = channel(world, await reload(world, dialogue.id))
    home = thread(room, HOME)
    await world.alice.send(home, "What I would not want published in ten years.")
    await world.bob.send(home, "Nor I.")
    await world.alice.send(home, "Agreed.")
    await run(world, "dialogue close", dialogue=str(dialogue.id))
    closed = await reload(world, dialogue.id)
    assert closed.state is State.CLOSED and closed.closed_at is not None
    return closed, room


async def texts(world: World, dialogue_id: int) -> list[str]:
    rows = await world.bot.database.fetchall(
        "SELECT content FROM posts WHERE dialogue_id = ? ORDER BY message_id", (dialogue_id,)
    )
    return [row["content"] for row in rows]


def stamp(status: str, words: str) -> int:
    found = re.search(rf"{words} <t:(\d+):F>", status)
    assert found, status
    return int(found[1])


async def test_the_text_is_purged_at_the_limit_across_a_restart_and_the_counts_stay(world: World) -> None:
    await world.restart_with(keep_transcripts_days=KEEP_DAYS)
    dialogue, _room = await closed_dialogue(world)
    assert dialogue.closed_at is not None
    limit = dialogue.closed_at.timestamp() + KEEP_DAYS * DAY

    status = await run(world, "dialogue status", dialogue=str(dialogue.id))
    assert stamp(status, "Transcript: its text will be purged on") == limit
    assert "Activity: 3 posts from 2 participants" in status

    await world.env.advance_time(limit - world.env.now().timestamp() - HOUR)
    await world.restart()
    await world.env.advance_time(HOUR - 1)
    assert await texts(world, dialogue.id) == ["What I would not want published in ten years.", "Nor I.", "Agreed."]

    await world.env.advance_time(1)
    assert await texts(world, dialogue.id) == ["", "", ""]
    status = await run(world, "dialogue status", dialogue=str(dialogue.id))
    assert stamp(status, "Transcript purged on") == limit
    assert "will be purged" not in status
    assert "Activity: 3 posts from 2 participants" in status


async def test_a_limit_passed_while_the_bot_was_down_is_purged_at_start_up(world: World) -> None:
    await world.restart_with(keep_transcripts_days=KEEP_DAYS)
    dialogue, _room = await closed_dialogue(world)
    await world.bot.close()
    await world.env.advance_time(KEEP_DAYS * DAY + 5 * DAY)  # the limit passes while the bot is down
    await world.env.restart_bot(create_bot(world.settings))
    await world.env.settle()
    assert await texts(world, dialogue.id) == ["", "", ""]
    status = await run(world, "dialogue status", dialogue=str(dialogue.id))
    assert stamp(status, "Transcript purged on") == int(world.env.now().timestamp())


async def test_a_dialogue_closed_after_the_timer_was_armed_is_purged_on_time(world: World) -> None:
    await world.restart_with(keep_transcripts_days=KEEP_DAYS)
    await world.env.advance_time(7 * HOUR)  # the daily wake is now at 07:00, not at midnight
    dialogue, _room = await closed_dialogue(world)
    assert dialogue.closed_at is not None
    limit = dialogue.closed_at.timestamp() + KEEP_DAYS * DAY
    await world.env.advance_time(limit - world.env.now().timestamp() - 1)
    assert await texts(world, dialogue.id) != ["", "", ""]
    await world.env.advance_time(1)
    assert await texts(world, dialogue.id) == ["", "", ""]


async def test_by_default_transcripts_are_kept(world: World) -> None:
    dialogue, _room = await closed_dialogue(world)
    assert JOB_ID in world.bot.scheduler.job_ids()  # the daily upkeep (ending surveys) runs, and purges nothing
    await world.env.advance_time(400 * DAY)
    assert await texts(world, dialogue.id) == ["What I would not want published in ten years.", "Nor I.", "Agreed."]
    status = await run(world, "dialogue status", dialogue=str(dialogue.id))
    assert "Transcript" not in status


async def test_an_open_dialogue_says_when_its_text_will_go(world: World) -> None:
    await world.restart_with(keep_transcripts_days=KEEP_DAYS)
    dialogue = await create_dialogue(world, opens="now", duration="1d")
    status = await run(world, "dialogue status", dialogue=str(dialogue.id))
    assert "Transcript: its text is purged 3 days after the dialogue closes." in status
