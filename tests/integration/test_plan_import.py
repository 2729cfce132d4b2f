"""Plan files through the real bot: import with an attachment, export, round trip, staged release."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import discord
import pytest
import simcord

import db.dialogues as dialogues_db
import db.leaders as leaders_db
from bot.domain.models import State
from bot.domain.plan import parse_plan
from tests.conftest import World

HOUR = 3600
DAY = 86400

PLAN = """
[dialogue]
title = "Staged questions"
framing = "Two questions now, one tomorrow."
timezone = "Europe/Zurich"
opens = "2026-01-02 10:00"
duration = "3d"

[reminders]
checkin_hour = 8
unanswered_after = "6h"

[[questions]]
text = "What brought you here?"

[[questions]]
text = "What would you change first?"

[[questions]]
text = "Who is missing from this conversation?"
release = "day 2"
"""

OPENS = datetime(2026, 1, 2, 9, 0, tzinfo=UTC)  # 10:00 in Zurich
# A held import is answered within an hour of SimCord's start (2026-01-01 00:00 UTC).
EXPIRES = int(datetime(2026, 1, 1, 1, 0, tzinfo=UTC).timestamp())


def answer_of(result: simcord.InteractionResult) -> simcord.ResponseMessage:
    """The message the user saw last in answer to an interaction."""
    if result.followups:
        return result.followups[-1]
    assert result.response is not None, result
    return result.response


async def import_plan(world: World, text: str, filename: str = "plan.toml") -> simcord.InteractionResult:
    return await world.fac.slash(world.general, "dialogue create", plan=(filename, text.encode()))


def thread_names(world: World, channel_id: int) -> list[str]:
    channel = next(c for c in world.guild.channels.values() if c.id == channel_id)
    return [t.name for t in channel.threads if not t.name.startswith("Leaders · #")]


async def test_import_schedules_the_plan(world: World) -> None:
    result = await import_plan(world, PLAN)
    shown = answer_of(result)
    assert shown.ephemeral
    assert shown.content.startswith("Scheduled **Staged questions** (#1) with 3 seed questions.")
    assert f"Question 3 opens <t:{int((OPENS + timedelta(days=1)).timestamp())}:F>" in shown.content
    (dialogue,) = await world.bot.dialogues.in_guild(world.guild.id)
    assert (dialogue.title, dialogue.timezone, dialogue.state) == ("Staged questions", "Europe/Zurich", State.SCHEDULED)
    assert dialogue.framing == "Two questions now, one tomorrow."
    assert dialogue.opens_at == OPENS
    assert dialogue.closes_at == OPENS + timedelta(days=3)
    questions = await dialogues_db.questions(world.bot.database, dialogue.id)
    assert [q.text for q in questions] == [
        "What brought you here?",
        "What would you change first?",
        "Who is missing from this conversation?",
    ]
    assert [q.release_at for q in questions] == [None, None, OPENS + timedelta(days=1)]


async def test_invalid_plan_is_refused_and_nothing_is_created(world: World) -> None:
    bad = PLAN.replace('duration = "3d"', 'duration = "3 days"').replace('release = "day 2"', 'release = "later"')
    result = await import_plan(world, bad)
    shown = answer_of(result)
    assert shown.ephemeral
    assert shown.content == (
        "Nothing was created. The plan has 2 problems:\n"
        "- dialogue.duration: `3 days` is not a duration. Use numbers with m (minutes), h (hours), d (days) or "
        "w (weeks), e.g. `90m`, `36h` or `1w2d`. Example: `5d`.\n"
        '- questions[3].release: `later` is not a release time; use "day 2", "day 2 09:00", an offset like '
        '"+36h", or a local date and time like "2027-03-01 09:00".'
    )
    assert await world.bot.dialogues.in_guild(world.guild.id) == []


async def test_syntax_error_names_line_and_column(world: World) -> None:
    result = await import_plan(world, '[dialogue]\ntitle = "Unclosed\n')
    assert answer_of(result).content == (
        "Nothing was created. The plan has 1 problem:\n"
        "- TOML syntax error at line 2, column 18: Illegal character '\\n'."
    )
    assert await world.bot.dialogues.in_guild(world.guild.id) == []


async def test_a_binary_file_is_refused(world: World) -> None:
    result = await world.fac.slash(world.general, "dialogue create", plan=("plan.toml", b"\xff\xfe\x00garbage"))
    assert answer_of(result).content == (
        "Nothing was created. The plan has 1 problem:\n- the file is not UTF-8 text (byte 1); save it as UTF-8 TOML."
    )


CRASHERS = [
    # (plan text, the one problem named): each used to end in the generic apology.
    (
        "x = " + "[" * 5000 + "]" * 5000 + "\n" + PLAN,
        "the file nests arrays or inline tables (`[...]`, `{...}`) too deeply to read",
    ),
    (PLAN + '\n[[leaders]]\nuser = "²"\n', "leaders[1].user: `²` is not a Discord username"),
    (PLAN + "\n[[leaders]]\nuser = " + "7" * 5000 + "\n", "the file has a number with too many digits to read"),
    (PLAN.replace('"Staged questions"', '"\\u200b\\u200d"'), "dialogue.title: it has only spaces or invisible"),
    (PLAN.replace('"What brought you here?"', '"\\u3164"'), "questions[1].text: it has only spaces or invisible"),
]


@pytest.mark.parametrize(("text", "problem"), CRASHERS, ids=["nested", "superscript", "digits", "title", "question"])
async def test_plans_that_used_to_crash_are_refused_by_name(world: World, text: str, problem: str) -> None:
    result = await import_plan(world, text)
    shown = answer_of(result)
    assert shown.ephemeral
    assert shown.content.startswith(f"Nothing was created. The plan has 1 problem:\n- {problem}")
    assert "Sorry, something went wrong" not in shown.content
    assert await world.bot.dialogues.in_guild(world.guild.id) == []
    assert [c.name for c in world.guild.channels.values()] == ["general"]


async def test_a_member_cannot_import(world: World) -> None:
    try:
        result = await world.alice.slash(world.general, "dialogue create", plan=("plan.toml", PLAN.encode()))
    except simcord.SetupError:
        pass  # hidden by default permissions
    else:
        assert "Only facilitators" in answer_of(result).content
    assert await world.bot.dialogues.in_guild(world.guild.id) == []


async def test_timezone_option_with_a_plan_is_refused(world: World) -> None:
    result = await world.fac.slash(
        world.general, "dialogue create", timezone="Asia/Tokyo", plan=("plan.toml", PLAN.encode())
    )
    assert answer_of(result).content == ("Nothing was created. A plan sets its own time zone: leave `timezone` out.")


async def test_unknown_leaders_need_confirmation(world: World) -> None:
    text = PLAN + (
        f'\n[[leaders]]\nuser = "alice"\ncommitment = 3\n'
        f"\n[[leaders]]\nuser = {world.bob.id}\n"
        '\n[[leaders]]\nuser = "nobody.here"\n'
        "\n[[leaders]]\nuser = 412345678901234567\n"
    )
    result = await import_plan(world, text)
    shown = answer_of(result)
    assert shown.ephemeral
    assert shown.content == (
        "**Staged questions**: 2 leaders in this plan are not members of this server: @nobody.here, "
        "412345678901234567.\nCreate the dialogue without them? You can add them later with `/dialogue leaders add`.\n"
        f"Answer by <t:{EXPIRES}:t> (<t:{EXPIRES}:R>); after that, nothing is created."
    )
    assert await world.bot.dialogues.in_guild(world.guild.id) == []
    await world.fac.click(shown, label="Create without them")
    (dialogue,) = await world.bot.dialogues.in_guild(world.guild.id)
    assert dialogue.title == "Staged questions"
    edited = world.env.backend.get_message(shown.channel_id, shown.id)
    assert edited.content.startswith("Scheduled **Staged questions**")
    assert f"<@{world.alice.id}>" in edited.content and f"<@{world.bob.id}>" in edited.content
    assert "(2 of 4 in the plan)" in edited.content
    roster = await leaders_db.leaders(world.bot.database, dialogue.id)
    assert sorted((leader.user_id, leader.commitment) for leader in roster) == sorted(
        [(world.alice.id, 3), (world.bob.id, 2)]
    )


async def held_import(world: World) -> simcord.ResponseMessage:
    """Import a plan with a leader who is not a member; return the question with its two buttons."""
    shown = answer_of(
        await import_plan(world, PLAN + '\n[[leaders]]\nuser = "bob"\n\n[[leaders]]\nuser = "nobody.here"\n')
    )
    assert "Create the dialogue without them?" in shown.content
    return shown


async def test_the_import_question_is_answered_after_a_restart(world: World) -> None:
    shown = await held_import(world)
    await world.restart()  # a deploy between the question and the answer
    await world.fac.click(shown, label="Create without them")
    (dialogue,) = await world.bot.dialogues.in_guild(world.guild.id)
    assert dialogue.title == "Staged questions"
    edited = world.env.backend.get_message(shown.channel_id, shown.id)
    assert edited.content.startswith("Scheduled **Staged questions**")
    assert f"<@{world.bob.id}>" in edited.content and "(1 of 2 in the plan)" in edited.content
    assert [leader.user_id for leader in await leaders_db.leaders(world.bot.database, dialogue.id)] == [world.bob.id]
    assert await world.bot.database.fetchall("SELECT id FROM pending_imports") == []


async def test_cancel_after_a_restart_creates_nothing(world: World) -> None:
    shown = await held_import(world)
    await world.restart()
    await world.fac.click(shown, label="Cancel")
    assert world.env.backend.get_message(shown.channel_id, shown.id).content == "Nothing was created."
    assert await world.bot.dialogues.in_guild(world.guild.id) == []
    assert await world.bot.database.fetchall("SELECT id FROM pending_imports") == []


async def test_an_answer_after_the_time_limit_creates_nothing_and_says_so(world: World) -> None:
    shown = await held_import(world)
    await world.env.advance_time(HOUR)
    await world.fac.click(shown, label="Create without them")
    assert world.env.backend.get_message(shown.channel_id, shown.id).content == (
        f"This import expired at <t:{EXPIRES}:t>: nothing was created. Import the plan again to create it."
    )
    assert await world.bot.dialogues.in_guild(world.guild.id) == []
    assert await world.bot.database.fetchall("SELECT id FROM pending_imports") == []


async def test_unknown_leaders_cancel_creates_nothing(world: World) -> None:
    result = await import_plan(world, PLAN + '\n[[leaders]]\nuser = "nobody.here"\n')
    shown = answer_of(result)
    await world.fac.click(shown, label="Cancel")
    assert world.env.backend.get_message(shown.channel_id, shown.id).content == "Nothing was created."
    assert await world.bot.dialogues.in_guild(world.guild.id) == []


async def test_export_round_trip(world: World) -> None:
    await import_plan(world, PLAN)
    (first,) = await world.bot.dialogues.in_guild(world.guild.id)
    result = await world.fac.slash(world.general, "dialogue plan", dialogue=str(first.id))
    shown = answer_of(result)
    assert shown.ephemeral
    assert shown.content == f"The plan of **Staged questions** (#{first.id})."
    (attachment,) = shown.attachments
    assert attachment.filename == "staged-questions.toml"
    exported = (await attachment.read()).decode()
    assert parse_plan(exported, world.env.now()) == parse_plan(PLAN, world.env.now())
    assert 'release = "day 2"' in exported

    await import_plan(world, exported, attachment.filename)
    second, again = await world.bot.dialogues.in_guild(world.guild.id)
    assert second.id != again.id
    fields = ("title", "framing", "timezone", "opens_at", "closes_at", "state")
    assert [getattr(second, f) for f in fields] == [getattr(again, f) for f in fields]
    one = await dialogues_db.questions(world.bot.database, first.id)
    two = await dialogues_db.questions(world.bot.database, second.id)
    assert [(q.position, q.text, q.release_at) for q in one] == [(q.position, q.text, q.release_at) for q in two]
    result = await world.fac.slash(world.general, "dialogue plan", dialogue=str(second.id))
    assert (await answer_of(result).attachments[0].read()).decode() == exported


async def test_staged_question_opens_at_its_time_and_survives_a_restart(world: World) -> None:
    await import_plan(world, PLAN)
    (dialogue,) = await world.bot.dialogues.in_guild(world.guild.id)
    start = world.env.now()
    await world.env.advance_time((OPENS - start).total_seconds())
    dialogue = await world.bot.dialogues.get(dialogue.id)
    assert dialogue.state is State.OPEN
    assert dialogue.channel_id is not None
    assert "Who is missing from this conversation?" not in thread_names(world, dialogue.channel_id)
    assert len(thread_names(world, dialogue.channel_id)) == 2
    pinned = [m for m in world.env.backend.messages[dialogue.channel_id].values() if m.pinned]
    assert "**Later questions**" in pinned[0].content

    await world.env.advance_time(12 * HOUR)
    await world.restart()
    await world.env.advance_time(12 * HOUR - 1)
    assert "Who is missing from this conversation?" not in thread_names(world, dialogue.channel_id)
    await world.env.advance_time(1)
    assert thread_names(world, dialogue.channel_id)[-1] == "Who is missing from this conversation?"
    questions = await dialogues_db.questions(world.bot.database, dialogue.id)
    assert questions[2].thread_id is not None
    # A second restart creates nothing twice.
    await world.restart()
    await world.env.advance_time(HOUR)
    assert len(thread_names(world, dialogue.channel_id)) == 3


async def test_staged_question_released_while_the_bot_was_down(world: World) -> None:
    await import_plan(world, PLAN)
    (dialogue,) = await world.bot.dialogues.in_guild(world.guild.id)
    await world.env.advance_time((OPENS - world.env.now()).total_seconds() + HOUR)
    await world.bot.close()
    await world.env.advance_time(DAY)  # the release time passes while the bot is down
    await world.env.restart_bot(__import__("bot").create_bot(world.settings))
    await world.env.settle()
    dialogue = await world.bot.dialogues.get(dialogue.id)
    assert dialogue.channel_id is not None
    assert len(thread_names(world, dialogue.channel_id)) == 3
    assert isinstance(world.bot.get_channel(dialogue.channel_id), discord.TextChannel)


async def test_a_dialogue_made_with_the_form_exports_and_imports_as_the_same(world: World) -> None:
    await world.env.advance_time(1234.5)  # an opening that is not on a whole minute
    shown = await world.fac.slash(world.general, "dialogue create", timezone="America/Toronto")
    await world.fac.submit_modal(
        shown,
        {
            "title": "From the form",
            "framing": 'Line one\nLine two with "quotes" and a back\\slash',
            "questions": "First?\nSecond?",
            "opens": "in 1h",
            "duration": "36h",
        },
    )
    (made,) = await world.bot.dialogues.in_guild(world.guild.id)
    result = await world.fac.slash(world.general, "dialogue plan", dialogue=str(made.id))
    written = (await answer_of(result).attachments[0].read()).decode()
    assert "[reminders]" not in written and "[[leaders]]" not in written
    await import_plan(world, written)
    again, _ = await world.bot.dialogues.in_guild(world.guild.id)
    fields = ("title", "framing", "timezone", "opens_at", "closes_at")
    assert [getattr(again, f) for f in fields] == [getattr(made, f) for f in fields]
    assert again.opens_at.second == made.opens_at.second != 0


async def test_a_failed_staged_release_keeps_the_dialogue_open_and_is_retried(world: World) -> None:
    await import_plan(world, PLAN)
    (dialogue,) = await world.bot.dialogues.in_guild(world.guild.id)
    await world.env.advance_time((OPENS - world.env.now()).total_seconds() + HOUR)
    world.env.inject_error("POST", "/channels/*/threads", status=500, code=0, message="Server trouble", times=1)
    await world.env.advance_time(DAY - HOUR)  # the release is due and Discord refuses it once

    dialogue = await world.bot.dialogues.get(dialogue.id)
    assert dialogue.state is State.OPEN
    assert dialogue.channel_id is not None
    assert "Who is missing from this conversation?" not in thread_names(world, dialogue.channel_id)
    await world.env.advance_time(10 * 60)  # the retry
    assert thread_names(world, dialogue.channel_id)[-1] == "Who is missing from this conversation?"
    assert (await world.bot.dialogues.get(dialogue.id)).state is State.OPEN


async def test_the_same_member_twice_or_a_bot_as_leader_is_refused(world: World) -> None:
    twice = PLAN + f'\n[[leaders]]\nuser = "alice"\ncommitment = 5\n\n[[leaders]]\nuser = {world.alice.id}\n'
    result = await import_plan(world, twice)
    text = answer_of(result).content
    assert answer_of(result).ephemeral
    assert text.startswith("Nothing was created.")
    assert "**leaders[2].user**" in text and "same member as leaders[1]" in text
    assert await world.bot.dialogues.in_guild(world.guild.id) == []

    helper = world.guild.add_member(world.env.create_user("helperbot", bot=True))
    with_bot = PLAN + f'\n[[leaders]]\nuser = "{helper.name}"\n'
    text = answer_of(await import_plan(world, with_bot)).content
    assert "is a bot; bots cannot lead a dialogue" in text
    assert await world.bot.dialogues.in_guild(world.guild.id) == []


async def test_a_later_plan_updates_a_zone_an_earlier_plan_set_but_not_one_the_member_chose(world: World) -> None:
    from db import leaders as leaders_db

    def plan(title: str, zone: str) -> str:
        text = PLAN.replace('title = "Staged questions"', f'title = "{title}"')
        return (
            text
            + f'\n[[leaders]]\nuser = "bob"\ntimezone = "{zone}"\n\n[[leaders]]\nuser = "alice"\ntimezone = "{zone}"\n'
        )

    await world.alice.slash(world.general, "my-timezone", zone="Asia/Kathmandu")
    assert answer_of(await import_plan(world, plan("First", "Africa/Nairobi"))).content.startswith("Scheduled")
    assert answer_of(await import_plan(world, plan("Second", "Europe/Warsaw"))).content.startswith("Scheduled")
    bob = await leaders_db.get_member(world.bot.database, world.guild.id, world.bob.id)
    alice = await leaders_db.get_member(world.bot.database, world.guild.id, world.alice.id)
    assert bob is not None and bob.timezone == "Europe/Warsaw"
    assert alice is not None and alice.timezone == "Asia/Kathmandu"
