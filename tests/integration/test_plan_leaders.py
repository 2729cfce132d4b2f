"""Plan leaders through the real bot: imported as leaders with their zones, exported back, welcomed once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import discord
import simcord

import db.leaders as leaders_db
from bot.domain.plan import parse_plan
from bot.domain.reminders import MemberZone, ZoneSource
from tests.conftest import World

PLAN = """
[dialogue]
title = "Led by four"
timezone = "Europe/Zurich"
opens = "2026-01-05 10:00"
duration = "2d"

[reminders]
checkin_hour = 8

[[questions]]
text = "Where do we start?"

[[leaders]]
user = "alice"
commitment = 3
timezone = "Asia/Kathmandu"

[[leaders]]
user = "bob"

[[leaders]]
user = "chen"
timezone = "America/Toronto"
checkin_hour = 7
"""


def answer_of(result: simcord.InteractionResult) -> simcord.ResponseMessage:
    if result.followups:
        return result.followups[-1]
    assert result.response is not None, result
    return result.response


def dms(member: simcord.MemberActor) -> list[str]:
    channel = member.user.dm_channel
    if channel is None:
        return []
    return [m.content for m in channel.history() if m.type is discord.MessageType.default]


async def test_plan_leaders_are_added_with_their_zones_and_exported(world: World) -> None:
    # dara chose her own zone before; the plan does not override it.
    await world.members[3].slash(world.general, "my-timezone", zone="Africa/Nairobi", checkin_hour=10)
    text = PLAN + '\n[[leaders]]\nuser = "dara"\ntimezone = "Europe/Lisbon"\n'
    result = await world.fac.slash(world.general, "dialogue create", plan=("plan.toml", text.encode()))
    assert "(4 of 4 in the plan)" in answer_of(result).content
    (dialogue,) = await world.bot.dialogues.in_guild(world.guild.id)
    roster = await leaders_db.leaders(world.bot.database, dialogue.id)
    by_id = {leader.user_id: leader.commitment for leader in roster}
    assert by_id == {world.alice.id: 3, world.bob.id: 2, world.members[2].id: 2, world.members[3].id: 2}
    db = world.bot.database
    assert await leaders_db.get_member(db, world.guild.id, world.alice.id) == MemberZone(
        "Asia/Kathmandu", 8, ZoneSource.PLAN
    )
    assert await leaders_db.get_member(db, world.guild.id, world.bob.id) is None  # the dialogue's zone, hour 8
    assert await leaders_db.get_member(db, world.guild.id, world.members[2].id) == MemberZone(
        "America/Toronto", 7, ZoneSource.PLAN
    )
    assert await leaders_db.get_member(db, world.guild.id, world.members[3].id) == MemberZone(
        "Africa/Nairobi", 10, ZoneSource.SELF
    )
    # Each leader is welcomed once, with their own check-in time.
    (welcome,) = dms(world.alice)
    assert welcome.startswith("Your dialogue role")
    assert "08:00 in Asia/Kathmandu" in welcome

    exported = await world.fac.slash(world.general, "dialogue plan", dialogue=str(dialogue.id))
    written = (await answer_of(exported).attachments[0].read()).decode()
    plan = parse_plan(written, world.env.now())
    assert f"user = {world.alice.id}  # alice\n" in written
    leaders = {leader.user: leader for leader in plan.leaders}
    assert leaders[world.alice.id].timezone == "Asia/Kathmandu"
    assert leaders[world.alice.id].checkin_hour is None  # the plan's default hour, 8
    assert leaders[world.alice.id].commitment == 3
    assert leaders[world.bob.id].timezone is None
    assert leaders[world.members[2].id].checkin_hour == 7
    assert leaders[world.members[3].id].timezone == "Africa/Nairobi"
    assert leaders[world.members[3].id].checkin_hour == 10
    assert plan.checkin_hour == 8

    # Importing the export again makes a dialogue with the same leaders.
    await world.fac.slash(world.general, "dialogue create", plan=("again.toml", written.encode()))
    again, _ = await world.bot.dialogues.in_guild(world.guild.id)
    assert {
        (leader.user_id, leader.commitment) for leader in await leaders_db.leaders(world.bot.database, again.id)
    } == set(by_id.items())


async def test_plan_reminder_settings_shape_the_check_ins(world: World) -> None:
    text = PLAN.replace("checkin_hour = 8\n", 'checkin_hour = 8\nunanswered_after = "6h"\n', 1)
    await world.fac.slash(world.general, "dialogue create", plan=("plan.toml", text.encode()))
    # Bob set nothing: his check-ins follow the plan's hour (08:00) in the dialogue's zone (Zurich, UTC+1).
    first = datetime(2026, 1, 6, 7, 0, tzinfo=UTC)
    await world.env.advance_time((first - world.env.now()).total_seconds() - 1)
    assert not [m for m in dms_after(world.bob, first - timedelta(hours=20)) if "check-in" in m.content]
    await world.env.advance_time(1)
    (checkin,) = [m for m in dms_after(world.bob, first - timedelta(hours=20)) if "check-in" in m.content]
    assert checkin.created_at == first
    assert "for more than 6 hours" in checkin.content


def dms_after(member: simcord.MemberActor, moment: datetime) -> list[discord.Message]:
    channel = member.user.dm_channel
    if channel is None:
        return []
    return [m for m in channel.history() if m.created_at >= moment and m.type is discord.MessageType.default]
