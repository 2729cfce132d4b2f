"""A dialogue's window as a Discord guild scheduled event, kept in step with the dialogue's state.

What the event should be is derived from the dialogue (``wanted_event``); what was last applied to Discord is
recorded (``db/events.py``). A sync compares the two and applies only the difference, so running it again after
a crash, a refusal or a restart changes nothing that is already right. A create is recorded as begun before it
is sent, and the event's description ends with the dialogue's marker: a run that finds a create begun but no id
recorded adopts the bot's event that carries the marker instead of making a second one.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

import discord

import db.events as events_db
from db import Database

from . import render_events
from .clock import Clock
from .config import Settings
from .domain.events import EventState, EventStatus, next_statuses, wanted_event
from .domain.models import Dialogue
from .gateway import Gateway

__all__ = ("EventSync", "ScheduledEvents")

log = logging.getLogger(__name__)

# Discord refuses an event that starts in the past: one created at (or after) its opening starts a moment ahead.
_AHEAD = timedelta(minutes=1)


class EventSync(enum.Enum):
    """How a sync ended: in step (or nothing to do), refused for lack of permission, or failed (retry later)."""

    DONE = "done"
    REFUSED = "refused"
    FAILED = "failed"


class ScheduledEvents:
    """Creates and updates each dialogue's event; callers hold the dialogue's lock."""

    def __init__(
        self,
        database: Database,
        gateway: Gateway,
        clock: Clock,
        settings: Settings,
        notify: Callable[[Dialogue, str], Awaitable[None]],
    ) -> None:
        self._db = database
        self._gateway = gateway
        self._clock = clock
        self._settings = settings
        self._notify = notify

    async def sync(self, dialogue: Dialogue) -> EventSync:
        """Bring the dialogue's event in step with its state and window; never raises."""
        if not self._settings.scheduled_events:
            return EventSync.DONE
        try:
            return await self._sync(dialogue)
        except discord.Forbidden:
            log.warning("Dialogue %s: no permission to manage the server's events", dialogue.id)
            if await events_db.mark_noticed(self._db, dialogue.id, self._clock()):
                await self._notify(dialogue, render_events.events_refused(dialogue))
            return EventSync.REFUSED
        except Exception as error:
            # A refusal other than permissions, the network, a database error: tried again at the next wake-up.
            log.warning("Dialogue %s: could not update its event: %r", dialogue.id, error, exc_info=error)
            return EventSync.FAILED

    async def status_section(self, dialogue: Dialogue) -> str | None:
        """The Discord-event line of /dialogue status (None when events are turned off in the settings)."""
        if not self._settings.scheduled_events:
            return None
        record = await events_db.get(self._db, dialogue.id)
        return render_events.event_section(
            dialogue,
            enabled=record.enabled,
            event_id=record.event_id,
            status=record.applied.status if record.applied is not None else None,
            gone=record.gone,
            refused=record.noticed,
        )

    async def _sync(self, dialogue: Dialogue) -> EventSync:
        record = await events_db.get(self._db, dialogue.id)
        wanted = wanted_event(dialogue)
        if not record.enabled or record.gone or record.applied == wanted:
            return EventSync.DONE
        event_id = record.event_id
        applied = record.applied
        current = EventStatus.SCHEDULED
        if event_id is None:
            if wanted.status.final:
                # Never announced (created with events off, or before this feature): nothing to end or cancel.
                await events_db.mark_applied(self._db, dialogue.id, wanted)
                return EventSync.DONE
            event_id = await self._create(dialogue, wanted, adopt=record.creating)
            applied = EventState(EventStatus.SCHEDULED, wanted.start, wanted.end)  # as just created
        else:
            status = await self._gateway.event_status(dialogue.guild_id, event_id)
            if status is None:
                log.info("Dialogue %s: its event %s was deleted on Discord; left alone", dialogue.id, event_id)
                await events_db.mark_gone(self._db, dialogue.id)
                return EventSync.DONE
            current = EventStatus(status)
        await self._apply(dialogue, event_id, current, wanted, applied)
        await events_db.mark_applied(self._db, dialogue.id, wanted)
        return EventSync.DONE

    async def _create(self, dialogue: Dialogue, wanted: EventState, *, adopt: bool) -> int:
        """Create the event (or adopt the one an interrupted create made) and record its id."""
        marker = render_events.event_marker(dialogue.id)
        event_id = await self._gateway.find_own_event(dialogue.guild_id, marker) if adopt else None
        if event_id is None:
            await events_db.mark_creating(self._db, dialogue.id)
            event_id = await self._gateway.create_event(
                dialogue.guild_id,
                name=render_events.event_name(dialogue),
                description=render_events.event_description(dialogue),
                start=max(wanted.start, self._clock() + _AHEAD),
                end=wanted.end,
                location=render_events.event_location(dialogue),
            )
            log.info("Dialogue %s: scheduled event %s created", dialogue.id, event_id)
        else:
            log.info("Dialogue %s: scheduled event %s adopted after an interrupted create", dialogue.id, event_id)
        await events_db.set_event(self._db, dialogue.id, event_id)
        return event_id

    async def _apply(
        self, dialogue: Dialogue, event_id: int, current: EventStatus, wanted: EventState, applied: EventState | None
    ) -> None:
        """Move the event from ``current`` to what is wanted: its window while it waits or runs, then its status."""
        guild_id = dialogue.guild_id
        if current.final:
            return  # Discord ended it itself (at its end time): it can change no more
        moved = applied is None or applied.start != wanted.start or applied.end != wanted.end
        if current is EventStatus.SCHEDULED and wanted.status is EventStatus.SCHEDULED and moved:
            start = max(wanted.start, self._clock() + _AHEAD)
            await self._gateway.edit_event(guild_id, event_id, start=start, end=wanted.end)
        elif not wanted.status.final and (applied is None or applied.end != wanted.end):
            await self._gateway.edit_event(guild_id, event_id, end=wanted.end)  # extended once under way
        # Started now (even early, when a facilitator opens it early), located in the dialogue's channel.
        for status in next_statuses(current, wanted.status):
            extra = render_events.event_location(dialogue) if status is EventStatus.ACTIVE else None
            await self._gateway.edit_event(guild_id, event_id, status=int(status), location=extra)
            log.info("Dialogue %s: event %s is now %s", dialogue.id, event_id, status.name.lower())
