"""/dialogue summary through the real bot: posted in parts, pinned, linked, replaced, resumed, refused."""

from __future__ import annotations

import discord

import db.summaries as summaries_db
from bot.domain.models import Dialogue, State
from tests.conftest import World
from tests.integration.support import DAY, bot_messages, channel, create_dialogue, is_ephemeral, last_reply, reload

PARAGRAPH = ("A paragraph of the summary, long enough to matter. " * 12).strip()  # about 620 characters


async def closed_dialogue(world: World) -> Dialogue:
    """A dialogue that opened, heard one post, and closed."""
    dialogue = await create_dialogue(world, opens="now", duration="1d")
    await world.env.advance_time(1)
    room = channel(world, await reload(world, dialogue.id))
    await world.alice.send(room.threads[0], "What I think.")
    await world.env.advance_time(DAY)
    closed = await reload(world, dialogue.id)
    assert closed.state is State.CLOSED
    return closed


async def submit(world: World, dialogue: Dialogue, text: str) -> str:
    """Run /dialogue summary, fill in its form, return the (ephemeral) answer."""
    shown = await world.fac.slash(world.general, "dialogue summary", dialogue=str(dialogue.id))
    assert shown.modal is not None, last_reply(shown)
    result = await world.fac.submit_modal(shown, {"summary": text})
    assert is_ephemeral(result)
    return last_reply(result)


async def attach(world: World, dialogue: Dialogue, name: str, data: bytes) -> str:
    result = await world.fac.slash(world.general, "dialogue summary", dialogue=str(dialogue.id), file=(name, data))
    assert is_ephemeral(result)
    return last_reply(result)


def summary_messages(world: World, dialogue: Dialogue) -> list[discord.Message]:
    marker = f"-# dialogue #{dialogue.id} · summary "
    return [m for m in bot_messages(channel(world, dialogue), world) if marker in m.content]


def body(message: discord.Message) -> str:
    return message.content.rsplit("\n", 1)[0]


def wrapup(world: World, dialogue: Dialogue) -> discord.Message:
    return next(m for m in bot_messages(channel(world, dialogue), world) if m.content.startswith("# Thank you"))


async def test_a_summary_is_posted_in_parts_pinned_linked_and_recorded(world: World) -> None:
    dialogue = await closed_dialogue(world)
    text = "\n\n".join(f"{n}. {PARAGRAPH}" for n in range(1, 6))  # about 3,100 characters: two parts
    answer = await submit(world, dialogue, text)
    assert "is posted: 2 messages" in answer, answer

    posted = summary_messages(world, dialogue)
    assert [m.content.rsplit("\n", 1)[1] for m in posted] == [
        f"-# dialogue #{dialogue.id} · summary 1",
        f"-# dialogue #{dialogue.id} · summary 2",
    ]
    # Split between paragraphs, nothing lost, nothing over Discord's limit.
    assert "\n\n".join(body(m) for m in posted) == text.strip()
    assert all(len(m.content) <= 2000 for m in posted)
    assert all(body(m).endswith(PARAGRAPH.strip()) for m in posted)
    # The first part is pinned; the last carries the feedback button, not the notify ones.
    assert posted[0].pinned and not posted[1].pinned
    assert not posted[0].components
    ids = [child.custom_id for row in posted[1].components for child in row.children]  # type: ignore[union-attr]
    assert ids == [f"dialogue:feedback:{dialogue.id}"]
    # The wrap-up links to it; the record says it is out.
    url = f"https://discord.com/channels/{world.guild.id}/{dialogue.channel_id}/{posted[0].id}"
    assert url in wrapup(world, dialogue).content
    assert wrapup(world, dialogue).content.endswith(f"-# dialogue #{dialogue.id} · wrap-up part 1")
    assert (await reload(world, dialogue.id)).summary_posted_at == world.env.now().replace(microsecond=0)
    parts = await summaries_db.parts(world.bot.database, dialogue.id)
    assert [p.message_id for p in parts.values()] == [m.id for m in posted]
    record = await summaries_db.get(world.bot.database, dialogue.id)
    assert record is not None and record.text == text.strip()


async def test_running_it_again_replaces_the_summary_longer_then_shorter(world: World) -> None:
    dialogue = await closed_dialogue(world)
    await submit(world, dialogue, "First draft.")
    (first,) = summary_messages(world, dialogue)

    longer = "\n\n".join(f"{n}. {PARAGRAPH}" for n in range(1, 9))  # three parts
    # Longer than a form takes (4,000 characters): attached as a file.
    assert "is replaced: 3 messages" in await attach(world, dialogue, "summary.md", longer.encode())
    posted = summary_messages(world, dialogue)
    assert len(posted) == 3 and posted[0].id == first.id  # edited in place, two added
    assert "\n\n".join(body(m) for m in posted) == longer
    assert not posted[0].components and not posted[1].components and posted[2].components

    assert "is replaced: 1 message" in await submit(world, dialogue, "Final, short.")
    posted = summary_messages(world, dialogue)
    assert [m.id for m in posted] == [first.id]  # the surplus parts are deleted
    assert body(posted[0]) == "Final, short." and posted[0].components and posted[0].pinned
    assert len(await summaries_db.parts(world.bot.database, dialogue.id)) == 1
    # The wrap-up still carries exactly one link.
    assert wrapup(world, dialogue).content.count("https://discord.com/channels/") == 1


