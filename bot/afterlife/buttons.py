"""The persistent buttons under a wrap-up (and a summary): their custom ids carry the dialogue id.

The bot builds the view here; the cogs register dynamic items whose templates match these ids, so a press
reaches the right dialogue after any restart.
"""

from __future__ import annotations

import discord

__all__ = ("FEEDBACK", "NOTIFY", "OPT_OUT", "after_life_view", "custom_id")

# ``dialogue:<action>:<dialogue id>``; the templates in the cogs match exactly these.
NOTIFY = "notify"
OPT_OUT = "optout"
FEEDBACK = "feedback"


def custom_id(action: str, dialogue_id: int) -> str:
    """The custom id of one after-life button of one dialogue."""
    return f"dialogue:{action}:{dialogue_id}"


def after_life_view(dialogue_id: int, *, notify: bool = True, feedback: bool = True) -> discord.ui.View:
    """The buttons under a wrap-up: ask to be told when the summary is out, opt out, give feedback."""
    view = discord.ui.View(timeout=None)
    if notify:
        view.add_item(
            discord.ui.Button(
                label="Tell me when the summary is out",
                style=discord.ButtonStyle.primary,
                custom_id=custom_id(NOTIFY, dialogue_id),
            )
        )
        view.add_item(
            discord.ui.Button(
                label="Don't notify me",
                style=discord.ButtonStyle.secondary,
                custom_id=custom_id(OPT_OUT, dialogue_id),
            )
        )
    if feedback:
        view.add_item(
            discord.ui.Button(
                label="Give feedback", style=discord.ButtonStyle.success, custom_id=custom_id(FEEDBACK, dialogue_id)
            )
        )
    return view
