"""Searching the record and withdrawing from it, through SimCord: who may find what, pages across a restart,
and a member's posts erased at their request."""

from __future__ import annotations

import logging

import pytest
import simcord

import db.withdrawals as withdrawals_db
from bot.domain.models import Dialogue, State
from tests.conftest import World
from tests.integration.support import DAY, channel, create_dialogue, is_ephemeral, last_reply, reload, run, thread

# Both backends: search (FTS5 or tsvector) answers the same on SQLite and on PostgreSQL (tests/conftest.py).
pytestmark = pytest.mark.both_backends

HOME = "What does engagement add at home?"
OUTCOMES = "What outcomes are realistic?"
APOLOGY = "Sorry, something went wrong"


async def open_dialogue(world: World, title: str) -> tuple[Dialogue, simcord.ChannelHandle]:
    dialogue = await create_dialogue(world, title=title, opens="now", duration="2d")
    await world.env.advance_time(1)
    opened = await reload(world, dialogue.id)
    assert opened.state is State.OPEN
    return opened, channel(world, opened)


async def close(world: World, dialogue: Dialogue) -> None:
    await run(world, "dialogue close", dialogue=str(dialogue.id))
    await world.env.advance_time(60)
    closed = await reload(world, dialogue.id)
    assert closed.state is State.CLOSED and closed.locked_at is not None


async def search(world: World, member: simcord.MemberActor, query: str, **options: str) -> simcord.InteractionResult:
    command = "dialogue search" if member is world.fac else "search"
    result = await member.slash(world.general, command, query=query, **options)
    assert is_ephemeral(result), result
    return result


def shown(result: simcord.InteractionResult) -> simcord.ResponseMessage:
    """The message that answered (a deferred answer completes the original response)."""
    message = result.followups[-1] if result.followups else result.response
    assert message is not None, result
    return message


def now_showing(world: World, message: simcord.ResponseMessage) -> str:
    return world.env.backend.get_message(message.channel_id, message.id).content


# ----- search -----------------------------------------------------------------------------------------------


async def test_a_facilitator_finds_posts_anywhere_with_excerpt_author_and_jump_link(world: World) -> None:
    council, room = await open_dialogue(world, "Engaging the Council")
    home = thread(room, HOME)
    post = await world.alice.send(home, "The treaty bodies read our **shadow** report before the review.")
    await world.bob.send(home, "Nothing relevant here.")
    await close(world, council)
    still_open, other_room = await open_dialogue(world, "Regional courts")
    other = await world.chen.send(thread(other_room, OUTCOMES), "A treaty is only as good as its follow-up.")

    text = last_reply(await search(world, world.fac, "Treaty"))
    assert text.startswith("Posts matching “Treaty” in the dialogues you can search, best match first (page 1):")
    assert f"**Engaging the Council** › {HOME} · alice ·" in text
    assert "**Regional courts**" in text  # facilitators search open dialogues too
    assert "> The **treaty** bodies read our \\*\\*shadow\\*\\* report" in text  # user formatting shown as typed
    assert f"(https://discord.com/channels/{world.guild.id}/{home.id}/{post.id})" in text
    assert f"/{other.id})" in text
    assert "Nothing relevant" not in text

    only = last_reply(await search(world, world.fac, "treaty", dialogue=str(still_open.id)))
    assert "in “Regional courts”" in only and "Engaging the Council" not in only


async def test_a_top_level_post_links_to_the_channel_where_it_was_written(world: World) -> None:
    _dialogue, room = await open_dialogue(world, "Engaging the Council")
    post = await world.alice.send(room, "Mandates of the special procedures matter.")
    await world.env.settle()
    text = last_reply(await search(world, world.fac, "mandates"))
    assert f"(https://discord.com/channels/{world.guild.id}/{room.id}/{post.id})" in text


