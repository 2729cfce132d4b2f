"""Comments until the summary: the window ends, comments stay open and are counted apart, the summary locks."""

from __future__ import annotations

from datetime import timedelta

import discord
import pytest
import simcord

import db.dialogues as dialogues_db
from bot.domain.models import AfterClose, Dialogue, State
from tests.conftest import World
from tests.integration.support import (
    DAY,
    HOUR,
    bot_messages,
    channel,
    create_dialogue,
    last_reply,
    reload,
    run,
    stats,
)
from tests.integration.test_plan_import import PLAN, answer_of, import_plan

TWO_PHASE = AfterClose.COMMENTS_UNTIL_SUMMARY.value


async def open_two_phase(world: World) -> Dialogue:
    """A comments-until-summary dialogue, open now for a day, with alice as its leader and one post."""
    dialogue = await create_dialogue(world, opens="now", duration="1d", after_close=TWO_PHASE)
    assert dialogue.after_close is AfterClose.COMMENTS_UNTIL_SUMMARY
    added = await world.fac.slash(
        world.general, "dialogue leaders add", dialogue=str(dialogue.id), member=world.alice, commitment=1
    )
    assert "is now a conversation leader" in last_reply(added), last_reply(added)
    await world.env.advance_time(1)
    dialogue = await reload(world, dialogue.id)
    await world.bob.send(channel(world, dialogue).threads[0], "During the window.")
    return dialogue


def thanks(world: World) -> list[discord.Message]:
    return [m for m in world.alice.user.dm_channel.history() if m.content.split("\n", 1)[0] == "Thank you"]


def notices(world: World, dialogue: Dialogue) -> list[discord.Message]:
    marker = f"-# dialogue #{dialogue.id} · comments closed"
    return [m for m in bot_messages(channel(world, dialogue), world) if m.content.endswith(marker)]


def seed(world: World, dialogue: Dialogue) -> simcord.ChannelHandle:
    return next(t for t in channel(world, dialogue).threads if not t.name.startswith("Leaders"))


async def test_from_opening_to_summary_comments_stay_open_are_counted_apart_and_the_summary_locks(
    world: World,
) -> None:
    dialogue = await open_two_phase(world)
    await world.env.advance_time(DAY)

    # The window's end: closed, wrapped up, the leader thanked; nothing locked.
    closed = await reload(world, dialogue.id)
    assert closed.state is State.CLOSED and closed.locked_at is None
    assert closed.comments_until == closed.closes_at + timedelta(days=30)
    wrapup = next(m for m in bot_messages(channel(world, closed), world) if m.content.startswith("# Thank you"))
    assert "Comments stay open here and in the threads until the summary is posted" in wrapup.content
    assert f"<t:{int(closed.comments_until.timestamp())}:F>" in wrapup.content
    assert len(thanks(world)) == 1

    # Posts keep coming and are recorded, counted apart from the window's; a restart changes nothing.
    await world.chen.send(seed(world, closed), "After the window.")
    await world.bot.ws.close()  # the bot goes away; what is posted meanwhile is caught up at start-up
    await world.chen.send(seed(world, closed), "While the bot was away.")
    await world.restart()
    await world.env.advance_time(1)
    counted = await stats(world, dialogue.id)
    assert (counted.posts, counted.posts_during, counted.posts_after, counted.participants_after) == (3, 1, 2, 1)
    status = await run(world, "dialogue status", dialogue=str(dialogue.id))
    assert "Phase: comments open until the summary is posted" in status
    assert f"<t:{int(closed.comments_until.timestamp())}:R>" in status
    assert "Posts during the window: 1; after it: 2 from 1 participant." in status
    assert len(thanks(world)) == 1

    # The summary locks everything, exactly as a close does, and is the last word.
    shown = await world.fac.slash(world.general, "dialogue summary", dialogue=str(dialogue.id))
    mark = len(world.env.http_requests)
    result = await world.fac.submit_modal(shown, {"summary": "What we heard, and what comes next."})
    assert "is posted" in last_reply(result)
    calls = [(call.method, call.path) for call in world.env.http_requests[mark:]]
    lock = calls.index(("PATCH", f"/channels/{dialogue.channel_id}"))  # the closing overwrites
    post = calls.index(("POST", f"/channels/{dialogue.channel_id}/messages"))
    assert lock < post  # locked first: nothing can be posted after the summary
    locked = await reload(world, dialogue.id)
    assert locked.locked_at is not None and locked.summary_posted_at is not None
    with pytest.raises(simcord.BackendError):
        await world.bob.send(channel(world, locked), "Too late.")
    assert await dialogues_db.thread_ids(world.bot.database, dialogue.id, unlocked_only=True) == []
    assert notices(world, locked) == []
    assert len(thanks(world)) == 1
    status = await run(world, "dialogue status", dialogue=str(dialogue.id))
    assert "Phase: locked" in status and "Summary: posted" in status


