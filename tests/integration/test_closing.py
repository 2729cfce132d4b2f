"""Closing a dialogue honestly: what the reply claims is true, every part lands once, failures are retried."""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from datetime import timedelta

import discord
import pytest
import simcord

import db.dialogues as dialogues_db
from bot import create_bot
from bot.domain.models import State
from bot.gateway import MENTIONS_OFF
from bot.steps import step_nonce
from db import Database
from db.posts import stats as stats_of
from tests.conftest import World
from tests.integration.support import (
    DAY,
    HOUR,
    bot_messages,
    channel,
    create_dialogue,
    is_leaders_thread,
    reload,
    run,
    stats,
)
from tests.integration.test_plan_import import OPENS, PLAN, import_plan

MINUTE = 60
LOCK_FAILS = "Server trouble"


async def wrapup_ids(world: World, dialogue_id: int) -> dict[int, int]:
    return await dialogues_db.bot_messages(world.bot.database, dialogue_id, "wrapup")


def fac_notices(world: World, text: str) -> list[str]:
    return [m.content for m in world.fac.user.dm_channel.history() if text in m.content]


async def open_now(world: World, **options: str) -> int:
    dialogue = await create_dialogue(world, opens="now", duration="1d", **options)
    await world.env.advance_time(1)
    return dialogue.id


# ----- defect 5: the reply and the status say what is pending, and "done" only when done -------------------


async def test_a_failing_channel_lock_is_named_with_its_retry_time_then_done_once(world: World) -> None:
    dialogue_id = await open_now(world)
    room = channel(world, await reload(world, dialogue_id))
    world.env.inject_error("PATCH", f"/channels/{room.id}", status=500, message=LOCK_FAILS, times=1)

    reply = await run(world, "dialogue close", dialogue=str(dialogue_id))
    assert "locked" not in reply.replace("Until the lock", "")
    assert "could not lock the channel" in reply and LOCK_FAILS in reply
    assert re.search(r"tries again <t:\d+:R>", reply), reply
    closed = await reload(world, dialogue_id)
    assert closed.state is State.CLOSED and closed.locked_at is None
    status = await run(world, "dialogue status", dialogue=str(dialogue_id))
    assert "Closing: not finished" in status and "could not lock the channel" in status
    assert re.search(r"tries again <t:\d+:R>", status), status
    assert "Closing: done" not in status

    await world.env.advance_time(5 * MINUTE)  # the retry
    assert len(await wrapup_ids(world, dialogue_id)) == 1
    assert (await reload(world, dialogue_id)).locked_at is not None
    status = await run(world, "dialogue status", dialogue=str(dialogue_id))
    assert "Closing: done" in status
    await world.env.advance_time(2 * HOUR)
    assert len([m for m in bot_messages(room, world) if m.content.startswith("# Thank you")]) == 1


