"""A dialogue's whole life, driven by the scheduler alone and by facilitators' commands."""

from __future__ import annotations

import discord
import pytest
import simcord

import db.dialogues as dialogues_db
from bot.domain.models import State
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
    thread,
)


async def test_a_full_dialogue_runs_on_time_alone(world: World) -> None:
    dialogue = await create_dialogue(world, opens="in 1h", duration="2d")
    assert dialogue.state is State.SCHEDULED
    assert not any(c.name == "engaging-the-council" for c in world.guild.channels.values())

    await world.env.advance_time(HOUR - 1)
    assert (await reload(world, dialogue.id)).state is State.SCHEDULED
    await world.env.advance_time(1)

    opened = await reload(world, dialogue.id)
    assert opened.state is State.OPEN
    room = channel(world, opened)
    assert room.name == "engaging-the-council"
    dchannel = world.bot.get_channel(room.id)
    assert isinstance(dchannel, discord.TextChannel)
    assert dchannel.category is not None and dchannel.category.name == "Dialogues"
    assert dchannel.topic is not None and dchannel.topic.startswith("Engaging the Council")
    pinned = room.pinned_messages()
    assert len(pinned) == 1
    intro = pinned[0].content
    assert "# Engaging the Council" in intro
    assert "**1.** What does engagement add at home?" in intro
    assert "**2.** What outcomes are realistic?" in intro
    assert f"<t:{int(opened.opens_at.timestamp())}:F>" in intro
    assert "reply in the thread" in intro
    seeds = [t.name for t in room.threads if not t.name.startswith("Leaders · #")]
    assert seeds == ["What does engagement add at home?", "What outcomes are realistic?"]
    home = thread(room, "What does engagement add at home?")
    assert home.history()[-1].content == f"What does engagement add at home?\n-# dialogue #{dialogue.id} · question 1"

    alice, bob, chen, dara = world.members
    first = await alice.send(home, "It gives us a second audience.")
    await bob.send(home, "And a record that outlives the news cycle.", reply_to=first)
    await alice.send(home, "Exactly.")
    await chen.send(thread(room, "What outcomes are realistic?"), "Small ones, slowly.")
    await dara.send(room, "Safety first\nHow do we protect those who speak?")
    assert "Safety first" in [t.name for t in room.threads]
    await bob.send(thread(room, "Safety first"), "Anonymous submissions help.")

    await world.env.advance_time(2 * DAY)

    closed = await reload(world, dialogue.id)
    assert closed.state is State.CLOSED
    overwrites = dchannel.overwrites_for(world.dguild().default_role)
    assert overwrites.send_messages is False
    assert overwrites.send_messages_in_threads is False
    assert overwrites.create_public_threads is False
    assert dchannel.overwrites_for(world.dguild().me).send_messages is True
    facilitator_role = world.dguild().get_role(world.facilitators.id)
    assert dchannel.overwrites_for(facilitator_role).send_messages is True
    with pytest.raises(simcord.BackendError):
        await alice.send(room, "Too late?")
    with pytest.raises(simcord.BackendError):
        await alice.send(home, "Too late in the thread?")
    for thread_id in await dialogues_db.thread_ids(world.bot.database, dialogue.id):
        fetched = await world.bot.fetch_channel(thread_id)
        assert isinstance(fetched, discord.Thread)
        assert fetched.locked and fetched.archived

    wrapup = bot_messages(room, world)[-1].content
    assert "Thank you" in wrapup
    assert "**6 posts from 4 participants.**" in wrapup
    assert "- What does engagement add at home?: 3 posts from 2 participants" in wrapup
    assert "- What outcomes are realistic?: 1 post from 1 participant" in wrapup
    assert "- Safety first: 2 posts from 2 participants" in wrapup
    assert "now closed" in wrapup
    numbers = await stats(world, dialogue.id)
    assert (numbers.posts, numbers.participants) == (6, 4)


async def test_facilitator_opens_and_closes_by_hand(world: World) -> None:
    dialogue = await create_dialogue(world, opens="in 1d", duration="3d")

    reply = await run(world, "dialogue open", dialogue=str(dialogue.id))
    opened = await reload(world, dialogue.id)
    assert opened.state is State.OPEN
    assert f"<#{opened.channel_id}>" in reply
    assert opened.opens_at == world.env.now().replace(microsecond=0)
    assert "already open" in await run(world, "dialogue open", dialogue=str(dialogue.id))

    room = channel(world, opened)
    await world.alice.send(room.threads[0], "A first reply.")
    reply = await run(world, "dialogue close", dialogue=str(dialogue.id))
    assert "is closed" in reply
    assert (await reload(world, dialogue.id)).state is State.CLOSED
    assert "already closed" in await run(world, "dialogue close", dialogue=str(dialogue.id))

    # The original opening and closing times pass: nothing opens again, no second wrap-up.
    await world.env.advance_time(5 * DAY)
    wrapups = [m for m in bot_messages(room, world) if m.content.startswith("# Thank you")]
    assert len(wrapups) == 1
    assert "**1 post from 1 participant.**" in wrapups[0].content
    assert len([c for c in world.guild.channels.values() if c.name == "engaging-the-council"]) == 1