async def test_members_search_only_closed_dialogues_whose_channel_they_can_read(world: World) -> None:
    visible, visible_room = await open_dialogue(world, "Visible and closed")
    await world.bob.send(thread(visible_room, HOME), "asylum procedures in the visible dialogue")
    hidden, hidden_room = await open_dialogue(world, "Hidden and closed")
    await world.bob.send(thread(hidden_room, HOME), "asylum procedures in the hidden dialogue")
    ongoing, ongoing_room = await open_dialogue(world, "Still open")
    await world.bob.send(thread(ongoing_room, HOME), "asylum procedures in the open dialogue")
    await close(world, visible)
    await close(world, hidden)
    hidden_channel = world.bot.get_channel(hidden_room.id)
    alice = world.dguild().get_member(world.alice.id)
    assert hidden_channel is not None and alice is not None
    await hidden_channel.set_permissions(alice, view_channel=False)  # type: ignore[union-attr]
    await world.env.settle()

    text = last_reply(await search(world, world.alice, "asylum"))
    assert "Visible and closed" in text
    assert "Hidden and closed" not in text and "Still open" not in text
    # Bob can still read the hidden channel: his search finds it; the open dialogue stays out.
    bobs = last_reply(await search(world, world.bob, "asylum"))
    assert "Hidden and closed" in bobs and "Still open" not in bobs

    refused = last_reply(await search(world, world.alice, "asylum", dialogue=str(ongoing.id)))
    assert refused == (
        "You can search only dialogues that have closed, and “Still open” is open. Search again once it has closed."
    )
    refused = last_reply(await search(world, world.alice, "asylum", dialogue=str(hidden.id)))
    assert (
        refused == "You can search only dialogues whose channel you can read, and you cannot read “Hidden and closed”."
    )
    choices = await world.alice.autocomplete(world.general, "search", "dialogue", "")
    assert [choice["name"] for choice in choices] == [f"#{visible.id} Visible and closed (closed)"]


async def test_a_member_with_nothing_to_search_is_told_why(world: World) -> None:
    _dialogue, room = await open_dialogue(world, "Still open")
    await world.bob.send(thread(room, HOME), "asylum")
    text = last_reply(await search(world, world.alice, "asylum"))
    assert text.startswith("There is nothing you can search yet: members can search dialogues that have closed")


async def test_members_reach_search_but_no_other_facilitator_command(world: World) -> None:
    assert {"search", "forget-me"} <= set(world.alice.available_commands(world.general))
    with pytest.raises(simcord.SetupError):  # the /dialogue group is hidden from members by default
        await world.alice.slash(world.general, "dialogue search", query="x")
    # An admin may grant the group to everyone: search then works with the member's limits, the rest is refused.
    commands = await world.bot.tree.fetch_commands()
    world.guild.set_command_permissions(
        next(c for c in commands if c.name == "dialogue"), {world.guild.default_role: True}
    )
    dialogue, room = await open_dialogue(world, "Still open")
    await world.bob.send(thread(room, HOME), "asylum")
    searched = await world.alice.slash(world.general, "dialogue search", query="asylum")
    assert last_reply(searched).startswith("There is nothing you can search yet")
    refused = await world.alice.slash(world.general, "dialogue close", dialogue=str(dialogue.id))
    assert last_reply(refused).startswith("Only facilitators can use `/dialogue`")
    assert (await reload(world, dialogue.id)).state is State.OPEN


@pytest.mark.parametrize("query", ['"unbalanced', "AND OR", "NOT", "(", "NEAR(a b", "col:word", "-x", "*", "^"])
async def test_search_syntax_in_the_query_is_answered_never_an_error(world: World, query: str) -> None:
    _dialogue, room = await open_dialogue(world, "Engaging the Council")
    await world.alice.send(thread(room, HOME), "AND OR NOT are plain words, and so is unbalanced")
    text = last_reply(await search(world, world.fac, query))
    assert APOLOGY not in text
    assert text.startswith(("Posts matching", "No posts match")), text


async def test_operators_are_words_to_find(world: World) -> None:
    _dialogue, room = await open_dialogue(world, "Engaging the Council")
    await world.alice.send(thread(room, HOME), "AND OR NOT are plain words, and so is unbalanced")
    assert last_reply(await search(world, world.fac, '"unbalanced')).startswith("Posts matching")
    assert last_reply(await search(world, world.fac, "AND OR")).startswith("Posts matching")


async def test_a_query_with_nothing_to_search_for_is_refused_clearly(world: World) -> None:
    text = last_reply(await search(world, world.fac, '""'))
    assert text == "**query**: type at least one word to search for. Example: `asylum procedures`."
    text = last_reply(await search(world, world.fac, "word " * 60))
    assert text == "**query**: keep it under 200 characters."


async def test_the_query_text_is_never_logged(world: World, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)  # the level the bot runs at (aiosqlite's DEBUG lines echo every statement)
    _dialogue, room = await open_dialogue(world, "Engaging the Council")
    await world.alice.send(thread(room, HOME), "a name")
    for query in ("Kowalski", '"unbalanced Kowalski', "NEAR(Kowalski"):
        await search(world, world.fac, query)
    assert "Kowalski" not in caplog.text


