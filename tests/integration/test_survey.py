"""The anonymous feedback survey: the wrap-up's button, the form, one replaceable answer each, the results."""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass, field

import discord
import pytest
import simcord

from bot.afterlife.buttons import FEEDBACK, after_life_view, custom_id
from tests.conftest import World, column_names, table_names
from tests.integration.support import DAY, bot_messages, channel, create_dialogue, is_ephemeral, last_reply, reload, run

PLAN = """
[dialogue]
title = "Listening tour"
timezone = "Europe/Zurich"
opens = "now"
duration = "1d"

[[questions]]
text = "Where do we start?"

[survey]
questions = ["Did the timing work for you?", "Which thread mattered most to you, and what made it matter so much?"]
days = 3
"""


@dataclass
class Seen:
    """Every Discord id and token a respondent's interactions carried: none may reach the database."""

    values: set[str] = field(default_factory=set)

    def add(self, result: simcord.InteractionResult) -> None:
        # The simulated interaction behind a result (SimCord keeps it private; it is only read here).
        interaction = result._interaction
        self.values.update({str(interaction.id), interaction.token})
        if interaction.message_id is not None:
            self.values.add(str(interaction.message_id))
        self.values.update(str(message_id) for message_id in interaction.followup_ids)


async def closed_dialogue(world: World) -> tuple[int, discord.Message]:
    """A dialogue that opened, got a post from dara, and closed; return its id and the wrap-up's last part."""
    dialogue = await create_dialogue(world, opens="now", duration="1d")
    await world.env.advance_time(1)
    room = channel(world, await reload(world, dialogue.id))
    await world.members[3].send(room.threads[0], "Engagement gives our cases a hearing we cannot get at home.")
    assert "closed" in (await run(world, "dialogue close", dialogue=str(dialogue.id))).lower()
    return dialogue.id, bot_messages(room, world)[-1]


async def press(
    world: World, member: simcord.MemberActor, wrapup: discord.Message, dialogue_id: int
) -> simcord.InteractionResult:
    """Press "Give feedback" under the wrap-up."""
    return await member.click(wrapup, custom_id=custom_id(FEEDBACK, dialogue_id))


async def answer(
    world: World,
    member: simcord.MemberActor,
    wrapup: discord.Message,
    dialogue_id: int,
    values: dict[str, str],
    seen: Seen | None = None,
) -> str:
    """Press the button, fill in the form and send it; return what the member was told."""
    shown = await press(world, member, wrapup, dialogue_id)
    assert shown.modal is not None, last_reply(shown)
    result = await member.submit_modal(shown, values)
    assert is_ephemeral(result)
    if seen is not None:
        seen.add(shown)
        seen.add(result)
    return last_reply(result)


def shown_messages(result: simcord.InteractionResult) -> list[simcord.ResponseMessage]:
    """Every message the user saw in answer: the (deferred) response, then each follow-up."""
    messages = [result.response] if result.response is not None else []
    return messages + [m for m in result.followups if not messages or m.id != messages[0].id]


async def rows(world: World, dialogue_id: int) -> list[tuple[object, ...]]:
    found = await world.bot.database.fetchall(
        "SELECT rating, answer_1, answer_2, answer_3 FROM survey_responses WHERE dialogue_id = ?", (dialogue_id,)
    )
    return [tuple(row) for row in found]


async def test_the_wrapup_carries_the_button_and_the_form_asks_the_rating_and_the_default_questions(
    world: World,
) -> None:
    dialogue_id, wrapup = await closed_dialogue(world)
    shown = await press(world, world.alice, wrapup, dialogue_id)
    modal = shown.modal
    assert modal is not None
    labels = [component for component in modal["components"] if component["type"] == discord.ComponentType.label.value]
    assert [label["component"]["custom_id"] for label in labels] == ["rating", "answer_1", "answer_2"]
    rating = labels[0]["component"]
    assert rating["type"] == 21  # a radio group
    assert [option["value"] for option in rating["options"]] == ["5", "4", "3", "2", "1"]
    assert labels[1]["label"] == "What was most useful to you in this dialogue?"
    assert labels[2]["label"] == "What should we do differently next time?"
    assert modal["title"] == "Feedback: Engaging the Council"


