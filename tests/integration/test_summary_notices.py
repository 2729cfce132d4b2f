"""Tell me when the summary is out: one DM to each poster and asker, never twice, across restarts and retries."""

from __future__ import annotations

import discord
import simcord

import db.notices as notices_db
import db.summaries as summaries_db
from bot.afterlife.buttons import NOTIFY, custom_id
from bot.afterlife.notices import BATCH
from bot.domain.models import Dialogue, State
from bot.domain.notices import NoticeState
from tests.conftest import World
from tests.integration.support import DAY, bot_messages, channel, create_dialogue, last_reply, reload, run
from tests.integration.test_summary import submit

NEUTRAL = "A dialogue summary you may want to read is ready."
TITLE = "Engaging the Council"


async def closed_dialogue(world: World, posters: list[simcord.MemberActor]) -> Dialogue:
    """A dialogue in which ``posters`` each wrote once, closed with its wrap-up (and its buttons) posted."""
    dialogue = await create_dialogue(world, opens="now", duration="1d")
    await world.env.advance_time(1)
    room = channel(world, await reload(world, dialogue.id))
    for member in posters:
        await member.send(room.threads[0], f"{member.user.name} thinks aloud.")
    await world.env.advance_time(DAY)
    closed = await reload(world, dialogue.id)
    assert closed.state is State.CLOSED
    return closed


def wrapup_with_buttons(world: World, dialogue: Dialogue) -> discord.Message:
    """The wrap-up's last part: the one message that carries the notify buttons."""
    notify = custom_id(NOTIFY, dialogue.id)
    carrying = [
        m
        for m in bot_messages(channel(world, dialogue), world)
        if any(getattr(item, "custom_id", None) == notify for row in m.components for item in row.children)  # type: ignore[union-attr]
    ]
    assert len(carrying) == 1, carrying
    return carrying[0]


async def press(world: World, member: simcord.MemberActor, dialogue: Dialogue, label: str) -> str:
    result = await member.click(wrapup_with_buttons(world, dialogue), label=label)
    assert result.followups or result.response is not None, result
    last = result.followups[-1] if result.followups else result.response
    assert last is not None and last.ephemeral
    return last_reply(result)


async def publish_summary(world: World, dialogue: Dialogue, text: str = "What we heard, and what happens next.") -> str:
    """The facilitator posts (or replaces) the summary with ``/dialogue summary``; return the answer."""
    return await submit(world, dialogue, text)


def notices(member: simcord.MemberActor) -> list[discord.Message]:
    channel_ = member.user.dm_channel
    if channel_ is None:
        return []
    return [m for m in channel_.history() if m.content.endswith(" · summary notice")]


def add_members(world: World, count: int) -> list[simcord.MemberActor]:
    return [world.guild.add_member(world.env.create_user(f"member{n}")) for n in range(count)]


def close_dms(world: World, member: simcord.MemberActor) -> None:
    """The member's DMs are closed to the bot: Discord answers 50007 (SimCord has no switch for it)."""
    assert member.user.dm_channel is not None
    world.env.inject_error(
        "POST",
        f"/channels/{member.user.dm_channel.id}/messages",
        status=403,
        code=50007,
        message="Cannot send messages to this user",
        times=None,
    )


def dm_posts(world: World, member: simcord.MemberActor, mark: int = 0) -> int:
    assert member.user.dm_channel is not None
    path = f"/channels/{member.user.dm_channel.id}/messages"
    return sum(1 for r in world.env.http_requests[mark:] if r.method == "POST" and r.path == path)


