"""/my-timezone without an hour keeps the member's stored check-in hour; a first setting takes the default."""

from __future__ import annotations

import db.leaders as leaders_db
from bot.domain.reminders import MemberZone, ZoneSource
from tests.conftest import World
from tests.integration.support import run


async def test_a_new_zone_without_an_hour_keeps_the_stored_hour(world: World) -> None:
    first = await run(world, "my-timezone", world.alice, zone="Asia/Kathmandu", checkin_hour=7)
    assert first.startswith("Saved: your check-ins in this server arrive at 07:00 in Asia/Kathmandu.")

    moved = await run(world, "my-timezone", world.alice, zone="America/Toronto")
    assert moved.startswith("Saved: your check-ins in this server arrive at 07:00 in America/Toronto.")
    assert await leaders_db.get_member(world.bot.database, world.guild.id, world.alice.id) == MemberZone(
        "America/Toronto", 7, ZoneSource.SELF
    )


async def test_a_first_zone_without_an_hour_takes_the_configured_default(world: World) -> None:
    await world.restart_with(default_checkin_hour=6)
    text = await run(world, "my-timezone", world.bob, zone="Europe/Warsaw")
    assert text.startswith("Saved: your check-ins in this server arrive at 06:00 in Europe/Warsaw.")
    assert await leaders_db.get_member(world.bot.database, world.guild.id, world.bob.id) == MemberZone(
        "Europe/Warsaw", 6, ZoneSource.SELF
    )
