"""Texts of a dialogue's scheduled event: its name, description and location, and the facilitators' notice."""

from __future__ import annotations

from .domain.events import EventStatus
from .domain.models import Dialogue

__all__ = (
    "EVENT_DESCRIPTION_LIMIT",
    "event_description",
    "event_location",
    "event_marker",
    "event_name",
    "event_section",
    "events_refused",
)

EVENT_NAME_LIMIT = 100
EVENT_DESCRIPTION_LIMIT = 1000


def event_marker(dialogue_id: int) -> str:
    """How the event's description ends: it names the dialogue, so a resumed create adopts only its own event."""
    return f"-# dialogue #{dialogue_id}"


def event_name(dialogue: Dialogue) -> str:
    """The event's name: the dialogue's title (cut to Discord's 100 characters)."""
    return dialogue.title[:EVENT_NAME_LIMIT]


def event_description(dialogue: Dialogue) -> str:
    """The framing, cut to Discord's limit with room for the marker line it ends with."""
    marker = event_marker(dialogue.id)
    room = EVENT_DESCRIPTION_LIMIT - len(marker) - 2
    framing = dialogue.framing.strip()
    if len(framing) > room:
        framing = framing[: room - 1].rstrip() + "…"
    return f"{framing}\n\n{marker}" if framing else marker


def event_location(dialogue: Dialogue) -> str:
    """Where the event happens: the dialogue's channel once it exists, else Discord."""
    return f"<#{dialogue.channel_id}>" if dialogue.channel_id else "Discord"


def events_refused(dialogue: Dialogue) -> str:
    """The one notice when the bot may not manage the server's events."""
    return (
        f"“{dialogue.title}” (#{dialogue.id}) has no Discord event: the bot lacks the **Manage Events** permission. "
        "Everything else works as usual. Grant it and the event is created or updated at the dialogue's next step; "
        "or turn events off with `scheduled_events = false` in the config or `event = false` in the plan."
    )


def event_section(
    dialogue: Dialogue, *, enabled: bool, event_id: int | None, status: EventStatus | None, gone: bool, refused: bool
) -> str:
    """The Discord-event line of /dialogue status."""
    if not enabled:
        return "Discord event: off for this dialogue (its plan says `event = false`)."
    if gone:
        return "Discord event: deleted on Discord; the bot leaves it alone."
    if event_id is None:
        if refused:
            return "Discord event: none, the bot lacks the Manage Events permission."
        return "Discord event: none yet."
    shown = status.name.lower() if status is not None else "created"
    return f"Discord event: {shown} — https://discord.com/events/{dialogue.guild_id}/{event_id}"