async def test_pages_turn_with_buttons_after_a_restart_then_expire(world: World) -> None:
    _dialogue, room = await open_dialogue(world, "Engaging the Council")
    home = thread(room, HOME)
    for n in range(7):
        await world.alice.send(home, f"asylum note number {n}")
    first = shown(await search(world, world.fac, "asylum"))
    assert first.content.count("[Jump to the post]") == 5
    buttons = {c["label"]: c for row in first.components for c in row["components"]}
    assert buttons["Previous"].get("disabled") and not buttons["Next"].get("disabled")
    assert all(len(c["custom_id"]) <= 100 for c in buttons.values())

    await world.restart()
    await world.fac.click(first, label="Next")
    second = now_showing(world, first)
    assert "(page 2)" in second and second.count("[Jump to the post]") == 2
    assert "6." in second and "7." in second
    await world.fac.click(first, label="Previous")
    assert "(page 1)" in now_showing(world, first)

    await world.env.advance_time(DAY + 60)
    await world.fac.click(first, label="Next")
    assert now_showing(world, first) == "This search has expired. Run `/search` again to see its results."


async def test_a_page_reflects_what_the_member_may_read_now(world: World) -> None:
    dialogue, room = await open_dialogue(world, "Engaging the Council")
    for n in range(6):
        await world.bob.send(thread(room, HOME), f"asylum {n}")
    await close(world, dialogue)
    first = shown(await search(world, world.alice, "asylum"))
    assert first.content.count("[Jump to the post]") == 5
    hidden = world.bot.get_channel(room.id)
    alice = world.dguild().get_member(world.alice.id)
    assert hidden is not None and alice is not None
    await hidden.set_permissions(alice, view_channel=False)  # type: ignore[union-attr]
    await world.env.settle()
    await world.alice.click(first, label="Next")
    assert now_showing(world, first).startswith("No more posts match “asylum”")


# ----- withdrawal -------------------------------------------------------------------------------------------


