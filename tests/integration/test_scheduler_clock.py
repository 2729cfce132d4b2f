"""Virtual time drives APScheduler: bot/scheduler.py swaps ``datetime`` in two APScheduler 3 modules for the clock.

APScheduler 3 has no clock hook, so the patch depends on its internals; pyproject.toml pins the minor range
these tests were run against. If an upgrade moves or renames what the patch replaces, these fail.
"""

from __future__ import annotations

import inspect
import sys
from datetime import UTC, timedelta
from pathlib import Path

import apscheduler.executors.base
import apscheduler.schedulers.base

import db.dialogues as dialogues_db
from bot.domain.models import State
from bot.scheduler import _ClockDatetime
from bot.services import TIMER_JOB
from tests.conftest import World
from tests.integration.support import DAY, create_dialogue, reload

# The modules whose ``datetime`` the Scheduler replaces, and why each matters.
PATCHED = {
    # Decides when the next job is due and how long to sleep until it.
    "apscheduler.schedulers.base": apscheduler.schedulers.base,
    # Decides whether a job that wakes up has missed its run time.
    "apscheduler.executors.base": apscheduler.executors.base,
}
# Reads ``datetime.now`` only when a DateTrigger gets no run date; Scheduler.place always gives one.
READS_NOW_UNUSED = {"apscheduler.triggers.date"}


async def test_jobs_placed_days_ahead_fire_at_exactly_their_virtual_moment(world: World) -> None:
    created = world.bot.clock()
    dialogue = await create_dialogue(world, opens="in 3d", duration="4d")
    assert abs(dialogue.opens_at - (created + timedelta(days=3))) < timedelta(seconds=1)
    # The record says the dialogue is next due at its opening, and the one timer job is placed at that instant.
    assert await dialogues_db.wake_at(world.bot.database, dialogue.id) == dialogue.opens_at
    assert world.bot.scheduler.next_run(TIMER_JOB) == dialogue.opens_at

    to_opening = (dialogue.opens_at - world.bot.clock()).total_seconds()
    await world.env.advance_time(to_opening - 1)
    assert (await reload(world, dialogue.id)).state is State.SCHEDULED
    await world.env.advance_time(1)
    opened = await reload(world, dialogue.id)
    assert opened.state is State.OPEN
    assert opened.opened_at == dialogue.opens_at
    # Once open, it is next due at its closing, and the timer is placed there.
    assert await dialogues_db.wake_at(world.bot.database, dialogue.id) == dialogue.closes_at
    assert world.bot.scheduler.next_run(TIMER_JOB) == dialogue.closes_at

    await world.env.advance_time(4 * DAY - 1)
    assert (await reload(world, dialogue.id)).state is State.OPEN
    await world.env.advance_time(1)
    closed = await reload(world, dialogue.id)
    assert closed.state is State.CLOSED
    assert closed.closed_at == dialogue.closes_at


async def test_the_patched_apscheduler_modules_read_the_bots_clock(world: World) -> None:
    assert world.bot.scheduler.running
    await world.env.advance_time(10 * DAY)  # virtual now is now far from the wall clock
    for name, module in PATCHED.items():
        # The module is still there under this name, reads "now" through its global ``datetime``, and that
        # global is the one the Scheduler installed.
        assert sys.modules.get(name) is module, name
        assert "datetime.now(" in inspect.getsource(module), name
        assert module.datetime is _ClockDatetime, name
        assert module.datetime.now(UTC) == world.bot.clock(), name


def test_no_other_loaded_apscheduler_module_reads_the_wall_clock() -> None:
    """A module that starts reading ``now`` in a new release would run on real time, unpatched."""
    import bot.scheduler  # noqa: F401  (loads every APScheduler module the bot uses)

    reading = set()
    for name, module in list(sys.modules.items()):
        if not name.startswith("apscheduler.") or getattr(module, "__file__", None) is None:
            continue
        source = Path(module.__file__).read_text(encoding="utf-8")
        if any(call in source for call in ("datetime.now(", "datetime.utcnow(", "time.time(", "time.monotonic(")):
            reading.add(name)
    assert reading == set(PATCHED) | READS_NOW_UNUSED
