"""Posting on someone's behalf, through SimCord: a facilitator runs the command, fills the form, the bot posts."""

from __future__ import annotations

import discord
import pytest
import simcord

import db.proxy as proxy_db
from bot.domain.models import Dialogue, State
from bot.proxy import proxy_author_id
from tests.conftest import World
from tests.integration.support import (
    bot_messages,
    channel,
    create_dialogue,
    is_ephemeral,
    last_reply,
    reload,
    stats,
    thread,
)

HOME = "What does engagement add at home?"
OUTCOMES = "What outcomes are realistic?"


async def open_dialogue(world: World, title: str = "Engaging the Council") -> tuple[Dialogue, simcord.ChannelHandle]:
    dialogue = await create_dialogue(world, title=title, opens="now", duration="1d")
    await world.env.advance_time(1)
    opened = await reload(world, dialogue.id)
    assert opened.state is State.OPEN
    return opened, channel(world, opened)


async def post_on_behalf(
    world: World, dialogue: Dialogue, thread_id: int | str, name: str, text: str | None
) -> simcord.InteractionResult:
    """Run the command; if it shows the form and ``text`` is given, submit it. Return the last result."""
    shown = await world.fac.slash(
        world.general, "dialogue post-on-behalf", dialogue=str(dialogue.id), thread=str(thread_id), name=name
    )
    if shown.modal is None or text is None:
        return shown
    return await world.fac.submit_modal(shown, {"text": text})


async def posts_of(world: World, dialogue_id: int) -> list[dict[str, object]]:
    rows = await world.bot.database.fetchall(
        "SELECT message_id, author_id, author_name, content, thread_id FROM posts WHERE dialogue_id = ? "
        "ORDER BY message_id",
        (dialogue_id,),
    )
    return [dict(row) for row in rows]


async def test_the_post_is_attributed_recorded_under_the_name_and_counted_as_one_participant(world: World) -> None:
    dialogue, room = await open_dialogue(world)
    home = thread(room, HOME)
    await world.alice.send(home, "Alice's own post.")

    # The thread autocomplete offers the dialogue's threads by id.
    offered = await world.fac.autocomplete(
        world.general, "dialogue post-on-behalf", "thread", "", dialogue=str(dialogue.id)
    )
    assert {choice["value"] for choice in offered} >= {str(home.id)}, offered

    result = await post_on_behalf(world, dialogue, home.id, "Maria Okafor", "Our network raised this at home.")
    assert is_ephemeral(result)
    assert "Posted" in last_reply(result) and "Maria Okafor" in last_reply(result)
    posted = home.history()[-1]
    assert posted.author.id == world.bot.user.id
    lines = posted.content.split("\n")
    assert lines[0] == f"**Posted on behalf of Maria Okafor** by <@{world.fac.id}>"
    assert lines[1] == "Our network raised this at home."
    # The facilitator is named, but nobody is pinged.
    sends = [e for e in world.env.http_requests if e.method == "POST" and e.path == f"/channels/{home.id}/messages"]
    assert sends[-1].json["allowed_mentions"] == {"parse": []}, sends[-1].json

    # A second post for the same person (typed differently) is the same participant.
    await post_on_behalf(world, dialogue, home.id, "maria  okafor", "And a follow-up.")
    rows = await posts_of(world, dialogue.id)
    proxied = [row for row in rows if row["author_name"] in ("Maria Okafor", "maria okafor")]
    assert [row["content"] for row in proxied] == ["Our network raised this at home.", "And a follow-up."]
    assert {row["author_id"] for row in proxied} == {proxy_author_id(dialogue.id, "Maria Okafor")}
    # The bot's own message is not ALSO recorded as the bot's post.
    assert all(row["author_id"] != world.bot.user.id for row in rows)
    counted = await stats(world, dialogue.id)
    assert (counted.posts, counted.participants) == (3, 2)

    await world.fac.slash(world.general, "dialogue close", dialogue=str(dialogue.id))
    wrapup = next(m.content for m in reversed(bot_messages(room, world)) if m.content.startswith("# Thank you"))
    assert "**3 posts from 2 participants.**" in wrapup


async def test_a_proxy_author_is_distinct_from_members_and_per_dialogue() -> None:
    assert proxy_author_id(1, "Maria") < 0
    assert proxy_author_id(1, "Maria") == proxy_author_id(1, " MARIA ")
    assert proxy_author_id(1, "Maria") != proxy_author_id(2, "Maria")
    assert proxy_author_id(1, "Maria") != proxy_author_id(1, "Mario")


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("   ", "give the name"),
        ("x" * 81, "at most 80"),
        ("<@123456789012345678>", "mention"),
        ("@everyone", "mention"),
    ],
)
async def test_a_bad_name_is_refused_before_the_form_and_nothing_is_posted(
    world: World, name: str, problem: str
) -> None:
    dialogue, room = await open_dialogue(world)
    home = thread(room, HOME)
    before = len(home.history())
    result = await post_on_behalf(world, dialogue, home.id, name, None)
    assert result.modal is None and is_ephemeral(result)
    assert last_reply(result).startswith("Nothing was posted") and problem in last_reply(result)
    assert len(home.history()) == before


async def test_a_thread_of_another_dialogue_is_refused(world: World) -> None:
    first, _ = await open_dialogue(world, "First dialogue")
    second, other_room = await open_dialogue(world, "Second dialogue")
    foreign = thread(other_room, HOME)
    before = len(foreign.history())
    result = await post_on_behalf(world, first, foreign.id, "Maria", None)
    assert result.modal is None
    assert "belongs to another dialogue" in last_reply(result), last_reply(result)
    unknown = await post_on_behalf(world, first, 123456, "Maria", None)
    assert "not a thread of any dialogue" in last_reply(unknown)
    assert len(foreign.history()) == before
    assert second.id != first.id