async def test_an_answer_is_stored_and_a_repeat_replaces_it(world: World) -> None:
    dialogue_id, wrapup = await closed_dialogue(world)
    told = await answer(world, world.alice, wrapup, dialogue_id, {"rating": "4", "answer_1": "The second thread."})
    assert told.startswith("Thank you: your answer is saved.")
    assert await rows(world, dialogue_id) == [(4, "The second thread.", "", "")]

    told = await answer(world, world.alice, wrapup, dialogue_id, {"rating": "2", "answer_2": "Shorter windows."})
    assert told.startswith("Thank you: your new answer replaced your earlier one.")
    assert await rows(world, dialogue_id) == [(2, "", "Shorter windows.", "")]

    await answer(world, world.bob, wrapup, dialogue_id, {"rating": "5"})
    assert sorted(await rows(world, dialogue_id), key=str) == sorted(
        [(2, "", "Shorter windows.", ""), (5, "", "", "")], key=str
    )


async def test_the_results_show_count_distribution_mean_and_every_text(world: World) -> None:
    dialogue_id, wrapup = await closed_dialogue(world)
    await answer(world, world.alice, wrapup, dialogue_id, {"rating": "4", "answer_1": "Hearing from the lawyers."})
    await answer(world, world.bob, wrapup, dialogue_id, {"rating": "5", "answer_1": "The daily summaries."})
    await answer(world, world.chen, wrapup, dialogue_id, {"answer_2": "Fewer questions at once."})

    mark = len(world.env.http_requests)
    results = await world.fac.slash(world.general, "dialogue survey-results", dialogue=str(dialogue_id))
    assert all(message.ephemeral for message in shown_messages(results))
    # Members' words are sent with mentions off.
    sends = [r.json for r in world.env.http_requests[mark:] if r.path.startswith("/webhooks/") and r.json]
    assert sends and all(send.get("allowed_mentions") == {"parse": []} for send in sends)
    text = "\n".join(message.content for message in shown_messages(results))
    assert "3 responses" in text
    assert "mean **4.5** of 5, from 2 ratings" in text
    assert "`5` █ 1" in text and "`4` █ 1" in text and "`3` 0" in text
    for written in ("Hearing from the lawyers.", "The daily summaries.", "Fewer questions at once."):
        assert f"> {written}" in text
    assert "**1. What was most useful to you in this dialogue?** (2 answers)" in text

    status = await run(world, "dialogue status", dialogue=str(dialogue_id))
    assert "**Feedback survey** (open until" in status
    assert "3 responses" in status and "mean **4.5** of 5" in status
    assert "3 written answers: read them with `/dialogue survey-results`." in status
    assert "Hearing from the lawyers." not in status


async def test_many_results_are_split_into_messages_under_discords_limit(world: World) -> None:
    dialogue_id, wrapup = await closed_dialogue(world)
    long = "We needed more time for the cases from the regions. " * 19  # about 1,000 characters
    for member in world.members:
        await answer(world, member, wrapup, dialogue_id, {"rating": "3", "answer_1": long, "answer_2": long})
    results = await world.fac.slash(world.general, "dialogue survey-results", dialogue=str(dialogue_id))
    parts = [message.content for message in shown_messages(results)]
    assert len(parts) >= 4
    assert all(len(part) <= 2000 for part in parts)
    assert "\n".join(parts).count("We needed more time") == 8 * 19


async def test_refusals_save_nothing(world: World) -> None:
    dialogue = await create_dialogue(world, opens="now", duration="1d")
    await world.env.advance_time(1)
    room = channel(world, await reload(world, dialogue.id))
    # Before the close there is no wrap-up; a button found elsewhere (an old copy, say) is refused.
    general = world.bot.get_channel(world.general.id)
    assert isinstance(general, discord.TextChannel)
    early = await world.bot.gateway.post(general, "feedback", view=after_life_view(dialogue.id, notify=False))
    refused = await press(world, world.alice, early, dialogue.id)
    assert refused.modal is None and is_ephemeral(refused)
    assert "opens when the dialogue closes" in last_reply(refused)

    await run(world, "dialogue close", dialogue=str(dialogue.id))
    wrapup = bot_messages(room, world)[-1]
    told = await answer(world, world.alice, wrapup, dialogue.id, {"answer_1": "   "})
    assert told == "Nothing was saved: choose a rating or write an answer to at least one question."
    assert await rows(world, dialogue.id) == []


async def test_a_button_in_another_server_is_refused(world: World) -> None:
    dialogue_id, _ = await closed_dialogue(world)
    elsewhere = world.env.create_guild("Another Network")
    lobby = elsewhere.create_text_channel("lobby")
    visitor = elsewhere.add_member(world.env.create_user("visitor"))
    target = world.bot.get_channel(lobby.id)
    assert isinstance(target, discord.TextChannel)
    copy = await world.bot.gateway.post(target, "feedback", view=after_life_view(dialogue_id, notify=False))
    refused = await press(world, visitor, copy, dialogue_id)
    assert refused.modal is None
    assert last_reply(refused) == "This survey belongs to no dialogue of this server. Nothing was saved."