async def test_the_safety_limit_locks_it_with_one_notice_across_a_restart(world: World) -> None:
    dialogue = await open_two_phase(world)
    await world.env.advance_time(DAY)
    closed = await reload(world, dialogue.id)
    assert closed.comments_until is not None
    reply = await run(world, "dialogue status", dialogue=str(dialogue.id))
    assert "safety lock falls" in reply

    await world.env.advance_time(29 * DAY)
    assert (await reload(world, dialogue.id)).locked_at is None
    await world.restart()  # the limit is in the record: a restart keeps it
    await world.env.advance_time(DAY)
    locked = await reload(world, dialogue.id)
    assert locked.locked_at is not None
    assert len(notices(world, locked)) == 1
    with pytest.raises(simcord.BackendError):
        await world.bob.send(channel(world, locked), "Too late.")
    await world.restart()
    await world.env.advance_time(HOUR)
    assert len(notices(world, locked)) == 1
    assert len(thanks(world)) == 1
    # A summary can still come afterwards; it is posted and nothing is locked twice.
    shown = await world.fac.slash(world.general, "dialogue summary", dialogue=str(dialogue.id))
    result = await world.fac.submit_modal(shown, {"summary": "Late, but here."})
    assert "is posted" in last_reply(result)


async def test_the_close_reply_names_the_phase_and_the_safety_lock(world: World) -> None:
    dialogue = await open_two_phase(world)
    reply = await run(world, "dialogue close", dialogue=str(dialogue.id))
    closed = await reload(world, dialogue.id)
    assert closed.comments_until is not None
    assert "comments stay open until you post the summary" in reply
    assert f"<t:{int(closed.comments_until.timestamp())}:F>" in reply
    await world.env.advance_time(HOUR)
    await world.bob.send(seed(world, closed), "Still open.")
    assert (await stats(world, dialogue.id)).posts_after == 1


async def test_a_lock_dialogue_is_unchanged(world: World) -> None:
    dialogue = await create_dialogue(world, opens="now", duration="1d")
    assert dialogue.after_close is AfterClose.LOCK
    await world.env.advance_time(1 + DAY)
    closed = await reload(world, dialogue.id)
    assert closed.locked_at is not None and closed.comments_until is None
    status = await run(world, "dialogue status", dialogue=str(dialogue.id))
    assert "Phase: locked at the window's end." in status and "Posts during the window" not in status


async def test_a_plan_sets_after_close_and_exports_it_back(world: World) -> None:
    plan = PLAN.replace('duration = "3d"', 'duration = "3d"\nafter_close = "comments-until-summary"')
    assert last_reply(await import_plan(world, plan)).startswith("Scheduled")
    (dialogue,) = await world.bot.dialogues.in_guild(world.guild.id)
    assert dialogue.after_close is AfterClose.COMMENTS_UNTIL_SUMMARY
    exported = await world.fac.slash(world.general, "dialogue plan", dialogue=str(dialogue.id))
    text = (await answer_of(exported).attachments[0].read()).decode()
    assert 'after_close = "comments-until-summary"' in text
    # The option and a plan cannot both say it: refused, nothing created.
    refused = await world.fac.slash(
        world.general, "dialogue create", plan=("plan.toml", plan.encode()), after_close="lock"
    )
    assert "leave the `after_close` option out" in last_reply(refused)
    assert len(await world.bot.dialogues.in_guild(world.guild.id)) == 1
