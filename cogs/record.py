"""Searching the record and withdrawing from it.

Members: ``/search`` (closed dialogues whose channel they can read) and ``/forget-me``. Facilitators: the same
search as ``/dialogue search`` (every dialogue of the server) and ``/dialogue forget`` for someone who asked by
other means. The result pages' buttons and the confirmation buttons are dynamic items whose custom ids carry
what they need, so they still work after a restart.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot import render, render_record
from bot.app import DialogueBot, is_facilitator, send_apology
from bot.domain.errors import DialogueError
from bot.domain.models import Dialogue
from bot.search import PER_PAGE, Searcher, checked_query
from bot.withdrawal import WithdrawalRequest

from .common import dialogue_autocomplete, reply

__all__ = (
    "RECORD_BUTTONS",
    "ForgetButton",
    "Record",
    "SearchPageButton",
    "forget_command",
    "search_command",
    "setup",
)

log = logging.getLogger(__name__)

_NO_MENTIONS = discord.AllowedMentions.none()


def _member(interaction: discord.Interaction[Any]) -> discord.Member:
    """The member behind a server interaction (commands here are guild-only)."""
    if not isinstance(interaction.user, discord.Member):
        raise DialogueError("Use this command inside a server.")
    return interaction.user


async def _replace(interaction: discord.Interaction[Any], text: str, view: discord.ui.View | None = None) -> None:
    """Put new text (and buttons, or none) in place of the message whose button was pressed."""
    await interaction.edit_original_response(
        content=render.truncate(text, render.MESSAGE_LIMIT), view=view, allowed_mentions=_NO_MENTIONS
    )


# ----- search --------------------------------------------------------------------------------------------------


async def _searcher(bot: DialogueBot, member: discord.Member) -> Searcher:
    return await bot.search.searcher(member, facilitator=is_facilitator(member, bot.settings))


async def run_search(interaction: discord.Interaction[Any], query: str, dialogue: str | None) -> None:
    """Answer a search command with its first page of results and the page buttons."""
    bot: DialogueBot = interaction.client
    await interaction.response.defer(ephemeral=True, thinking=True)
    try:
        member = _member(interaction)
        checked_query(query)
        searcher = await _searcher(bot, member)
        found = await bot.dialogues.resolve(member.guild.id, dialogue) if dialogue else None
        if not searcher.readable and found is None:
            await reply(interaction, render_record.search_nothing_readable(facilitator=searcher.facilitator))
            return
        held, page = await bot.search.start(member.guild.id, searcher, query, found)
    except DialogueError as error:
        await reply(interaction, str(error))
        return
    text = render_record.search_page(
        held.query, page, member.guild.id, per_page=PER_PAGE, scope=found.title if found else None
    )
    await interaction.followup.send(
        text, view=PageView(held.id, page.page, has_next=page.has_next), ephemeral=True, allowed_mentions=_NO_MENTIONS
    )


async def search_autocomplete(interaction: discord.Interaction[Any], current: str) -> list[app_commands.Choice[str]]:
    """Offer the dialogues this person may search, matching what has been typed."""
    bot = interaction.client
    if not isinstance(bot, DialogueBot) or not isinstance(interaction.user, discord.Member):
        return []
    searcher = await _searcher(bot, interaction.user)
    typed = current.strip().lower().removeprefix("#")
    choices = []
    for found in await bot.dialogues.in_guild(interaction.user.guild.id):
        label = f"#{found.id} {found.title} ({found.state.value})"
        if found.id in searcher.readable and (not typed or typed in label.lower()):
            choices.append(app_commands.Choice(name=label[:100], value=str(found.id)))
    return choices[:25]


class SearchPageButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"search:(?P<key>[A-Za-z0-9_-]{1,40}):(?P<page>[0-9]{1,5}):(?P<way>[pn])",
):
    """Previous / Next under a result page: ``search:<held search key>:<page to show>:<p|n>``."""

    def __init__(self, key: str, page: int, way: str, *, disabled: bool = False) -> None:
        label = "Previous" if way == "p" else "Next"
        super().__init__(
            discord.ui.Button(
                label=label, style=discord.ButtonStyle.secondary, custom_id=f"search:{key}:{page}:{way}",
                disabled=disabled,
            )
        )  # fmt: skip
        self.key = key
        self.page = page

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> SearchPageButton:
        """Rebuild the button from a press (after a restart too)."""
        return cls(match["key"], int(match["page"]), match["way"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        """Show the page this button names, with what the presser may read now."""
        try:
            await self._show(interaction)
        except DialogueError as error:
            await reply(interaction, str(error))
        except Exception as error:
            log.error("Unexpected error turning a search page", exc_info=error)
            await send_apology(interaction)

    async def _show(self, interaction: discord.Interaction[Any]) -> None:
        bot: DialogueBot = interaction.client
        held = await bot.search.held(self.key)
        if held is not None and held.user_id != interaction.user.id:
            await reply(interaction, render_record.search_not_yours())
            return
        await interaction.response.defer()
        if held is None:
            await _replace(interaction, render_record.search_expired())
            return
        member = _member(interaction)
        page = await bot.search.page(held, await _searcher(bot, member), self.page)
        scope = await bot.dialogues.get(held.dialogue_id) if held.dialogue_id is not None else None
        text = render_record.search_page(
            held.query, page, held.guild_id, per_page=PER_PAGE, scope=scope.title if scope else None
        )
        await _replace(interaction, text, PageView(held.id, page.page, has_next=page.has_next))


class PageView(discord.ui.View):
    """Previous and Next under a page of results; persistent, so the buttons outlive a restart."""

    def __init__(self, key: str, page: int, *, has_next: bool) -> None:
        super().__init__(timeout=None)
        self.add_item(SearchPageButton(key, max(page - 1, 0), "p", disabled=page == 0))
        self.add_item(SearchPageButton(key, page + 1, "n", disabled=not has_next))


def search_command(bot: DialogueBot) -> app_commands.Command[Any, ..., None]:
    """``/dialogue search``: the facilitators' search (members may run it too, with their own limits)."""

    @app_commands.command(name="search", description="Search what was said in this server's dialogues")
    @app_commands.describe(
        query='Words to find (all must appear); "a phrase" in quotes; wit* for words starting with wit',
        dialogue="Only this dialogue",
    )
    @app_commands.autocomplete(dialogue=search_autocomplete)
    async def search(interaction: discord.Interaction, query: str, dialogue: str | None = None) -> None:
        await run_search(interaction, query, dialogue)

    return search


