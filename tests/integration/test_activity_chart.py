"""The wrap-up carries the activity chart: once, after failures and restarts too, and never a member's name."""

from __future__ import annotations

import io

import discord
import matplotlib.image
import pytest
import simcord
from matplotlib.text import Text

import bot.record.chart as chart_module
import db.dialogues as dialogues_db
from bot.closing import CHART_FILENAME
from bot.domain.models import Dialogue, State
from bot.record.activity import dialogue_activity
from bot.record.chart import activity_figure
from tests.conftest import World
from tests.integration.support import DAY, bot_messages, channel, create_dialogue, reload, run, thread

HOME = "What does engagement add at home?"
NAMES = ("alice", "bob", "chen", "dara", "kristin")


async def open_dialogue(world: World) -> tuple[Dialogue, simcord.ChannelHandle]:
    dialogue = await create_dialogue(world, opens="now", duration="1d")
    await world.env.advance_time(1)
    opened = await reload(world, dialogue.id)
    assert opened.state is State.OPEN
    return opened, channel(world, opened)


async def converse(world: World, room: simcord.ChannelHandle) -> None:
    """Posts over two days, and a participant thread whose title names two members."""
    home = thread(room, HOME)
    await world.alice.send(home, "Engagement gives our cases a hearing.")
    await world.bob.send(home, "And it gives us allies.")
    await world.chen.send(room, "Alice and BOB are right about allies")
    await world.env.advance_time(13 * 3600)
    await world.alice.send(home, "Next morning: a follow-up.")


def wrapups(world: World, room: simcord.ChannelHandle) -> list[discord.Message]:
    return [m for m in bot_messages(room, world) if m.content.startswith("# Thank you")]


async def the_chart(message: discord.Message) -> bytes:
    (attachment,) = message.attachments
    assert attachment.filename == CHART_FILENAME
    return await attachment.read()


def decodes(png: bytes) -> bool:
    pixels = matplotlib.image.imread(io.BytesIO(png), format="png")
    return png.startswith(b"\x89PNG") and pixels.shape[0] > 300 and pixels.shape[1] > 500


async def test_the_wrapup_carries_the_chart_once_and_no_member_is_named_on_it(world: World) -> None:
    dialogue, room = await open_dialogue(world)
    await converse(world, room)
    await run(world, "dialogue close", dialogue=str(dialogue.id))

    (wrapup,) = wrapups(world, room)
    assert decodes(await the_chart(wrapup))
    # The participant thread is named after its first words ("Alice and BOB are right…"): the chart says who
    # by pseudonym only. Every text object the figure draws is checked before it would be saved.
    activity = await dialogue_activity(world.bot.database, await reload(world, dialogue.id))
    drawn = [t.get_text() for t in activity_figure(activity).findobj(Text)]
    assert "Participant 1 and Participant 2 are rig…" in drawn
    assert HOME in drawn
    assert not [text for text in drawn for name in NAMES if name in text.casefold()]
    assert activity.total == 4
    assert [sum(t.per_day) for t in activity.threads if t.total] == [3, 1]


async def test_the_setting_turns_the_chart_off(world: World) -> None:
    await world.restart_with(activity_chart=False)
    dialogue, room = await open_dialogue(world)
    await converse(world, room)
    await run(world, "dialogue close", dialogue=str(dialogue.id))
    (wrapup,) = wrapups(world, room)
    assert wrapup.attachments == []


async def test_a_failed_first_part_is_posted_once_later_with_its_chart(world: World) -> None:
    dialogue, room = await open_dialogue(world)
    await converse(world, room)
    world.env.inject_error("POST", f"/channels/{room.id}/messages", status=500, message="Server trouble", times=1)
    reply = await run(world, "dialogue close", dialogue=str(dialogue.id))
    assert "could not post the wrap-up" in reply
    assert wrapups(world, room) == []

    await world.env.advance_time(5 * 60)  # the retry
    (wrapup,) = wrapups(world, room)
    assert decodes(await the_chart(wrapup))


async def test_a_wrapup_posted_but_not_recorded_before_a_crash_keeps_its_one_chart(world: World) -> None:
    dialogue, room = await open_dialogue(world)
    await converse(world, room)
    await world.env.advance_time(DAY)
    (wrapup,) = wrapups(world, room)
    # As if the bot crashed after posting the wrap-up and before recording it.
    await world.bot.database.execute(
        "DELETE FROM bot_messages WHERE dialogue_id = ? AND kind = 'wrapup'", (dialogue.id,)
    )
    await world.restart()
    await world.env.advance_time(1)

    assert [m.id for m in wrapups(world, room)] == [wrapup.id]
    assert await dialogues_db.bot_messages(world.bot.database, dialogue.id, "wrapup") == {0: wrapup.id}
    assert decodes(await the_chart(wrapups(world, room)[0]))


async def test_a_chart_that_cannot_be_drawn_does_not_hold_up_the_wrapup(
    world: World, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    dialogue, room = await open_dialogue(world)
    await converse(world, room)

    def broken(activity: object) -> bytes:
        raise RuntimeError("no fonts on this host")

    monkeypatch.setattr(chart_module, "activity_png", broken)
    reply = await run(world, "dialogue close", dialogue=str(dialogue.id))
    assert reply.endswith("the wrap-up is posted.")
    (wrapup,) = wrapups(world, room)
    assert wrapup.attachments == []
    assert "activity chart could not be drawn" in caplog.text
