"""/dialogue list: one message, those that need action first, and "+N more" when it is cut."""

from __future__ import annotations

from bot.domain.models import State
from tests.conftest import World
from tests.integration.support import HOUR, create_dialogue, reload, run


async def test_a_long_list_keeps_the_failed_dialogue_first_and_counts_the_rest(world: World) -> None:
    broken = await create_dialogue(world, title="Half made", opens="in 1h")
    world.env.inject_error("POST", "/channels/*/threads", status=500, code=0, message="Server trouble", times=1)
    await world.env.advance_time(HOUR)
    assert (await reload(world, broken.id)).state is State.FAILED
    for number in range(16):
        await create_dialogue(world, title=f"Topic {number:02d} " + "x" * 90, opens="in 3h")

    listing = await run(world, "dialogue list")
    assert len(listing) <= 2000
    lines = listing.splitlines()
    assert lines[0].startswith("**Failed** (needs action")
    assert lines[1].startswith(f"- #{broken.id} Half made: ")
    assert "thread for question 1" in lines[1]  # the failure reason, so the facilitator sees why
    shown = [line for line in lines if line.startswith("- #")]
    assert len(shown) < 17
    assert lines[-1] == f"+{17 - len(shown)} more ({17 - len(shown)} scheduled)"
