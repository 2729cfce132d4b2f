"""Parsing what facilitators type: plain strings in, typed values or a field-named InvalidInput out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.errors import DialogueError, InvalidInput
from bot.domain.models import DialogueDraft
from bot.domain.parsing import (
    cut,
    format_duration,
    parse_draft,
    parse_duration,
    parse_opens,
    parse_questions,
    parse_timezone,
    parse_title,
    slugify,
    thread_name,
    unique_slug,
)

NOW = datetime(2026, 11, 27, 18, 0, tzinfo=UTC)


def refusal(call, *args, **kwargs) -> InvalidInput:  # type: ignore[no-untyped-def]
    """Run a parser that must refuse, and return its error."""
    with pytest.raises(InvalidInput) as caught:
        call(*args, **kwargs)
    return caught.value


# ----- durations -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("90m", timedelta(minutes=90)),
        ("36h", timedelta(hours=36)),
        ("5d", timedelta(days=5)),
        ("1w2d", timedelta(days=9)),
        ("1w 2d", timedelta(days=9)),
        ("  5d  ", timedelta(days=5)),
        ("1d 12h 30m", timedelta(days=1, hours=12, minutes=30)),
        ("5D", timedelta(days=5)),
        ("1W2D", timedelta(days=9)),
        ("10m", timedelta(minutes=10)),  # the shortest window
        ("60d", timedelta(days=60)),  # the longest window
        ("8w4d", timedelta(days=60)),
    ],
)
def test_parse_duration_accepts(raw: str, expected: timedelta) -> None:
    assert parse_duration(raw) == expected


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("", "a duration is required."),
        ("   ", "a duration is required."),
        ("5x", "`5x` is not a duration."),
        ("5", "`5` is not a duration."),
        ("d5", "`d5` is not a duration."),
        ("5 days", "`5 days` is not a duration."),
        ("-5d", "`-5d` is not a duration."),
        ("1.5d", "`1.5d` is not a duration."),
        ("0m", "`0m` is too short; the minimum is 10 minutes."),
        ("9m", "`9m` is too short; the minimum is 10 minutes."),
        ("61d", "`61d` is too long; the maximum is 60 days."),
        ("60d1m", "`60d1m` is too long; the maximum is 60 days."),
        # Numbers too large for a timedelta are still a plain refusal, not a crash.
        ("99999999999999999999d", "`99999999999999999999d` is too long; the maximum is 60 days."),
    ],
)
def test_parse_duration_refuses(raw: str, problem: str) -> None:
    error = refusal(parse_duration, raw)
    assert error.field == "Duration"
    assert error.problem.startswith(problem)
    assert error.example == "5d"
    assert str(error).startswith(f"**Duration**: {problem}")
    assert str(error).endswith("Example: `5d`.")


def test_parse_duration_not_a_duration_explains_the_units() -> None:
    error = refusal(parse_duration, "5x")
    assert "m (minutes), h (hours), d (days) or w (weeks)" in error.problem


def test_parse_duration_names_the_field_it_is_given() -> None:
    assert refusal(parse_duration, "5x", "by").field == "by"


def test_invalid_input_is_a_dialogue_error() -> None:
    assert isinstance(refusal(parse_duration, ""), DialogueError)


@pytest.mark.parametrize(
    ("duration", "text"),
    [
        (timedelta(days=5), "5d"),
        (timedelta(days=1, hours=12), "1d12h"),
        (timedelta(minutes=90), "1h30m"),
        (timedelta(0), "0m"),
    ],
)
def test_format_duration(duration: timedelta, text: str) -> None:
    assert format_duration(duration) == text


# ----- opening time --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "timezone", "expected"),
    [
        ("now", "UTC", NOW),
        ("NOW", "UTC", NOW),
        ("", "UTC", NOW),
        ("   ", "Europe/Zurich", NOW),
        ("in 2h", "UTC", NOW + timedelta(hours=2)),
        ("in 3d", "UTC", NOW + timedelta(days=3)),
        ("IN 90M", "UTC", NOW + timedelta(minutes=90)),
        # A relative start may be shorter than a window: five minutes from now is fine.
        ("in 5m", "UTC", NOW + timedelta(minutes=5)),
        # Local wall-clock time, read in the dialogue's zone (CET is UTC+1 in December).
        ("2026-12-01 14:00", "Europe/Zurich", datetime(2026, 12, 1, 13, 0, tzinfo=UTC)),
        ("2026-12-01T14:00", "Europe/Zurich", datetime(2026, 12, 1, 13, 0, tzinfo=UTC)),
        ("2026-12-01 14:00", "America/Toronto", datetime(2026, 12, 1, 19, 0, tzinfo=UTC)),
        ("2026-12-01 14:00", "UTC", datetime(2026, 12, 1, 14, 0, tzinfo=UTC)),
        # ISO-8601 with an offset ignores the dialogue's zone.
        ("2026-12-01T14:00+02:00", "Europe/Zurich", datetime(2026, 12, 1, 12, 0, tzinfo=UTC)),
        ("2026-12-01T14:00:00-05:00", "Asia/Tokyo", datetime(2026, 12, 1, 19, 0, tzinfo=UTC)),
        ("2026-12-01T14:00Z", "Europe/Zurich", datetime(2026, 12, 1, 14, 0, tzinfo=UTC)),
        # A minute ago still means now: it took a moment to submit the form.
        ("2026-11-27 18:59", "Europe/Zurich", NOW),
    ],
)
def test_parse_opens_accepts(raw: str, timezone: str, expected: datetime) -> None:
    opens = parse_opens(raw, timezone, NOW)
    assert opens == expected
    assert opens.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    ("raw", "timezone", "now", "problem", "example"),
    [
        ("2025-01-01 10:00", "UTC", NOW, "`2025-01-01 10:00` has already passed.", "2026-12-01 14:00"),
        # Three minutes ago is beyond the grace for submitting the form.
        ("2026-11-27 17:57", "UTC", NOW, "`2026-11-27 17:57` has already passed.", "2026-12-01 14:00"),
        ("2026-11-27T18:00+01:00", "UTC", NOW, "`2026-11-27T18:00+01:00` has already passed.", "2026-12-01 14:00"),
        ("garbage", "Europe/Zurich", NOW, "`garbage` is not a time.", "2026-12-01 14:00"),
        ("14:00", "Europe/Zurich", NOW, "`14:00` is not a time.", "2026-12-01 14:00"),
        ("tomorrow", "UTC", NOW, "`tomorrow` is not a time.", "2026-12-01 14:00"),
        ("2026-13-01 10:00", "UTC", NOW, "`2026-13-01 10:00` is not a time.", "2026-12-01 14:00"),
        ("in x", "UTC", NOW, "`in x` is not a time from now; write `in` and a duration.", "in 2h"),
        ("in 2", "UTC", NOW, "`in 2` is not a time from now; write `in` and a duration.", "in 2h"),
        ("in -2h", "UTC", NOW, "`in -2h` is not a time from now; write `in` and a duration.", "in 2h"),
        # 02:30 on 8 March 2026 does not exist in Toronto: the clocks jump from 02:00 to 03:00.
        (
            "2026-03-08 02:30",
            "America/Toronto",
            datetime(2026, 1, 1, tzinfo=UTC),
            "2026-03-08 02:30 does not exist in America/Toronto",
            "2026-03-08 03:30",
        ),
        (
            "2026-03-29 02:15",
            "Europe/Zurich",
            datetime(2026, 1, 1, tzinfo=UTC),
            "2026-03-29 02:15 does not exist in Europe/Zurich",
            "2026-03-29 03:15",
        ),
        # Absurd dates are refused with a message, not an OverflowError.
        ("9999-12-31 23:59", "UTC", NOW, "`9999-12-31 23:59` is too far in the future.", "2026-12-01 14:00"),
        ("in 99999999d", "UTC", NOW, "`in 99999999d` is too far in the future.", "2026-12-01 14:00"),
        ("in 99999999999999999999d", "UTC", NOW, "`in 99999999999999999999d` is too far", "2026-12-01 14:00"),
        ("0001-01-01T00:00+05:00", "UTC", NOW, "`0001-01-01T00:00+05:00` is not a time.", "2026-12-01 14:00"),
    ],
)
def test_parse_opens_refuses(raw: str, timezone: str, now: datetime, problem: str, example: str) -> None:
    error = refusal(parse_opens, raw, timezone, now)
    assert error.field == "Opens"
    assert error.problem.startswith(problem)
    assert error.example == example


def test_parse_opens_not_a_time_names_the_zone_it_reads_in() -> None:
    error = refusal(parse_opens, "garbage", "Europe/Zurich", NOW)
    assert "(read in Europe/Zurich)" in error.problem


def test_parse_opens_dst_gap_explains_the_jump() -> None:
    error = refusal(parse_opens, "2026-03-08 02:30", "America/Toronto", datetime(2026, 1, 1, tzinfo=UTC))
    assert "the clocks skip it for daylight-saving time" in error.problem


def test_parse_opens_ambiguous_autumn_time_takes_the_first() -> None:
    # 01:30 on 1 November 2026 happens twice in Toronto; the first is still daylight time (UTC-4).
    opens = parse_opens("2026-11-01 01:30", "America/Toronto", datetime(2026, 1, 1, tzinfo=UTC))
    assert opens == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)


def test_parse_opens_summer_time_offset() -> None:
    # CEST is UTC+2.
    opens = parse_opens("2027-07-01 09:00", "Europe/Zurich", NOW)
    assert opens == datetime(2027, 7, 1, 7, 0, tzinfo=UTC)


# ----- time zone -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Europe/Zurich", "Europe/Zurich"),
        ("  Europe/Zurich  ", "Europe/Zurich"),
        ("europe/zurich", "Europe/Zurich"),
        ("EUROPE/ZURICH", "Europe/Zurich"),
        ("america/argentina/buenos_aires", "America/Argentina/Buenos_Aires"),
        ("UTC", "UTC"),
        ("utc", "UTC"),
    ],
)
def test_parse_timezone_accepts(raw: str, expected: str) -> None:
    assert parse_timezone(raw) == expected


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("", "a time zone is required."),
        ("  ", "a time zone is required."),
        ("Mars/Olympus", "`Mars/Olympus` is not an IANA time zone name. Pick one from the list."),
        ("Europe/", "`Europe/` is not an IANA time zone name."),
        ("../etc/passwd", "`../etc/passwd` is not an IANA time zone name."),
        ("/etc/localtime", "`/etc/localtime` is not an IANA time zone name."),
        ("CET+1", "`CET+1` is not an IANA time zone name."),
        # Host files that ZoneInfo would load but that are not zone names.
        ("localtime", "`localtime` is not an IANA time zone name."),
        ("posixrules", "`posixrules` is not an IANA time zone name."),
    ],
)
def test_parse_timezone_refuses(raw: str, problem: str) -> None:
    error = refusal(parse_timezone, raw)
    assert error.field == "Time zone"
    assert error.problem.startswith(problem)
    assert error.example == "Europe/Zurich"


# ----- title and questions -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Defenders and the HRC", "Defenders and the HRC"),
        ("  spaced   out\ttitle \n", "spaced out title"),
        ("t" * 100, "t" * 100),
        ("  " + "t" * 100 + "  ", "t" * 100),
    ],
)
def test_parse_title_accepts(raw: str, expected: str) -> None:
    assert parse_title(raw) == expected


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("", "a title is required."),
        (" \n\t ", "a title is required."),
        ("t" * 101, "it is 101 characters long; the limit is 100. Shorten it."),
        ("t" * 250, "it is 250 characters long; the limit is 100. Shorten it."),
    ],
)
def test_parse_title_refuses(raw: str, problem: str) -> None:
    error = refusal(parse_title, raw)
    assert error.field == "Title"
    assert error.problem == problem
    assert error.example


@pytest.mark.parametrize("count", [1, 2, 19, 20])
def test_parse_questions_accepts_one_to_twenty(count: int) -> None:
    raw = "\n".join(f"Question {n}?" for n in range(1, count + 1))
    assert parse_questions(raw) == tuple(f"Question {n}?" for n in range(1, count + 1))


def test_parse_questions_ignores_blank_lines_and_strips() -> None:
    raw = "\n\n  First?  \n   \n\t\nSecond?\r\n\nThird?\n\n"
    assert parse_questions(raw) == ("First?", "Second?", "Third?")


def test_parse_questions_blank_lines_do_not_count_towards_the_limit() -> None:
    raw = "\n\n".join(f"Q{n}" for n in range(20))
    assert len(parse_questions(raw)) == 20


def test_parse_questions_accepts_exactly_1000_characters() -> None:
    assert parse_questions("q" * 1000) == ("q" * 1000,)


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("", "write at least one seed question, one per line."),
        ("\n  \n\t\n", "write at least one seed question, one per line."),
        ("\n".join(f"Q{n}" for n in range(21)), "there are 21 questions; the limit is 20. Merge or drop some."),
        (
            "First?\n" + "x" * 1001,
            "question 2 is 1001 characters long; the limit is 1000. Shorten it or split it over two lines.",
        ),
        # The number counts questions, not lines: blank lines are skipped.
        (
            "One?\n\nTwo?\n\n\n" + "y" * 1500 + "\nFour?",
            "question 3 is 1500 characters long; the limit is 1000. Shorten it or split it over two lines.",
        ),
    ],
)
def test_parse_questions_refuses(raw: str, problem: str) -> None:
    error = refusal(parse_questions, raw)
    assert error.field == "Questions"
    assert error.problem == problem
    assert error.example


# ----- the whole form ------------------------------------------------------------------------------

GOOD_FORM = {
    "title": "Defenders and the Human Rights Council",
    "framing": "  Why engage with Geneva at all?  ",
    "questions": "What has engagement added?\n\nWhat did it cost?",
    "opens": "2026-12-01 14:00",
    "duration": "1w2d",
    "timezone": "Europe/Zurich",
    "default_duration": "5d",
}


def draft(**changes: str) -> DialogueDraft:
    return parse_draft(**{**GOOD_FORM, **changes}, now=NOW)  # type: ignore[arg-type]


def test_parse_draft_builds_the_whole_dialogue() -> None:
    result = draft()
    assert result == DialogueDraft(
        title="Defenders and the Human Rights Council",
        framing="Why engage with Geneva at all?",
        questions=("What has engagement added?", "What did it cost?"),
        timezone="Europe/Zurich",
        opens_at=datetime(2026, 12, 1, 13, 0, tzinfo=UTC),
        closes_at=datetime(2026, 12, 10, 13, 0, tzinfo=UTC),
    )


def test_parse_draft_blank_duration_takes_the_default() -> None:
    result = draft(duration="  ", opens="now")
    assert result.opens_at == NOW
    assert result.closes_at == NOW + timedelta(days=5)


def test_parse_draft_normalises_the_time_zone_name() -> None:
    assert draft(timezone="europe/zurich").timezone == "Europe/Zurich"


def test_parse_draft_framing_is_optional() -> None:
    assert draft(framing="").framing == ""


@pytest.mark.parametrize(
    ("changes", "field", "problem"),
    [
        ({"timezone": "Nowhere/Land"}, "Time zone", "`Nowhere/Land` is not an IANA time zone name."),
        ({"title": ""}, "Title", "a title is required."),
        ({"title": "t" * 101}, "Title", "it is 101 characters long"),
        ({"framing": "f" * 4001}, "Framing", "it is 4001 characters long; the limit is 4000."),
        ({"questions": ""}, "Questions", "write at least one seed question"),
        ({"questions": "\n".join("q" * 21)}, "Questions", "there are 21 questions"),
        ({"opens": "yesterday"}, "Opens", "`yesterday` is not a time."),
        ({"opens": "2020-01-01 10:00"}, "Opens", "`2020-01-01 10:00` has already passed."),
        ({"duration": "5x"}, "Duration", "`5x` is not a duration."),
        ({"duration": "9m"}, "Duration", "`9m` is too short"),
        ({"duration": "61d"}, "Duration", "`61d` is too long"),
        ({"duration": "", "default_duration": "61d"}, "Duration", "`61d` is too long"),
    ],
)
def test_parse_draft_names_the_bad_field(changes: dict[str, str], field: str, problem: str) -> None:
    error = refusal(draft, **changes)
    assert error.field == field
    assert error.problem.startswith(problem)
    assert str(error).startswith(f"**{field}**: ")


ALL_FORM_FIELDS_BAD = {"title": "", "framing": "f" * 4001, "questions": "", "opens": "?", "duration": "?"}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        # Every field bad: the time zone (chosen before the form) is checked first, then the form in order.
        ({"timezone": "x", **ALL_FORM_FIELDS_BAD}, "Time zone"),
        (ALL_FORM_FIELDS_BAD, "Title"),
        ({"framing": "f" * 4001, "questions": "", "opens": "?", "duration": "?"}, "Framing"),
        ({"questions": "", "opens": "?", "duration": "?"}, "Questions"),
        ({"opens": "?", "duration": "?"}, "Opens"),
        ({"duration": "?"}, "Duration"),
    ],
)
def test_parse_draft_first_bad_field_wins(changes: dict[str, str], field: str) -> None:
    assert refusal(draft, **changes).field == field


def test_parse_draft_fields_match_the_modal_labels() -> None:
    labels = {"Title", "Framing", "Questions", "Opens", "Duration", "Time zone"}
    seen = {
        refusal(draft, **changes).field
        for changes in (
            {"title": ""},
            {"framing": "f" * 4001},
            {"questions": ""},
            {"opens": "?"},
            {"duration": "?"},
            {"timezone": "?"},
        )
    }
    assert seen == labels


def test_parse_draft_far_future_is_refused_not_overflowed() -> None:
    error = refusal(draft, opens="9999-12-31 23:00")
    assert error.field == "Opens"


# ----- channel slugs -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "slug"),
    [
        ("Defenders and the HRC", "defenders-and-the-hrc"),
        ("Défenseurs & le CDH !", "defenseurs-le-cdh"),
        ("Ünïcödé Straße", "unicode-strasse"),
        ("Café — au lait?", "cafe-au-lait"),
        ("@everyone ping", "everyone-ping"),
        ("<@&123> @here hi", "123-here-hi"),
        ("snake_case and CamelCase", "snake-case-and-camelcase"),
        ("  --Leading and trailing--  ", "leading-and-trailing"),
        ("multiple   spaces\tand\nlines", "multiple-spaces-and-lines"),
        ("2026: the year", "2026-the-year"),
        ("ﬁnance", "finance"),
        # Nothing left that Discord shows well: a fixed fallback.
        ("日本語", "dialogue"),
        ("!!!", "dialogue"),
        ("", "dialogue"),
    ],
)
def test_slugify(title: str, slug: str) -> None:
    assert slugify(title) == slug


@pytest.mark.parametrize("title", ["a" * 150, "word " * 40, "ab-" * 60, "Ünïcödé " * 30])
def test_slugify_caps_at_100_without_a_trailing_hyphen(title: str) -> None:
    slug = slugify(title)
    assert 0 < len(slug) <= 100
    assert not slug.endswith("-")
    assert not slug.startswith("-")
    assert set(slug) <= set("abcdefghijklmnopqrstuvwxyz0123456789-")


def test_slugify_cut_word_drops_the_trailing_hyphen() -> None:
    # 99 letters, a space, then more: the 100th character is a hyphen, which must not end the slug.
    assert slugify("a" * 99 + " bcd") == "a" * 99


@pytest.mark.parametrize(
    ("title", "taken", "expected"),
    [
        ("Hello", [], "hello"),
        ("Hello", ["general", "hello-2"], "hello"),
        ("Hello", ["hello"], "hello-2"),
        ("Hello", ["hello", "hello-2"], "hello-3"),
        ("Hello", ["hello", "hello-2", "hello-3", "hello-4"], "hello-5"),
        ("日本語", ["dialogue"], "dialogue-2"),
        ("a" * 150, ["a" * 100], "a" * 98 + "-2"),
        ("a" * 150, ["a" * 100, "a" * 98 + "-2"], "a" * 98 + "-3"),
    ],
)
def test_unique_slug(title: str, taken: list[str], expected: str) -> None:
    assert unique_slug(title, taken) == expected


def test_unique_slug_stays_within_100_characters_past_nine_collisions() -> None:
    base = "a" * 100
    taken = [base] + [f"{'a' * 98}-{n}" for n in range(2, 10)]
    result = unique_slug("a" * 120, taken)
    assert result == "a" * 97 + "-10"
    assert len(result) == 100


def test_unique_slug_does_not_leave_a_double_hyphen() -> None:
    base = slugify("ab-" * 40)  # "ab-ab-...-ab", 100 characters
    result = unique_slug("ab-" * 40, [base])
    assert len(result) <= 100
    assert "--" not in result
    assert result.endswith("-ab-2")


def test_unique_slug_accepts_any_iterable() -> None:
    assert unique_slug("Hello", (name for name in ("hello",))) == "hello-2"


# ----- thread names --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("short enough", 100, "short enough"),
        ("exactly ten", 11, "exactly ten"),
        ("squeeze   the\n spaces", 100, "squeeze the spaces"),
        ("hello wonderful world", 18, "hello wonderful…"),
        ("hello wonderful world", 17, "hello wonderful…"),
        # The cut removes punctuation left dangling before the ellipsis.
        ("first, second, third", 15, "first, second…"),
        # One long word (a link, say): cut inside it rather than keep less than half.
        ("x" * 150, 100, "x" * 99 + "…"),
        ("a " + "b" * 150, 100, "a " + "b" * 97 + "…"),
        ("see https://example.org/" + "p" * 100, 50, "see https://example.org/" + "p" * 25 + "…"),
    ],
)
def test_cut(text: str, limit: int, expected: str) -> None:
    assert cut(text, limit) == expected


@pytest.mark.parametrize(
    "text",
    [
        "What has engagement with the Human Rights Council added to your advocacy at home, and at what cost?",
        "word " * 40,
        "Why? " * 40,
        "Long-hyphenated-words-and, commas; semicolons: and stops. " * 5,
        "x" * 300,
    ],
)
def test_thread_name_is_at_most_100_and_ends_cleanly(text: str) -> None:
    name = thread_name(text)
    assert 0 < len(name) <= 100
    if len(" ".join(text.split())) > 100:
        assert name.endswith("…")
        assert name[-2] not in " ,;:.-"
        # A clean cut: what is kept before the ellipsis is a prefix of the text, ending at a word.
        kept = name[:-1]
        normalised = " ".join(text.split())
        assert normalised.startswith(kept)
        if " " in normalised[:100]:
            assert normalised[len(kept)] in " ,;:.-"


def test_thread_name_of_a_long_question_cuts_at_a_word() -> None:
    question = (
        "What has engagement with the Human Rights Council added to your national advocacy, "
        "and what did it cost you?"
    )
    assert len(question) > 100
    name = thread_name(question)
    assert name == "What has engagement with the Human Rights Council added to your national advocacy, and what did it…"
    assert len(name) == 99


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("A new topic\nwith more text below", "A new topic"),
        ("\n\n   \nFirst real line\nsecond", "First real line"),
        ("  padded  ", "padded"),
        ("", "Discussion"),
        ("\n \n", "Discussion"),
    ],
)
def test_thread_name_uses_the_first_non_blank_line(text: str, expected: str) -> None:
    assert thread_name(text) == expected
