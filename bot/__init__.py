"""dialogue-bot: facilitated, time-boxed dialogues on Discord."""

from __future__ import annotations

from typing import Any

__all__ = ("Settings", "create_bot")


def __getattr__(name: str) -> Any:
    """``create_bot`` and ``Settings``, imported on first use: importing ``bot.domain`` (as ``db/`` does) must not
    pull in the whole bot, which imports ``db/`` in turn."""
    if name == "create_bot":
        from .app import create_bot

        return create_bot
    if name == "Settings":
        from .config import Settings

        return Settings
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