# ----- withdrawal ----------------------------------------------------------------------------------------------


def _dialogue_id(reference: Dialogue | None) -> int | None:
    return reference.id if reference else None


async def ask_to_forget(
    interaction: discord.Interaction[Any], member_id: int, dialogue: str | None, *, for_member: str | None
) -> None:
    """Show what would be erased and the Confirm/Cancel buttons (``for_member``: a facilitator acting)."""
    bot: DialogueBot = interaction.client
    await interaction.response.defer(ephemeral=True, thinking=True)
    try:
        guild = _member(interaction).guild
        found = await bot.dialogues.resolve(guild.id, dialogue) if dialogue else None
    except DialogueError as error:
        await reply(interaction, str(error))
        return
    preview = await bot.withdrawals.preview(guild.id, member_id, _dialogue_id(found))
    if not preview:
        await reply(interaction, render_record.forget_nothing(found.title if found else None, member=for_member))
        return
    request = bot.withdrawals.request(member_id, _dialogue_id(found), by_facilitator=for_member is not None)
    await interaction.followup.send(
        render_record.forget_question(preview, request.expires_at, member=for_member),
        view=ForgetView(request),
        ephemeral=True,
        allowed_mentions=_NO_MENTIONS,
    )


def _request_id(request: WithdrawalRequest) -> str:
    by = "f" if request.by_facilitator else "s"
    return f"{by}:{request.member_id}:{request.dialogue_id or 0}:{int(request.expires_at.timestamp())}"


class ForgetButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"forget:(?P<answer>yes|no):(?P<by>[sf]):(?P<member>[0-9]{1,20}):(?P<dialogue>[0-9]{1,20}):(?P<until>[0-9]{1,12})",
):
    """Confirm or Cancel under a withdrawal question; the custom id carries the whole request."""

    def __init__(self, request: WithdrawalRequest, answer: str) -> None:
        confirm = answer == "yes"
        super().__init__(
            discord.ui.Button(
                label="Erase my posts" if confirm and not request.by_facilitator else "Erase" if confirm else "Cancel",
                style=discord.ButtonStyle.danger if confirm else discord.ButtonStyle.secondary,
                custom_id=f"forget:{answer}:{_request_id(request)}",
            )
        )
        self.request = request
        self.confirm = confirm

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ForgetButton:
        """Rebuild the button from a press (after a restart too)."""
        request = WithdrawalRequest(
            member_id=int(match["member"]),
            dialogue_id=int(match["dialogue"]) or None,
            by_facilitator=match["by"] == "f",
            expires_at=datetime.fromtimestamp(int(match["until"]), UTC),
        )
        return cls(request, match["answer"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        """Erase, or cancel; only the person asked for (or a facilitator, for a facilitator's request)."""
        try:
            await self._answer(interaction)
        except Exception as error:
            log.error("Unexpected error answering a withdrawal", exc_info=error)
            await send_apology(interaction)

    async def _answer(self, interaction: discord.Interaction[Any]) -> None:
        bot: DialogueBot = interaction.client
        request = self.request
        allowed = (
            is_facilitator(interaction.user, bot.settings)
            if request.by_facilitator
            else interaction.user.id == request.member_id
        )
        if not allowed:
            await reply(interaction, render_record.forget_not_yours())
            return
        await interaction.response.defer()
        if not self.confirm:
            await _replace(interaction, render_record.forget_cancelled())
            return
        if bot.withdrawals.expired(request):
            await _replace(
                interaction, render_record.forget_expired(request.expires_at, facilitator=request.by_facilitator)
            )
            return
        guild = _member(interaction).guild
        done = await bot.withdrawals.withdraw(guild.id, request)
        name = None
        if request.by_facilitator:
            # Someone who left the server is no longer a member, but may still be a known user.
            person = guild.get_member(request.member_id) or bot.get_user(request.member_id)
            name = person.display_name if person else f"user {request.member_id}"
        await _replace(interaction, render_record.forget_done(done, member=name))


class ForgetView(discord.ui.View):
    """The two answers under a withdrawal question; persistent, so they outlive a restart (until they expire)."""

    def __init__(self, request: WithdrawalRequest) -> None:
        super().__init__(timeout=None)
        self.add_item(ForgetButton(request, "yes"))
        self.add_item(ForgetButton(request, "no"))


async def forget_autocomplete(interaction: discord.Interaction[Any], current: str) -> list[app_commands.Choice[str]]:
    """Offer the dialogues where this member has posts to erase."""
    bot = interaction.client
    if not isinstance(bot, DialogueBot) or interaction.guild_id is None:
        return []
    typed = current.strip().lower().removeprefix("#")
    choices = []
    for entry in await bot.withdrawals.preview(interaction.guild_id, interaction.user.id, None):
        label = f"#{entry.dialogue_id} {entry.title} ({render.plural(entry.posts, 'post')})"
        if not typed or typed in label.lower():
            choices.append(app_commands.Choice(name=label[:100], value=str(entry.dialogue_id)))
    return choices[:25]


def forget_command(bot: DialogueBot) -> app_commands.Command[Any, ..., None]:
    """``/dialogue forget``: erase a member's posts for them, after they asked by other means."""

    @app_commands.command(name="forget", description="Erase a member's posts from the record, at their request")
    @app_commands.describe(
        member="Whose posts to erase (someone who left the server can be given by their user id)",
        dialogue="Only in this dialogue (default: every dialogue)",
    )
    @app_commands.autocomplete(dialogue=dialogue_autocomplete)
    async def forget(interaction: discord.Interaction, member: discord.User, dialogue: str | None = None) -> None:
        await ask_to_forget(interaction, member.id, dialogue, for_member=member.display_name)

    return forget


# Registered at start-up: presses on messages sent before a restart still arrive.
RECORD_BUTTONS: tuple[type[discord.ui.DynamicItem[Any]], ...] = (SearchPageButton, ForgetButton)


class Record(commands.Cog):
    """The members' commands: ``/search`` and ``/forget-me``."""

    def __init__(self, bot: DialogueBot) -> None:
        self.bot = bot

    @app_commands.command(name="search", description="Search what was said in this server's closed dialogues")
    @app_commands.describe(
        query='Words to find (all must appear); "a phrase" in quotes; wit* for words starting with wit',
        dialogue="Only this dialogue",
    )
    @app_commands.autocomplete(dialogue=search_autocomplete)
    @app_commands.guild_only()
    async def search(self, interaction: discord.Interaction, query: str, dialogue: str | None = None) -> None:
        await run_search(interaction, query, dialogue)

    @app_commands.command(name="forget-me", description="Erase the text of your posts from the dialogues' record")
    @app_commands.describe(dialogue="Only in this dialogue (default: every dialogue of this server)")
    @app_commands.autocomplete(dialogue=forget_autocomplete)
    @app_commands.guild_only()
    async def forget_me(self, interaction: discord.Interaction, dialogue: str | None = None) -> None:
        await ask_to_forget(interaction, interaction.user.id, dialogue, for_member=None)


async def setup(bot: DialogueBot) -> None:
    bot.add_dynamic_items(*RECORD_BUTTONS)
    await bot.add_cog(Record(bot))
