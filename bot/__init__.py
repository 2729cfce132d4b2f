"""dialogue-bot: facilitated, time-boxed dialogues on Discord."""

from .app import create_bot
from .config import Settings

__all__ = ("Settings", "create_bot")
