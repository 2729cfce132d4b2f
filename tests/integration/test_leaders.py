"""Conversation leaders through the real bot: roster, time zones, the Leaders thread, reminders exactly once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import discord
import simcord

import db.dialogues as dialogues_db
import db.leaders as leaders_db
import db.reminders as reminders_db
from bot import create_bot
from bot.domain.models import Dialogue, State
from bot.domain.reminders import Kind, Owed, ReminderState, Via
from db import Database
from tests.conftest import World

HOUR = 3600
DAY = 86400


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def text_of(result: simcord.InteractionResult) -> str:
    """What the user saw last in answer to an interaction."""
    if result.followups:
        return result.followups[-1].content
    assert result.response is not None, result
    return result.response.content


def ephemeral(result: simcord.InteractionResult) -> bool:
    if result.followups:
        return bool(result.followups[-1].ephemeral)
    assert result.response is not None
    return bool(result.response.ephemeral)


async def create(world: World, *, opens: str, duration: str, timezone: str = "UTC", questions: str = "") -> Dialogue:
    shown = await world.fac.slash(world.general, "dialogue create", timezone=timezone)
    result = await world.fac.submit_modal(
        shown,
        {
            "title": "Defenders and the Council",
            "framing": "Why engage?",
            "questions": questions or "Q one?\nQ two?",
            "opens": opens,
            "duration": duration,
        },
    )
    assert text_of(result).startswith("Scheduled"), text_of(result)
    return (await dialogues_db.in_guild(world.bot.database, world.guild.id))[0]


async def reload(world: World, dialogue_id: int) -> Dialogue:
    dialogue = await dialogues_db.get(world.bot.database, dialogue_id)
    assert dialogue is not None
    return dialogue


async def add_leader(world: World, dialogue: Dialogue, member: simcord.MemberActor, commitment: int = 2) -> str:
    result = await world.fac.slash(
        world.general, "dialogue leaders add", dialogue=str(dialogue.id), member=member, commitment=commitment
    )
    assert ephemeral(result)
    return text_of(result)


async def advance_to(world: World, moment: datetime) -> None:
    seconds = (moment - world.env.now()).total_seconds()
    assert seconds >= 0, f"{moment} is in the past ({world.env.now()})"
    if seconds:
        await world.env.advance_time(seconds)


async def advance_daily(world: World, moment: datetime) -> None:
    """Move time to ``moment`` in steps of at most a day."""
    while world.env.now() < moment:
        await advance_to(world, min(moment, world.env.now() + timedelta(days=1)))


def dms(member: simcord.MemberActor) -> list[discord.Message]:
    return member.user.dm_channel.history()


def dms_starting(member: simcord.MemberActor, first_line: str) -> list[discord.Message]:
    return [m for m in dms(member) if m.content.split("\n", 1)[0] == first_line]


def checkins(member: simcord.MemberActor) -> list[datetime]:
    return [m.created_at for m in dms_starting(member, "Your dialogue check-in")]


def close_dms(world: World, member: simcord.MemberActor) -> None:
    world.env.inject_error(
        "POST",
        f"/channels/{member.user.dm_channel.id}/messages",
        status=403,
        code=50007,
        message="Cannot send messages to this user",
        times=None,
    )


def dialogue_channel(world: World, dialogue: Dialogue) -> simcord.ChannelHandle:
    return next(c for c in world.guild.channels.values() if c.id == dialogue.channel_id)


def thread_named(channel: simcord.ChannelHandle, name: str) -> simcord.ChannelHandle:
    return next(t for t in channel.threads if t.name == name)


def leaders_room(channel: simcord.ChannelHandle, dialogue: Dialogue) -> simcord.ChannelHandle:
    """The dialogue's private Leaders thread, named after the dialogue's id."""
    return thread_named(channel, f"Leaders · #{dialogue.id}")


async def go_offline(world: World) -> None:
    """Stop the bot as a crash would; time can then pass without it."""
    await world.bot.close()


async def come_back(world: World) -> None:
    await world.env.restart_bot(create_bot(world.settings))


# ----- check-ins at each leader's local hour ---------------------------------------------------------


async def test_checkins_arrive_at_nine_local_in_kathmandu_and_toronto_across_dst(world: World) -> None:
    alice, bob, chen = world.members[0], world.members[1], world.members[2]
    # Opens Friday 6 March 12:00 UTC for 4 days; Toronto moves to daylight time on Sunday 8 March.
    dialogue = await create(world, opens="2026-03-06 12:00", duration="4d")
    await add_leader(world, dialogue, alice)
    await add_leader(world, dialogue, bob)
    zone = await alice.slash(world.general, "my-timezone", zone="Asia/Kathmandu")
    assert ephemeral(zone)
    assert "09:00" in text_of(zone) and "<t:1772853300:F>" in text_of(zone)  # 2026-03-07 03:15 UTC
    await bob.slash(world.general, "my-timezone", zone="America/Toronto", checkin_hour=9)

    kathmandu = [utc(2026, 3, 7, 3, 15), utc(2026, 3, 8, 3, 15), utc(2026, 3, 9, 3, 15), utc(2026, 3, 10, 3, 15)]
    toronto = [utc(2026, 3, 6, 14), utc(2026, 3, 7, 14), utc(2026, 3, 8, 13), utc(2026, 3, 9, 13)]
    for moment in sorted(kathmandu + toronto):
        before = (len(checkins(alice)), len(checkins(bob)))
        await advance_to(world, moment - timedelta(seconds=1))
        assert (len(checkins(alice)), len(checkins(bob))) == before, f"a check-in came early before {moment}"
        await advance_to(world, moment)
    await advance_to(world, utc(2026, 3, 11))

    assert checkins(alice) == kathmandu
    assert checkins(bob) == toronto
    # Each one is 09:00 on the leader's wall clock, before and after the change.
    assert {m.astimezone(ZoneInfo("America/Toronto")).hour for m in checkins(bob)} == {9}
    assert {m.astimezone(ZoneInfo("Asia/Kathmandu")).strftime("%H:%M") for m in checkins(alice)} == {"09:00"}
    # Someone who is not a leader hears nothing.
    assert dms(chen) == []
    # Every reminder row was sent once, by DM.
    rows = await reminders_db.reminders_for(world.bot.database, dialogue.id)
    assert all(r.state is ReminderState.SENT and r.via == "dm" for r in rows), rows
    assert all(r.user_id in (alice.id, bob.id) for r in rows)


async def test_checkin_content_is_exact(world: World) -> None:
    alice, bob, chen, dara = world.members
    dialogue = await create(world, opens="in 1h", duration="3d")  # 01:00 on 1 January to 01:00 on 4 January
    await add_leader(world, dialogue, alice, commitment=3)
    await advance_to(world, utc(2026, 1, 1, 2))
    dialogue = await reload(world, dialogue.id)
    channel = dialogue_channel(world, dialogue)
    q_one, q_two = thread_named(channel, "Q one?"), thread_named(channel, "Q two?")
    alice_post = await alice.send(q_one, "Alice on Q1")
    await bob.send(q_one, "Bob answers Alice", reply_to=alice_post)
    chen_post = await chen.send(q_two, "Chen on Q2")
    dara_post = await dara.send(channel, "Dara's own topic\nwith more")
    bob_reply = q_one.last_message
    assert bob_reply is not None and bob_reply.content == "Bob answers Alice"

    await advance_to(world, utc(2026, 1, 1, 9))
    first = dms_starting(alice, "Your dialogue check-in")
    assert len(first) == 1
    assert first[0].content == (
        "Your dialogue check-in\n"
        "**Defenders and the Council**\n"
        "Your posts in the last 24 hours: 1 of the 3 a day you committed to (1 in total).\n"
        "In the dialogue: 4 posts / 4 new since your last check-in.\n"
        "No post has been waiting for a reply for more than 12 hours."
    )

    await advance_to(world, utc(2026, 1, 2, 3))
    await alice.send(q_two, "Alice answers Chen", reply_to=chen_post)
    await advance_to(world, utc(2026, 1, 2, 9))
    second = dms_starting(alice, "Your dialogue check-in")
    assert len(second) == 2
    guild = world.guild.id
    two_hours_before_first = int(utc(2026, 1, 1, 2).timestamp())
    assert second[1].content == (
        "Your dialogue check-in\n"
        "**Defenders and the Council**\n"
        "Your posts in the last 24 hours: 1 of the 3 a day you committed to (2 in total).\n"
        "In the dialogue: 5 posts / 1 new since your last check-in.\n"
        "Waiting for a reply for more than 12 hours:\n"
        f"- bob in “Q one?”, <t:{two_hours_before_first}:R>: "
        f"https://discord.com/channels/{guild}/{q_one.id}/{bob_reply.id}\n"
        f"- dara in “Dara's own topic”, <t:{two_hours_before_first}:R>: "
        f"https://discord.com/channels/{guild}/{dara_post.id}/{dara_post.id}"
    )
    # Lock-screen previews show only the neutral first line: never the topic.
    for message in dms(alice):
        assert "Defenders" not in message.content.split("\n", 1)[0]


# ----- closed DMs --------------------------------------------------------------------------------------


async def test_closed_dms_are_held_then_posted_in_the_private_leaders_thread(world: World) -> None:
    alice, bob, chen = world.members[0], world.members[1], world.members[2]
    dialogue = await create(world, opens="in 2h", duration="2d")
    close_dms(world, bob)
    await add_leader(world, dialogue, alice)
    # The welcome cannot be delivered and there is no thread yet: the facilitator is told.
    assert "direct messages are closed" in await add_leader(world, dialogue, bob)
    assert dms_starting(alice, "Your dialogue role")
    assert dms(bob) == []
    rows = await reminders_db.reminders_for(world.bot.database, dialogue.id, bob.id)
    assert [(r.kind, r.state) for r in rows if r.kind is Kind.WELCOME] == [(Kind.WELCOME, ReminderState.HELD)]

    status = await world.fac.slash(world.general, "dialogue status", dialogue=str(dialogue.id))
    assert f"<@{bob.id}>" in text_of(status) and "**unreachable**" in text_of(status)

    await advance_to(world, utc(2026, 1, 1, 2))
    dialogue = await reload(world, dialogue.id)
    channel = dialogue_channel(world, dialogue)
    leaders_thread = leaders_room(channel, dialogue)
    backend_thread = world.env.backend.channels[leaders_thread.id]
    assert backend_thread.type == discord.ChannelType.private_thread.value
    assert {alice.id, bob.id, world.fac.id} <= set(backend_thread.thread_members)
    assert chen.id not in backend_thread.thread_members
    posts = [m for m in leaders_thread.history() if m.content.startswith(f"<@{bob.id}>")]
    # The held welcome, then the opening message, each addressed to bob only.
    assert [p.content.split("\n")[1] for p in posts] == ["Your dialogue role", "Your dialogue reminder"]
    assert "held until this thread existed" in posts[0].content
    thread_sends = [
        e for e in world.env.http_requests if e.method == "POST" and e.path == f"/channels/{leaders_thread.id}/messages"
    ]
    mentioned = [e.json["allowed_mentions"] for e in thread_sends if e.json["content"].startswith("<@")]
    assert mentioned and all(m == {"parse": [], "users": [bob.id]} for m in mentioned), mentioned
    assert all(
        r.via == "thread"
        for r in await reminders_db.reminders_for(world.bot.database, dialogue.id, bob.id)
        if r.state is ReminderState.SENT
    )

    # The next check-in goes to the thread too, and status still says so.
    await advance_to(world, utc(2026, 1, 1, 9))
    assert leaders_thread.last_message is not None
    assert leaders_thread.last_message.content.split("\n")[1] == "Your dialogue check-in"
    assert len(checkins(alice)) == 1
    status = await world.fac.slash(world.general, "dialogue status", dialogue=str(dialogue.id))
    bob_line = next(line for line in text_of(status).splitlines() if f"<@{bob.id}>" in line)
    assert "**unreachable**" in bob_line
    alice_line = next(line for line in text_of(status).splitlines() if f"<@{alice.id}>" in line)
    assert "reachable by DM" in alice_line

    # At the close, the Leaders thread is locked and archived with the others.
    await advance_to(world, utc(2026, 1, 3, 2))
    assert world.env.backend.channels[leaders_thread.id].thread_metadata.locked is True


async def test_remind_leaders_sends_once_to_each_with_mentions_off(world: World) -> None:
    alice, bob, chen = world.members[0], world.members[1], world.members[2]
    dialogue = await create(world, opens="in 1h", duration="2d")
    await add_leader(world, dialogue, alice)
    await add_leader(world, dialogue, bob)
    await advance_to(world, utc(2026, 1, 1, 1, 30))
    close_dms(world, bob)
    result = await world.fac.slash(
        world.general, "dialogue remind-leaders", dialogue=str(dialogue.id), message="Please answer Dara @everyone"
    )
    assert ephemeral(result)
    assert "1 by direct message" in text_of(result) and "1 in the Leaders thread" in text_of(result)
    sent = dms_starting(alice, "A message from your dialogue facilitators")
    assert len(sent) == 1 and sent[0].content.endswith("Please answer Dara @everyone")
    dm_posts = [
        e
        for e in world.env.http_requests
        if e.method == "POST" and isinstance(e.json, dict) and "Please answer Dara" in str(e.json.get("content"))
    ]
    # alice's DM, bob's refused DM, bob's post in the Leaders thread: no @everyone ping in any of them
    assert len(dm_posts) == 3
    assert all(e.json["allowed_mentions"]["parse"] == [] for e in dm_posts)
    assert dms(chen) == []
    status = await world.fac.slash(world.general, "dialogue status", dialogue=str(dialogue.id))
    assert "**unreachable**" in next(line for line in text_of(status).splitlines() if f"<@{bob.id}>" in line)


# ----- restarts ----------------------------------------------------------------------------------------


def first_lines(member: simcord.MemberActor) -> list[str]:
    return [m.content.split("\n", 1)[0] for m in dms(member)]


async def test_restarts_send_no_duplicate_and_no_stale_reminder(world: World) -> None:
    alice = world.alice
    dialogue = await create(world, opens="in 1h", duration="3d")  # 1 January 01:00 to 4 January 01:00 UTC
    await add_leader(world, dialogue, alice)
    await advance_to(world, utc(2026, 1, 1, 10))
    assert checkins(alice) == [utc(2026, 1, 1, 9)]
    before = first_lines(alice)
    assert before == ["Your dialogue role", "Your dialogue reminder", "Your dialogue check-in"]

    # A restart in the middle of the window repeats nothing.
    await world.restart()
    await advance_to(world, utc(2026, 1, 1, 12))
    assert first_lines(alice) == before

    # Down across a check-in, back 2 hours late: it is still meaningful, so it is sent late, once.
    await advance_to(world, utc(2026, 1, 2, 8))
    await go_offline(world)
    await advance_to(world, utc(2026, 1, 2, 11))
    await come_back(world)
    await advance_to(world, utc(2026, 1, 2, 12))
    assert checkins(alice) == [utc(2026, 1, 1, 9), utc(2026, 1, 2, 11)]

    # Down across "closes tomorrow" (3 January 01:00) and a check-in, back 15 and 7 hours late: both stale.
    await advance_to(world, utc(2026, 1, 3, 0, 30))
    await go_offline(world)
    await advance_to(world, utc(2026, 1, 3, 16))
    await come_back(world)
    await advance_to(world, utc(2026, 1, 4, 2))
    assert checkins(alice) == [utc(2026, 1, 1, 9), utc(2026, 1, 2, 11)]
    assert not [line for line in dms(alice) if "closes tomorrow" in line.content]
    rows = {r.key: r for r in await reminders_db.reminders_for(world.bot.database, dialogue.id, alice.id)}
    stale = rows[f"checkin:{int(utc(2026, 1, 3, 9).timestamp())}"]
    assert (stale.state, stale.note) == (ReminderState.SKIPPED, "missed by more than 6 hours")
    assert rows[f"closes_soon:{int(utc(2026, 1, 3, 1).timestamp())}"].state is ReminderState.SKIPPED
    # The thank-you at the close arrives once, with her own count.
    thanks = dms_starting(alice, "Thank you")
    assert len(thanks) == 1 and "You contributed 0 posts." in thanks[0].content
    await world.restart()
    await advance_to(world, utc(2026, 1, 4, 3))
    assert len(dms_starting(alice, "Thank you")) == 1
    assert [r.state for r in rows.values() if r.state is ReminderState.PENDING] == []


async def test_opens_tomorrow_is_skipped_when_the_bot_was_down_until_after_the_opening(world: World) -> None:
    alice = world.alice
    dialogue = await create(world, opens="in 2d", duration="2d")  # opens 3 January 00:00
    await add_leader(world, dialogue, alice)
    await advance_to(world, utc(2026, 1, 1, 12))
    await go_offline(world)
    await advance_to(world, utc(2026, 1, 3, 1))  # "opens tomorrow" was due on 2 January 00:00
    await come_back(world)
    await advance_to(world, utc(2026, 1, 3, 2))
    assert first_lines(alice) == ["Your dialogue role", "Your dialogue reminder"]
    assert "is live now" in dms(alice)[-1].content
    rows = await reminders_db.reminders_for(world.bot.database, dialogue.id, alice.id)
    opens_soon = next(r for r in rows if r.kind is Kind.OPENS_SOON)
    assert opens_soon.state is ReminderState.SKIPPED
    await world.restart()
    await advance_to(world, utc(2026, 1, 3, 3))
    assert first_lines(alice) == ["Your dialogue role", "Your dialogue reminder"]


# ----- changes are picked up ---------------------------------------------------------------------------


async def test_add_remove_extend_and_time_zone_change_reschedule(world: World) -> None:
    alice, bob, chen = world.members[0], world.members[1], world.members[2]
    dialogue = await create(world, opens="in 1h", duration="2d")  # 1 January 01:00 to 3 January 01:00 UTC
    await advance_to(world, utc(2026, 1, 1, 5))

    # Added mid-dialogue: welcome and the opening message now, check-ins from then on.
    assert "now a conversation leader" in await add_leader(world, dialogue, alice)
    await add_leader(world, dialogue, bob)
    assert first_lines(alice) == ["Your dialogue role", "Your dialogue reminder"]
    assert "is live now" in dms(alice)[1].content and "Q one?" in dms(alice)[1].content
    welcome = dms(alice)[0].content
    assert "about 2 posts a day" in welcome and "09:00 in UTC" in welcome and "/my-timezone" in welcome

    # Removed: nothing more.
    removed = await world.fac.slash(world.general, "dialogue leaders remove", dialogue=str(dialogue.id), member=bob)
    assert "no longer a leader" in text_of(removed)
    await advance_to(world, utc(2026, 1, 1, 10))
    assert checkins(alice) == [utc(2026, 1, 1, 9)]

    # A time zone change moves the future check-ins.
    await alice.slash(world.general, "my-timezone", zone="Asia/Kathmandu")
    # /dialogue extend moves "closes tomorrow" from 2 January 01:00 to 3 January 01:00.
    extended = await world.fac.slash(world.general, "dialogue extend", dialogue=str(dialogue.id), by="1d")
    assert "now closes" in text_of(extended)
    await advance_to(world, utc(2026, 1, 2, 2))
    assert not [m for m in dms(alice) if "closes tomorrow" in m.content]
    await advance_to(world, utc(2026, 1, 4, 2))
    assert checkins(alice) == [utc(2026, 1, 1, 9), utc(2026, 1, 2, 3, 15), utc(2026, 1, 3, 3, 15)]
    closing = [m for m in dms(alice) if "closes tomorrow" in m.content]
    assert [m.created_at for m in closing] == [utc(2026, 1, 3, 1)]
    assert closing[0].content.split("\n", 1)[0] == "Your dialogue reminder"
    assert len(dms_starting(alice, "Thank you")) == 1

    assert first_lines(bob) == ["Your dialogue role", "Your dialogue reminder"]
    assert dms(chen) == []
    rows = await reminders_db.reminders_for(world.bot.database, dialogue.id, bob.id)
    assert all(r.state is not ReminderState.PENDING for r in rows)


async def test_readded_leader_gets_a_new_welcome_and_check_ins_but_not_the_opening_again(world: World) -> None:
    bob = world.bob
    dialogue = await create(world, opens="in 1h", duration="3d")
    await add_leader(world, dialogue, bob)
    await advance_to(world, utc(2026, 1, 1, 2))
    await world.fac.slash(world.general, "dialogue leaders remove", dialogue=str(dialogue.id), member=bob)
    await advance_to(world, utc(2026, 1, 2, 12))
    assert checkins(bob) == []
    await add_leader(world, dialogue, bob, commitment=4)
    await advance_to(world, utc(2026, 1, 3, 10))
    assert first_lines(bob) == [
        "Your dialogue role",
        "Your dialogue reminder",
        "Your dialogue role",
        "Your dialogue reminder",
        "Your dialogue check-in",
    ]
    assert "closes tomorrow" in dms(bob)[3].content
    assert dms(bob)[-1].created_at == utc(2026, 1, 3, 9)
    assert "of the 4 a day" in dms(bob)[-1].content


# ----- commands: who may, and what is refused ------------------------------------------------------------


async def test_commands_visibility_and_refusals(world: World) -> None:
    alice, bob = world.alice, world.bob
    visible = alice.available_commands(world.general)
    assert "my-timezone" in visible
    assert not [name for name in visible if name.startswith("dialogue")]
    facilitator = world.fac.available_commands(world.general)
    assert {
        "dialogue leaders add",
        "dialogue leaders remove",
        "dialogue leaders list",
        "dialogue remind-leaders",
    } <= set(facilitator)

    bad = await alice.slash(world.general, "my-timezone", zone="Mars/Olympus")
    assert ephemeral(bad) and "not an IANA time zone" in text_of(bad)
    assert await leaders_db.get_member(world.bot.database, world.guild.id, alice.id) is None

    dialogue = await create(world, opens="in 1h", duration="2d")
    nobody = await world.fac.slash(world.general, "dialogue leaders remove", dialogue=str(dialogue.id), member=bob)
    assert ephemeral(nobody) and "is not a leader" in text_of(nobody)
    empty = await world.fac.slash(world.general, "dialogue remind-leaders", dialogue=str(dialogue.id), message="hi")
    assert "no leaders yet" in text_of(empty)
    await add_leader(world, dialogue, alice, commitment=3)
    await alice.slash(world.general, "my-timezone", zone="asia/kathmandu", checkin_hour=7)
    listed = await world.fac.slash(world.general, "dialogue leaders list", dialogue=str(dialogue.id))
    assert f"<@{alice.id}>: 3 a day, check-ins at 07:00 Asia/Kathmandu, reachable" in text_of(listed)

    await world.fac.slash(world.general, "dialogue cancel", dialogue=str(dialogue.id))
    refused = await add_leader(world, dialogue, bob)
    assert "Cannot add leaders" in refused
    assert await leaders_db.get_leader(world.bot.database, dialogue.id, bob.id) is None
    assert dms(bob) == []
    rows = await reminders_db.reminders_for(world.bot.database, dialogue.id, alice.id)
    assert all(r.state is not ReminderState.PENDING for r in rows)


async def test_a_dm_discord_failed_to_take_is_retried_and_sent_once(world: World) -> None:
    alice = world.alice
    dialogue = await create(world, opens="in 1h", duration="2d")
    await add_leader(world, dialogue, alice)
    await advance_to(world, utc(2026, 1, 1, 8, 59))
    world.env.inject_error(
        "POST", f"/channels/{alice.user.dm_channel.id}/messages", status=500, code=0, message="Server error", times=1
    )
    await advance_to(world, utc(2026, 1, 1, 9))
    assert checkins(alice) == []
    await advance_to(world, utc(2026, 1, 1, 9, 10))
    assert checkins(alice) == [utc(2026, 1, 1, 9, 10)]
    await advance_to(world, utc(2026, 1, 1, 12))
    assert len(checkins(alice)) == 1
    status = await world.fac.slash(world.general, "dialogue status", dialogue=str(dialogue.id))
    assert "reachable by DM" in text_of(status)


async def test_a_leaders_thread_made_but_not_recorded_before_a_crash_is_adopted(world: World) -> None:
    alice, chen = world.alice, world.members[2]
    dialogue = await create(world, opens="in 1h", duration="2d")
    await add_leader(world, dialogue, alice)
    await advance_to(world, utc(2026, 1, 1, 1, 30))
    dialogue = await reload(world, dialogue.id)
    room = dialogue_channel(world, dialogue)
    made = leaders_room(room, dialogue)
    # Emulate a crash right after Discord made the thread: none of its parts is recorded.
    await world.bot.database.execute("DELETE FROM bot_messages WHERE kind = 'leaders_intro'")
    await world.bot.database.execute("DELETE FROM threads WHERE origin = 'leaders'")
    await world.restart()
    await world.env.advance_time(60)
    assert [t.id for t in room.threads if t.name.startswith("Leaders")] == [made.id]
    assert await leaders_db.leaders_thread(world.bot.database, dialogue.id) == made.id
    members = world.env.backend.channels[made.id].thread_members
    assert {alice.id, world.fac.id} <= set(members) and chen.id not in members
    # The leader was told once that it opened, restart or not.
    assert first_lines(alice) == ["Your dialogue role", "Your dialogue reminder"]


async def test_reloading_the_extensions_registers_every_command_once(world: World) -> None:
    await world.bot.reload_extension("cogs.leaders")
    await world.bot.reload_extension("cogs.dialogues")
    names = [c.qualified_name for c in world.bot.tree.walk_commands()]
    assert names.count("dialogue leaders add") == 1 and names.count("dialogue remind-leaders") == 1
    assert names.count("dialogue plan") == 1 and names.count("my-timezone") == 1


async def test_thanks_for_a_leader_with_closed_dms_leaves_the_leaders_thread_locked(world: World) -> None:
    alice, bob = world.alice, world.bob
    dialogue = await create(world, opens="in 1h", duration="1d")
    await add_leader(world, dialogue, alice)
    await add_leader(world, dialogue, bob)
    await advance_to(world, utc(2026, 1, 1, 2))
    alice_post = await alice.send(
        thread_named(dialogue_channel(world, await reload(world, dialogue.id)), "Q one?"), "x"
    )
    assert alice_post is not None
    close_dms(world, bob)
    await advance_to(world, utc(2026, 1, 2, 2))
    room = dialogue_channel(world, await reload(world, dialogue.id))
    backstage = world.env.backend.channels[leaders_room(room, dialogue).id]
    posted = world.env.backend.messages[backstage.id].values()
    thanks = [m for m in posted if m.content.startswith(f"<@{bob.id}>") and "\nThank you\n" in m.content]
    assert len(thanks) == 1 and "You contributed 0 posts." in thanks[0].content
    # On Discord a post unarchives the thread, so the bot archives it again after posting (SimCord does not
    # unarchive on send: look at the requests).
    calls = [(e.method, e.path) for e in world.env.http_requests if str(backstage.id) in e.path]
    last_post = max(i for i, call in enumerate(calls) if call[0] == "POST")
    assert ("PATCH", f"/channels/{backstage.id}") in calls[last_post:]
    assert backstage.thread_metadata.locked is True and backstage.thread_metadata.archived is True
    alice_thanks = dms_starting(alice, "Thank you")
    assert len(alice_thanks) == 1 and "You contributed 1 post." in alice_thanks[0].content


async def test_an_extension_whose_event_was_lost_in_a_crash_is_picked_up_at_start_up(world: World) -> None:
    alice = world.alice
    dialogue = await create(world, opens="in 1h", duration="2d")  # closes 3 January 01:00
    await add_leader(world, dialogue, alice)
    await advance_to(world, utc(2026, 1, 1, 12))
    # The extension was recorded, then the bot died before any listener ran.
    states = (State.OPEN,)
    moved = utc(2026, 1, 4, 1)
    assert await dialogues_db.set_closes_at(world.bot.database, dialogue.id, moved, states, world.env.now())
    await world.restart()
    await advance_to(world, utc(2026, 1, 4, 2))
    closing = [m.created_at for m in dms(alice) if "closes tomorrow" in m.content]
    assert closing == [utc(2026, 1, 3, 1)]
    assert checkins(alice) == [utc(2026, 1, 1, 9), utc(2026, 1, 2, 9), utc(2026, 1, 3, 9)]


async def test_a_later_check_in_hour_does_not_add_a_second_check_in_the_same_day(world: World) -> None:
    dialogue = await create(world, opens="2026-01-02 06:00", duration="3d", timezone="Europe/Zurich")
    await add_leader(world, dialogue, world.alice)
    await advance_to(world, utc(2026, 1, 2, 8, 30))  # 09:30 in Zurich: today's 09:00 check-in has arrived
    checkins = lambda: [m for m in dms(world.alice) if m.content.startswith("Your dialogue check-in")]  # noqa: E731
    assert len(checkins()) == 1

    result = await world.alice.slash(world.general, "my-timezone", zone="Europe/Zurich", checkin_hour=10)
    assert ephemeral(result)
    await advance_to(world, utc(2026, 1, 3, 8, 59))  # past 10:00 today, before 10:00 tomorrow
    assert len(checkins()) == 1
    await advance_to(world, utc(2026, 1, 3, 9, 0))  # 10:00 in Zurich the next day
    assert len(checkins()) == 2


async def test_a_facilitators_message_held_for_days_is_posted_when_the_leaders_thread_opens(world: World) -> None:
    dialogue = await create(world, opens="in 2d", duration="2d")
    close_dms(world, world.bob)
    await add_leader(world, dialogue, world.bob)
    result = await world.fac.slash(
        world.general, "dialogue remind-leaders", dialogue=str(dialogue.id), message="Read the framing first"
    )
    assert "held" in text_of(result)
    await world.env.advance_time(2 * DAY + HOUR)
    room = dialogue_channel(world, await reload(world, dialogue.id))
    posts = [m.content for m in leaders_room(room, dialogue).history() if m.content.startswith(f"<@{world.bob.id}>")]
    assert any("Read the framing first" in post for post in posts)
    assert not any("opens tomorrow" in post for post in posts)


async def test_only_this_dialogues_own_leaders_thread_is_adopted_never_one_named_like_it(world: World) -> None:
    alice = world.alice
    dialogue = await create(world, opens="in 1h", duration="2d")
    await add_leader(world, dialogue, alice)
    await advance_to(world, utc(2026, 1, 1, 1, 30))
    dialogue = await reload(world, dialogue.id)
    room = dialogue_channel(world, dialogue)
    made = leaders_room(room, dialogue)
    # A moderator deleted the room and a crash lost its record; what is left in the channel only looks like it.
    backend = world.env.backend
    backend.delete_channel(made.id)
    private = discord.ChannelType.private_thread.value
    decoys = {
        # a participant's own private thread under this dialogue's room name
        backend.create_thread(room.id, f"Leaders · #{dialogue.id}", alice.id, type=private).id,
        # another dialogue's room, made by the bot (as when two dialogues shared a channel)
        backend.create_thread(room.id, f"Leaders · #{dialogue.id + 1}", world.bot.user.id, type=private).id,
        # a room named as the bot used to name them, without a dialogue
        backend.create_thread(room.id, "Leaders", world.bot.user.id, type=private).id,
    }
    await world.env.settle()
    await world.bot.database.execute("DELETE FROM bot_messages WHERE kind = 'leaders_intro'")
    await world.bot.database.execute("DELETE FROM threads WHERE origin = 'leaders'")
    await world.restart()
    await world.env.advance_time(60)

    recorded = await leaders_db.leaders_thread(world.bot.database, dialogue.id)
    assert recorded is not None and recorded not in decoys and recorded != made.id
    fresh = backend.channels[recorded]
    assert fresh.name == f"Leaders · #{dialogue.id}" and fresh.owner_id == world.bot.user.id
    assert {alice.id, world.fac.id} <= set(fresh.thread_members)
    # Nothing was posted in the look-alikes, and the leader heard of the opening once.
    assert all(not backend.messages.get(decoy) for decoy in decoys)
    assert first_lines(alice) == ["Your dialogue role", "Your dialogue reminder"]


# ----- many reminders: one timer, each arrives once at its time ---------------------------------------------


async def test_a_month_of_pending_reminders_across_restarts_each_arrive_once_at_their_time(world: World) -> None:
    """Reminders written straight into the record (as a month of plans would leave them) survive restarts.

    The scheduler holds one reminder job, never one per row; 1,000 rows keep the suite quick (the 100,000-row
    start-up is measured by benchmarks/bench_startup.py).
    """
    rows_wanted = 1000
    leaders = [world.guild.add_member(world.env.create_user(f"leader{n}")) for n in range(8)]
    dialogue = await create(world, opens="in 1h", duration="31d")  # 1 January 01:00 to 1 February 01:00 UTC
    for member in leaders:
        await add_leader(world, dialogue, member)
    await advance_to(world, utc(2026, 1, 1, 2))
    base = {member.id: len(dms(member)) for member in leaders}  # welcome and opening

    # Facilitators' messages spread over the month, several due in the same second, written while the bot is down.
    start = utc(2026, 1, 1, 3)
    owed = [
        Owed(
            dialogue.id,
            leaders[n % len(leaders)].id,
            Kind.BROADCAST,
            f"broadcast:bulk{n}",
            start + (n * 1337 % (30 * DAY)) * timedelta(seconds=1),
        )
        for n in range(rows_wanted)
    ]
    await go_offline(world)
    database = await Database.connect(world.settings.database)
    try:
        for n, row in enumerate(owed):
            await reminders_db.add_reminder(database, row, body=f"note {n}")
    finally:
        await database.close()
    await come_back(world)
    assert [job for job in world.bot.scheduler.job_ids() if job.startswith("leaders:")] == ["leaders:reminders"]

    # Half the month, a restart in the middle of it, then the rest; a day at a time, so that each settle of
    # SimCord (bounded in real seconds) holds a day's deliveries, not half a month's, on a loaded machine.
    await advance_daily(world, utc(2026, 1, 16, 0, 0, 30))
    await world.restart()
    assert [job for job in world.bot.scheduler.job_ids() if job.startswith("leaders:")] == ["leaders:reminders"]
    await advance_daily(world, utc(2026, 1, 31, 12))

    due_of = {f"note {n}": row.due_at for n, row in enumerate(owed)}
    for member in leaders:
        got = [m for m in dms(member)[base[member.id] :] if m.content.startswith("A message from")]
        notes = [m.content.rsplit("\n", 1)[1] for m in got]
        assert len(notes) == len(set(notes)), "a reminder arrived twice"
        assert sorted(notes) == sorted(f"note {n}" for n, row in enumerate(owed) if row.user_id == member.id)
        assert all(m.created_at == due_of[note] for m, note in zip(got, notes, strict=True)), "one came late or early"
    stored = await reminders_db.reminders_for(world.bot.database, dialogue.id)
    bulk = [r for r in stored if r.key.startswith("broadcast:bulk")]
    assert len(bulk) == rows_wanted and all(r.state is ReminderState.SENT and r.via is Via.DM for r in bulk)


async def test_a_new_default_check_in_hour_in_the_config_moves_future_check_ins_at_start_up(world: World) -> None:
    """Start-up re-plans only leaders whose plan inputs changed; a new configured hour is such a change."""
    alice, bob = world.alice, world.bob
    dialogue = await create(world, opens="in 1h", duration="3d")  # 1 January 01:00 to 4 January 01:00, in UTC
    await add_leader(world, dialogue, alice)
    await add_leader(world, dialogue, bob)
    await bob.slash(world.general, "my-timezone", zone="UTC", checkin_hour=9)  # his own hour: unchanged
    await advance_to(world, utc(2026, 1, 1, 10))
    assert checkins(alice) == checkins(bob) == [utc(2026, 1, 1, 9)]
    await world.restart_with(default_checkin_hour=7)
    await advance_to(world, utc(2026, 1, 4, 2))
    assert checkins(alice) == [utc(2026, 1, 1, 9), utc(2026, 1, 2, 7), utc(2026, 1, 3, 7)]
    assert checkins(bob) == [utc(2026, 1, 1, 9), utc(2026, 1, 2, 9), utc(2026, 1, 3, 9)]