async def test_a_lock_discord_did_not_fully_apply_is_not_recorded_as_done(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    dialogue_id = await open_now(world)
    real_edit = discord.TextChannel.edit
    partial: list[int] = []

    async def drops_everyones_deny(self: discord.TextChannel, **options: object) -> object:
        overwrites = options.get("overwrites")
        if isinstance(overwrites, dict) and not partial:
            # Discord answers, but without the @everyone deny in place (as if another edit raced this one).
            partial.append(self.id)
            options["overwrites"] = {t: o for t, o in overwrites.items() if t != self.guild.default_role}
        return await real_edit(self, **options)  # type: ignore[arg-type]

    monkeypatch.setattr(discord.TextChannel, "edit", drops_everyones_deny)
    reply = await run(world, "dialogue close", dialogue=str(dialogue_id))
    assert partial
    assert "could not lock the channel (Discord accepted the channel lock but did not apply all of it)" in reply
    assert (await reload(world, dialogue_id)).locked_at is None
    await world.env.advance_time(5 * MINUTE)
    assert (await reload(world, dialogue_id)).locked_at is not None
    assert (await world.bot.dialogues.progress(dialogue_id)).closing_done


async def test_a_completed_close_says_done(world: World) -> None:
    dialogue_id = await open_now(world)
    reply = await run(world, "dialogue close", dialogue=str(dialogue_id))
    assert reply.endswith("is closed: the channel and its threads are locked and the wrap-up is posted.")


async def test_closing_a_dialogue_whose_channel_was_deleted_says_so(world: World) -> None:
    dialogue_id = await open_now(world)
    room = world.bot.get_channel(channel(world, await reload(world, dialogue_id)).id)
    assert isinstance(room, discord.TextChannel)
    await room.delete()  # as a moderator might
    reply = await run(world, "dialogue close", dialogue=str(dialogue_id))
    assert "channel had been deleted, so there was nothing to lock or post" in reply
    assert "are locked" not in reply
    assert (await world.bot.dialogues.progress(dialogue_id)).closing_done


# ----- defect 14: a second close ----------------------------------------------------------------------------


async def test_a_second_close_says_already_closed(world: World) -> None:
    dialogue_id = await open_now(world)
    await run(world, "dialogue close", dialogue=str(dialogue_id))
    room = channel(world, await reload(world, dialogue_id))
    before = len(bot_messages(room, world))
    result = await world.fac.slash(world.general, "dialogue close", dialogue=str(dialogue_id))
    reply = result.followups[-1] if result.followups else result.response
    assert reply is not None and reply.ephemeral
    assert "already closed" in reply.content
    assert len(bot_messages(room, world)) == before


# ----- defect 6: every overwrite that could let someone post is covered -------------------------------------


async def test_a_role_with_an_explicit_send_allow_cannot_post_after_the_close(world: World) -> None:
    members_role = world.guild.create_role("Members")
    erin = world.guild.add_member(world.env.create_user("erin"), roles=[members_role])
    dialogue_id = await open_now(world)
    room = channel(world, await reload(world, dialogue_id))
    # A members-only setup: @everyone cannot see the channel, the Members role may see and speak.
    bot_room = world.bot.get_channel(room.id)
    assert isinstance(bot_room, discord.TextChannel)
    role = bot_room.guild.get_role(members_role.id)
    assert role is not None
    await bot_room.set_permissions(
        role, view_channel=True, send_messages=True, send_messages_in_threads=True, create_public_threads=True
    )
    await bot_room.set_permissions(bot_room.guild.me, view_channel=True)
    await bot_room.set_permissions(
        world.bot.get_guild(world.guild.id).get_role(world.facilitators.id), view_channel=True
    )  # type: ignore[union-attr]
    await bot_room.set_permissions(bot_room.guild.default_role, view_channel=False)
    seed = room.threads[0]
    await erin.send(seed, "Speaking as a member.")
    assert (await stats(world, dialogue_id)).posts == 1

    await run(world, "dialogue close", dialogue=str(dialogue_id))
    with pytest.raises(simcord.BackendError):
        await erin.send(room, "Still here?")
    with pytest.raises(simcord.BackendError):
        await erin.send(seed, "Still here?")
    # The role can still see the channel: the lock took away speaking only.
    assert bot_room.guild.get_role(members_role.id) is not None
    relocked = world.bot.get_channel(room.id)
    assert isinstance(relocked, discord.TextChannel)
    assert relocked.overwrites_for(role).view_channel is True
    # Facilitators still speak.
    await world.fac.send(room, "Thank you all.")


# ----- defect 8: a wrap-up in several parts -----------------------------------------------------------------

LONG_QUESTIONS = "\n".join(
    f"Question {n:02d}: " + "how does this part of the work reach people at home? " * 2 for n in range(20)
)


async def test_a_wrapup_in_parts_is_complete_only_with_every_part_and_a_retry_posts_only_the_missing(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    dialogue_id = await open_now(world, questions=LONG_QUESTIONS)
    room = channel(world, await reload(world, dialogue_id))
    assert len(room.threads) >= 20
    gateway = world.bot.gateway
    real_post = gateway.post
    failed: list[str] = []

    async def second_part_fails_once(target, content, mentions=MENTIONS_OFF, *, nonce=None, **extra):  # type: ignore[no-untyped-def]
        if nonce == step_nonce(dialogue_id, "wrapup", 1) and not failed:
            failed.append(nonce)
            raise discord.HTTPException(_Response(500), "Server trouble")
        return await real_post(target, content, mentions, nonce=nonce, **extra)

    monkeypatch.setattr(gateway, "post", second_part_fails_once)
    mark = len(world.env.http_requests)
    reply = await run(world, "dialogue close", dialogue=str(dialogue_id))
    assert failed
    assert "could not post the wrap-up" in reply
    assert list(await wrapup_ids(world, dialogue_id)) == [0]
    progress = await world.bot.dialogues.progress(dialogue_id)
    assert progress.wrapup_expected is not None and progress.wrapup_expected >= 2
    assert not progress.closing_done

    await world.env.advance_time(5 * MINUTE)  # the retry posts part 2 (and only it)
    recorded = await wrapup_ids(world, dialogue_id)
    assert sorted(recorded) == list(range(progress.wrapup_expected))
    posted = [m for m in bot_messages(room, world) if m.id in set(recorded.values())]
    assert len(posted) == progress.wrapup_expected
    texts = [m.content for m in bot_messages(room, world)]
    assert all(texts.count(m.content) == 1 for m in posted)
    assert (await world.bot.dialogues.progress(dialogue_id)).closing_done
    # Each part went out with its own deterministic nonce.
    sends = [
        r.json.get("nonce")
        for r in world.env.http_requests[mark:]
        if r.method == "POST" and r.path == f"/channels/{room.id}/messages" and r.json
    ]
    expected = [step_nonce(dialogue_id, "wrapup", part) for part in range(progress.wrapup_expected)]
    assert sends == expected  # the failed send never reached Discord; a retry re-sends only part 2


class _Response:
    """The least of an aiohttp response that ``discord.HTTPException`` reads."""

    def __init__(self, status: int) -> None:
        self.status = status
        self.reason = "Server trouble"


# ----- defect 9: the timer's close needs its time to have passed; one step at a time ------------------------


async def test_an_extension_landing_during_the_timers_catch_up_wins(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    dialogue_id = await open_now(world)
    service = world.bot.dialogues
    real_catch_up = service.recorder.catch_up

    async def extended_meanwhile(dialogue, until=None):  # type: ignore[no-untyped-def]
        # As if `/dialogue extend` committed while the timer's slow catch-up was reading history.
        found = await real_catch_up(dialogue, until)
        later = dialogue.closes_at + timedelta(days=1)
        await dialogues_db.set_closes_at(world.bot.database, dialogue_id, later, (State.OPEN,), service.clock())
        return found

    monkeypatch.setattr(service.recorder, "catch_up", extended_meanwhile)
    await world.env.advance_time(DAY)
    still = await reload(world, dialogue_id)
    assert still.state is State.OPEN
    assert await wrapup_ids(world, dialogue_id) == {}


async def test_the_old_close_job_does_nothing_after_an_extend(world: World) -> None:
    dialogue_id = await open_now(world)
    await run(world, "dialogue extend", dialogue=str(dialogue_id), by="1d")
    await world.env.advance_time(DAY)  # the old closing time
    await world.bot.dialogues.run_due(dialogue_id)  # the old job's callback, had it fired
    assert (await reload(world, dialogue_id)).state is State.OPEN
    await world.env.advance_time(DAY)
    assert (await reload(world, dialogue_id)).state is State.CLOSED


async def test_a_close_and_the_timer_at_once_post_each_message_once(world: World) -> None:
    dialogue_id = await open_now(world)
    await world.env.advance_time(DAY - 10)
    service = world.bot.dialogues
    mark = len(world.env.http_requests)
    await asyncio.gather(service.close(dialogue_id, manual=True), service.run_due(dialogue_id))
    await world.env.advance_time(20)
    assert len(await wrapup_ids(world, dialogue_id)) == 1
    calls = Counter((r.method, r.path) for r in world.env.http_requests[mark:] if r.method in ("PATCH", "POST"))
    assert all(count == 1 for count in calls.values()), calls


async def test_two_retries_at_once_lock_and_post_once(world: World) -> None:
    dialogue_id = await open_now(world)
    room = channel(world, await reload(world, dialogue_id))
    world.env.inject_error("PATCH", f"/channels/{room.id}", status=500, message=LOCK_FAILS, times=1)
    await run(world, "dialogue close", dialogue=str(dialogue_id))
    service = world.bot.dialogues
    mark = len(world.env.http_requests)
    await asyncio.gather(service.finish_close(dialogue_id), service.finish_close(dialogue_id))
    assert len(await wrapup_ids(world, dialogue_id)) == 1
    calls = Counter((r.method, r.path) for r in world.env.http_requests[mark:] if r.method in ("PATCH", "POST"))
    assert calls and all(count == 1 for count in calls.values()), calls
    assert len([m for m in bot_messages(room, world) if m.content.startswith("# Thank you")]) == 1


# ----- defect 10: any error in a step is retried; shutting down waits -----------------------------------------


async def test_a_timeout_in_a_close_step_is_retried_later_and_completes(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    dialogue_id = await open_now(world)
    gateway = world.bot.gateway
    real_lock_thread = gateway.lock_thread
    timeouts: list[int] = []

    async def times_out_once(thread_id: int) -> bool:
        if not timeouts:
            timeouts.append(thread_id)
            raise TimeoutError
        return await real_lock_thread(thread_id)

    monkeypatch.setattr(gateway, "lock_thread", times_out_once)
    await world.env.advance_time(DAY)  # the timer closes; locking a thread times out
    assert timeouts
    progress = await world.bot.dialogues.progress(dialogue_id)
    assert progress.state is State.CLOSED and not progress.closing_done
    assert progress.pending_step == "lock the threads" and progress.retry_at is not None
    assert len(fac_notices(world, "was interrupted")) == 1

    await world.env.advance_time(5 * MINUTE)
    assert (await world.bot.dialogues.progress(dialogue_id)).closing_done
    assert len(await wrapup_ids(world, dialogue_id)) == 1
    assert len(fac_notices(world, "was interrupted")) == 1


async def test_a_database_error_in_a_close_step_is_retried(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    dialogue_id = await open_now(world)
    real_mark_locked = dialogues_db.mark_locked
    broken: list[int] = []

    async def fails_once(*args: object) -> None:
        if not broken:
            broken.append(1)
            raise RuntimeError("database is locked")
        await real_mark_locked(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(dialogues_db, "mark_locked", fails_once)
    await world.env.advance_time(DAY)
    assert broken and not (await world.bot.dialogues.progress(dialogue_id)).closing_done
    await world.env.advance_time(5 * MINUTE)
    assert (await world.bot.dialogues.progress(dialogue_id)).closing_done


async def test_closing_the_bot_while_listeners_are_mid_write_does_not_raise(world: World) -> None:
    dialogue_id = await open_now(world)
    room = channel(world, await reload(world, dialogue_id))
    for n in range(20):
        await world.alice.send(room.threads[0], f"Recorded live, {n}.")
    thread = world.bot.get_channel(room.threads[0].id)
    assert isinstance(thread, discord.Thread)
    messages = [message async for message in thread.history(limit=20)]
    # Forget them, so that the listeners below have real writes to do.
    await world.bot.database.execute("DELETE FROM posts WHERE dialogue_id = ?", (dialogue_id,))
    listener = world.bot.get_cog("Participation")
    tasks = [asyncio.create_task(listener.on_message(message)) for message in messages]  # type: ignore[union-attr]
    await asyncio.sleep(0)  # the listeners are now waiting on the database
    await world.bot.close()
    await asyncio.gather(*tasks)  # no "Cannot operate on a closed database"
    database = await Database.connect(world.settings.database)
    try:
        assert (await stats_of(database, dialogue_id)).posts == 20
    finally:
        await database.close()


# ----- the holes a mutation pass found -----------------------------------------------------------------------


async def test_catch_up_at_a_late_close_stops_at_the_closing_time(world: World) -> None:
    dialogue_id = await open_now(world)
    seed = channel(world, await reload(world, dialogue_id)).threads[0]
    await world.bot.close()  # down across the closing time
    await world.bob.send(seed, "Before the closing time, while the bot was away.")
    await world.env.advance_time(DAY + HOUR)
    await world.chen.send(seed, "After the closing time: not part of the dialogue.")
    await world.env.restart_bot(create_bot(world.settings))
    await world.env.advance_time(1)
    closed = await reload(world, dialogue_id)
    assert closed.state is State.CLOSED
    assert (await stats(world, dialogue_id)).posts == 1
    thanks = [m for m in bot_messages(channel(world, closed), world) if m.content.startswith("# Thank you")]
    assert "**1 post from 1 participant.**" in thanks[0].content


async def test_a_missed_dialogue_locks_its_half_made_channel(world: World) -> None:
    dialogue = await create_dialogue(world, opens="in 1h", duration="1d")
    world.env.inject_error("POST", "/channels/*/threads", status=500, message="Server trouble", times=1)
    await world.env.advance_time(HOUR)
    failed = await reload(world, dialogue.id)
    assert failed.state is State.FAILED
    room = channel(world, failed)
    await world.env.advance_time(DAY)
    assert (await reload(world, dialogue.id)).state is State.MISSED
    with pytest.raises(simcord.BackendError):
        await world.alice.send(room, "Is anyone here?")


async def test_close_retries_back_off(world: World) -> None:
    dialogue_id = await open_now(world)
    room = channel(world, await reload(world, dialogue_id))
    path = f"/channels/{room.id}"
    world.env.inject_error("PATCH", path, status=500, message=LOCK_FAILS, times=None)
    tries = lambda: sum(1 for r in world.env.http_requests if r.method == "PATCH" and r.path == path)  # noqa: E731
    await world.env.advance_time(DAY)  # the first try fails; retries follow at +5, +15, +35, +75 minutes
    assert tries() == 1
    await world.env.advance_time(30 * MINUTE)
    assert tries() == 3  # at +5 and +15; none at +20, +25 or +30
    await world.env.advance_time(10 * MINUTE)
    assert tries() == 4  # at +35, failing again
    world.env.backend.faults.clear()
    await world.env.advance_time(34 * MINUTE)  # +74
    assert tries() == 4
    await world.env.advance_time(2 * MINUTE)  # +76: the one at +75 has run, and succeeded
    assert tries() == 5
    assert (await world.bot.dialogues.progress(dialogue_id)).closing_done


# ----- issue 8: closing costs at most T + 4 REST calls when nothing was missed --------------------------------


async def test_closing_five_threads_costs_at_most_t_plus_4_calls(world: World) -> None:
    questions = "\n".join(f"What is question {n}?" for n in range(1, 6))
    dialogue_id = await open_now(world, questions=questions)
    room = channel(world, await reload(world, dialogue_id))
    threads = await dialogues_db.thread_ids(world.bot.database, dialogue_id)
    assert len(threads) >= 5  # the five seed threads (and the private Leaders thread, if there is one)
    for thread in room.threads:
        if not is_leaders_thread(thread):
            await world.alice.send(thread, "A reply the bot saw live.")
    # One thread went quiet and was archived: it is no longer in the bot's cache.
    quiet = world.bot.get_channel(room.threads[0].id)
    assert isinstance(quiet, discord.Thread)
    await quiet.edit(archived=True)
    assert world.bot.get_channel(quiet.id) is None

    mark = len(world.env.http_requests)
    await run(world, "dialogue close", dialogue=str(dialogue_id))
    assert (await world.bot.dialogues.progress(dialogue_id)).closing_done
    calls = Counter(r.method + " " + re.sub(r"/\d{6,}", "/{id}", r.path) for r in world.env.http_requests[mark:])
    # The scheduled event is its own step after the closing's: read it, mark it completed.
    assert calls.pop("GET /guilds/{id}/scheduled-events/{id}") == 1, calls
    assert calls.pop("PATCH /guilds/{id}/scheduled-events/{id}") == 1, calls
    # Nothing was missed, so the catch-up reads no history, and nobody looks for an unrecorded wrap-up.
    assert calls["GET /channels/{id}/messages"] == 0, calls
    assert calls["GET /channels/{id}"] <= 1  # the archived thread is fetched at most once
    # Reply (2) + channel lock (1) + one per thread (T) + the wrap-up (1): T + 4 in all.
    assert sum(calls.values()) <= len(threads) + 4, calls
    assert calls["POST /channels/{id}/messages"] == 1


@pytest.mark.sqlite_only  # counts statements with SQLite's trace callback
async def test_start_up_decides_every_closed_dialogue_with_the_same_statements_at_any_count(world: World) -> None:
    database = world.bot.database
    service = world.bot.dialogues
    statements: list[str] = []

    async def schedule_all_with(closed: int) -> int:
        for _ in range(closed):
            dialogue = await create_dialogue(world, opens="in 1h")
            # Closed without ever making a channel: complete, nothing to schedule.
            await dialogues_db.transition(database, dialogue.id, (State.SCHEDULED,), State.OPEN, service.clock())
            await dialogues_db.transition(database, dialogue.id, (State.OPEN,), State.CLOSED, service.clock())
        statements.clear()
        await database._connection.set_trace_callback(statements.append)
        try:
            await service.schedule_all()
        finally:
            await database._connection.set_trace_callback(None)
        # Complete closings are not made due: nothing runs for them at start-up.
        assert await dialogues_db.due_for_wake(database, service.clock(), 100) == []
        return len(statements)

    assert await schedule_all_with(1) == await schedule_all_with(4)


async def test_status_names_a_pending_opening_step_until_it_is_done(world: World) -> None:
    await import_plan(world, PLAN)
    (dialogue,) = await world.bot.dialogues.in_guild(world.guild.id)
    await world.env.advance_time((OPENS - world.env.now()).total_seconds() + HOUR)
    world.env.inject_error("POST", "/channels/*/threads", status=500, message="Server trouble", times=1)
    await world.env.advance_time(DAY - HOUR)  # the staged release is due and Discord refuses it once
    status = await run(world, "dialogue status", dialogue=str(dialogue.id))
    assert "Opening: not finished: the bot could not create the question threads" in status
    assert re.search(r"tries again <t:\d+:R>", status), status
    await world.env.advance_time(10 * MINUTE)  # the retry
    status = await run(world, "dialogue status", dialogue=str(dialogue.id))
    assert "Opening: not finished" not in status


async def test_an_error_outside_the_steps_does_not_escape_the_close_job(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    dialogue_id = await open_now(world)
    service = world.bot.dialogues
    real_catch_up = service.recorder.catch_up
    broken: list[int] = []

    async def fails_once(dialogue, until=None):  # type: ignore[no-untyped-def]
        if not broken:
            broken.append(dialogue.id)
            raise RuntimeError("database disk image is malformed")
        return await real_catch_up(dialogue, until)

    monkeypatch.setattr(service.recorder, "catch_up", fails_once)
    await world.env.advance_time(DAY)  # the close job runs and its catch-up fails
    assert broken and (await reload(world, dialogue_id)).state is State.OPEN
    assert len(fac_notices(world, "failed: an unexpected error")) == 1
    status = await run(world, "dialogue status", dialogue=str(dialogue_id))
    assert re.search(r"Pending: the bot could not run a scheduled step \(.*\); it tries again <t:\d+:R>", status)
    await world.env.advance_time(5 * MINUTE)  # the job placed again with back-off
    assert (await world.bot.dialogues.progress(dialogue_id)).closing_done