async def test_after_the_survey_days_the_button_and_a_late_form_are_refused(world: World) -> None:
    dialogue_id, wrapup = await closed_dialogue(world)
    await world.env.advance_time(14 * DAY - 60)
    shown = await press(world, world.alice, wrapup, dialogue_id)  # opened a minute before the end...
    await world.env.advance_time(120)
    late = await world.alice.submit_modal(shown, {"rating": "5"})  # ...and sent after it
    assert "closed" in last_reply(late) and "Nothing was saved" in last_reply(late)
    refused = await press(world, world.bob, wrapup, dialogue_id)
    assert refused.modal is None
    assert last_reply(refused).startswith("The feedback survey for “Engaging the Council” closed <t:")
    assert await rows(world, dialogue_id) == []


async def test_the_button_works_after_a_restart(world: World) -> None:
    dialogue_id, wrapup = await closed_dialogue(world)
    await answer(world, world.alice, wrapup, dialogue_id, {"rating": "4"})
    await world.restart()
    told = await answer(world, world.alice, wrapup, dialogue_id, {"rating": "1"})
    assert told.startswith("Thank you: your new answer replaced")  # the same respondent, recognised after a restart
    await answer(world, world.bob, wrapup, dialogue_id, {"rating": "5"})
    assert sorted(rating for rating, *_ in await rows(world, dialogue_id)) == [1, 5]  # type: ignore[type-var]


async def test_two_members_with_the_form_open_at_once_are_both_stored(world: World) -> None:
    dialogue_id, wrapup = await closed_dialogue(world)
    alice_form = await press(world, world.alice, wrapup, dialogue_id)
    bob_form = await press(world, world.bob, wrapup, dialogue_id)
    assert "saved" in last_reply(await world.bob.submit_modal(bob_form, {"rating": "2"}))
    assert "saved" in last_reply(await world.alice.submit_modal(alice_form, {"rating": "5"}))
    assert sorted(rating for rating, *_ in await rows(world, dialogue_id)) == [2, 5]  # type: ignore[type-var]


async def test_a_form_opened_before_a_restart_is_taken_after_it(world: World) -> None:
    dialogue_id, wrapup = await closed_dialogue(world)
    shown = await press(world, world.alice, wrapup, dialogue_id)
    await world.restart()
    result = await world.alice.submit_modal(shown, {"rating": "3", "answer_2": "Keep the daily digest."})
    assert last_reply(result).startswith("Thank you: your answer is saved.")
    assert await rows(world, dialogue_id) == [(3, "", "Keep the daily digest.", "")]


async def test_a_plans_survey_questions_and_days_are_used(world: World) -> None:
    await world.fac.slash(world.general, "dialogue create", plan=("plan.toml", PLAN.encode()))
    (dialogue,) = await world.bot.dialogues.in_guild(world.guild.id)
    await world.env.advance_time(1)
    room = channel(world, await reload(world, dialogue.id))
    await run(world, "dialogue close", dialogue=str(dialogue.id))
    wrapup = bot_messages(room, world)[-1]
    shown = await press(world, world.alice, wrapup, dialogue.id)
    assert shown.modal is not None
    labels = [c for c in shown.modal["components"] if c["type"] == discord.ComponentType.label.value]
    assert [label["label"] for label in labels[1:]] == ["Did the timing work for you?", "Question 2"]
    # Longer than a label shows (45 characters): the question is the label's description.
    assert labels[2]["description"] == "Which thread mattered most to you, and what made it matter so much?"
    await world.env.advance_time(3 * DAY)
    assert "closed" in last_reply(await press(world, world.alice, wrapup, dialogue.id))

    # The exported plan keeps the survey, so importing it again asks the same.
    exported = await world.fac.slash(world.general, "dialogue plan", dialogue=str(dialogue.id))
    text = (await shown_messages(exported)[-1].attachments[0].read()).decode()
    assert '[survey]\nquestions = ["Did the timing work for you?", "Which thread mattered most' in text
    assert "\ndays = 3\n" in text


