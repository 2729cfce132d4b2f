"""Storage: the schema, its migrations and every SQL statement of the bot (no Discord here)."""

from .connection import Database

__all__ = ("Database",)