async def test_forget_me_asks_then_erases_exactly_what_it_says(world: World, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    council, room = await open_dialogue(world, "Engaging the Council")
    first = await world.alice.send(thread(room, HOME), "My brother was detained in Sector 9.")
    await world.alice.send(thread(room, OUTCOMES), "Sector 9 again.")
    await world.bob.send(thread(room, HOME), "Sector 9 is known to all of us.")
    await close(world, council)
    _courts, courts_room = await open_dialogue(world, "Regional courts")
    await world.alice.send(thread(courts_room, HOME), "Sector 9 in the courts too.")
    assert "Sector" in last_reply(await search(world, world.fac, "sector"))

    asked = await world.alice.slash(world.general, "forget-me")
    question = shown(asked)
    assert question.ephemeral
    assert question.content.startswith(
        "This erases the text of the posts you wrote so far: **3 posts** in **2 dialogues**: "
        "“Engaging the Council” (2 posts), “Regional courts” (1 post)."
    )
    await world.restart()  # the confirmation survives a restart
    await world.alice.click(question, label="Erase my posts")
    done = now_showing(world, question)
    assert done.startswith(
        "Erased the text of **3 posts** in **2 dialogues**: "
        "“Engaging the Council” (2 posts), “Regional courts” (1 post)."
    )
    assert "Your messages on Discord itself are still there: they are yours to delete" in done
    assert "“Regional courts” is still open: posts written from now on are recorded as usual." in done

    found = last_reply(await search(world, world.fac, "sector"))
    assert found.count("[Jump to the post]") == 1 and "bob" in found and "alice" not in found
    row = await world.bot.database.fetchone(
        "SELECT content, author_name, withdrawn_at FROM posts WHERE message_id = ?", (first.id,)
    )
    assert row is not None and (row["content"], row["author_name"]) == ("", "") and row["withdrawn_at"] is not None
    # The wrap-up already posted keeps its numbers, and the log says where and how many, never what or who.
    assert (await world.bot.dialogues.stats(council.id)).posts == 3
    assert [(e.posts, e.by_facilitator) for e in await withdrawals_db.log_entries(world.bot.database, council.id)] == [
        (2, False)
    ]
    assert f"Withdrew 2 posts from dialogue {council.id} (by the author)" in caplog.text
    assert "Sector" not in caplog.text and "alice" not in caplog.text

    # Written after the withdrawal, in the dialogue still open: recorded and found, as the reply said.
    await world.alice.send(thread(courts_room, HOME), "Sector 9, said later.")
    assert "said later" in last_reply(await search(world, world.fac, "sector"))


async def test_forget_me_in_one_dialogue_and_cancel(world: World) -> None:
    council, room = await open_dialogue(world, "Engaging the Council")
    await world.alice.send(thread(room, HOME), "keep this")
    courts, courts_room = await open_dialogue(world, "Regional courts")
    await world.alice.send(thread(courts_room, HOME), "erase this")

    question = shown(await world.alice.slash(world.general, "forget-me", dialogue=str(council.id)))
    assert "**1 post** in **1 dialogue**: “Engaging the Council” (1 post)" in question.content
    await world.alice.click(question, label="Cancel")
    assert now_showing(world, question) == "Cancelled. Nothing was erased."
    assert "[Jump to the post]" in last_reply(await search(world, world.fac, "keep"))

    question = shown(await world.alice.slash(world.general, "forget-me", dialogue=str(courts.id)))
    await world.alice.click(question, label="Erase my posts")
    assert last_reply(await search(world, world.fac, "erase")).startswith("No posts match")
    assert "[Jump to the post]" in last_reply(await search(world, world.fac, "keep"))


async def test_forget_me_offers_the_dialogues_where_the_member_has_posts(world: World) -> None:
    council, room = await open_dialogue(world, "Engaging the Council")
    await world.alice.send(thread(room, HOME), "one")
    await world.alice.send(thread(room, OUTCOMES), "two")
    await open_dialogue(world, "Regional courts")
    choices = await world.alice.autocomplete(world.general, "forget-me", "dialogue", "")
    assert [choice["name"] for choice in choices] == [f"#{council.id} Engaging the Council (2 posts)"]
    assert await world.bob.autocomplete(world.general, "forget-me", "dialogue", "") == []


async def test_forget_me_with_nothing_recorded_changes_nothing(world: World) -> None:
    text = await run(world, "forget-me", world.alice)
    assert text == "You have no recorded posts in this server's dialogues to erase. Nothing was changed."


async def test_a_confirmation_expires_clearly(world: World) -> None:
    _dialogue, room = await open_dialogue(world, "Engaging the Council")
    await world.alice.send(thread(room, HOME), "still here")
    question = shown(await world.alice.slash(world.general, "forget-me"))
    await world.env.advance_time(16 * 60)
    await world.alice.click(question, label="Erase my posts")
    assert now_showing(world, question).startswith("This confirmation expired at <t:")
    assert "[Jump to the post]" in last_reply(await search(world, world.fac, "still"))


async def test_a_facilitator_forgets_a_member_who_asked_by_other_means(world: World) -> None:
    dialogue, room = await open_dialogue(world, "Engaging the Council")
    await world.alice.send(thread(room, HOME), "alice wrote this")
    await world.bob.send(thread(room, HOME), "bob wrote this")
    question = shown(await world.fac.slash(world.general, "dialogue forget", member=world.alice))
    assert question.content.startswith("This erases the text of the posts written by **alice** so far: **1 post**")
    await world.fac.click(question, label="Erase")
    done = now_showing(world, question)
    assert done.startswith("Erased the text of **1 post** in **1 dialogue**: “Engaging the Council” (1 post).")
    assert "**alice** can delete them, or a moderator can." in done
    found = last_reply(await search(world, world.fac, "wrote"))
    assert found.count("[Jump to the post]") == 1 and "· bob ·" in found
    assert [e.by_facilitator for e in await withdrawals_db.log_entries(world.bot.database, dialogue.id)] == [True]


async def test_a_facilitator_forgets_someone_who_left_the_server(world: World) -> None:
    _dialogue, room = await open_dialogue(world, "Engaging the Council")
    await world.alice.send(thread(room, HOME), "alice wrote this")
    world.guild.remove_member(world.alice)
    await world.env.settle()
    question = shown(await world.fac.slash(world.general, "dialogue forget", member=world.alice.user))
    assert "written by **alice** so far: **1 post**" in question.content
    await world.fac.click(question, label="Erase")
    assert now_showing(world, question).startswith("Erased the text of **1 post** in **1 dialogue**")
    assert last_reply(await search(world, world.fac, "wrote")).startswith("No posts match")


async def test_an_edit_after_withdrawal_does_not_bring_the_text_back(world: World) -> None:
    _dialogue, room = await open_dialogue(world, "Engaging the Council")
    post = await world.alice.send(thread(room, HOME), "first version")
    question = shown(await world.alice.slash(world.general, "forget-me"))
    await world.alice.click(question, label="Erase my posts")
    await world.alice.edit(post, "second version")
    assert last_reply(await search(world, world.fac, "version")).startswith("No posts match")