async def test_nothing_stored_can_be_joined_back_to_a_member(world: World, caplog: pytest.LogCaptureFixture) -> None:
    dialogue_id, wrapup = await closed_dialogue(world)
    caplog.set_level(logging.DEBUG)
    respondents = world.members[:3]
    seen = Seen()
    texts = {
        world.alice: ("It helped to hear other networks.", "Open it on a weekday."),
        world.bob: ("The framing was clear.", ""),
        world.chen: ("", "More time for the last question."),
    }
    for rating, member in zip(("5", "3", "4"), respondents, strict=True):
        first, second = texts[member]
        await answer(
            world, member, wrapup, dialogue_id, {"rating": rating, "answer_1": first, "answer_2": second}, seen
        )
    # A repeat too: it must not leave a trace of the first answer or of who repeated.
    await answer(world, world.bob, wrapup, dialogue_id, {"rating": "2", "answer_1": "The framing was clear."}, seen)

    identifying: set[str] = set(seen.values)
    for member in respondents:
        identifying |= {str(member.id), member.name}
        if member.member is not None:
            identifying |= {member.member.display_name, member.member.global_name or member.name}
    values = await every_stored_value(world)
    leaks = [(where, value) for where, value in values if any(needle in value for needle in identifying)]
    assert leaks == []
    # Nor does the log keep the answers, or a line per answer whose time could be matched to a member.
    ours = [r.getMessage() for r in caplog.records if r.name.split(".")[0] in {"bot", "cogs", "db"}]
    assert not [line for line in ours if "survey" in line.lower() or "framing was clear" in line]

    # Nothing in a response row can be matched to the members' activity: no member column, no time column.
    columns = await column_names(world.bot.database, "survey_responses")
    assert columns == {"id", "dialogue_id", "respondent", "rating", "answer_1", "answer_2", "answer_3"}
    # The row order (SQLite's, by id) is not the order of the answers: ids are random, not a sequence.
    ids = [row["id"] for row in await world.bot.database.fetchall("SELECT id FROM survey_responses")]
    assert len(ids) == 3 and ids != list(range(1, 4))
    assert max(ids) > 1000

    # While the survey is open, a repeat is recognised only with the secret; once it ends, the secret and every
    # respondent hash are forgotten, so even someone holding the whole database cannot link a row to a member.
    await world.env.advance_time(14 * DAY)
    await run(world, "dialogue survey-results", dialogue=str(dialogue_id))
    survey = await world.bot.database.fetchone("SELECT secret FROM surveys WHERE dialogue_id = ?", (dialogue_id,))
    assert survey is not None and survey["secret"] is None
    hashes = await world.bot.database.fetchall("SELECT respondent FROM survey_responses")
    assert [row["respondent"] for row in hashes] == [None, None, None]


async def test_with_the_secret_a_database_reader_could_link_answers_until_the_survey_ends(world: World) -> None:
    """The reason the secret is forgotten: while it is kept, a member's hash can be recomputed."""
    dialogue_id, wrapup = await closed_dialogue(world)
    await answer(world, world.alice, wrapup, dialogue_id, {"rating": "5"})
    database = world.bot.database
    secret_row = await database.fetchone("SELECT secret FROM surveys WHERE dialogue_id = ?", (dialogue_id,))
    assert secret_row is not None
    key = hmac.new(bytes.fromhex(secret_row["secret"]), str(world.alice.id).encode(), hashlib.sha256).hexdigest()
    assert await database.fetchone("SELECT 1 FROM survey_responses WHERE respondent = ?", (key,)) is not None
    await world.restart()  # start-up forgets what has ended (nothing yet)
    await world.env.advance_time(14 * DAY)
    await world.restart()  # ... and now the survey has ended: the start-up forgets its hashes
    assert await world.bot.database.fetchone("SELECT 1 FROM survey_responses WHERE respondent = ?", (key,)) is None
    assert await world.bot.database.fetchone("SELECT 1 FROM survey_responses WHERE respondent IS NOT NULL") is None


async def every_stored_value(world: World) -> list[tuple[str, str]]:
    """Every value of every column of every table, as text, with where it was found."""
    database = world.bot.database
    tables = sorted(await table_names(database))  # sqlite_master, or information_schema on PostgreSQL
    assert {"survey_responses", "surveys", "posts", "dialogues"} <= set(tables)
    found: list[tuple[str, str]] = []
    for table in tables:
        for row in await database.fetchall(f'SELECT * FROM "{table}"'):
            for column in row.keys():  # noqa: SIM118 - sqlite3.Row has no items()
                value = row[column]
                if value is None:
                    continue
                text = value.hex() if isinstance(value, bytes) else str(value)
                found.append((f"{table}.{column}", text))
    return found


async def test_a_bot_that_keeps_running_forgets_an_ended_surveys_hashes_within_a_day(world: World) -> None:
    """Nobody needs to restart or look at the results: the daily upkeep ends the survey on its own."""
    dialogue_id, wrapup = await closed_dialogue(world)
    await answer(world, world.alice, wrapup, dialogue_id, {"rating": "5"})
    await world.env.advance_time(14 * DAY + DAY)
    database = world.bot.database
    assert await database.fetchone("SELECT 1 FROM survey_responses WHERE respondent IS NOT NULL") is None
    assert await database.fetchone("SELECT 1 FROM surveys WHERE secret IS NOT NULL") is None
