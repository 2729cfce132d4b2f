"""Errors whose message is written for the person who caused them."""

from __future__ import annotations

__all__ = (
    "DialogueError",
    "DialogueNotFound",
    "InvalidInput",
    "InvalidTransition",
    "NotFacilitator",
)


class DialogueError(Exception):
    """An expected failure; ``str(error)`` is safe and useful to show to the user."""


class InvalidInput(DialogueError):
    """A value typed by a user that cannot be used, with the field it came from."""

    def __init__(self, field: str, problem: str, example: str | None = None) -> None:
        self.field = field
        self.problem = problem
        self.example = example
        text = f"**{field}**: {problem}"
        if example:
            text += f" Example: `{example}`."
        super().__init__(text)


class DialogueNotFound(DialogueError):
    """The dialogue named in a command does not exist in this server."""


class InvalidTransition(DialogueError):
    """The dialogue is not in a state that allows the requested change."""


class NotFacilitator(DialogueError):
    """The member may not run facilitator commands."""
