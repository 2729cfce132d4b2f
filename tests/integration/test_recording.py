"""What gets recorded as a dialogue's posts, through SimCord: members post, edit, delete; time moves; restarts."""

from __future__ import annotations

import discord
import pytest
import simcord

import db.dialogues as dialogues_db
from bot.domain.models import Dialogue, State
from bot.recording import webhook_author_id
from tests.conftest import World
from tests.integration.support import (
    DAY,
    bot_messages,
    channel,
    create_dialogue,
    is_leaders_thread,
    leaders_thread,
    reload,
    run,
    stats,
    thread,
)

HOME = "What does engagement add at home?"
OUTCOMES = "What outcomes are realistic?"


async def open_dialogue(world: World, duration: str = "1d") -> tuple[Dialogue, simcord.ChannelHandle]:
    dialogue = await create_dialogue(world, opens="now", duration=duration)
    await world.env.advance_time(1)
    opened = await reload(world, dialogue.id)
    assert opened.state is State.OPEN
    return opened, channel(world, opened)


async def row(world: World, message_id: int) -> dict[str, object] | None:
    found = await world.bot.database.fetchone("SELECT * FROM posts WHERE message_id = ?", (message_id,))
    return dict(found) if found is not None else None


def wrapup(world: World, room: simcord.ChannelHandle) -> str:
    return next(m.content for m in reversed(bot_messages(room, world)) if m.content.startswith("# Thank you"))


def history_reads(world: World, mark: int) -> list[str]:
    """Paths of the message-history reads (catch-up reads ``after`` a message or instant) since ``mark``."""
    return [
        entry.path
        for entry in world.env.http_requests[mark:]
        if entry.method == "GET" and entry.path.endswith("/messages") and "after" in (entry.params or {})
    ]


# ----- defect 5: record until the lock has taken effect ------------------------------------------------------


async def test_replies_are_recorded_while_the_lock_is_failing_and_counted_in_the_wrapup(world: World) -> None:
    dialogue, room = await open_dialogue(world)
    home = thread(room, HOME)
    await world.alice.send(home, "Before the close.")
    # The lock's request fails once (overwrites set one by one with PUT, or all at once by editing the channel).
    world.env.inject_error("PUT", f"/channels/{room.id}/permissions/*", status=500, message="Server trouble", times=1)
    world.env.inject_error("PATCH", f"/channels/{room.id}", status=500, message="Server trouble", times=1)
    reply = await run(world, "dialogue close", dialogue=str(dialogue.id))
    closing = await reload(world, dialogue.id)
    assert closing.state is State.CLOSED and closing.locked_at is None, reply

    late = await world.bob.send(home, "Written while the lock was failing.")
    assert await row(world, late.id) is not None
    assert ((await stats(world, dialogue.id)).posts, (await stats(world, dialogue.id)).participants) == (2, 2)

    await world.env.advance_time(10 * 60)  # the close retries, locks, and posts the wrap-up
    assert (await reload(world, dialogue.id)).locked_at is not None
    assert "**2 posts from 2 participants.**" in wrapup(world, room)


async def test_nothing_is_recorded_after_the_lock_took_effect(world: World) -> None:
    dialogue, room = await open_dialogue(world)
    home = thread(room, HOME)
    await run(world, "dialogue close", dialogue=str(dialogue.id))
    assert (await reload(world, dialogue.id)).locked_at is not None
    # Facilitators may still write in the locked channel; that is not part of the dialogue's record.
    after = await world.fac.send(room, "A note from the facilitators after the close.")
    in_thread = await world.fac.send(home, "And one in a thread.")
    assert await row(world, after.id) is None
    assert await row(world, in_thread.id) is None
    assert (await stats(world, dialogue.id)).posts == 0
    assert [t.name for t in room.threads if t.name not in (HOME, OUTCOMES) and not is_leaders_thread(t)] == []
    assert home.name == HOME


