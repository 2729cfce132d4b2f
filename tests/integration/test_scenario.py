"""A week-long dialogue with a dozen participants, restarts at awkward moments, exact numbers at the end."""

from __future__ import annotations

import pytest

from bot.domain.models import State
from tests.conftest import World
from tests.integration.support import DAY, HOUR, bot_messages, channel, create_dialogue, reload

# Both backends: these run on SQLite and on a real PostgreSQL server (tests/conftest.py).
pytestmark = pytest.mark.both_backends


async def test_five_days_twelve_participants_two_restarts(world: World) -> None:
    people = world.members + [world.guild.add_member(world.env.create_user(f"member{n}")) for n in range(8)]
    dialogue = await create_dialogue(
        world,
        title="Engaging the Council: what works",
        questions="What does engagement add at home?\nWhat outcomes are realistic?\nWhat can the Council not do?",
        opens="2026-01-02 09:00",
        duration="5d",
    )
    await world.env.advance_time(DAY + 8 * HOUR)  # opens 2026-01-02 08:00 UTC (09:00 in Zurich)
    room = channel(world, await reload(world, dialogue.id))
    seeds = [t for t in room.threads if not t.name.startswith("Leaders · #")]
    assert len(seeds) == 3

    expected_posts = 0
    for day in range(5):
        for index, person in enumerate(people):
            if (index + day) % 3 == 0:
                continue  # not everyone posts every day
            await person.send(seeds[(index + day) % 3], f"Day {day + 1}: a thought from {person.name}.")
            expected_posts += 1
        if day == 1:
            await people[5].send(room, f"A side topic on day {day + 1}\nSomething the questions missed.")
            expected_posts += 1
        if day == 2:
            await world.restart()  # a deploy in the middle of the window
        await world.env.advance_time(DAY - HOUR)
    assert (await reload(world, dialogue.id)).state is State.OPEN
    await world.bot.close()  # down across the closing time
    await world.env.advance_time((dialogue.closes_at - world.env.now()).total_seconds() + 3 * HOUR)
    await world.restart()
    await world.env.advance_time(1)

    closed = await reload(world, dialogue.id)
    assert closed.state is State.CLOSED
    wrapups = [m.content for m in bot_messages(room, world) if m.content.startswith("# Thank you")]
    assert len(wrapups) == 1
    assert f"**{expected_posts} posts from 12 participants.**" in wrapups[0]
    assert "- A side topic on day 2: 1 post from 1 participant" in wrapups[0]