async def test_posters_and_askers_get_one_dm_and_those_who_opted_out_none(world: World) -> None:
    alice, bob, chen, dara = world.members
    dialogue = await closed_dialogue(world, [alice, bob])
    assert await press(world, chen, dialogue, "Tell me when the summary is out") == (
        f"You'll get a DM when the summary of “{TITLE}” is out."
    )
    assert await press(world, bob, dialogue, "Don't notify me") == (
        f"You won't be notified when the summary of “{TITLE}” is out."
    )
    status = await run(world, "dialogue status", dialogue=str(dialogue.id))
    assert "plus 1 who asked by the button, minus 1 who opted out" in status

    answer = await publish_summary(world, dialogue)
    assert answer.endswith("\nSummary notice: 2 sent, 0 with closed DMs, 0 pending"), answer
    await world.env.advance_time(60)

    assert [len(notices(m)) for m in (alice, bob, chen, dara)] == [1, 0, 1, 0]
    assert notices(world.fac) == []
    text = notices(alice)[0].content
    first, *rest = text.split("\n")
    assert first == NEUTRAL and TITLE not in first  # a notification preview shows it: nothing of the topic
    first_part = (await summaries_db.parts(world.bot.database, dialogue.id))[0]
    link = f"https://discord.com/channels/{world.guild.id}/{dialogue.channel_id}/{first_part.message_id}"
    # A preview of two lines still shows nothing of the topic: the link comes second, the title after it.
    assert rest[0] == f"Read it here: {link}"
    assert f"**{TITLE}**" in rest[1]
    assert alice.user.dm_channel is not None
    (sent,) = [
        r.json
        for r in world.env.http_requests
        if r.method == "POST" and r.path == f"/channels/{alice.user.dm_channel.id}/messages"
    ]
    assert sent is not None and sent["allowed_mentions"] == {"parse": []} and sent["nonce"]  # no pings, no repeat
    status = await run(world, "dialogue status", dialogue=str(dialogue.id))
    assert "Summary notice: 2 sent, 0 with closed DMs, 0 pending" in status
    reports = [m for m in world.fac.user.dm_channel.history() if "summary notices" in m.content]
    assert [m.content for m in reports] == [
        f"The summary notices for “{TITLE}” (#{dialogue.id}) are done: 2 members told by DM."
    ]


async def test_closed_dms_are_counted_and_reported_never_retried_and_nobody_is_pinged(world: World) -> None:
    alice, bob, chen, _ = world.members
    dialogue = await closed_dialogue(world, [alice, bob, chen])
    await bob.send_dm("hello")  # opens the DM channel the test closes
    close_dms(world, bob)
    room = channel(world, dialogue)
    before = [m.id for m in room.history()]
    mark = len(world.env.http_requests)

    await publish_summary(world, dialogue)
    await world.env.advance_time(2 * DAY)

    assert (len(notices(alice)), len(notices(bob)), len(notices(chen))) == (1, 0, 1)
    assert dm_posts(world, bob, mark) == 1  # tried once, never again
    tally = await notices_db.tally(world.bot.database, dialogue.id)
    assert (tally.sent, tally.dms_closed, tally.pending) == (2, 1, 0)
    # Nothing public instead: the channel gained the summary and its pin notice only, and nobody is mentioned.
    new = [m for m in room.history() if m.id not in before]
    assert new and all(
        m.type is discord.MessageType.pins_add or f"-# dialogue #{dialogue.id} · summary " in m.content for m in new
    )
    assert not any(m.mentions or str(bob.id) in m.content for m in new)
    status = await run(world, "dialogue status", dialogue=str(dialogue.id))
    assert "Summary notice: 2 sent, 1 with closed DMs, 0 pending" in status
    report = world.fac.user.dm_channel.last_message
    assert report is not None
    assert "1 could not be reached (DMs closed) and were not pinged in public instead" in report.content


async def test_a_restart_mid_delivery_leaves_no_duplicate_and_nothing_missing(world: World) -> None:
    posters = [*world.members, *add_members(world, BATCH)]
    dialogue = await closed_dialogue(world, posters)

    answer = await publish_summary(world, dialogue)
    assert sum(len(notices(m)) for m in posters) == BATCH  # the first paced batch
    assert f"Summary notice: {BATCH} sent, 0 with closed DMs, {len(posters) - BATCH} pending" in answer
    # As if the bot crashed while sending: one notice went out but was never recorded as sent, another was
    # claimed and the crash came before its DM left.
    went_out = next(m for m in posters if notices(m))
    claimed = next(m for m in posters if not notices(m))
    await world.bot.database.execute(
        "UPDATE notices SET state = 'sending' WHERE dialogue_id = ? AND user_id IN (?, ?)",
        (dialogue.id, went_out.id, claimed.id),
    )
    await world.restart()
    await world.env.advance_time(60)

    assert {m.user.name: len(notices(m)) for m in posters} == {m.user.name: 1 for m in posters}
    tally = await notices_db.tally(world.bot.database, dialogue.id)
    assert (tally.sent, tally.pending) == (len(posters), 0)
    await world.restart()
    await world.env.advance_time(DAY)
    assert sum(len(notices(m)) for m in posters) == len(posters)


