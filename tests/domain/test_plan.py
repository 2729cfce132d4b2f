"""Plan files read and written as plain strings: every problem with its exact message, and the round trip."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.domain.errors import InvalidInput
from bot.domain.models import AfterClose
from bot.domain.parsing import parse_questions, parse_title
from bot.domain.plan import Plan, PlanError, PlanLeader, PlanQuestion, parse_plan, render_plan, shift_weeks

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "human-rights-council.toml"

GOOD = """
[dialogue]
title = "Mapping the mechanisms"
framing = "Where does advocacy land?"
timezone = "America/Toronto"
opens = "2027-01-11 09:30"
duration = "4d"

[[questions]]
text = "Which mechanism have you used?"

[[questions]]
text = "What came of it?"
release = "+36h"
"""


INVISIBLE = "only spaces or invisible characters (such as zero-width spaces); write text people can read."
TOO_DEEP = (
    "the file nests arrays or inline tables (`[...]`, `{...}`) too deeply to read; "
    "a plan uses plain keys in [dialogue], [reminders], [[questions]] and [[leaders]]."
)
VALID_USER = 'a Discord user id (e.g. `user = 412345678901234567`) or a username (e.g. `user = "amara.k"`).'


def problems(text: str, now: datetime = NOW) -> list[str]:
    with pytest.raises(PlanError) as caught:
        parse_plan(text, now)
    return [str(problem) for problem in caught.value.problems]


def test_a_good_plan() -> None:
    plan = parse_plan(GOOD, NOW)
    opens = datetime(2027, 1, 11, 14, 30, tzinfo=UTC)  # 09:30 EST
    assert plan == Plan(
        title="Mapping the mechanisms",
        framing="Where does advocacy land?",
        timezone="America/Toronto",
        opens_at=opens,
        closes_at=opens + timedelta(days=4),
        questions=(
            PlanQuestion("Which mechanism have you used?"),
            PlanQuestion("What came of it?", opens + timedelta(hours=36)),
        ),
    )
    draft = plan.draft()
    assert draft.releases == (None, opens + timedelta(hours=36))
    assert draft.questions == ("Which mechanism have you used?", "What came of it?")


def test_the_example_plan() -> None:
    plan = parse_plan(EXAMPLE.read_text(encoding="utf-8"), NOW)
    assert len(plan.questions) == 4
    assert [q.release_at is not None for q in plan.questions] == [False, False, True, False]
    assert plan.questions[2].release_at == plan.opens_at + timedelta(days=1)
    assert plan.closes_at - plan.opens_at == timedelta(days=5)
    assert len(plan.leaders) == 5
    assert len({leader.timezone for leader in plan.leaders}) == 5


@pytest.mark.parametrize(
    ("release", "expected"),
    [
        ("day 1", None),
        ("day 2", datetime(2027, 1, 12, 14, 30, tzinfo=UTC)),
        ("day 3 08:00", datetime(2027, 1, 13, 13, 0, tzinfo=UTC)),
        ("+90m", datetime(2027, 1, 11, 16, 0, tzinfo=UTC)),
        ("+1d12h", datetime(2027, 1, 13, 2, 30, tzinfo=UTC)),
        ("2027-01-12 18:00", datetime(2027, 1, 12, 23, 0, tzinfo=UTC)),
        ("2027-01-12T18:00:00+01:00", datetime(2027, 1, 12, 17, 0, tzinfo=UTC)),
    ],
)
def test_release_forms(release: str, expected: datetime | None) -> None:
    plan = parse_plan(GOOD.replace('release = "+36h"', f'release = "{release}"'), NOW)
    assert plan.questions[1].release_at == expected


def test_day_releases_keep_the_local_time_across_daylight_saving() -> None:
    # Toronto moves its clocks forward on 2027-03-14: day 2 is still 09:30 local, 13:30 UTC.
    text = GOOD.replace("2027-01-11 09:30", "2027-03-13 09:30").replace('"+36h"', '"day 2"')
    plan = parse_plan(text, NOW)
    assert plan.opens_at == datetime(2027, 3, 13, 14, 30, tzinfo=UTC)
    assert plan.questions[1].release_at == datetime(2027, 3, 14, 13, 30, tzinfo=UTC)


def test_relative_openings_are_read_from_now() -> None:
    plan = parse_plan(GOOD.replace('"2027-01-11 09:30"', '"in 2d"'), NOW)
    assert plan.opens_at == NOW + timedelta(days=2)
    assert plan.relative_opening == "in 2d"
    assert parse_plan(GOOD.replace('"2027-01-11 09:30"', '"now"'), NOW).opens_at == NOW


def test_closes_instead_of_duration() -> None:
    plan = parse_plan(GOOD.replace('duration = "4d"', 'closes = "2027-01-14 17:00"'), NOW)
    assert plan.closes_at == datetime(2027, 1, 14, 22, 0, tzinfo=UTC)


def test_leaders_and_reminders() -> None:
    text = GOOD + (
        '\n[reminders]\ncheckin_hour = 8\nunanswered_after = "6h"\n'
        '\n[[leaders]]\nuser = "@Amara.K"\ncommitment = 3\ntimezone = "asia/kathmandu"\n'
        "\n[[leaders]]\nuser = 412345678901234567\ncheckin_hour = 7\n"
        '\n[[leaders]]\nuser = "512345678901234567"\n'
    )
    plan = parse_plan(text, NOW)
    assert plan.checkin_hour == 8
    assert plan.unanswered_after == timedelta(hours=6)
    assert plan.leaders == (
        PlanLeader("amara.k", 3, "Asia/Kathmandu", None),
        PlanLeader(412345678901234567, 2, None, 7),
        PlanLeader(512345678901234567, 2, None, None),
    )


BAD_PLANS = [
    # (what is wrong, plan text, the exact problems)
    (
        "syntax",
        '[dialogue]\ntitle = "Unclosed\n',
        ["TOML syntax error at line 2, column 18: Illegal character '\\n'."],
    ),
    (
        "syntax, missing equals",
        "[dialogue]\ntitle\n",
        ["TOML syntax error at line 2, column 6: Expected '=' after a key in a key/value pair."],
    ),
    (
        "empty file",
        "",
        [
            "dialogue: missing; add a [dialogue] table.",
            'questions: missing; add at least one [[questions]] entry with `text = "..."`.',
        ],
    ),
    (
        "unknown keys everywhere",
        GOOD.replace("[dialogue]", 'version = 2\n[dialogue]\nlocation = "Geneva"').replace(
            'release = "+36h"', 'release = "+36h"\nweight = 2'
        )
        + '\n[reminders]\nquiet_hours = "22-7"\n\n[[leaders]]\nuser = "amara"\nrole = "lead"\n',
        [
            "version: unknown key; valid keys here are dialogue, questions, leaders, reminders.",
            "dialogue.location: unknown key; valid keys here are "
            "title, framing, timezone, opens, duration, closes, after_close.",
            "questions[2].weight: unknown key; valid keys here are text, release.",
            "leaders[1].role: unknown key; valid keys here are user, commitment, timezone, checkin_hour.",
            "reminders.quiet_hours: unknown key; valid keys here are checkin_hour, unanswered_after.",
        ],
    ),
    (
        "missing title, zone and opening",
        '[dialogue]\nduration = "2d"\n[[questions]]\ntext = "Q?"\n',
        [
            "dialogue.title: missing; give a title of at most 100 characters.",
            "dialogue.timezone: missing; give an IANA time zone, e.g. `Europe/Zurich`.",
        ],
    ),
    (
        "wrong types",
        GOOD.replace('title = "Mapping the mechanisms"', "title = 42").replace(
            'opens = "2027-01-11 09:30"', "opens = 2027-01-11T09:30:00"
        ),
        [
            "dialogue.title: expected a string, got an integer.",
            "dialogue.opens: expected a string, got a date or time (write it as a quoted string).",
        ],
    ),
    (
        "title too long",
        GOOD.replace("Mapping the mechanisms", "x" * 101),
        ["dialogue.title: it is 101 characters long; the limit is 100. Shorten it."],
    ),
    (
        "bad zone",
        GOOD.replace("America/Toronto", "Mars/Olympus"),
        ["dialogue.timezone: `Mars/Olympus` is not an IANA time zone name. Example: `Europe/Zurich`."],
    ),
    (
        "opening not a time",
        GOOD.replace("2027-01-11 09:30", "next monday"),
        [
            "dialogue.opens: `next monday` is not a date and time. Write `YYYY-MM-DD HH:MM` (read in "
            "America/Toronto) or ISO-8601 with an offset. Example: `2027-03-01 09:00`."
        ],
    ),
    (
        "opening passed",
        GOOD.replace("2027-01-11 09:30", "2026-11-01 09:30"),
        ["dialogue.opens: `2026-11-01 09:30` has already passed. Use a time ahead, `now`, or `in 2d`."],
    ),
    (
        "opening skipped by daylight saving",
        GOOD.replace("2027-01-11 09:30", "2027-03-14 02:30"),
        [
            "dialogue.opens: 2027-03-14 02:30 does not exist in America/Toronto: the clocks skip it for "
            "daylight-saving time. Pick a time an hour later. Example: `2027-03-14 03:30`."
        ],
    ),
    (
        "bad relative opening",
        GOOD.replace("2027-01-11 09:30", "in a while"),
        ["dialogue.opens: `in a while` is not a time from now; write `in` and a duration like `in 2d`."],
    ),
    (
        "opening years away",
        GOOD.replace("2027-01-11 09:30", "2099-01-01 09:00"),
        ["dialogue.opens: `2099-01-01 09:00` is more than 10 years ahead; check the year."],
    ),
    (
        "both duration and closes",
        GOOD.replace('duration = "4d"', 'duration = "4d"\ncloses = "2027-01-14 17:00"'),
        ["dialogue: give either `duration` or `closes`, not both."],
    ),
    (
        "neither duration nor closes",
        GOOD.replace('duration = "4d"\n', "").replace('release = "+36h"\n', ""),
        ['dialogue: give how long it runs: `duration = "5d"` or `closes = "2027-03-06 17:00"`.'],
    ),
    (
        "duration too long",
        GOOD.replace('"4d"', '"9w"'),
        ["dialogue.duration: `9w` is too long; the maximum is 60 days. Example: `5d`."],
    ),
    (
        "closes before opening",
        GOOD.replace('duration = "4d"', 'closes = "2027-01-11 09:35"'),
        ["dialogue.closes: the time from the opening to `closes` is too short; the minimum is 10 minutes."],
    ),
    (
        "no questions",
        "questions = []\n" + GOOD.split("[[questions]]")[0],
        ['questions: write at least one seed question as a [[questions]] entry with `text = "..."`.'],
    ),
    (
        "questions not tables",
        'questions = ["One?", "Two?"]\n' + GOOD.split("[[questions]]")[0],
        ["questions: expected [[questions]] entries, got an array."],
    ),
    (
        "too many questions",
        GOOD + '\n[[questions]]\ntext = "More?"\n' * 19,
        ["questions: there are 21 questions; the limit is 20. Merge or drop some."],
    ),
    (
        "empty and missing question text",
        GOOD.replace('text = "Which mechanism have you used?"', 'text = "  "').replace('text = "What came of it?"', ""),
        [
            "questions[1].text: it is empty; write the question's text.",
            "questions[2].text: missing; give the question's text.",
        ],
    ),
    (
        "question too long",
        GOOD.replace("What came of it?", "y" * 1001),
        [
            "questions[2].text: it is 1001 characters long; the limit is 1000. Shorten it or split it into two "
            "questions."
        ],
    ),
    (
        "release not a time",
        GOOD.replace('"+36h"', '"tomorrow"'),
        [
            'questions[2].release: `tomorrow` is not a release time; use "day 2", "day 2 09:00", an offset like '
            '"+36h", or a local date and time like "2027-03-01 09:00".'
        ],
    ),
    (
        "release day 0",
        GOOD.replace('"+36h"', '"day 0"'),
        ["questions[2].release: there is no day 0; day 1 is the opening day."],
    ),
    (
        "release after closing",
        GOOD.replace('"+36h"', '"day 5"'),
        ["questions[2].release: `day 5` is not before the closing; release questions while the dialogue is open."],
    ),
    (
        "release before opening",
        GOOD.replace('"+36h"', '"2027-01-10 09:00"'),
        [
            "questions[2].release: `2027-01-10 09:00` is before the opening; release a question at the opening "
            "(day 1) or later."
        ],
    ),
    (
        "release with a bad hour",
        GOOD.replace('"+36h"', '"day 2 25:00"'),
        [
            'questions[2].release: `day 2 25:00` has no valid time of day; use "day 2", "day 2 09:00", an offset '
            'like "+36h", or a local date and time like "2027-03-01 09:00".'
        ],
    ),
    (
        "bad leaders",
        GOOD
        + '\n[[leaders]]\nuser = "Not A Name!"\n'
        + "\n[[leaders]]\nuser = 12\n"
        + '\n[[leaders]]\nuser = "amara"\ncommitment = 0\ntimezone = "Nowhere"\ncheckin_hour = 24\n'
        + '\n[[leaders]]\nuser = "Amara"\n'
        + "\n[[leaders]]\ncommitment = 2\n"
        + "\n[[leaders]]\nuser = true\n",
        [
            "leaders[1].user: `Not A Name!` is not a Discord username (2 to 32 characters: a-z, 0-9, _ and .); "
            'give a Discord user id (e.g. `user = 412345678901234567`) or a username (e.g. `user = "amara.k"`).',
            "leaders[2].user: `12` is not a Discord user id; give a Discord user id (e.g. `user = 412345678901234567`) "
            'or a username (e.g. `user = "amara.k"`).',
            "leaders[3].commitment: 0 is out of range; use a whole number from 1 to 20.",
            "leaders[3].timezone: `Nowhere` is not an IANA time zone name. Example: `Europe/Zurich`.",
            "leaders[3].checkin_hour: 24 is out of range; use a whole number from 0 to 23.",
            "leaders[4].user: amara is listed twice (also leaders[3]); list each once.",
            "leaders[5].user: missing; give a Discord user id (e.g. `user = 412345678901234567`) or a username (e.g. "
            '`user = "amara.k"`).',
            "leaders[6].user: expected a Discord user id (e.g. `user = 412345678901234567`) or a username (e.g. "
            '`user = "amara.k"`).',
        ],
    ),
    (
        "bad reminders",
        GOOD + '\n[reminders]\ncheckin_hour = "9am"\nunanswered_after = "soon"\n',
        [
            "reminders.checkin_hour: expected a whole number from 0 to 23, got a string.",
            "reminders.unanswered_after: `soon` is not a duration. Use numbers with m (minutes), h (hours), d (days) "
            "or w (weeks), e.g. `90m`, `36h` or `1w2d`. Example: `5d`.",
        ],
    ),
    # Defect 13: text people cannot see, and inputs that used to crash the reader instead of being named.
    (
        "title of invisible characters only",
        GOOD.replace('"Mapping the mechanisms"', '"\\u200b \\u2060\\u200d\\ufeff"'),
        [f"dialogue.title: it has {INVISIBLE}"],
    ),
    (
        "question of invisible characters only",
        GOOD.replace('"What came of it?"', '"\\u200b\\u3164\\u00ad"'),
        [f"questions[2].text: it has {INVISIBLE}"],
    ),
    ("arrays nested too deeply", "x = " + "[" * 5000 + "]" * 5000 + "\n" + GOOD, [TOO_DEEP]),
    ("inline tables nested too deeply", "x = " + "{a = " * 5000 + "1" + "}" * 5000 + "\n" + GOOD, [TOO_DEEP]),
    (
        "a number too long to read",
        GOOD + "\n[[leaders]]\nuser = " + "9" * 5000 + "\n",
        ["the file has a number with too many digits to read; a Discord user id has at most 20 digits."],
    ),
    (
        "user ids written in other digits",
        GOOD + '\n[[leaders]]\nuser = "²"\n\n[[leaders]]\nuser = "١٢٣٤٥٦٧٨٩٠١٢٣٤٥٦٧"\n',
        [
            "leaders[1].user: `²` is not a Discord username (2 to 32 characters: a-z, 0-9, _ and .); "
            f"give {VALID_USER}",
            "leaders[2].user: `١٢٣٤٥٦٧٨٩٠١٢٣٤٥٦٧` is not a Discord username (2 to 32 characters: a-z, 0-9, _ and .); "
            f"give {VALID_USER}",
        ],
    ),
    (
        "user id far too long",
        GOOD + '\n[[leaders]]\nuser = "' + "1" * 5000 + '"\n',
        [f"leaders[1].user: `{'1' * 39}…` is not a Discord user id; give {VALID_USER}"],
    ),
    (
        "durations with absurd numbers",
        GOOD.replace('"4d"', '"' + "9" * 5000 + 'd"') + '\n[reminders]\nunanswered_after = "' + "1" * 30 + 'm"\n',
        [
            f"dialogue.duration: `{'9' * 39}…` is too long; the maximum is 60 days. Example: `5d`.",
            f"reminders.unanswered_after: `{'1' * 30}m` is too long; the maximum is 60 days. Example: `5d`.",
        ],
    ),
    (
        "openings and releases absurdly far away",
        GOOD.replace('"2027-01-11 09:30"', '"in 9999999999w"').replace('"+36h"', '"+' + "9" * 5000 + 'm"'),
        [
            "dialogue.opens: `in 9999999999w` is more than 10 years ahead; check the numbers.",
            f"questions[2].release: `+{'9' * 38}…` is not before the closing; release questions while the dialogue "
            "is open.",
        ],
    ),
    (
        "reminders not a table",
        GOOD.replace("[dialogue]", "reminders = 9\n[dialogue]"),
        ["reminders: expected a table ([reminders]), got an integer."],
    ),
]


@pytest.mark.parametrize(("case", "text", "expected"), BAD_PLANS, ids=[case for case, _, _ in BAD_PLANS])
def test_invalid_plans(case: str, text: str, expected: list[str]) -> None:
    assert problems(text) == expected


def test_the_error_lists_every_problem() -> None:
    with pytest.raises(PlanError) as caught:
        parse_plan(GOOD.replace("America/Toronto", "Mars").replace('"4d"', '"4 days"'), NOW)
    assert str(caught.value) == (
        "The plan has 1 problem:\n- dialogue.timezone: `Mars` is not an IANA time zone name. Example: `Europe/Zurich`."
    )


@pytest.mark.parametrize(
    "text",
    [
        GOOD,
        EXAMPLE.read_text(encoding="utf-8"),
        GOOD.replace('duration = "4d"', 'closes = "2027-01-14 17:00:30"'),
        GOOD.replace("Where does advocacy land?", r"Quotes \" and \\ back\\slash\ttab\nnew line \"\"\" end\u007f"),
        GOOD.replace('"+36h"', '"day 3 07:15"').replace("What came of it?", "Line one\\nLine two"),
        GOOD.replace('"+36h"', '"2027-01-12T18:00:30-05:00"'),
        GOOD + '\n[reminders]\nunanswered_after = "1d6h"\n\n[[leaders]]\nuser = 412345678901234567\ncheckin_hour = 0\n',
        GOOD.replace('duration = "4d"', 'duration = "4d"\nafter_close = "comments-until-summary"'),
    ],
)
def test_round_trip(text: str) -> None:
    plan = parse_plan(text, NOW)
    written = render_plan(plan)
    assert parse_plan(written, NOW) == plan
    assert render_plan(parse_plan(written, NOW)) == written


def test_export_names_leaders_in_comments() -> None:
    plan = parse_plan(GOOD + "\n[[leaders]]\nuser = 412345678901234567\n", NOW)
    written = render_plan(plan, {412345678901234567: "amara.k"})
    assert "user = 412345678901234567  # amara.k\n" in written
    assert parse_plan(written, NOW) == plan


def test_a_fall_back_opening_is_written_with_its_offset() -> None:
    # 01:30 happens twice in Toronto on 2027-11-07; the second one is written with its offset.
    plan = parse_plan(GOOD.replace('"2027-01-11 09:30"', '"2027-11-07T01:30:00-05:00"'), NOW)
    written = render_plan(plan)
    assert 'opens = "2027-11-07T01:30:00-05:00"' in written
    assert parse_plan(written, NOW) == plan


def test_shift_weeks_keeps_weekday_and_local_time() -> None:
    text = GOOD.replace("2027-01-11 09:30", "2026-02-23 09:30").replace('"+36h"', '"day 3"')
    plan = parse_plan(text, datetime(2026, 1, 1, tzinfo=UTC))
    moved = shift_weeks(plan, 3)  # across the 2026-03-08 daylight-saving change in Toronto
    local = moved.opens_at.astimezone(plan.zone)
    assert (local.weekday(), local.hour, local.minute) == (0, 9, 30)
    assert local.date().isoformat() == "2026-03-16"
    assert moved.opens_at - plan.opens_at == timedelta(weeks=3, hours=-1)
    release = moved.questions[1].release_at
    assert release is not None and release.astimezone(plan.zone).hour == 9
    assert moved.closes_at.astimezone(plan.zone).hour == 9


def test_plan_check_allows_past_plans_only_when_asked() -> None:
    past = GOOD.replace("2027-01-11 09:30", "2025-06-02 09:30")
    assert parse_plan(past, NOW, allow_past=True).opens_at == datetime(2025, 6, 2, 13, 30, tzinfo=UTC)
    with pytest.raises(PlanError):
        parse_plan(past, NOW)


def test_the_documented_example_is_a_valid_plan() -> None:
    docs = (Path(__file__).resolve().parents[2] / "docs" / "plans.md").read_text(encoding="utf-8")
    example = docs.split("```toml\n", 1)[1].split("```", 1)[0]
    plan = parse_plan(example, NOW)
    assert len(plan.questions) == 4 and len(plan.leaders) == 5
    assert plan.leaders[-1].user == 412345678901234567


def test_uploads_must_be_small_utf8_text() -> None:
    from bot.domain.plan import MAX_PLAN_BYTES, decode_plan

    assert decode_plan("\ufeff[dialogue]".encode()) == "[dialogue]"
    with pytest.raises(PlanError) as caught:
        decode_plan(b" " * (MAX_PLAN_BYTES + 1))
    assert str(caught.value.problems[0]) == "the file is 262,145 bytes; a plan is at most 262,144 bytes."


@pytest.mark.parametrize("title", ["", "\u200b\u2060", "x" * 101])
def test_a_plan_and_the_form_refuse_titles_with_the_same_words(title: str) -> None:
    with pytest.raises(InvalidInput) as form:
        parse_title(title)
    assert problems(GOOD.replace('"Mapping the mechanisms"', json.dumps(title))) == [
        f"dialogue.title: {form.value.problem}"
    ]


@pytest.mark.parametrize("question", ["\u3164", "q" * 1001])
def test_a_plan_and_the_form_refuse_questions_with_the_same_words(question: str) -> None:
    with pytest.raises(InvalidInput) as form:
        parse_questions(question)
    expected = form.value.problem.replace("question 1", "it", 1)
    assert problems(GOOD.replace('"What came of it?"', json.dumps(question))) == [f"questions[2].text: {expected}"]


def test_after_close_is_read_with_lock_as_the_default() -> None:
    assert parse_plan(GOOD, NOW).after_close is AfterClose.LOCK
    assert parse_plan(GOOD.replace('"4d"', '"4d"\nafter_close = "lock"'), NOW).after_close is AfterClose.LOCK
    two_phase = parse_plan(GOOD.replace('"4d"', '"4d"\nafter_close = "comments-until-summary"'), NOW)
    assert two_phase.after_close is AfterClose.COMMENTS_UNTIL_SUMMARY
    assert two_phase.draft().after_close is AfterClose.COMMENTS_UNTIL_SUMMARY
    assert 'after_close = "comments-until-summary"' in render_plan(two_phase)
    assert "after_close" not in render_plan(parse_plan(GOOD, NOW))  # the default is not written


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            '"keep-open"',
            "dialogue.after_close: `keep-open` is not a choice; use `lock` or `comments-until-summary`.",
        ),
        ("true", "dialogue.after_close: expected a string, got a boolean."),
    ],
)
def test_a_bad_after_close_is_located(value: str, message: str) -> None:
    assert problems(GOOD.replace('"4d"', f'"4d"\nafter_close = {value}')) == [message]
