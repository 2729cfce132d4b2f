"""Conversation leaders: the roster, their time zones, the Leaders thread, and reminders sent at most once.

Every reminder is a row (``db.reminders``); one timer (``timer.py``) wakes at the earliest pending row and
delivers what is due, so the scheduler never holds a job per reminder. Time-driven rows (opens tomorrow,
daily check-ins, closes tomorrow) are re-planned whenever their inputs change (``planning.py``): a leader is
added, the window moves, a time zone changes. The others come from events: being added (welcome), the
opening, the close, a facilitator's message. ``delivery.py`` sends one row (DM, else the Leaders thread,
else held); ``backstage.py`` is the private Leaders thread; ``roster.py`` who leads and in which zone.
"""

from .delivery import Delivery
from .roster import Added
from .service import LeaderService

__all__ = ("Added", "Delivery", "LeaderService")
