"""The texts of a post on someone's behalf and of a scheduled event, against Discord's limits."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.domain.errors import InvalidInput
from bot.domain.models import Dialogue, State
from bot.domain.proxy import MAX_PROXY_NAME, parse_proxy_name, parse_proxy_text
from bot.render import MESSAGE_LIMIT
from bot.render_events import EVENT_DESCRIPTION_LIMIT, event_description, event_name
from bot.render_proxy import proxy_post, proxy_room

SNOWFLAKE = 1456074443980800019


def test_the_longest_text_that_is_accepted_fits_in_one_message_with_the_longest_name() -> None:
    name = "N" * MAX_PROXY_NAME
    room = proxy_room(name, SNOWFLAKE, 99999)
    text = parse_proxy_text("x" * room, room)
    assert len(proxy_post(name, SNOWFLAKE, text, 99999, 10**9)) <= MESSAGE_LIMIT
    with pytest.raises(InvalidInput, match=f"at most {room:,} fit"):
        parse_proxy_text("x" * (room + 1), room)


def test_names_are_shown_as_typed_never_as_formatting() -> None:
    assert proxy_post("*Ana*_", 1, "hi", 2, 3).startswith("**Posted on behalf of \\*Ana\\*\\_** by <@1>\n")


@pytest.mark.parametrize("name", ["<@&123>", "<#123>", "@here", "hello @Everyone"])
def test_names_with_mentions_are_refused(name: str) -> None:
    with pytest.raises(InvalidInput, match="mention"):
        parse_proxy_name(name)


def test_a_name_keeps_its_words_on_one_line() -> None:
    assert parse_proxy_name("  Maria \t Okafor ") == "Maria Okafor"


def test_the_event_description_is_the_framing_cut_to_discords_limit_ending_with_the_marker() -> None:
    moment = datetime(2027, 1, 1, tzinfo=UTC)
    dialogue = Dialogue(
        id=12,
        guild_id=1,
        title="T" * 100,
        framing="word " * 900,
        timezone="UTC",
        opens_at=moment,
        closes_at=moment,
        state=State.SCHEDULED,
        failure_reason=None,
        channel_id=None,
        created_by=1,
        created_at=moment,
    )
    description = event_description(dialogue)
    assert len(description) <= EVENT_DESCRIPTION_LIMIT
    assert description.startswith("word word") and description.endswith("…\n\n-# dialogue #12")
    assert event_name(dialogue) == "T" * 100
