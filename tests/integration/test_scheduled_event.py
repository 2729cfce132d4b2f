"""The dialogue's window as a Discord scheduled event, through SimCord: created, moved, started, ended, cancelled."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

import db.events as events_db
from bot.domain.events import EventStatus
from bot.domain.models import Dialogue, State
from tests.conftest import World
from tests.integration.support import DAY, HOUR, create_dialogue, reload, run, take_bot_permissions

FRAMING = "Why do networks take their cases to international bodies?"


def events(world: World) -> list[object]:
    """The server's scheduled events as Discord (SimCord) holds them."""
    return list(world.env.backend.get_guild(world.guild.id).scheduled_events.values())


def the_event(world: World) -> object:
    (event,) = events(world)
    return event


def at(iso: str) -> datetime:
    return datetime.fromisoformat(iso)


def notices(world: World, text: str) -> list[str]:
    dm = world.fac.user.dm_channel
    return [m.content for m in dm.history() if text in m.content] if dm is not None else []


async def test_created_when_scheduled_with_the_title_framing_and_window(world: World) -> None:
    dialogue = await create_dialogue(world, framing=FRAMING, opens="in 1h", duration="2d")
    event = the_event(world)
    assert event.name == "Engaging the Council"
    assert event.description.startswith(FRAMING)
    assert event.description.endswith(f"-# dialogue #{dialogue.id}")
    assert event.entity_type == 3 and event.entity_metadata == {"location": "Discord"}
    assert event.creator_id == world.bot.user.id
    assert (at(event.scheduled_start_time), at(event.scheduled_end_time)) == (dialogue.opens_at, dialogue.closes_at)
    assert event.status == EventStatus.SCHEDULED
    record = await events_db.get(world.bot.database, dialogue.id)
    assert record.event_id == event.id and record.applied is not None


async def test_moved_on_extend_started_at_open_and_completed_at_close(world: World) -> None:
    dialogue = await create_dialogue(world, opens="in 1h", duration="2d")
    await run(world, "dialogue extend", dialogue=str(dialogue.id), by="1d")
    event = the_event(world)
    assert at(event.scheduled_end_time) == dialogue.closes_at + timedelta(days=1)

    # Opened early by hand: Discord would not start it yet on its own, the bot does.
    await run(world, "dialogue open", dialogue=str(dialogue.id))
    opened = await reload(world, dialogue.id)
    assert opened.state is State.OPEN
    assert event.status == EventStatus.ACTIVE
    assert event.entity_metadata == {"location": f"<#{opened.channel_id}>"}

    # Extended while open: the running event's end moves too.
    await run(world, "dialogue extend", dialogue=str(dialogue.id), by="12h")
    assert at(event.scheduled_end_time) == (await reload(world, dialogue.id)).closes_at

    # Closed early by hand: long before its end time, the bot ends it.
    await run(world, "dialogue close", dialogue=str(dialogue.id))
    assert (await reload(world, dialogue.id)).state is State.CLOSED
    assert event.status == EventStatus.COMPLETED
    assert len(events(world)) == 1
    status = await run(world, "dialogue status", dialogue=str(dialogue.id))
    assert f"Discord event: completed — https://discord.com/events/{world.guild.id}/{event.id}" in status


async def test_cancelled_on_cancel(world: World) -> None:
    dialogue = await create_dialogue(world, opens="in 1d", duration="2d")
    await run(world, "dialogue cancel", dialogue=str(dialogue.id))
    assert the_event(world).status == EventStatus.CANCELLED


async def test_a_plan_imports_with_its_event_or_without_it(world: World) -> None:
    plan = """
[dialogue]
title = "From a plan"
timezone = "Europe/Zurich"
opens = "in 2d"
duration = "3d"
{extra}
[[questions]]
text = "What brought you here?"
"""
    await world.fac.slash(world.general, "dialogue create", plan=("plan.toml", plan.format(extra="").encode()))
    assert [event.name for event in events(world)] == ["From a plan"]
    await world.fac.slash(
        world.general, "dialogue create", plan=("plan.toml", plan.format(extra="event = false").encode())
    )
    assert [event.name for event in events(world)] == ["From a plan"]
    newest, first = await world.bot.dialogues.in_guild(world.guild.id)
    assert not (await events_db.get(world.bot.database, newest.id)).enabled
    # The plan exported from it keeps the choice.
    exported = await world.bot.plans.export(newest.id)
    assert exported.event is False and (await world.bot.plans.export(first.id)).event is True


async def test_without_manage_events_everything_works_and_facilitators_are_told_once(world: World) -> None:
    await take_bot_permissions(world, "manage_events")
    dialogue = await create_dialogue(world, opens="in 1h", duration="1d")
    assert events(world) == []
    await world.env.advance_time(HOUR)
    assert (await reload(world, dialogue.id)).state is State.OPEN
    await run(world, "dialogue extend", dialogue=str(dialogue.id), by="1h")
    await world.env.advance_time(DAY + HOUR)
    closed = await reload(world, dialogue.id)
    assert closed.state is State.CLOSED and (await world.bot.dialogues.progress(dialogue.id)).closing_done
    assert events(world) == []
    assert len(notices(world, "Manage Events")) == 1, notices(world, "Manage Events")
    status = await run(world, "dialogue status", dialogue=str(dialogue.id))
    assert "Discord event: none, the bot lacks the Manage Events permission." in status


async def test_the_setting_turns_events_off(world: World) -> None:
    await world.restart_with(scheduled_events=False)
    dialogue = await create_dialogue(world, opens="in 1h", duration="1d")
    await world.env.advance_time(HOUR)
    await run(world, "dialogue close", dialogue=str(dialogue.id))
    assert (await reload(world, dialogue.id)).state is State.CLOSED
    assert events(world) == []
    assert not [e for e in world.env.http_requests if "scheduled-events" in e.path]


async def test_a_restart_never_makes_a_second_event(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    async def crash(*_: object) -> None:
        raise RuntimeError("the process died here")

    # Discord makes the event, then the process dies before its id is written down.
    monkeypatch.setattr(events_db, "set_event", crash)
    dialogue = await create_dialogue(world, opens="in 1h", duration="1d")
    monkeypatch.undo()
    assert len(events(world)) == 1
    assert (await events_db.get(world.bot.database, dialogue.id)).event_id is None

    await world.restart()
    await world.env.advance_time(HOUR)  # the opening's step syncs the event: the one made is adopted
    assert (await reload(world, dialogue.id)).state is State.OPEN
    (event,) = events(world)
    assert (await events_db.get(world.bot.database, dialogue.id)).event_id == event.id
    await world.restart()
    await world.env.advance_time(DAY)
    assert (await reload(world, dialogue.id)).state is State.CLOSED
    assert [e.status for e in events(world)] == [EventStatus.COMPLETED]


async def test_a_failed_update_is_tried_again_by_the_dialogue_timer(world: World) -> None:
    dialogue: Dialogue = await create_dialogue(world, opens="in 1d", duration="1d")
    event = the_event(world)
    world.env.inject_error("PATCH", f"/guilds/{world.guild.id}/scheduled-events/*", status=500, times=1)
    await run(world, "dialogue cancel", dialogue=str(dialogue.id))
    assert event.status == EventStatus.SCHEDULED  # Discord failed once
    await world.env.advance_time(10 * 60)
    assert event.status == EventStatus.CANCELLED