async def test_nothing_is_recorded_before_the_opening_in_a_failed_openings_channel(world: World) -> None:
    dialogue = await create_dialogue(world, opens="in 1h")
    world.env.inject_error("POST", "/channels/*/threads", status=500, code=0, message="Server trouble", times=1)
    await world.env.advance_time(3600)
    failed = await reload(world, dialogue.id)
    assert failed.state is State.FAILED and failed.channel_id is not None
    early = await world.alice.send(channel(world, failed), "Is this where it happens?")
    assert await row(world, early.id) is None
    assert await dialogues_db.thread_origin(world.bot.database, early.id) is None


# ----- defect 7: threads started while the bot was away ------------------------------------------------------


async def _thread_started_while_away(world: World, room: simcord.ChannelHandle, *, archive: bool) -> int:
    await world.bot.ws.close()  # offline: gateway events are dropped from here on
    made = world.env.backend.create_thread(room.id, "Started while away", world.alice.id)
    away = thread(room, "Started while away")
    await world.alice.send(away, "A topic nobody seeded.")
    await world.bob.send(away, "Glad you raised it.")
    if archive:  # auto-archived after a day without posts, still while the bot was down
        world.env.backend.channels[made.id].thread_metadata.archived = True
    await world.restart()
    await world.env.advance_time(1)
    return made.id


@pytest.mark.parametrize("archive", [False, True], ids=["active", "archived"])
async def test_a_thread_started_while_away_is_recorded_counted_and_locked(world: World, archive: bool) -> None:
    dialogue, room = await open_dialogue(world)
    away_id = await _thread_started_while_away(world, room, archive=archive)
    assert await dialogues_db.thread_origin(world.bot.database, away_id) == (dialogue.id, "participant")
    numbers = await stats(world, dialogue.id)
    assert (numbers.posts, numbers.participants) == (2, 2)

    await world.env.advance_time(DAY)
    assert (await reload(world, dialogue.id)).state is State.CLOSED
    assert world.env.backend.channels[away_id].thread_metadata.locked is True
    assert "- Started while away: 2 posts from 2 participants" in wrapup(world, room)


# ----- issue 8: catch-up reads only what it may have missed --------------------------------------------------


async def test_a_close_watched_throughout_reads_no_history(world: World) -> None:
    dialogue, room = await open_dialogue(world)
    await world.alice.send(thread(room, HOME), "One.")
    await world.bob.send(room, "A topic of my own\nWith details.")
    mark = len(world.env.http_requests)
    await run(world, "dialogue close", dialogue=str(dialogue.id))
    assert (await reload(world, dialogue.id)).locked_at is not None
    assert history_reads(world, mark) == []
    # The session saw the dialogue open, so no thread can have escaped it: no listing of archived threads either.
    assert [e.path for e in world.env.http_requests[mark:] if "/threads/archived" in e.path] == []
    assert "**2 posts from 2 participants.**" in wrapup(world, room)


async def test_after_a_restart_only_the_thread_with_a_missed_post_is_read(world: World) -> None:
    dialogue, room = await open_dialogue(world)
    home, outcomes = thread(room, HOME), thread(room, OUTCOMES)
    await world.alice.send(home, "One.")
    await world.alice.send(outcomes, "Two.")
    await world.restart()  # the first resume reads what it never saw (the channel's notices)
    await world.env.advance_time(1)

    await world.bot.ws.close()
    missed = await world.bob.send(outcomes, "Written while the bot was away.")
    mark = len(world.env.http_requests)
    await world.restart()
    await world.env.advance_time(1)
    assert history_reads(world, mark) == [f"/channels/{outcomes.id}/messages"]
    assert await row(world, missed.id) is not None
    assert (await stats(world, dialogue.id)).posts == 3


# ----- defect 11: what is recorded ---------------------------------------------------------------------------


async def test_posts_in_the_private_leaders_thread_are_not_recorded(world: World) -> None:
    dialogue, room = await open_dialogue(world)
    leaders = leaders_thread(room)
    backstage = await world.fac.send(leaders, "How are the threads going?")
    assert await row(world, backstage.id) is None
    assert (await stats(world, dialogue.id)).posts == 0