async def test_a_summary_interrupted_mid_post_resumes_after_a_restart_without_duplicates(world: World) -> None:
    dialogue = await closed_dialogue(world)
    await submit(world, dialogue, "A first, short draft.")
    text = "\n\n".join(f"{n}. {PARAGRAPH}" for n in range(1, 9))  # three parts
    # The replacement edits the first part, then Discord fails the next send: one part done, two to go.
    world.env.inject_error(
        "POST", f"/channels/{dialogue.channel_id}/messages", status=500, code=0, message="Trouble", times=1
    )
    answer = await attach(world, dialogue, "summary.md", text.encode())
    assert "not wholly posted" in answer, answer
    assert (await reload(world, dialogue.id)).summary_posted_at is None
    (first,) = summary_messages(world, dialogue)
    assert body(first).startswith("1. ") and "\n\n4. " not in body(first)

    await world.restart()
    await world.env.advance_time(1)
    posted = summary_messages(world, dialogue)
    assert posted[0].id == first.id and len(posted) == 3
    assert "\n\n".join(body(m) for m in posted) == text
    assert (await reload(world, dialogue.id)).summary_posted_at is not None
    await world.restart()  # a further restart posts nothing more
    await world.env.advance_time(1)
    assert len(summary_messages(world, dialogue)) == 3


async def test_a_part_posted_but_not_recorded_is_adopted_after_a_restart(world: World) -> None:
    dialogue = await closed_dialogue(world)
    text = "\n\n".join(f"{n}. {PARAGRAPH}" for n in range(1, 9))
    await attach(world, dialogue, "summary.md", text.encode())
    # As if the bot had crashed after posting the last part: its record and the completion are lost.
    await world.bot.database.execute(
        "DELETE FROM bot_messages WHERE dialogue_id = ? AND kind = 'summary' AND part = 2", (dialogue.id,)
    )
    await world.bot.database.execute("UPDATE dialogues SET summary_posted_at = NULL WHERE id = ?", (dialogue.id,))
    await world.restart()
    await world.env.advance_time(1)
    posted = summary_messages(world, dialogue)
    assert len(posted) == 3
    assert len(await summaries_db.parts(world.bot.database, dialogue.id)) == 3
    assert (await reload(world, dialogue.id)).summary_posted_at is not None


async def test_an_attached_markdown_file_is_posted(world: World) -> None:
    dialogue = await closed_dialogue(world)
    answer = await attach(world, dialogue, "summary.md", "# What we heard\n\nMuch, and well said. ✓".encode())
    assert "is posted: 1 message" in answer
    assert body(summary_messages(world, dialogue)[0]) == "# What we heard\n\nMuch, and well said. ✓"


async def test_refusals_change_nothing(world: World) -> None:
    dialogue = await create_dialogue(world, opens="now", duration="1d")
    await world.env.advance_time(1)
    result = await world.fac.slash(world.general, "dialogue summary", dialogue=str(dialogue.id))
    assert result.modal is None and is_ephemeral(result)
    assert "cannot have a summary yet: it is still open" in last_reply(result)

    await world.env.advance_time(DAY)
    closed = await reload(world, dialogue.id)
    assert "The summary is empty" in await submit(world, closed, "   \n  ")
    too_long = ("word " * 4100).encode()
    assert "20,000" in await attach(world, closed, "long.md", too_long)
    assert "not UTF-8" in await attach(world, closed, "latin.md", "Résumé".encode("latin-1"))
    assert "at most 64 KiB" in await attach(world, closed, "huge.txt", b"x" * (65 * 1024))
    assert "not a Markdown or text file" in await attach(world, closed, "summary.pdf", b"%PDF-1.4")
    assert summary_messages(world, closed) == []
    assert await summaries_db.get(world.bot.database, closed.id) is None
    assert (await reload(world, closed.id)).summary_posted_at is None


async def test_the_follow_up_steps_run_once_the_summary_is_wholly_posted_and_after_a_retry(world: World) -> None:
    dialogue = await closed_dialogue(world)
    followed: list[int] = []

    async def follow_up(done: Dialogue) -> None:
        # Where the notices plug in: called once a summary is wholly posted, with the record saying so.
        assert done.summary_posted_at is not None
        followed.append(done.id)

    world.bot.dialogues.after_summary.append(follow_up)
    world.env.inject_error(
        "POST", f"/channels/{dialogue.channel_id}/messages", status=500, code=0, message="Trouble", times=1
    )
    assert "not wholly posted" in await submit(world, dialogue, "The summary.")
    assert followed == []
    await world.env.advance_time(5 * 60)  # the retry, with back-off
    assert len(summary_messages(world, dialogue)) == 1
    assert followed == [dialogue.id]


async def test_a_summary_waits_for_the_wrapup(world: World) -> None:
    dialogue = await create_dialogue(world, opens="now", duration="1d")
    await world.env.advance_time(1)
    # The wrap-up's send fails: the dialogue is closed and locked, but its closing is not finished.
    world.env.inject_error(
        "POST", f"/channels/{(await reload(world, dialogue.id)).channel_id}/messages", status=500, times=1
    )
    await world.env.advance_time(DAY)
    closed = await reload(world, dialogue.id)
    assert closed.state is State.CLOSED
    result = await world.fac.slash(world.general, "dialogue summary", dialogue=str(dialogue.id))
    assert result.modal is None and "has not finished closing" in last_reply(result)
    await world.env.advance_time(5 * 60)  # the closing's retry posts the wrap-up; then the summary is taken
    assert "is posted" in await submit(world, closed, "Now it can come.")
