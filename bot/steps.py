"""What every lifecycle step shares: a refusal turned into a reason, back-off between tries, one at a time."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import weakref
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import TypeVar

import aiohttp
import discord

from . import render
from .gateway import Gateway

__all__ = (
    "FIRST_RETRY",
    "MAX_RETRY",
    "ChannelDeleted",
    "DialogueLocks",
    "InFlight",
    "Retries",
    "StepFailed",
    "attempt",
    "post_once",
    "step_nonce",
    "unexpected",
)

T = TypeVar("T")

log = logging.getLogger(__name__)

# A step Discord refused is tried again after this long, doubling up to MAX_RETRY.
FIRST_RETRY = timedelta(minutes=5)
MAX_RETRY = timedelta(hours=1)


class StepFailed(Exception):
    """A step could not be done; ``reason`` is written for facilitators."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ChannelDeleted(StepFailed):
    """The dialogue's recorded channel no longer exists: no retry can bring it back."""

    def __init__(self, channel_id: int) -> None:
        super().__init__(f"the dialogue channel (id {channel_id}) was deleted")
        self.channel_id = channel_id


async def attempt(what: str, action: Awaitable[T]) -> T:
    """Await one Discord request; turn a refusal into a reason facilitators can act on."""
    try:
        return await action
    except discord.Forbidden as error:
        raise StepFailed(f"Discord refused to {what}: missing permissions ({error.text})") from error
    except discord.HTTPException as error:
        raise StepFailed(f"Discord failed to {what}: HTTP {error.status} {error.text}".rstrip()) from error
    except (TimeoutError, aiohttp.ClientError, OSError) as error:
        # The network, not Discord, failed: the request may or may not have landed (nonces cover that).
        log.warning("Could not %s: %r", what, error, exc_info=error)
        raise StepFailed(f"the connection to Discord failed while trying to {what} ({type(error).__name__})") from error


def unexpected(what: str, error: BaseException) -> StepFailed:
    """Turn an error no step expected (a bug, a database error) into a reason; the traceback goes to the log."""
    log.error("A step (%s) raised an exception", what, exc_info=error)
    return StepFailed(f"an unexpected error stopped the bot while trying to {what} ({type(error).__name__})")


def step_nonce(dialogue_id: int, step: str, part: int = 0) -> str:
    """A deterministic nonce for one message of one step (Discord allows 25 characters).

    Sent with ``enforce_nonce``, a retry of the same send within Discord's window (say after a timeout whose
    request did land) returns the first message instead of posting a second one.
    """
    digest = hashlib.blake2b(f"dialogue:{dialogue_id}:{step}:{part}".encode(), digest_size=12).hexdigest()
    return digest[:25]


async def post_once(
    gateway: Gateway,
    channel: discord.TextChannel | discord.Thread,
    text: str,
    what: str,
    recorded: set[int],
    *,
    nonce: str,
    marker: str,
    fresh: bool = False,
) -> discord.Message:
    """Post ``text``, unless a crash left this very message posted but unrecorded: then adopt it.

    Identity, never resemblance: only the bot's message carrying ``marker`` (the step marker line ``text`` ends
    with) is adopted; Discord's message history keeps no nonce, so the marker is what names the dialogue and the
    step after a crash. ``fresh`` says the channel or thread was made in this run and cannot hold the message
    yet: nothing is read.
    """
    existing = None
    if not fresh:
        existing = await attempt(
            what,
            gateway.find_own_message(channel, lambda content: render.carries_marker(content, marker), exclude=recorded),
        )
    if existing is not None:
        return existing
    return await attempt(what, gateway.post(channel, text, nonce=nonce))


class Retries:
    """Consecutive failures of a retried step, per dialogue: paces retries and notices (never state)."""

    def __init__(self) -> None:
        self._failures: dict[int, int] = {}

    def next_delay(self, dialogue_id: int) -> timedelta:
        """Count one more failure and return how long to wait: 5 minutes, then 10, 20… up to an hour."""
        attempts = self._failures.get(dialogue_id, 0)
        self._failures[dialogue_id] = attempts + 1
        delay: timedelta = FIRST_RETRY * 2**attempts  # int ** int is typed Any (the exponent could be negative)
        return min(delay, MAX_RETRY)

    def is_first(self, dialogue_id: int) -> bool:
        """Whether the failure just counted is the first of its run (facilitators are told once)."""
        return self._failures.get(dialogue_id, 0) <= 1

    def reset(self, dialogue_id: int) -> None:
        """Forget the failures of a dialogue whose step succeeded."""
        self._failures.pop(dialogue_id, None)


class DialogueLocks:
    """One lock per dialogue, so that two steps of the same dialogue never run at once."""

    def __init__(self) -> None:
        # Weak: a lock lives while a step holds or awaits it, so finished dialogues leave nothing behind.
        self._locks: weakref.WeakValueDictionary[int, asyncio.Lock] = weakref.WeakValueDictionary()

    def __call__(self, dialogue_id: int) -> asyncio.Lock:
        """Return this dialogue's lock (made on first use)."""
        lock = self._locks.get(dialogue_id)
        if lock is None:
            lock = self._locks[dialogue_id] = asyncio.Lock()
        return lock


class InFlight:
    """Counts the steps and listeners running now, so shutting down can wait for them before closing the database."""

    def __init__(self) -> None:
        self._running = 0
        self._idle = asyncio.Event()
        self._idle.set()

    @asynccontextmanager
    async def __call__(self) -> AsyncIterator[None]:
        """Count the enclosed work as running until it ends."""
        self._running += 1
        self._idle.clear()
        try:
            yield
        finally:
            self._running -= 1
            if self._running == 0:
                self._idle.set()

    @property
    def running(self) -> int:
        """How many are running now."""
        return self._running

    async def wait(self, timeout: float) -> bool:
        """Wait until nothing runs, at most ``timeout`` seconds; return whether everything finished."""
        if self._running == 0:
            return True
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
        except TimeoutError:
            log.warning("%d steps or listeners still running after %.0f s; closing anyway", self._running, timeout)
            return False
        return True
