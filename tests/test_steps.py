"""The step helpers' bookkeeping: one lock per dialogue while it is used, nothing kept after."""

from __future__ import annotations

import asyncio

from bot.steps import DialogueLocks


async def test_one_dialogue_gets_one_lock_while_it_is_held_and_none_is_kept_after() -> None:
    locks = DialogueLocks()
    order: list[str] = []

    async def step(name: str) -> None:
        async with locks(7):
            order.append(f"{name} in")
            await asyncio.sleep(0)
            order.append(f"{name} out")

    await asyncio.gather(step("release"), step("close"))
    assert order == ["release in", "release out", "close in", "close out"]  # never interleaved
    held = locks(7)
    assert locks(7) is held and locks(8) is not held  # one lock per dialogue while it is in use
    del held
    assert len(locks._locks) == 0  # a finished dialogue leaves no lock behind (freed with its last user)
