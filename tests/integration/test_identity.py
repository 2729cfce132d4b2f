"""Trust the record: what the opening made is found by what it recorded, never by a name, a title or a text."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime

import discord
import pytest
import simcord

import db.dialogues as dialogues_db
from bot import render
from bot.__main__ import invite_url
from bot.domain.models import BotMessageKind, Dialogue, State
from bot.domain.parsing import distinct_name
from bot.steps import step_nonce
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
    take_bot_permissions,
)

OPENS = datetime(2026, 1, 2, 9, 0, tzinfo=UTC)  # 10:00 in Zurich

PLAN = """
[dialogue]
title = "Same Plan"
framing = "Imported twice by mistake."
timezone = "Europe/Zurich"
opens = "2026-01-02 10:00"
duration = "3d"

[[questions]]
text = "What brought you here?"

[[questions]]
text = "What would you change first?"
"""

LONG = "How should networks of defenders weigh what they gain in Geneva against what it costs them at home, "


async def import_plan(world: World, text: str = PLAN) -> Dialogue:
    """Import a plan as a facilitator would; return the dialogue it created."""
    await world.fac.slash(world.general, "dialogue create", plan=("plan.toml", text.encode()))
    return (await dialogues_db.in_guild(world.bot.database, world.guild.id))[0]


async def open_at_planned_time(world: World) -> None:
    await world.env.advance_time((OPENS - world.env.now()).total_seconds() + 1)


def dm_texts(world: World) -> list[str]:
    return [m.content for m in world.fac.user.dm_channel.history()]


def thread_of(world: World, thread_id: int | None) -> simcord.ChannelHandle:
    return next(t for c in world.guild.channels.values() for t in c.threads if t.id == thread_id)


def route(entry: simcord.HttpLogEntry) -> str:
    return entry.method + " " + re.sub(r"/\d{6,}", "/{id}", entry.path)


# ----- defect 1: two dialogues never share a channel --------------------------------------------------------


async def test_the_same_plan_imported_twice_opens_two_channels_and_closing_one_leaves_the_other(world: World) -> None:
    first = await import_plan(world)
    second = await import_plan(world)
    assert first.id != second.id
    await open_at_planned_time(world)

    one, two = await reload(world, first.id), await reload(world, second.id)
    assert one.state is two.state is State.OPEN
    assert one.channel_id != two.channel_id
    assert {channel(world, one).name, channel(world, two).name} == {"same-plan", "same-plan-2"}
    for dialogue in (one, two):
        topic = world.bot.get_channel(dialogue.channel_id).topic
        assert topic.endswith(f" · dialogue #{dialogue.id}")
    threads_one = {q.thread_id for q in await dialogues_db.questions(world.bot.database, one.id)}
    threads_two = {q.thread_id for q in await dialogues_db.questions(world.bot.database, two.id)}
    assert not threads_one & threads_two

    await run(world, "dialogue close", dialogue=str(one.id))
    assert (await reload(world, two.id)).state is State.OPEN
    await world.alice.send(channel(world, two), "The second dialogue is still open to me.")
    with pytest.raises(simcord.BackendError):
        await world.alice.send(channel(world, one), "The first is closed.")


async def test_a_dialogue_created_again_after_cancelling_a_half_opened_one_gets_a_new_channel(world: World) -> None:
    cancelled = await create_dialogue(world, opens="in 1h")
    world.env.inject_error("POST", "/channels/*/threads", status=500, code=0, message="Server trouble", times=1)
    await world.env.advance_time(HOUR)
    half = await reload(world, cancelled.id)
    assert half.state is State.FAILED and half.channel_id is not None
    await run(world, "dialogue cancel", dialogue=str(half.id))

    # Created again, same title and the same window: it must not take over the cancelled (locked) channel.
    again = await create_dialogue(world, opens="now")
    await world.env.advance_time(1)
    opened = await reload(world, again.id)
    assert opened.state is State.OPEN
    assert opened.channel_id != half.channel_id
    assert channel(world, opened).name == "engaging-the-council-2"
    await world.alice.send(channel(world, opened), "Here is where the dialogue is.")


async def test_after_a_crash_a_dialogue_adopts_its_own_channel_and_intro_not_a_look_alike(world: World) -> None:
    first = await import_plan(world)
    second = await import_plan(world)
    await open_at_planned_time(world)
    one, two = await reload(world, first.id), await reload(world, second.id)
    room_two = channel(world, two)
    intro_two = await dialogues_db.bot_messages(world.bot.database, two.id, "intro")
    # As if the second dialogue's channel and intro were made but the process died before recording them.
    await world.bot.database.execute("UPDATE dialogues SET channel_id = NULL WHERE id = ?", (two.id,))
    await world.bot.database.execute("DELETE FROM bot_messages WHERE dialogue_id = ? AND kind = 'intro'", (two.id,))
    await world.restart()
    await world.env.advance_time(1)

    resumed = await reload(world, two.id)
    assert resumed.channel_id == room_two.id != one.channel_id
    assert await dialogues_db.bot_messages(world.bot.database, two.id, "intro") == intro_two
    assert len(bot_messages(room_two, world)) == len(intro_two)


async def test_a_look_alike_intro_from_another_dialogue_is_never_adopted(world: World) -> None:
    first = await import_plan(world)
    second = await import_plan(world)
    await open_at_planned_time(world)
    one, two = await reload(world, first.id), await reload(world, second.id)
    room_two = world.bot.get_channel(two.channel_id)
    # The second dialogue's intro is lost before it was recorded, and its channel holds a message with the
    # first dialogue's intro: the same title, framing, questions and window, so the same text but its marker.
    (own_id,) = (await dialogues_db.bot_messages(world.bot.database, two.id, "intro")).values()
    await room_two.get_partial_message(own_id).delete()
    await world.env.settle()
    await world.bot.database.execute("DELETE FROM bot_messages WHERE dialogue_id = ? AND kind = 'intro'", (two.id,))
    (first_intro,) = channel(world, one).pinned_messages()
    look_alike = await world.bot.dialogues.gateway.post(room_two, first_intro.content)
    await world.restart()
    await world.env.advance_time(1)

    (recorded,) = (await dialogues_db.bot_messages(world.bot.database, two.id, "intro")).values()
    assert recorded != look_alike.id
    posted = next(m for m in channel(world, two).history() if m.id == recorded)
    assert posted.content.endswith(f"-# dialogue #{two.id} · intro 1/1")


# ----- defect 2: one thread per question -------------------------------------------------------------------


async def test_identical_questions_and_questions_sharing_their_first_100_characters_get_a_thread_each(
    world: World,
) -> None:
    texts = ["Same question?", "Same question?", LONG + "at the Council?", LONG + "at the Review?"]
    dialogue = await create_dialogue(world, opens="now", questions="\n".join(texts))
    await world.env.advance_time(1)

    questions = await dialogues_db.questions(world.bot.database, dialogue.id)
    assert [q.text for q in questions] == texts
    ids = [q.thread_id for q in questions]
    assert None not in ids and len(set(ids)) == 4
    names = [thread_of(world, thread_id).name for thread_id in ids]
    assert names[:2] == ["Same question?", "Same question? (2)"]
    assert len(set(names)) == 4 and all(len(name) <= 100 for name in names)
    assert names[3].endswith(" (2)")
    for question in questions:
        posts = bot_messages(thread_of(world, question.thread_id), world)
        assert [m.content for m in posts] == [render.seed_post(question)]


def test_distinct_name_numbers_a_colliding_name_within_100_characters() -> None:
    assert distinct_name("Why?", []) == "Why?"
    assert distinct_name("Why?", ["Why?"]) == "Why? (2)"
    assert distinct_name("Why?", ["Why?", "Why? (2)"]) == "Why? (3)"
    long = "word " * 19 + "words"  # 100 characters
    named = distinct_name(long, [long])
    assert len(named) <= 100 and named.endswith("… (2)")


# ----- defect 3: posting a question is a recorded step -----------------------------------------------------


async def test_a_question_whose_post_failed_is_posted_in_its_own_thread_on_retry(world: World) -> None:
    dialogue = await create_dialogue(world, opens="in 1h")
    # The channel and intro get made; the first thread fails, so the dialogue waits in `failed`.
    world.env.inject_error("POST", "/channels/*/threads", status=500, code=0, message="Server trouble", times=1)
    await world.env.advance_time(HOUR)
    # On the retry the thread is made, then posting its question fails.
    world.env.inject_error("POST", "/channels/*/messages", status=500, code=0, message="Server trouble", times=1)
    await run(world, "dialogue open", dialogue=str(dialogue.id))
    failed = await reload(world, dialogue.id)
    assert failed.state is State.FAILED
    assert "post question 1 in its thread" in (failed.failure_reason or "")
    (first, _) = await dialogues_db.questions(world.bot.database, dialogue.id)
    assert first.thread_id is not None  # the thread was recorded as soon as it existed
    assert bot_messages(thread_of(world, first.thread_id), world) == []

    await run(world, "dialogue open", dialogue=str(dialogue.id))
    assert (await reload(world, dialogue.id)).state is State.OPEN
    questions = await dialogues_db.questions(world.bot.database, dialogue.id)
    assert questions[0].thread_id == first.thread_id
    room = channel(world, failed)
    assert len([t for t in room.threads if not is_leaders_thread(t)]) == 2
    for question in questions:
        posts = bot_messages(thread_of(world, question.thread_id), world)
        assert [m.content for m in posts] == [render.seed_post(question)]


async def test_a_released_question_whose_post_failed_is_posted_by_the_retry(world: World) -> None:
    plan = PLAN + '\n[[questions]]\ntext = "Who is missing?"\nrelease = "day 2"\n'
    dialogue = await import_plan(world, plan)
    await open_at_planned_time(world)
    await world.env.advance_time(DAY - 2)
    world.env.inject_error("POST", "/channels/*/messages", status=500, code=0, message="Server trouble", times=1)
    await world.env.advance_time(1)  # the release: the thread is made, its post fails
    staged = (await dialogues_db.questions(world.bot.database, dialogue.id))[2]
    assert staged.thread_id is not None
    assert bot_messages(thread_of(world, staged.thread_id), world) == []
    assert (await reload(world, dialogue.id)).state is State.OPEN

    await world.env.advance_time(5 * 60)  # the retry
    assert (await dialogues_db.questions(world.bot.database, dialogue.id))[2].thread_id == staged.thread_id
    posts = bot_messages(thread_of(world, staged.thread_id), world)
    assert [m.content for m in posts] == [render.seed_post(staged)]


async def test_a_crash_between_making_a_thread_and_posting_its_question_is_mended_at_start_up(world: World) -> None:
    dialogue = await create_dialogue(world, opens="now")
    await world.env.advance_time(1)
    first = (await dialogues_db.questions(world.bot.database, dialogue.id))[0]
    seed = world.bot.get_channel(first.thread_id)
    (post,) = [m async for m in seed.history() if m.author.id == world.bot.user.id]
    # As if the process died after recording the thread and before posting its question.
    await post.delete()
    await world.env.settle()
    await world.bot.database.execute(
        "DELETE FROM bot_messages WHERE dialogue_id = ? AND kind = ? AND part = 1",
        (dialogue.id, BotMessageKind.QUESTION),
    )
    await world.restart()
    await world.env.advance_time(1)
    posts = bot_messages(thread_of(world, first.thread_id), world)
    assert [m.content for m in posts] == [render.seed_post(first)]
    recorded = await dialogues_db.bot_messages(world.bot.database, dialogue.id, BotMessageKind.QUESTION)
    assert recorded[1] == posts[0].id


async def test_a_question_posted_but_not_recorded_before_a_crash_is_adopted_not_posted_twice(world: World) -> None:
    dialogue = await create_dialogue(world, opens="now")
    await world.env.advance_time(1)
    first = (await dialogues_db.questions(world.bot.database, dialogue.id))[0]
    before = await dialogues_db.bot_messages(world.bot.database, dialogue.id, BotMessageKind.QUESTION)
    await world.bot.database.execute(
        "DELETE FROM bot_messages WHERE dialogue_id = ? AND kind = ? AND part = 1",
        (dialogue.id, BotMessageKind.QUESTION),
    )
    await world.restart()
    await world.env.advance_time(1)
    assert len(bot_messages(thread_of(world, first.thread_id), world)) == 1
    assert await dialogues_db.bot_messages(world.bot.database, dialogue.id, BotMessageKind.QUESTION) == before


# ----- defect 4: a question's thread is the one made for it --------------------------------------------------


async def test_a_released_question_never_takes_over_a_participants_thread_of_the_same_name(world: World) -> None:
    plan = PLAN + '\n[[questions]]\ntext = "Who is missing?"\nrelease = "day 2"\n'
    dialogue = await import_plan(world, plan)
    await open_at_planned_time(world)
    room = channel(world, await reload(world, dialogue.id))
    await world.alice.send(room, "Who is missing?")  # a new topic: the bot gives it a thread of its own
    (theirs,) = [t for t in room.threads if t.name == "Who is missing?"]
    assert await dialogues_db.thread_origin(world.bot.database, theirs.id) == (dialogue.id, "participant")

    await world.env.advance_time(DAY)
    staged = (await dialogues_db.questions(world.bot.database, dialogue.id))[2]
    assert staged.thread_id is not None and staged.thread_id != theirs.id
    assert thread_of(world, staged.thread_id).name == "Who is missing? (2)"
    assert await dialogues_db.thread_origin(world.bot.database, theirs.id) == (dialogue.id, "participant")
    assert [m.content for m in bot_messages(thread_of(world, staged.thread_id), world)] == [render.seed_post(staged)]
    assert render.seed_post(staged) not in [m.content for m in theirs.history()]


# ----- nonces: every message of an opening step is sent with its step's nonce -----------------------------------


async def test_every_message_an_opening_step_sends_carries_its_deterministic_nonce(world: World) -> None:
    dialogue = await create_dialogue(world, opens="in 1h")
    mark = len(world.env.http_requests)
    await world.env.advance_time(HOUR)
    opened = await reload(world, dialogue.id)
    questions = await dialogues_db.questions(world.bot.database, dialogue.id)
    places = {opened.channel_id, *(q.thread_id for q in questions)}
    sent = [
        e
        for e in world.env.http_requests[mark:]
        if e.method == "POST"
        and re.fullmatch(r"/channels/(\d+)/messages", e.path)
        and int(e.path.split("/")[2]) in places
    ]
    expected = {step_nonce(dialogue.id, "intro", 0)} | {
        step_nonce(dialogue.id, BotMessageKind.QUESTION, q.position) for q in questions
    }
    assert len(sent) == len(expected) == 3
    assert {e.json["nonce"] for e in sent} == expected
    assert all(e.json.get("enforce_nonce") is True for e in sent)
    # Another dialogue's steps have other nonces.
    assert not expected & {
        step_nonce(dialogue.id + 1, "intro", 0),
        step_nonce(dialogue.id + 1, BotMessageKind.QUESTION, 1),
    }


# ----- issue 8: an opening makes exactly the calls it needs ----------------------------------------------------


@pytest.mark.parametrize("count", [3, 10])
async def test_opening_costs_one_call_per_thread_and_per_question_post_plus_the_fixed_steps(
    world: World, count: int
) -> None:
    texts = "\n".join(f"Question number {n}?" for n in range(1, count + 1))
    dialogue = await create_dialogue(world, opens="in 1h", questions=texts)
    mark = len(world.env.http_requests)
    await world.env.advance_time(HOUR)
    assert (await reload(world, dialogue.id)).state is State.OPEN
    calls = Counter(route(e) for e in world.env.http_requests[mark:])
    assert calls == {
        "POST /guilds/{id}/channels": 2,  # the category (first dialogue of the server) and the channel
        "POST /channels/{id}/messages": 1 + count + 1,  # intro, one post per question, the Leaders intro
        "PUT /channels/{id}/messages/pins/{id}": 1,
        "POST /channels/{id}/threads": count + 1,  # one per question, the Leaders thread
        "PUT /channels/{id}/thread-members/{id}": 2,  # the facilitators (kristin, the owner) join the Leaders
        # The window's scheduled event is read; Discord started it at its time, so there is nothing to change.
        "GET /guilds/{id}/scheduled-events/{id}": 1,
    }


# ----- defect 12: Pin Messages ------------------------------------------------------------------------------


async def test_a_bot_without_pin_messages_fails_the_opening_naming_it(world: World) -> None:
    await take_bot_permissions(world, "pin_messages")

    dialogue = await create_dialogue(world, opens="in 1h")
    await world.env.advance_time(HOUR)
    failed = await reload(world, dialogue.id)
    assert failed.state is State.FAILED
    assert failed.failure_reason == "the bot is missing permissions: Pin Messages"
    assert failed.channel_id is None


def test_the_invite_url_asks_for_pin_messages_and_nothing_unused() -> None:
    value = int(re.search(r"permissions=(\d+)", invite_url(1)).group(1))  # type: ignore[union-attr]
    permissions = discord.Permissions(value)
    assert permissions.pin_messages
    assert not permissions.manage_messages and not permissions.embed_links and not permissions.administrator


# ----- defect 14: extend updates the pinned intro; a deleted channel gets advice that works ------------------------


async def test_extend_rewrites_the_pinned_intro_and_the_topic_with_the_new_closing_time(world: World) -> None:
    dialogue = await create_dialogue(world, opens="now", duration="2d")
    await world.env.advance_time(1)
    await run(world, "dialogue extend", dialogue=str(dialogue.id), by="1d")
    extended = await reload(world, dialogue.id)
    new_close = f"<t:{int(extended.closes_at.timestamp())}:F>"
    old_close = f"<t:{int(dialogue.closes_at.timestamp())}:F>"
    (pinned,) = channel(world, extended).pinned_messages()
    assert new_close in pinned.content and old_close not in pinned.content
    assert pinned.content.endswith(f"-# dialogue #{dialogue.id} · intro 1/1")
    topic = world.bot.get_channel(extended.channel_id).topic
    assert new_close in topic and topic.endswith(f" · dialogue #{dialogue.id}")


async def test_an_open_dialogue_whose_channel_was_deleted_is_told_to_close_and_closing_works(world: World) -> None:
    dialogue = await create_dialogue(world, opens="now", duration="2d")
    await world.env.advance_time(1)
    opened = await reload(world, dialogue.id)
    await world.bot.get_channel(opened.channel_id).delete()
    await world.restart()
    await world.env.advance_time(1)

    notice = dm_texts(world)[-1]
    assert "was deleted" in notice and "/dialogue close" in notice and "cancel" not in notice
    reply = await run(world, "dialogue close", dialogue=str(dialogue.id))
    assert "closed" in reply.lower()
    assert (await reload(world, dialogue.id)).state is State.CLOSED


async def test_a_failed_dialogue_whose_channel_was_deleted_is_told_to_cancel_and_cancelling_works(
    world: World,
) -> None:
    dialogue = await create_dialogue(world, opens="in 1h")
    world.env.inject_error("POST", "/channels/*/threads", status=500, code=0, message="Server trouble", times=1)
    await world.env.advance_time(HOUR)
    failed = await reload(world, dialogue.id)
    await world.bot.get_channel(failed.channel_id).delete()
    await run(world, "dialogue open", dialogue=str(dialogue.id))

    again = await reload(world, dialogue.id)
    assert again.state is State.FAILED
    assert "was deleted" in (again.failure_reason or "")
    notice = dm_texts(world)[-1]
    assert "/dialogue cancel" in notice and "/dialogue open" not in notice
    assert "/dialogue cancel" in await run(world, "dialogue status", dialogue=str(dialogue.id))
    assert "cancelled" in await run(world, "dialogue cancel", dialogue=str(dialogue.id))
    assert (await reload(world, dialogue.id)).state is State.CANCELLED


async def test_a_title_two_dialogues_share_is_refused_naming_both_never_guessed(world: World) -> None:
    first = await create_dialogue(world, opens="in 1h")
    second = await create_dialogue(world, opens="in 1h")
    answer = await run(world, "dialogue cancel", dialogue=first.title)
    assert f"#{first.id}" in answer and f"#{second.id}" in answer and "Pick one from the list" in answer
    assert (await reload(world, first.id)).state is State.SCHEDULED
    assert (await reload(world, second.id)).state is State.SCHEDULED
    # By its id, each one is found.
    await run(world, "dialogue cancel", dialogue=str(second.id))
    assert (await reload(world, second.id)).state is State.CANCELLED
    assert (await reload(world, first.id)).state is State.SCHEDULED
