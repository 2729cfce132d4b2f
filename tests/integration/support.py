"""Steps the lifecycle tests share: creating a dialogue as a facilitator would, and reading the result."""

from __future__ import annotations

import discord
import simcord

import db.dialogues as dialogues_db
import db.posts as posts_db
from bot.domain.models import Dialogue, PostStats
from tests.conftest import World

HOUR = 3600
DAY = 86400


async def create_dialogue(
    world: World,
    *,
    title: str = "Engaging the Council",
    framing: str = "Why do networks take their cases to international bodies?",
    questions: str = "What does engagement add at home?\nWhat outcomes are realistic?",
    opens: str = "in 1h",
    duration: str = "2d",
    timezone: str | None = "Europe/Zurich",
    after_close: str | None = None,
) -> Dialogue:
    """Run /dialogue create and submit its form; return the stored dialogue."""
    options = {"timezone": timezone} if timezone else {}
    if after_close is not None:
        options["after_close"] = after_close
    shown = await world.fac.slash(world.general, "dialogue create", **options)
    assert shown.modal is not None, shown
    result = await world.fac.submit_modal(
        shown, {"title": title, "framing": framing, "questions": questions, "opens": opens, "duration": duration}
    )
    text = last_reply(result)
    assert text.startswith("Scheduled"), text
    dialogues = await dialogues_db.in_guild(world.bot.database, world.guild.id)
    return dialogues[0]


def last_reply(result: simcord.InteractionResult) -> str:
    """The text the user saw last in answer to an interaction (response or followup)."""
    if result.followups:
        return result.followups[-1].content
    assert result.response is not None, result
    return result.response.content


def is_ephemeral(result: simcord.InteractionResult) -> bool:
    if result.followups:
        return result.followups[-1].ephemeral
    assert result.response is not None
    return result.response.ephemeral


async def reload(world: World, dialogue_id: int) -> Dialogue:
    dialogue = await dialogues_db.get(world.bot.database, dialogue_id)
    assert dialogue is not None
    return dialogue


async def stats(world: World, dialogue_id: int) -> PostStats:
    return await posts_db.stats(world.bot.database, dialogue_id)


def channel(world: World, dialogue: Dialogue) -> simcord.ChannelHandle:
    assert dialogue.channel_id is not None
    return next(c for c in world.guild.channels.values() if c.id == dialogue.channel_id)


def thread(channel: simcord.ChannelHandle, name: str) -> simcord.ChannelHandle:
    return next(t for t in channel.threads if t.name == name)


async def take_bot_permissions(world: World, *names: str) -> None:
    """Take permissions away from the bot's own role, server-wide (SimCord's backend: no public verb does it)."""
    reduced = discord.Permissions.all()
    reduced.administrator = False
    for name in names:
        setattr(reduced, name, False)
    role = world.guild.roles["TestBot"]
    world.env.backend.edit_role(world.guild.id, role.id, {"permissions": reduced.value})
    await world.env.settle()


def is_leaders_thread(thread: simcord.ChannelHandle) -> bool:
    """The private Leaders thread is named after its dialogue: "Leaders · #12"."""
    return thread.name.startswith("Leaders · #")


def leaders_thread(channel: simcord.ChannelHandle) -> simcord.ChannelHandle:
    return next(t for t in channel.threads if is_leaders_thread(t))


def bot_messages(channel: simcord.ChannelHandle, world: World) -> list[discord.Message]:
    """What the bot itself wrote in a channel (not system notices)."""
    return [m for m in channel.history() if m.author.id == world.bot.user.id and m.type is discord.MessageType.default]


async def run(world: World, command: str, member: simcord.MemberActor | None = None, **options: object) -> str:
    """Run a slash command as the facilitator (or ``member``) in #general and return the ephemeral reply."""
    actor = member or world.fac
    result = await actor.slash(world.general, command, **options)
    assert is_ephemeral(result), result
    return last_reply(result)