async def test_extend_moves_the_close(world: World) -> None:
    dialogue = await create_dialogue(world, opens="now", duration="1d")
    await world.env.advance_time(60)
    reply = await run(world, "dialogue extend", dialogue=str(dialogue.id), by="12h")
    extended = await reload(world, dialogue.id)
    assert (extended.closes_at - dialogue.closes_at).total_seconds() == 12 * HOUR
    assert f"<t:{int(extended.closes_at.timestamp())}:F>" in reply

    await world.env.advance_time(DAY)
    assert (await reload(world, dialogue.id)).state is State.OPEN
    await world.env.advance_time(12 * HOUR)
    assert (await reload(world, dialogue.id)).state is State.CLOSED

    refused = await run(world, "dialogue extend", dialogue=str(dialogue.id), by="1d")
    assert "Cannot extend" in refused and "closed" in refused


async def test_extend_refuses_a_bad_duration(world: World) -> None:
    dialogue = await create_dialogue(world)
    reply = await run(world, "dialogue extend", dialogue=str(dialogue.id), by="5x")
    assert reply.startswith("**by**:") and "`5x` is not a duration" in reply
    assert (await reload(world, dialogue.id)).closes_at == dialogue.closes_at


async def test_cancel_before_opening(world: World) -> None:
    dialogue = await create_dialogue(world, opens="in 2h")
    reply = await run(world, "dialogue cancel", dialogue=str(dialogue.id))
    assert "cancelled" in reply
    await world.env.advance_time(3 * DAY)
    assert (await reload(world, dialogue.id)).state is State.CANCELLED
    assert not any(c.name == "engaging-the-council" for c in world.guild.channels.values())
    assert "Cannot open" in await run(world, "dialogue open", dialogue=str(dialogue.id))


async def test_cancel_refused_once_open(world: World) -> None:
    dialogue = await create_dialogue(world, opens="now")
    await world.env.advance_time(1)
    reply = await run(world, "dialogue cancel", dialogue=str(dialogue.id))
    assert "already open" in reply and "/dialogue close" in reply
    assert (await reload(world, dialogue.id)).state is State.OPEN


async def test_status_and_list(world: World) -> None:
    first = await create_dialogue(world, title="First topic", opens="now")
    await create_dialogue(world, title="Second topic", opens="in 3d")
    await world.env.advance_time(1)
    room = channel(world, await reload(world, first.id))
    await world.alice.send(room.threads[0], "One.")
    await world.bob.send(room.threads[0], "Two.")

    status = await run(world, "dialogue status", dialogue=str(first.id))
    assert "State: open" in status
    assert "2 posts from 2 participants" in status
    assert "What does engagement add at home?: 2 posts, 2 participants" in status

    listing = await run(world, "dialogue list")
    assert listing.index("**Open**") < listing.index("First topic")
    assert listing.index("**Scheduled**") < listing.index("Second topic")


async def test_unknown_dialogue_is_named(world: World) -> None:
    reply = await run(world, "dialogue status", dialogue="No such thing")
    assert "No dialogue “No such thing”" in reply


async def test_dialogue_autocomplete_lists_this_guilds_dialogues(world: World) -> None:
    await create_dialogue(world, title="Alpha")
    await create_dialogue(world, title="Beta")
    choices = await world.fac.autocomplete(world.general, "dialogue status", "dialogue", "alp")
    assert [(c["name"], c["value"]) for c in choices] == [("#1 Alpha (scheduled)", "1")]


async def test_edits_and_deletions_are_reflected(world: World) -> None:
    dialogue = await create_dialogue(world, opens="now")
    await world.env.advance_time(1)
    room = channel(world, await reload(world, dialogue.id))
    message = await world.alice.send(room.threads[0], "First draft")
    other = await world.bob.send(room.threads[0], "To be removed")

    await world.alice.edit(message, "Second draft")
    row = await world.bot.database.fetchone("SELECT content, edited_at FROM posts WHERE message_id = ?", (message.id,))
    assert row is not None and row["content"] == "Second draft" and row["edited_at"] is not None

    await world.bob.delete(other)
    row = await world.bot.database.fetchone(
        "SELECT content, author_name, deleted_at FROM posts WHERE message_id = ?", (other.id,)
    )
    assert row is not None and row["content"] == "" and row["author_name"] == "" and row["deleted_at"] is not None
    numbers = await stats(world, dialogue.id)
    assert (numbers.posts, numbers.participants) == (1, 1)


async def test_bot_and_system_messages_are_not_posts(world: World) -> None:
    dialogue = await create_dialogue(world, opens="now")
    await world.env.advance_time(1)
    numbers = await stats(world, dialogue.id)
    assert numbers.posts == 0
    await world.alice.send(world.general, "Not part of any dialogue")
    assert (await stats(world, dialogue.id)).posts == 0