async def test_a_closed_dialogue_is_refused_even_when_it_closes_while_the_form_is_open(world: World) -> None:
    dialogue, room = await open_dialogue(world)
    home = thread(room, HOME)
    shown = await world.fac.slash(
        world.general, "dialogue post-on-behalf", dialogue=str(dialogue.id), thread=str(home.id), name="Maria"
    )
    assert shown.modal is not None
    await world.fac.slash(world.general, "dialogue close", dialogue=str(dialogue.id))
    before = len(home.history())
    result = await world.fac.submit_modal(shown, {"text": "Too late."})
    assert last_reply(result).startswith("Nothing was posted") and "closed" in last_reply(result)
    assert len(home.history()) == before
    again = await post_on_behalf(world, dialogue, home.id, "Maria", None)
    assert again.modal is None and "open dialogues only" in last_reply(again)
    assert not [row for row in await posts_of(world, dialogue.id) if row["author_name"] == "Maria"]


async def test_a_text_too_long_for_one_message_is_refused(world: World) -> None:
    dialogue, room = await open_dialogue(world)
    home = thread(room, HOME)
    before = len(home.history())
    result = await post_on_behalf(world, dialogue, home.id, "Maria", "word " * 500)
    assert "fit in one message" in last_reply(result), last_reply(result)
    assert len(home.history()) == before
    assert await proxy_db.pending(world.bot.database, dialogue.id) == []


async def test_a_restart_between_posting_and_recording_posts_once_and_records_it(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    dialogue, room = await open_dialogue(world)
    home = thread(room, HOME)

    async def crash(*_: object) -> None:
        raise RuntimeError("the process died here")

    # The message goes out, then the step is cut short before it is recorded (as a crash would).
    monkeypatch.setattr(proxy_db, "mark_posted", crash)
    await post_on_behalf(world, dialogue, home.id, "Maria", "Sent just before the crash.")
    monkeypatch.undo()
    # The form's error handler logged it and apologised; the test acknowledges the error it caused.
    assert any("the process died here" in str(error) for error in world.env.errors)
    sent = [m for m in home.history() if "Sent just before the crash." in m.content]
    assert len(sent) == 1
    assert not [row for row in await posts_of(world, dialogue.id) if row["author_name"] == "Maria"]

    await world.restart()
    await world.env.advance_time(1)
    assert len([m for m in home.history() if "Sent just before the crash." in m.content]) == 1
    recorded = [row for row in await posts_of(world, dialogue.id) if row["author_name"] == "Maria"]
    assert [(row["message_id"], row["author_id"]) for row in recorded] == [
        (sent[0].id, proxy_author_id(dialogue.id, "Maria"))
    ]
    assert await proxy_db.pending(world.bot.database, dialogue.id) == []


async def test_a_post_written_down_but_never_sent_is_sent_after_a_restart(world: World) -> None:
    dialogue, room = await open_dialogue(world)
    home = thread(room, HOME)
    # The step's first half: written down, then the process stopped before sending.
    await proxy_db.add(
        world.bot.database, dialogue.id, home.id, "Maria", "Never sent before.", world.fac.id, world.bot.clock()
    )
    await world.restart()
    await world.env.advance_time(1)
    sent = [m for m in home.history() if "Never sent before." in m.content]
    assert len(sent) == 1 and sent[0].content.startswith("**Posted on behalf of Maria**")
    assert (await stats(world, dialogue.id)).participants == 1


async def test_a_step_cut_short_is_finished_by_the_timer_without_a_restart(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    dialogue, room = await open_dialogue(world)
    home = thread(room, HOME)

    async def fail(*_: object) -> None:
        raise RuntimeError("the database went away for a moment")

    monkeypatch.setattr(proxy_db, "mark_posted", fail)
    result = await post_on_behalf(world, dialogue, home.id, "Maria", "Cut short.")
    monkeypatch.undo()
    assert "Sorry, something went wrong" in last_reply(result)
    assert any("went away" in str(error) for error in world.env.errors)
    await world.env.advance_time(5 * 60)
    assert len([m for m in home.history() if "Cut short." in m.content]) == 1
    assert [row["content"] for row in await posts_of(world, dialogue.id) if row["author_name"] == "Maria"] == [
        "Cut short."
    ]


async def test_a_thread_locked_on_discord_is_refused(world: World) -> None:
    dialogue, room = await open_dialogue(world)
    home = thread(room, HOME)
    # A moderator locked this thread by hand while the dialogue stays open.
    locked = world.bot.get_channel(home.id)
    assert isinstance(locked, discord.Thread)
    await locked.edit(locked=True)
    result = await post_on_behalf(world, dialogue, home.id, "Maria", None)
    assert result.modal is None and "locked" in last_reply(result), last_reply(result)


async def test_a_pending_post_discord_refuses_is_dropped_and_never_holds_up_the_close(world: World) -> None:
    dialogue, room = await open_dialogue(world)
    home = thread(room, HOME)
    await proxy_db.add(
        world.bot.database, dialogue.id, home.id, "Maria", "Refused later.", world.fac.id, world.bot.clock()
    )
    world.env.inject_error("POST", f"/channels/{home.id}/messages", status=403, code=50013, message="Missing Access")
    await world.fac.slash(world.general, "dialogue close", dialogue=str(dialogue.id))
    assert (await world.bot.dialogues.progress(dialogue.id)).closing_done
    assert await proxy_db.pending(world.bot.database, dialogue.id) == []
    assert not [m for m in home.history() if "Refused later." in m.content]
