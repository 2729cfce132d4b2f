"""The survey's pure parts: reading a rating, checking an answer, the window, the keyed hash, the results."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from bot import render_survey
from bot.domain.errors import DialogueError, InvalidInput
from bot.domain.models import Dialogue, State
from bot.domain.plan import PlanError, parse_plan, render_plan
from bot.domain.survey import (
    DEFAULT_QUESTIONS,
    SurveyConfig,
    SurveyPhase,
    SurveyResponse,
    aggregate,
    check_answer,
    parse_rating,
    respondent_key,
    survey_phase,
)
from bot.survey import SurveySummary
from tests.domain.test_plan import GOOD, NOW

CLOSED = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
QUESTIONS = ("What helped?", "What should change?")


# ----- the rating and the answer ---------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "expected"), [("1", 1), ("5", 5), (" 3 ", 3), (None, None), ("", None)])
def test_a_rating_is_one_to_five_or_nothing(value: str | None, expected: int | None) -> None:
    assert parse_rating(value) == expected


@pytest.mark.parametrize("value", ["0", "6", "-1", "10", "3.5", "four", "٣", "+3", "05x"])
def test_a_rating_outside_one_to_five_is_refused_even_if_the_form_never_sends_it(value: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_rating(value)
    assert str(caught.value) == "**Usefulness**: the rating must be a whole number from 1 to 5. Nothing was saved."


def test_an_empty_answer_is_refused() -> None:
    with pytest.raises(DialogueError) as caught:
        check_answer(None, ["", "  \n "], 2)
    assert str(caught.value) == "Nothing was saved: choose a rating or write an answer to at least one question."


def test_an_answer_needs_a_rating_or_one_text() -> None:
    assert check_answer("4", [], 2).texts == ("", "")
    assert check_answer(None, ["", " Shorter windows. "], 2) == check_answer("", ["", "Shorter windows."], 2)
    assert check_answer(None, ["", " Shorter windows. "], 2).rating is None


def test_an_overlong_text_is_refused_and_named() -> None:
    with pytest.raises(InvalidInput) as caught:
        check_answer("3", ["ok", "x" * 1001], 2)
    assert str(caught.value).startswith("**Question 2**: the answer has 1,001 characters; the limit is 1,000.")


def test_more_answers_than_questions_are_refused() -> None:
    with pytest.raises(DialogueError):
        check_answer("3", ["a", "b", "c"], 2)
    assert check_answer("3", ["a", "b", ""], 2).texts == ("a", "b")  # inputs the form did not have are empty


# ----- the window and the hash ------------------------------------------------------------------------------


def test_the_survey_is_open_from_the_close_for_its_days() -> None:
    assert survey_phase(None, 14, CLOSED) is SurveyPhase.NOT_YET
    assert survey_phase(CLOSED, 14, CLOSED) is SurveyPhase.OPEN
    assert survey_phase(CLOSED, 14, CLOSED + timedelta(days=14, seconds=-1)) is SurveyPhase.OPEN
    assert survey_phase(CLOSED, 14, CLOSED + timedelta(days=14)) is SurveyPhase.ENDED
    assert survey_phase(CLOSED, 3, CLOSED + timedelta(days=4)) is SurveyPhase.ENDED


def test_the_config_falls_back_to_the_defaults() -> None:
    assert SurveyConfig().resolved_questions() == DEFAULT_QUESTIONS
    assert SurveyConfig().resolved_days(14) == 14
    assert SurveyConfig(("Only one?",), 3).resolved_questions() == ("Only one?",)
    assert SurveyConfig((), 3).resolved_days(14) == 3


def test_the_respondent_key_recognises_a_repeat_without_holding_the_id() -> None:
    secret, other = b"s" * 32, b"t" * 32
    user = 412345678901234567
    key = respondent_key(secret, user)
    assert key == respondent_key(secret, user)
    assert key != respondent_key(secret, user + 1)
    assert key != respondent_key(other, user)  # another dialogue's secret: answers cannot be linked across them
    assert str(user) not in key and len(key) == 64


def test_the_form_title_names_the_dialogue_within_discords_limit() -> None:
    dialogue = Dialogue(1, 2, "T" * 100, "", "UTC", CLOSED, CLOSED, State.CLOSED, None, None, 3, CLOSED)
    assert render_survey.form_title(dialogue) == "Feedback: " + "T" * 34 + "…"
    assert len(render_survey.form_title(dialogue)) == 45


# ----- the results ------------------------------------------------------------------------------------------


def test_results_count_tally_and_average() -> None:
    responses = [
        SurveyResponse(5, ("a", "", "")),
        SurveyResponse(4, ("", "b", "")),
        SurveyResponse(None, ("c", "d", "")),
        SurveyResponse(5, ("", "", "")),
    ]
    results = aggregate(responses, QUESTIONS, random.Random(1))
    assert results.responses == 4
    assert results.rated == 3
    assert results.mean == pytest.approx(14 / 3)
    assert dict(results.distribution) == {1: 0, 2: 0, 3: 0, 4: 1, 5: 2}
    assert [question for question, _ in results.answers] == list(QUESTIONS)
    assert sorted(results.answers[0][1]) == ["a", "c"] and sorted(results.answers[1][1]) == ["b", "d"]


def test_no_responses_have_no_mean() -> None:
    results = aggregate([], QUESTIONS)
    assert (results.responses, results.rated, results.mean) == (0, 0, None)
    assert results.answers == (("What helped?", ()), ("What should change?", ()))


def test_texts_come_out_shuffled_not_in_the_order_they_were_stored() -> None:
    stored = [SurveyResponse(3, (f"answer {n}", "")) for n in range(30)]
    in_order = tuple(f"answer {n}" for n in range(30))
    orders = {aggregate(stored, QUESTIONS, random.Random(seed)).answers[0][1] for seed in range(5)}
    assert in_order not in orders
    assert len(orders) == 5
    assert all(sorted(order) == sorted(in_order) for order in orders)


def test_results_split_under_discords_limit_and_keep_every_text() -> None:
    texts = [f"{n}: " + "more time for the regional cases " * 28 for n in range(12)]
    results = aggregate([SurveyResponse(2, (text, text)) for text in texts], QUESTIONS, random.Random(3))
    dialogue = Dialogue(1, 2, "Title", "", "UTC", CLOSED, CLOSED, State.CLOSED, None, None, 3, CLOSED, None, CLOSED)
    summary = SurveySummary(dialogue, results, SurveyPhase.OPEN, CLOSED + timedelta(days=14))
    parts = render_survey.results_messages(summary)
    assert all(len(part) <= 2000 for part in parts)
    joined = "\n".join(parts)
    assert all(joined.count(f"> {n}: ") == 2 for n in range(12))


# ----- the plan's [survey] table -------------------------------------------------------------------------------


def test_a_plan_reads_and_writes_its_survey() -> None:
    text = GOOD + '\n[survey]\nquestions = ["Did it help?", "Say \\"why\\""]\ndays = 30\n'
    plan = parse_plan(text, NOW)
    assert plan.survey == SurveyConfig(("Did it help?", 'Say "why"'), 30)
    written = render_plan(plan)
    assert '[survey]\nquestions = ["Did it help?", "Say \\"why\\""]\ndays = 30' in written
    assert parse_plan(written, NOW) == plan


@pytest.mark.parametrize(
    ("table", "survey"),
    [
        ("", SurveyConfig()),
        ("[survey]\ndays = 7\n", SurveyConfig(None, 7)),
        ("[survey]\nquestions = []\n", SurveyConfig((), None)),
        ('[survey]\nquestions = ["One?"]\n', SurveyConfig(("One?",), None)),
    ],
)
def test_the_survey_round_trip(table: str, survey: SurveyConfig) -> None:
    plan = parse_plan(GOOD + "\n" + table, NOW)
    assert plan.survey == survey
    assert parse_plan(render_plan(plan), NOW) == plan


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        ("[survey]\ndays = 0\n", ["survey.days: 0 is out of range; use a whole number from 1 to 365."]),
        ('[survey]\ndays = "2w"\n', ["survey.days: expected a whole number from 1 to 365, got a string."]),
        ("[survey]\nweeks = 2\n", ["survey.weeks: unknown key; valid keys here are questions, days."]),
        (
            '[survey]\nquestions = "Why?"\n',
            [
                "survey.questions: expected an array of at most 3 strings, e.g. "
                '`questions = ["What helped?", "What should change?"]`, got a string.'
            ],
        ),
        (
            '[survey]\nquestions = ["a?", "b?", "c?", "d?"]\n',
            ["survey.questions: there are 4; the form has room for 3."],
        ),
        (
            '[survey]\nquestions = ["Fine?", 2, " ", "x' + "y" * 100 + '"]\n',
            [
                "survey.questions: there are 4; the form has room for 3.",
                "survey.questions[2]: expected a string, got an integer.",
                "survey.questions[3]: is empty; write the question, or leave it out.",
                "survey.questions[4]: has 101 characters; the limit is 100.",
            ],
        ),
        (
            '[survey]\nquestions = ["Line one\\nline two"]\n',
            ["survey.questions[1]: must be one line; a form shows each question as a single line."],
        ),
        ("survey = 3\n", ["survey: expected a table ([survey]), got an integer."]),
    ],
)
def test_survey_problems_are_located(table: str, expected: list[str]) -> None:
    text = table + GOOD if not table.startswith("[") else GOOD + "\n" + table
    with pytest.raises(PlanError) as caught:
        parse_plan(text, NOW)
    assert [str(problem) for problem in caught.value.problems] == expected