async def test_a_participants_private_thread_stays_out_of_the_record_and_the_wrapup(world: World) -> None:
    dialogue, room = await open_dialogue(world)
    made = world.env.backend.create_thread(
        room.id, "Our private plans", world.alice.id, type=discord.ChannelType.private_thread.value
    )
    await world.env.settle()
    private = await world.alice.send(thread(room, "Our private plans"), "Just between us.")
    assert await row(world, private.id) is None
    assert await dialogues_db.thread_origin(world.bot.database, made.id) is None
    await run(world, "dialogue close", dialogue=str(dialogue.id))
    assert "Our private plans" not in wrapup(world, room)


async def test_pins_and_thread_notices_are_not_posts(world: World) -> None:
    dialogue, room = await open_dialogue(world)
    home = thread(room, HOME)
    post = await world.alice.send(home, "Worth keeping in view.")
    moderators = world.guild.create_role(
        "Moderators", permissions=discord.Permissions(manage_messages=True, pin_messages=True)
    )
    moderator = world.guild.add_member(world.env.create_user("moderator"), roles=[moderators])
    await moderator.set_pinned(post, True)  # a member's "pinned a message" notice in the thread
    world.env.backend.create_thread(room.id, "A member's thread", world.bob.id)  # a "started a thread" notice
    await world.env.settle()
    notices = [m for m in home.history() + room.history() if m.type not in _POSTS]
    assert {m.type for m in notices} >= {discord.MessageType.pins_add, discord.MessageType.thread_created}
    for notice in notices:
        assert await row(world, notice.id) is None
    numbers = await stats(world, dialogue.id)
    assert (numbers.posts, numbers.participants) == (1, 1)
    assert "A member's thread" not in [t.title for t in numbers.threads]


_POSTS = (discord.MessageType.default, discord.MessageType.reply)


async def test_a_moderators_bulk_delete_is_honoured(world: World) -> None:
    dialogue, room = await open_dialogue(world)
    home = thread(room, HOME)
    kept = await world.alice.send(home, "Keep this.")
    purged = [await world.bob.send(home, f"Spam {n}") for n in range(3)]
    world.env.backend.bulk_delete_messages(home.id, [m.id for m in purged])
    await world.env.settle()
    for message in purged:
        found = await row(world, message.id)
        assert found is not None and found["content"] == "" and found["deleted_at"] is not None
    assert (await row(world, kept.id) or {})["content"] == "Keep this."
    numbers = await stats(world, dialogue.id)
    assert (numbers.posts, numbers.participants) == (1, 1)
    assert [(t.title, t.posts, t.participants) for t in numbers.threads if t.title == HOME] == [(HOME, 1, 1)]


async def test_edits_count_during_the_window_and_not_after_the_lock(world: World) -> None:
    dialogue, room = await open_dialogue(world)
    home = thread(room, HOME)
    post = await world.alice.send(home, "First draft")
    await world.alice.edit(post, "Second draft")
    assert (await row(world, post.id) or {})["content"] == "Second draft"

    await run(world, "dialogue close", dialogue=str(dialogue.id))
    await world.alice.edit(post, "Rewritten after the close")
    assert (await row(world, post.id) or {})["content"] == "Second draft"


async def test_bridged_webhook_posts_are_recorded_under_their_names(world: World) -> None:
    dialogue, room = await open_dialogue(world)
    bridge = world.guild.create_webhook(room, "PluralKit")
    first = await bridge.send("Speaking for our system\nWe were there.", username="Sky")
    topic = thread(room, "Speaking for our system")
    # A bridge posts in a thread through the parent's webhook (SimCord routes a webhook's thread_id to the
    # parent, so the thread post is made in the backend directly).
    hook = world.env.backend.webhooks[bridge.id]
    world.env.backend.create_message(
        topic.id, hook.webhook_user_id, "And again, here.", webhook_id=bridge.id, author_name="Sky"
    )
    world.env.backend.create_message(
        topic.id, hook.webhook_user_id, "Me too.", webhook_id=bridge.id, author_name="River"
    )
    await world.env.settle()
    recorded = await row(world, first.id)
    assert recorded is not None and recorded["author_name"] == "Sky"
    assert recorded["author_id"] == webhook_author_id(bridge.id, "Sky") < 0
    numbers = await stats(world, dialogue.id)
    assert (numbers.posts, numbers.participants) == (3, 2)
