"""What facilitators type, and who may type it: bad values are named and change nothing."""

from __future__ import annotations

import pytest
import simcord

import db.dialogues as dialogues_db
from tests.conftest import World
from tests.integration.support import (
    DAY,
    bot_messages,
    channel,
    create_dialogue,
    is_ephemeral,
    last_reply,
    reload,
)

GOOD = {
    "title": "Engaging the Council",
    "framing": "Why engage?",
    "questions": "What does engagement add?\nWhat is realistic?",
    "opens": "in 1h",
    "duration": "2d",
}

BAD_FORMS = [
    ({"title": "   "}, "**Title**: a title is required."),
    ({"title": "x" * 101}, "**Title**: it is 101 characters long; the limit is 100."),
    ({"questions": "\n \n"}, "**Questions**: write at least one seed question, one per line."),
    ({"questions": "\n".join(f"Question {n}?" for n in range(21))}, "**Questions**: there are 21 questions"),
    ({"questions": "Short?\n" + "y" * 1001}, "**Questions**: question 2 is 1001 characters long"),
    ({"opens": "tomorrow-ish"}, "**Opens**: `tomorrow-ish` is not a time."),
    ({"opens": "2025-12-01 14:00"}, "**Opens**: `2025-12-01 14:00` has already passed."),
    ({"opens": "in soon"}, "**Opens**: `in soon` is not a time from now"),
    ({"duration": "5x"}, "**Duration**: `5x` is not a duration."),
    ({"duration": "5m"}, "**Duration**: `5m` is too short; the minimum is 10 minutes."),
    ({"duration": "61d"}, "**Duration**: `61d` is too long; the maximum is 60 days."),
    ({"framing": "z" * 4001}, "**Framing**: it is 4001 characters long"),
    ({"title": "\u200b\u200b \u2060"}, "**Title**: it has only spaces or invisible characters"),
    ({"questions": "Visible?\n\u200b\u200d"}, "**Questions**: question 2 has only spaces or invisible characters"),
    ({"duration": "9" * 5000 + "d"}, "**Duration**: `" + "9" * 39 + "…` is too long; the maximum is 60 days."),
]


@pytest.mark.parametrize(
    ("changes", "message"), BAD_FORMS, ids=[m.split(":")[0] + str(i) for i, (_, m) in enumerate(BAD_FORMS)]
)
async def test_bad_form_values_are_named_and_nothing_is_created(world: World, changes: dict, message: str) -> None:
    shown = await world.fac.slash(world.general, "dialogue create")
    result = await world.fac.submit_modal(shown, {**GOOD, **changes})
    text = last_reply(result)
    assert is_ephemeral(result)
    assert text.startswith("Nothing was created.")
    assert message in text
    assert "Example: `" in text
    assert await dialogues_db.in_guild(world.bot.database, world.guild.id) == []
    await world.env.advance_time(3 * DAY)
    assert [c.name for c in world.guild.channels.values()] == ["general"]


async def test_a_bad_time_zone_is_refused_before_the_form(world: World) -> None:
    result = await world.fac.slash(world.general, "dialogue create", timezone="Mars/Olympus")
    assert result.modal is None
    assert is_ephemeral(result)
    assert last_reply(result).startswith("Nothing was created. **Time zone**: `Mars/Olympus` is not an IANA time zone")


async def test_local_opening_time_is_read_in_the_dialogues_zone(world: World) -> None:
    dialogue = await create_dialogue(world, opens="2026-01-05 09:00", timezone="Asia/Kathmandu")
    assert dialogue.opens_at.isoformat() == "2026-01-05T03:15:00+00:00"
    assert dialogue.timezone == "Asia/Kathmandu"


async def test_time_zone_autocomplete_offers_iana_names(world: World) -> None:
    choices = await world.fac.autocomplete(world.general, "dialogue create", "timezone", "kathm")
    assert [c["value"] for c in choices] == ["Asia/Kathmandu"]


async def test_everyone_in_user_text_never_pings(world: World) -> None:
    mark = len(world.env.http_requests)
    dialogue = await create_dialogue(
        world,
        title="@everyone look",
        framing="Hello @everyone and @here",
        questions="Is @everyone reading this?",
        opens="now",
    )
    await world.env.advance_time(1)
    posts = [
        entry
        for entry in world.env.http_requests[mark:]
        if entry.method == "POST" and entry.path.endswith("/messages") and entry.json
    ]
    assert posts, "the bot posted nothing"
    for entry in posts:
        assert entry.json.get("allowed_mentions") == {"parse": []}, entry
    room = channel(world, await reload(world, dialogue.id))
    assert all(not m.mention_everyone for m in bot_messages(room, world))
    assert any(t.name == "Is @everyone reading this?" for t in room.threads)


async def test_members_do_not_see_the_facilitator_commands(world: World) -> None:
    assert not any(name.startswith("dialogue") for name in world.alice.available_commands(world.general))
    with pytest.raises(simcord.SetupError):
        await world.alice.slash(world.general, "dialogue list")


async def test_a_member_granted_the_command_is_still_refused(world: World) -> None:
    # Server admins can re-grant a command to anyone; the bot checks again when it runs.
    commands = await world.bot.tree.fetch_commands()
    dialogue_command = next(c for c in commands if c.name == "dialogue")
    world.guild.set_command_permissions(dialogue_command, {world.guild.default_role: True})
    await create_dialogue(world)

    for command, options in (("dialogue list", {}), ("dialogue cancel", {"dialogue": "1"}), ("dialogue create", {})):
        result = await world.alice.slash(world.general, command, **options)
        assert result.modal is None
        assert is_ephemeral(result)
        assert last_reply(result).startswith("Only facilitators can use `/dialogue`")
    assert (await reload(world, 1)).state.value == "scheduled"


async def test_the_facilitator_role_alone_is_enough_at_run_time(world: World) -> None:
    moderators = world.guild.create_role("Moderators")
    moderator = world.guild.add_member(world.env.create_user("mo"), roles=[moderators])
    await world.restart_with(facilitator_role="Moderators")
    commands = await world.bot.tree.fetch_commands()
    dialogue_command = next(c for c in commands if c.name == "dialogue")
    world.guild.set_command_permissions(dialogue_command, {moderators: True})

    result = await moderator.slash(world.general, "dialogue list")
    assert last_reply(result).startswith("There are no dialogues in this server yet.")


async def test_guild_ids_sync_the_commands_to_those_servers_only(world: World) -> None:
    await world.restart_with(guild_ids=(world.guild.id,))
    guild_commands = await world.bot.tree.fetch_commands(guild=world.dguild())
    assert "dialogue" in [c.name for c in guild_commands]
    assert "dialogue" not in [c.name for c in await world.bot.tree.fetch_commands()]
    result = await world.fac.slash(world.general, "dialogue list")
    assert last_reply(result).startswith("There are no dialogues")


async def test_a_default_zone_written_in_any_case_gives_dialogues_its_real_name(world: World) -> None:
    await world.restart_with(default_timezone="asia/KATHMANDU")
    dialogue = await create_dialogue(world, opens="2026-01-05 09:00", timezone=None)
    assert dialogue.timezone == "Asia/Kathmandu"
    assert dialogue.opens_at.isoformat() == "2026-01-05T03:15:00+00:00"
