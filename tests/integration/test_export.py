"""``/dialogue export`` through SimCord and ``dialogue-bot export`` on the same database."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import jsonschema
import pytest
import simcord

import db.posts as posts_db
from bot.__main__ import main
from bot.afterlife.buttons import FEEDBACK, custom_id
from bot.domain.models import Dialogue, State
from tests.conftest import World
from tests.integration.support import (
    DAY,
    bot_messages,
    channel,
    create_dialogue,
    is_ephemeral,
    last_reply,
    reload,
    thread,
)

REPO = Path(__file__).resolve().parents[2]
HOME = "What does engagement add at home?"
OUTCOMES = "What outcomes are realistic?"
ARABIC = "نحتاج إلى حماية أقوى"


async def run_dialogue(world: World) -> Dialogue:
    """A dialogue with a reply, an attachment, an Arabic post, a deletion; then closed."""
    dialogue = await create_dialogue(world, opens="now", duration="1d")
    await world.env.advance_time(1)
    room = channel(world, await reload(world, dialogue.id))
    home = thread(room, HOME)
    first = await world.alice.send(home, "We sent a shadow report.", attachments=[("report.pdf", b"%PDF-1.4")])
    await world.bob.send(home, "Same here, it helped.", reply_to=first)
    gone = await world.chen.send(home, "A post I take back.")
    await world.chen.delete(gone)
    await world.chen.send(thread(room, OUTCOMES), ARABIC)
    await world.env.advance_time(DAY + 600)
    closed = await reload(world, dialogue.id)
    assert closed.state is State.CLOSED
    return closed


def shown(result: simcord.InteractionResult) -> simcord.ResponseMessage:
    """What the user saw last: a deferred reply's first followup completes the response itself."""
    message = result.followups[-1] if result.followups else result.response
    assert message is not None
    return message


async def read_file(result: simcord.InteractionResult) -> tuple[str, bytes]:
    shown_message = shown(result)
    assert shown_message.ephemeral
    (attachment,) = shown_message.attachments
    return attachment.filename, await attachment.read()


