"""Posting on someone's behalf: the bot posts a facilitator's text, attributed, and records it as that person's."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import timedelta

import discord

import db.dialogues as dialogues_db
import db.posts as posts_db
import db.proxy as proxy_db
from db import Database

from . import render_proxy
from .clock import Clock
from .domain.errors import DialogueError, InvalidInput
from .domain.models import Dialogue, State, ThreadOrigin
from .domain.proxy import parse_proxy_name, parse_proxy_text, proxy_identity
from .gateway import Gateway
from .steps import step_nonce

__all__ = ("ProxyPosts", "ProxyTarget", "proxy_author_id")

log = logging.getLogger(__name__)


def proxy_author_id(dialogue_id: int, name: str) -> int:
    """A stable pseudo-author for a person posted for in one dialogue: negative, so never a Discord user id.

    Derived from the dialogue and the name (spaces and case ignored), so every post for the same name counts as
    one participant; the ``proxy:`` prefix keeps it apart from the webhook pseudo-authors.
    """
    key = f"proxy:{dialogue_id}:{proxy_identity(name)}"
    digest = hashlib.blake2b(key.encode(), digest_size=7).digest()
    return -(int.from_bytes(digest, "big") + 1)


@dataclass(frozen=True, slots=True)
class ProxyTarget:
    """Where a post on someone's behalf goes, once checked: the open dialogue, its thread and the name."""

    dialogue: Dialogue
    thread_id: int
    name: str


class ProxyPosts:
    """Checks, posts and records posts on someone's behalf; callers hold the dialogue's lock."""

    def __init__(self, database: Database, gateway: Gateway, clock: Clock) -> None:
        self._db = database
        self._gateway = gateway
        self._clock = clock

    async def check(self, dialogue: Dialogue, thread: str, name: str) -> ProxyTarget:
        """Refuse (with a reason) a closed dialogue, a thread that is not its own or is locked, and a bad name."""
        if dialogue.state is not State.OPEN:
            raise DialogueError(
                f"Nothing was posted. “{dialogue.title}” is {dialogue.state.value}: "
                "posts on someone's behalf go into open dialogues only."
            )
        text = thread.strip()
        if not text.isdigit():
            raise InvalidInput("thread", "pick one of the dialogue's threads from the list as you type.")
        thread_id = int(text)
        owner = await dialogues_db.thread_origin(self._db, thread_id)
        if owner is None or owner.origin is ThreadOrigin.LEADERS:
            raise InvalidInput("thread", "that is not a thread of any dialogue; pick one from the list as you type.")
        if owner.dialogue_id != dialogue.id:
            raise InvalidInput(
                "thread",
                f"that thread belongs to another dialogue (#{owner.dialogue_id}), not “{dialogue.title}”. "
                "Pick one of its own threads from the list.",
            )
        if await proxy_db.thread_locked(self._db, thread_id):
            raise InvalidInput("thread", "that thread is locked; pick another one.")
        found = await self._gateway.thread(thread_id)
        if found is None:
            raise InvalidInput("thread", "that thread no longer exists on Discord; pick another one.")
        if found.locked:
            raise InvalidInput("thread", "that thread is locked on Discord; unlock it or pick another one.")
        return ProxyTarget(dialogue, thread_id, parse_proxy_name(name))

    async def post(self, target: ProxyTarget, text: str, facilitator_id: int) -> discord.Message:
        """Write the post down, send it (with its step's nonce), then record it as the named person's post."""
        dialogue = target.dialogue
        body = parse_proxy_text(text, render_proxy.proxy_room(target.name, facilitator_id, dialogue.id))
        entry = await proxy_db.add(
            self._db, dialogue.id, target.thread_id, target.name, body, facilitator_id, self._clock()
        )
        try:
            message = await self._send(entry)
        except DialogueError:
            await proxy_db.forget(self._db, entry.id)  # the thread is gone: nothing was posted
            raise
        except discord.HTTPException as error:
            # Refused: nothing was posted (a nonce makes a landed-but-unanswered send safe to repeat later).
            await proxy_db.forget(self._db, entry.id)
            log.warning("Dialogue %s: a post on someone's behalf was refused: %s", dialogue.id, error.status)
            raise DialogueError(
                f"Nothing was posted: Discord refused the message (HTTP {error.status}). "
                "Check the bot can send messages in that thread, then try again."
            ) from None
        await self._record(entry, message)
        log.info("Dialogue %s: post %s made on someone's behalf in thread %s", dialogue.id, entry.id, entry.thread_id)
        return message

    async def resume(self, dialogue: Dialogue) -> int:
        """Finish posts written down but not recorded (a restart cut the step short); return how many.

        A message this step already sent is adopted by its marker, never sent twice.
        """
        done = 0
        for entry in await proxy_db.pending(self._db, dialogue.id):
            if dialogue.state is not State.OPEN:
                log.warning("Dialogue %s: post %s on someone's behalf dropped, not open", dialogue.id, entry.id)
                await proxy_db.forget(self._db, entry.id)
                continue
            thread = await self._gateway.thread(entry.thread_id)
            if thread is None:
                await proxy_db.forget(self._db, entry.id)
                continue
            marker = render_proxy.proxy_marker(dialogue.id, entry.id)
            me = self._gateway.client.user
            since = entry.created_at - timedelta(seconds=1)
            message = next(
                (
                    m
                    for m in await self._gateway.read(thread, since)
                    if me is not None and m.author.id == me.id and m.content.endswith("\n" + marker)
                ),
                None,
            )
            if message is None:
                try:
                    message = await self._send(entry)
                except (discord.HTTPException, DialogueError) as error:
                    # Refused (or the thread went away): nothing was posted, and trying again will not change it.
                    log.warning("Dialogue %s: post %s on someone's behalf dropped: %r", dialogue.id, entry.id, error)
                    await proxy_db.forget(self._db, entry.id)
                    continue
            await self._record(entry, message)
            done += 1
        return done

    async def _send(self, entry: proxy_db.ProxyPost) -> discord.Message:
        thread = await self._gateway.thread(entry.thread_id)
        if thread is None:
            raise DialogueError("Nothing was posted: that thread no longer exists on Discord.")
        text = render_proxy.proxy_post(entry.name, entry.facilitator_id, entry.content, entry.dialogue_id, entry.id)
        return await self._gateway.post(thread, text, nonce=step_nonce(entry.dialogue_id, "proxy", entry.id))

    async def _record(self, entry: proxy_db.ProxyPost, message: discord.Message) -> None:
        """Record the post under the person's pseudo-author and mark the step done, in one transaction."""
        async with self._db.transaction():
            await posts_db.record(
                self._db,
                message_id=message.id,
                dialogue_id=entry.dialogue_id,
                thread_id=entry.thread_id,
                author_id=proxy_author_id(entry.dialogue_id, entry.name),
                author_name=entry.name,
                content=entry.content,
                created_at=message.created_at,
                reply_to_id=None,
            )
            await proxy_db.mark_posted(self._db, entry.id, message.id)
