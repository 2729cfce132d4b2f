"""/dialogue extend through the slash command: a dialogue never runs longer than 60 days."""

from __future__ import annotations

from datetime import timedelta

from tests.conftest import World
from tests.integration.support import create_dialogue, is_ephemeral, last_reply, reload, run


async def test_extend_refuses_to_pass_sixty_days_and_changes_nothing(world: World) -> None:
    dialogue = await create_dialogue(world, opens="in 1h", duration="50d")

    result = await world.fac.slash(world.general, "dialogue extend", dialogue=str(dialogue.id), by="10d1m")
    assert is_ephemeral(result)
    assert last_reply(result) == (
        "**by**: that would make the dialogue longer than 60 days. Extend it by less. Example: `1d`."
    )
    assert (await reload(world, dialogue.id)).closes_at == dialogue.closes_at

    # Up to exactly 60 days is allowed; then not a minute more.
    reply = await run(world, "dialogue extend", dialogue=str(dialogue.id), by="10d")
    assert "now closes" in reply
    sixty = await reload(world, dialogue.id)
    assert sixty.closes_at - sixty.opens_at == timedelta(days=60)
    refused = await run(world, "dialogue extend", dialogue=str(dialogue.id), by="10m")
    assert "longer than 60 days" in refused
    assert (await reload(world, dialogue.id)).closes_at == sixty.closes_at