async def test_a_dm_discord_fails_is_tried_again_later_and_given_up_after_three_tries(world: World) -> None:
    alice, bob, *_ = world.members
    dialogue = await closed_dialogue(world, [alice, bob])
    await alice.send_dm("hello")
    assert alice.user.dm_channel is not None
    world.env.inject_error(
        "POST", f"/channels/{alice.user.dm_channel.id}/messages", status=500, message="Server trouble", times=None
    )
    mark = len(world.env.http_requests)
    await publish_summary(world, dialogue)
    assert dm_posts(world, alice, mark) == 1  # Discord is failing: the batch waits 10 minutes
    await world.restart()
    await world.env.advance_time(DAY)

    assert (len(notices(alice)), len(notices(bob))) == (0, 1)
    assert dm_posts(world, alice, mark) == 3
    assert await notices_db.notice_state(world.bot.database, dialogue.id, alice.id) is NoticeState.FAILED
    status = await run(world, "dialogue status", dialogue=str(dialogue.id))
    assert "Summary notice: 1 sent, 0 with closed DMs, 1 failed, 0 pending" in status


async def test_the_buttons_answer_after_a_restart_and_repeated_presses_change_nothing(world: World) -> None:
    alice, bob, chen, _ = world.members
    dialogue = await closed_dialogue(world, [alice])
    await world.restart()

    for _ in range(2):
        assert await press(world, chen, dialogue, "Tell me when the summary is out") == (
            f"You'll get a DM when the summary of “{TITLE}” is out."
        )
        assert await press(world, alice, dialogue, "Don't notify me") == (
            f"You won't be notified when the summary of “{TITLE}” is out."
        )
    assert await notices_db.choice_counts(world.bot.database, dialogue.id) == (1, 1)

    await publish_summary(world, dialogue)
    await world.env.advance_time(60)
    assert (len(notices(alice)), len(notices(chen))) == (0, 1)
    await world.restart()
    answer = await press(world, bob, dialogue, "Tell me when the summary is out")
    assert answer.startswith(f"The summary of “{TITLE}” is already out: https://discord.com/channels/")
    assert await press(world, chen, dialogue, "Don't notify me") == (
        f"The summary notice for “{TITLE}” was already sent to you; nothing more will come."
    )


async def test_a_second_summary_run_sends_nothing_new(world: World) -> None:
    alice, bob, chen, _ = world.members
    dialogue = await closed_dialogue(world, [alice, bob])
    await publish_summary(world, dialogue)
    await world.env.advance_time(60)
    await press(world, chen, dialogue, "Tell me when the summary is out")  # too late for a DM: gets the link
    mark = len(world.env.http_requests)

    answer = await publish_summary(world, dialogue, "A better summary.")
    assert "is replaced" in answer and "Summary notice: 2 sent, 0 with closed DMs, 0 pending" in answer
    await world.env.advance_time(DAY)
    assert [len(notices(m)) for m in (alice, bob, chen)] == [1, 1, 0]
    assert dm_posts(world, alice, mark) == dm_posts(world, bob, mark) == 0
    reports = [m for m in world.fac.user.dm_channel.history() if "summary notices" in m.content]
    assert len(reports) == 1


async def test_with_comments_until_the_summary_those_who_commented_after_the_window_are_told_too(world: World) -> None:
    alice, bob, chen, _ = world.members
    dialogue = await create_dialogue(world, opens="now", duration="1d", after_close="comments-until-summary")
    await world.env.advance_time(1)
    room = channel(world, await reload(world, dialogue.id))
    await alice.send(room.threads[0], "During the window.")
    await world.env.advance_time(DAY)
    closed = await reload(world, dialogue.id)
    assert closed.state is State.CLOSED and closed.locked_at is None  # comments stay open
    await bob.send(room.threads[0], "A comment after the window.")
    await press(world, chen, closed, "Tell me when the summary is out")

    answer = await publish_summary(world, closed)
    assert "Summary notice: 3 sent, 0 with closed DMs, 0 pending" in answer
    await world.env.advance_time(60)
    assert [len(notices(m)) for m in (alice, bob, chen)] == [1, 1, 1]


async def test_a_member_who_withdrew_is_not_told_and_no_longer_kept_as_asking(world: World) -> None:
    alice, bob = world.members[0], world.members[1]
    dialogue = await closed_dialogue(world, [alice, bob])
    await press(world, alice, dialogue, "Tell me when the summary is out")
    asked = await alice.slash(world.general, "forget-me", dialogue=str(dialogue.id))
    question = asked.followups[-1] if asked.followups else asked.response
    assert question is not None
    await alice.click(question, label="Erase my posts")
    await publish_summary(world, dialogue)
    await world.env.advance_time(600)
    assert notices(alice) == []  # her posts are withdrawn: she is not kept as someone who took part
    assert len(notices(bob)) == 1
    kept = await world.bot.database.fetchall(
        "SELECT user_id FROM notice_choices WHERE dialogue_id = ? "
        "UNION SELECT user_id FROM notices WHERE dialogue_id = ?",
        (dialogue.id, dialogue.id),
    )
    assert alice.id not in {row["user_id"] for row in kept}
