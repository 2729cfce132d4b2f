"""The one source of "now" for the bot, its domain code and its scheduler."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import discord

__all__ = ("Clock", "default_clock")

Clock = Callable[[], datetime]


def default_clock() -> datetime:
    """Return aware UTC now: real time in production, virtual time under SimCord."""
    return discord.utils.utcnow()