async def test_a_facilitator_gets_the_record_as_a_file(world: World) -> None:
    dialogue = await run_dialogue(world)
    result = await world.fac.slash(world.general, "dialogue export", dialogue=str(dialogue.id), format="json")
    assert is_ephemeral(result)
    name, data = await read_file(result)
    assert name == f"dialogue-{dialogue.id}-engaging-the-council.json"
    assert "as JSON: 3 posts in 2 threads" in last_reply(result)
    document = json.loads(data)
    schema = json.loads((REPO / "docs" / "export-schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema).validate(document)
    posts = [post for t in document["threads"] for post in t["posts"]]
    assert [p["text"] for p in posts] == ["We sent a shadow report.", "Same here, it helped.", ARABIC]
    assert posts[1]["reply_to"] == posts[0]["id"]
    assert posts[0]["author"] == {"id": f"user-{world.alice.id}", "name": "alice"}
    (report,) = posts[0]["attachments"]
    assert report["filename"] == "report.pdf" and report["url"].startswith("http")


async def test_each_format_is_sent_under_its_name(world: World) -> None:
    dialogue = await run_dialogue(world)
    for fmt, suffix, start in (("markdown", ".md", b"# Engaging the Council"), ("html", ".html", b"<!DOCTYPE html>")):
        result = await world.fac.slash(world.general, "dialogue export", dialogue=str(dialogue.id), format=fmt)
        name, data = await read_file(result)
        assert name.endswith(suffix) and data.startswith(start)
        assert ARABIC.encode() in data


async def test_a_member_is_refused_and_gets_no_file(world: World) -> None:
    dialogue = await run_dialogue(world)
    with pytest.raises(simcord.SetupError):  # hidden by the group's default permissions
        await world.alice.slash(world.general, "dialogue export", dialogue=str(dialogue.id), format="json")
    commands = await world.bot.tree.fetch_commands()
    group = next(c for c in commands if c.name == "dialogue")
    world.guild.set_command_permissions(group, {world.guild.default_role: True})
    result = await world.alice.slash(world.general, "dialogue export", dialogue=str(dialogue.id), format="json")
    assert is_ephemeral(result)
    assert last_reply(result).startswith("Only facilitators can use `/dialogue`")
    assert not shown(result).attachments


async def test_an_unknown_dialogue_is_named_and_nothing_is_sent(world: World) -> None:
    result = await world.fac.slash(world.general, "dialogue export", dialogue="Nope", format="html")
    assert is_ephemeral(result)
    assert last_reply(result) == "No dialogue “Nope” in this server. Pick one from the list as you type."
    assert not shown(result).attachments


async def test_a_file_over_the_upload_limit_is_refused_with_the_cli_to_use(world: World) -> None:
    dialogue = await run_dialogue(world)
    # 27 MB of text recorded while the dialogue was open (written straight into the record to be quick).
    await world.bot.database.execute(
        "UPDATE dialogues SET state = 'open', locked_at = NULL WHERE id = ?", (dialogue.id,)
    )
    home = thread(channel(world, dialogue), HOME)
    for number in range(3000):
        await posts_db.record(
            world.bot.database,
            message_id=10**17 + number,
            dialogue_id=dialogue.id,
            thread_id=home.id,
            author_id=world.bob.id,
            author_name="bob",
            content="x" * 9000,
            created_at=dialogue.opens_at,
            reply_to_id=None,
        )
    await world.bot.database.execute("UPDATE dialogues SET state = 'closed' WHERE id = ?", (dialogue.id,))
    result = await world.fac.slash(world.general, "dialogue export", dialogue=str(dialogue.id), format="markdown")
    text = last_reply(result)
    assert is_ephemeral(result) and not shown(result).attachments
    assert "No file was sent" in text and "over this server's upload limit of 26.2 MB" in text
    assert f"`dialogue-bot export {dialogue.id} --format markdown -o FILE`" in text


# ----- pseudonymised ---------------------------------------------------------------------------------------


async def test_a_pseudonymised_export_names_nobody(world: World) -> None:
    amira = world.guild.add_member(world.env.create_user("amira_k", global_name="Amira Khalil"), nick="Dr Amira Khalil")
    joseph = world.guild.add_member(world.env.create_user("jo.seph", global_name="Joseph"), nick="Joe Okafor")
    network = world.guild.create_role("Geneva Network")
    dialogue = await create_dialogue(world, opens="now", duration="1d")
    await world.env.advance_time(1)
    room = channel(world, await reload(world, dialogue.id))
    home = thread(room, HOME)
    await amira.send(home, f"Thanks <@{world.alice.id}> and <@!{joseph.id}>! Ask <@&{network.id}> in <#{room.id}>.")
    await joseph.send(
        home,
        f"Amira Khalil is right; amira_k said so. Dr Amira Khalil, jo.seph, Joe Okafor and Joseph agree.\n"
        f"See https://discord.com/channels/{world.guild.id}/{room.id}/1 or mail joe@example.org. "
        f"My id is {joseph.id}.",
    )
    await world.alice.send(home, "alice, bob and kristin read along; so does dara and chen.")
    await world.bob.send(home, "Bob here.")
    await world.members[3].send(home, "dara too.")
    await world.chen.send(room, f"Joe Okafor's topic, for {world.fac.mention}")
    await world.env.advance_time(DAY + 600)

    people = [amira, joseph, world.fac, *world.members]
    for fmt in ("markdown", "html", "json"):
        result = await world.fac.slash(
            world.general, "dialogue export", dialogue=str(dialogue.id), format=fmt, pseudonymise=True
        )
        _, data = await read_file(result)
        text = re.sub(r"data:[^\"]*", "", data.decode("utf-8"))  # an embedded picture carries no names
        assert "Participant 1" in text and "Facilitator" in text, fmt
        for member in people:
            user = world.bot.get_user(member.id)
            assert user is not None
            names = {user.name, user.display_name, str(member.id), *(n for n in (user.global_name,) if n)}
            guild_member = world.dguild().get_member(member.id)
            assert guild_member is not None
            names |= {guild_member.display_name, guild_member.nick or user.name}
            for identity in names:
                assert not re.search(rf"(?<!\w){re.escape(identity)}(?!\w)", text, re.IGNORECASE), (fmt, identity)
        assert "<@" not in text and "&lt;@" not in text and "discord.com" not in text, fmt
        assert "joe@example.org" not in text and "Geneva Network" in text, fmt
        assert "Names are pseudonyms" in last_reply(result)


# ----- the command line ------------------------------------------------------------------------------------


async def cli(*argv: str) -> int:
    """Run ``dialogue-bot`` as its own program would (it runs its own event loop, so in a thread here)."""
    return await asyncio.to_thread(main, list(argv))


async def test_the_cli_exports_from_the_database_alone(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dialogue = await run_dialogue(world)
    result = await world.fac.slash(world.general, "dialogue export", dialogue=str(dialogue.id), format="markdown")
    _, from_discord = await read_file(result)
    await world.bot.close()
    config = tmp_path / "config.toml"
    config.write_text(f'database = "{world.settings.database}"\n', encoding="utf-8")

    out = tmp_path / "record.md"
    assert await cli("export", str(dialogue.id), "--format", "markdown", "-o", str(out), "--config", str(config)) == 0
    written = out.read_text(encoding="utf-8")
    assert f"wrote {out}" in capsys.readouterr().out
    # The same record as the command's, but for the moment it was exported.
    strip = lambda text: re.sub(r"- Exported .*\n", "", text)  # noqa: E731
    assert strip(written) == strip(from_discord.decode("utf-8"))

    pseudonymised = ("--format", "json", "--pseudonymise", "-o", str(tmp_path / "p.json"), "--config", str(config))
    assert await cli("export", str(dialogue.id), *pseudonymised) == 0
    document = json.loads((tmp_path / "p.json").read_text(encoding="utf-8"))
    assert document["pseudonymised"] is True
    assert "alice" not in json.dumps(document)

    assert (
        await cli("export", "99", "--format", "html", "-o", str(tmp_path / "none.html"), "--config", str(config)) == 1
    )
    assert "There is no dialogue #99." in capsys.readouterr().err
    assert not (tmp_path / "none.html").exists()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.endswith(".partial")) == []


def test_the_cli_refuses_a_missing_database(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "config.toml"
    config.write_text('database = "absent.sqlite3"\n', encoding="utf-8")
    assert main(["export", "1", "--format", "json", "--config", str(config)]) == 1
    assert "no database at" in capsys.readouterr().err
    assert not (tmp_path / "absent.sqlite3").exists()


async def test_the_export_carries_the_summary_and_survey_figures_and_leaves_out_withdrawn_posts(world: World) -> None:
    dialogue = await run_dialogue(world)
    # Alice withdraws; the facilitator posts a summary; bob answers the survey under the wrap-up.
    asked = shown(await world.alice.slash(world.general, "forget-me", dialogue=str(dialogue.id)))
    await world.alice.click(asked, label="Erase my posts")
    summary = await world.fac.slash(world.general, "dialogue summary", dialogue=str(dialogue.id))
    assert summary.modal is not None
    await world.fac.submit_modal(summary, {"summary": "Three lessons from the week."})
    wrapup = next(m for m in reversed(bot_messages(channel(world, dialogue), world)) if "wrap-up" in m.content.lower())
    form = await world.bob.click(wrapup, custom_id=custom_id(FEEDBACK, dialogue.id))
    assert form.modal is not None
    await world.bob.submit_modal(form, {"rating": "4", "answer_1": "The pace."})

    result = await world.fac.slash(world.general, "dialogue export", dialogue=str(dialogue.id), format="json")
    document = json.loads((await read_file(result))[1])
    assert document["summary"] == "Three lessons from the week."
    assert document["survey"] == {
        "responses": 1,
        "rated": 1,
        "mean_rating": 4.0,
        "ratings": {"1": 0, "2": 0, "3": 0, "4": 1, "5": 0},
    }
    texts = [post["text"] for t in document["threads"] for post in t["posts"]]
    assert texts == ["Same here, it helped.", ARABIC]  # alice's post is withdrawn
    assert "The pace." not in json.dumps(document)  # survey texts stay with the facilitators
    rows = await world.bot.database.fetchall("SELECT message_id FROM post_attachments")
    assert rows == []  # her attachment's link went with her text


async def test_comments_after_the_window_are_counted_apart_in_the_export(world: World) -> None:
    dialogue = await create_dialogue(world, opens="now", duration="1d", after_close="comments-until-summary")
    await world.env.advance_time(1)
    room = channel(world, await reload(world, dialogue.id))
    await world.alice.send(thread(room, HOME), "Said during the window.")
    await world.env.advance_time(DAY + 600)
    await world.bob.send(thread(room, HOME), "Said after it, while comments stay open.")

    result = await world.fac.slash(world.general, "dialogue export", dialogue=str(dialogue.id), format="json")
    document = json.loads((await read_file(result))[1])
    assert document["dialogue"]["after_close"] == "comments-until-summary"
    wrapup = document["wrapup"]
    assert (wrapup["posts"], wrapup["posts_after_window"], wrapup["participants_after_window"]) == (2, 1, 1)
    result = await world.fac.slash(world.general, "dialogue export", dialogue=str(dialogue.id), format="markdown")
    markdown = (await read_file(result))[1].decode()
    assert "1 post from 1 participant came after the window, while comments stayed open until the summary." in markdown
