"""Planning leaders' reminders: which time-driven rows should exist, made set-based for any number of leaders."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence

import db.leaders as leaders_db
import db.plans as plans_db
import db.reminders as reminders_db
from db import Database

from ..clock import Clock
from ..config import Settings
from ..domain.models import Dialogue, State
from ..domain.reminders import DAY, Kind, Leadership, Owed, Reminder, Zone, plan, plan_key, reconcile
from .timer import ReminderTimer

__all__ = ("LIVE_STATES", "Planner")

log = logging.getLogger(__name__)

LIVE_STATES = (State.SCHEDULED, State.OPEN, State.FAILED)
# Stored rows compared with a plan: a sent check-in on the same local day as a wanted one lies within this.
_LOOK_BACK = 2 * DAY


class Planner:
    """Makes the stored time-driven rows match each leader's window and zone; pokes the timer for new rows."""

    def __init__(self, database: Database, clock: Clock, settings: Settings, timer: ReminderTimer) -> None:
        self.db = database
        self.clock = clock
        self.settings = settings
        self.timer = timer

    async def zone_for(self, dialogue: Dialogue, user_id: int) -> Zone:
        """Return the leader's own zone and hour, or the dialogue's zone at the plan's (or default) hour."""
        own = await leaders_db.get_member(self.db, dialogue.guild_id, user_id)
        if own is not None:
            return Zone(own.timezone, own.hour, True)
        # A dialogue imported from a plan may set its own default hour ([reminders] checkin_hour).
        planned = await plans_db.get_settings(self.db, dialogue.id)
        hour = self.settings.default_checkin_hour if planned.checkin_hour is None else planned.checkin_hour
        return Zone(dialogue.timezone, hour, False)

    async def replan_dialogue(self, dialogue_id: int) -> None:
        """Re-plan every leader of one dialogue (its window or state changed)."""
        await self.replan(await leaders_db.leaderships(self.db, LIVE_STATES, dialogue_id=dialogue_id))

    async def replan(self, leaderships: Sequence[Leadership]) -> None:
        """Make the future time-driven rows of these leaders match their windows and zones, set-based.

        Only leaders whose plan inputs changed since they were last planned are looked at: their stored rows
        are read in one query (per 500 dialogues), wanted rows are computed in memory, and the difference is
        written in one transaction. Rows already sent or overdue are left alone (delivery judges overdue
        ones); a row is never made twice.
        """
        hour = self.settings.default_checkin_hour
        keys: dict[tuple[int, int], str] = {}
        changed: list[Leadership] = []
        for one in leaderships:
            if one.state not in LIVE_STATES:
                continue
            zone = one.zone(hour)
            key = plan_key(
                state=one.state,
                opens_at=one.opens_at,
                closes_at=one.closes_at,
                added_at=one.added_at,
                timezone=zone.timezone,
                hour=zone.hour,
            )
            if key != one.planned_with:
                keys[(one.dialogue_id, one.user_id)] = key
                changed.append(one)
        if not changed:
            return
        now = self.clock()
        users = {one.user_id for one in changed}
        stored = await reminders_db.planned_rows(
            self.db,
            now - _LOOK_BACK,
            sorted({one.dialogue_id for one in changed}),
            user_id=next(iter(users)) if len(users) == 1 else None,
        )
        by_leader: dict[tuple[int, int], list[Reminder]] = defaultdict(list)
        for row in stored:
            by_leader[(row.dialogue_id, row.user_id)].append(row)
        drop: list[int] = []
        add: list[Owed] = []
        for one in changed:
            zone = one.zone(hour)
            wanted = plan(
                state=one.state,
                opens_at=one.opens_at,
                closes_at=one.closes_at,
                added_at=one.added_at,
                timezone=zone.timezone,
                hour=zone.hour,
                now=now,
            )
            change = reconcile(wanted, by_leader.get((one.dialogue_id, one.user_id), ()), zone.timezone, now)
            drop += change.drop
            add += [Owed(one.dialogue_id, one.user_id, p.kind, p.key, p.due_at) for p in change.add]
        await reminders_db.apply_plan(self.db, drop, add, keys)
        if add:
            self.timer.poke(min(owed.due_at for owed in add))
        log.info("Re-planned %d leaders: %d reminders added, %d dropped", len(changed), len(add), len(drop))

    @staticmethod
    def event_rows(leaderships: Sequence[Leadership], kind: Kind) -> list[Owed]:
        """Return the opening or thank-you rows these leaders are owed (one per leader, keyed by kind)."""
        owed = []
        for one in leaderships:
            if kind is Kind.OPENED:
                due = max(one.opened_at or one.opens_at, one.added_at)
            elif kind is Kind.THANKS and one.closed_at is not None:
                due = one.closed_at
            else:
                continue
            owed.append(Owed(one.dialogue_id, one.user_id, kind, kind.value, due))
        return owed

    async def rebuild(self) -> None:
        """At start-up: re-plan every live leader, make owed event rows, arm the timer — a fixed number of queries.

        Planning is idempotent: this mends a change (an extension) whose event a crash cut short. The opening
        and thank-you rows an interrupted run did not make are made (a row already made is left as it is).
        """
        now = self.clock()
        everyone = await leaders_db.leaderships(
            self.db, LIVE_STATES, closed_since=now - DAY, ownership=self.settings.ownership
        )
        await self.replan(everyone)
        opened = [one for one in everyone if one.state is State.OPEN and one.leaders_thread_id is not None]
        closed = [one for one in everyone if one.state is State.CLOSED]
        await reminders_db.add_many(
            self.db, [*self.event_rows(opened, Kind.OPENED), *self.event_rows(closed, Kind.THANKS)]
        )
        await self.timer.arm()
        log.info("Leader reminders rebuilt for %d leaders; next at %s", len(everyone), self.timer.armed_at)
