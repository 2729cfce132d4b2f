"""What the bot posts: built from records, within Discord's 2,000 characters, numbers as digits."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot import render
from bot.domain.models import Dialogue, PostStats, Question, State, ThreadOrigin, ThreadStats
from bot.domain.progress import Progress
from tests.domain.test_progress import CLOSED

OPENS = datetime(2026, 12, 1, 13, 0, tzinfo=UTC)
CLOSES = OPENS + timedelta(days=5)
OPENS_UNIX = 1796130000
CLOSES_UNIX = OPENS_UNIX + 5 * 86400
LIMIT = 2000


def dialogue(**changes: object) -> Dialogue:
    base = Dialogue(
        id=3,
        guild_id=1,
        title="Defenders and the HRC",
        framing="Why engage with Geneva at all?",
        timezone="Europe/Zurich",
        opens_at=OPENS,
        closes_at=CLOSES,
        state=State.OPEN,
        failure_reason=None,
        channel_id=555,
        created_by=42,
        created_at=OPENS - timedelta(days=1),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def questions(*texts: str) -> list[Question]:
    return [
        Question(dialogue_id=3, position=n, text=text, release_at=None, thread_id=None)
        for n, text in enumerate(texts, 1)
    ]


def thread(
    n: int, posts: int, participants: int, origin: ThreadOrigin = ThreadOrigin.SEED, title: str | None = None
) -> ThreadStats:
    return ThreadStats(
        thread_id=1000 + n, title=title or f"Thread {n}", origin=origin, posts=posts, participants=participants
    )


def test_opens_unix_constant_is_right() -> None:
    assert int(OPENS.timestamp()) == OPENS_UNIX


# ----- timestamps ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("style", "expected"), [("F", f"<t:{OPENS_UNIX}:F>"), ("R", f"<t:{OPENS_UNIX}:R>")])
def test_timestamp(style: str, expected: str) -> None:
    assert render.timestamp(OPENS, style) == expected


def test_timestamp_defaults_to_full_and_ignores_the_offset_it_is_given() -> None:
    from zoneinfo import ZoneInfo

    assert render.timestamp(OPENS) == f"<t:{OPENS_UNIX}:F>"
    assert render.timestamp(OPENS.astimezone(ZoneInfo("Asia/Tokyo"))) == f"<t:{OPENS_UNIX}:F>"


def test_window_names_both_ends_full_and_relative() -> None:
    assert render.window(dialogue()) == (
        f"<t:{OPENS_UNIX}:F> (<t:{OPENS_UNIX}:R>) to <t:{CLOSES_UNIX}:F> (<t:{CLOSES_UNIX}:R>)"
    )


def test_created_confirmation() -> None:
    text = render.created_confirmation(dialogue(state=State.SCHEDULED), 2)
    assert text.splitlines() == [
        "Scheduled **Defenders and the HRC** (#3) with 2 seed questions.",
        f"Opens <t:{OPENS_UNIX}:F> (<t:{OPENS_UNIX}:R>)",
        f"Closes <t:{CLOSES_UNIX}:F> (<t:{CLOSES_UNIX}:R>)",
        "Time zone: Europe/Zurich",
    ]
    assert "with 1 seed question." in render.created_confirmation(dialogue(), 1)


def test_channel_topic_has_title_window_and_the_dialogue_id_within_1024() -> None:
    assert (
        render.channel_topic(dialogue())
        == f"Defenders and the HRC · <t:{OPENS_UNIX}:F> to <t:{CLOSES_UNIX}:F> · dialogue #3"
    )
    long = render.channel_topic(dialogue(title="t" * 2000))
    assert len(long) == 1024
    assert long.endswith(render.topic_marker(3))  # the marker that names the dialogue survives the cut


def test_intro_posts_end_with_a_marker_naming_the_dialogue_and_part_within_2000() -> None:
    texts = [f"Q{n:02d} " + ("lorem ipsum " * 100)[:995] + "?" for n in range(1, 21)]
    posts = render.intro_posts(dialogue(framing=("Framing " * 500).strip()), questions(*texts))
    total = len(posts)
    assert total > 10
    for n, post in enumerate(posts, 1):
        assert len(post) <= LIMIT
        assert post.endswith(f"\n-# dialogue #3 · intro {n}/{total}")
        assert render.carries_marker(post, render.step_marker(3, f"intro {n}/{total}"))
        assert not render.carries_marker(post, render.step_marker(30, f"intro {n}/{total}"))


def test_a_seed_post_is_the_question_and_a_marker_naming_dialogue_and_question() -> None:
    (question,) = questions("What has engagement added?")
    assert render.seed_post(question) == f"What has engagement added?\n-# dialogue #{question.dialogue_id} · question 1"


@pytest.mark.parametrize(
    ("count", "word", "expected"),
    [(0, "post", "0 posts"), (1, "post", "1 post"), (2, "post", "2 posts"), (1000, "participant", "1000 participants")],
)
def test_plural(count: int, word: str, expected: str) -> None:
    assert render.plural(count, word) == expected


# ----- splitting -------------------------------------------------------------------------------------


def words(text: str) -> list[str]:
    return text.split()


SPLIT_CASES = {
    "short": "Just one line.",
    "exactly the limit": "x" * LIMIT,
    "paragraphs": "\n\n".join(f"Paragraph {n}. " + "word " * 150 for n in range(10)),
    "lines": "\n".join(f"Line {n}: " + "text " * 60 for n in range(40)),
    "one long paragraph": "lorem ipsum dolor sit amet " * 400,
    "mixed widths": "\n\n".join(("a " * n).strip() for n in (10, 900, 5, 1200, 3, 700, 1500)),
    "unicode": "Grüße aus Genf — “quoted” 🚀 " * 300,
}


@pytest.mark.parametrize("name", SPLIT_CASES)
def test_split_message_never_exceeds_the_limit_and_loses_no_word(name: str) -> None:
    text = SPLIT_CASES[name]
    parts = render.split_message(text)
    assert parts
    assert all(0 < len(part) <= LIMIT for part in parts)
    assert [word for part in parts for word in words(part)] == words(text)


def test_split_message_short_text_is_one_part() -> None:
    assert render.split_message("  hello  ") == ["hello"]
    assert render.split_message("x" * LIMIT) == ["x" * LIMIT]


def test_split_message_empty_text_is_no_part() -> None:
    assert render.split_message("   \n ") == []


def test_split_message_prefers_paragraph_breaks() -> None:
    first = "a " * 600  # 1,200 characters
    second = "b " * 600
    parts = render.split_message(first + "\n\n" + second)
    assert parts == [first.strip(), second.strip()]


def test_split_message_breaks_at_words_when_there_is_no_line_break() -> None:
    text = "word " * 1000
    parts = render.split_message(text)
    assert len(parts) == 3
    assert all(part.startswith("word") and part.endswith("word") for part in parts)


def test_split_message_cuts_an_unbroken_run_at_the_limit_and_keeps_every_character() -> None:
    text = "z" * 4500
    parts = render.split_message(text)
    assert [len(part) for part in parts] == [2000, 2000, 500]
    assert "".join(parts) == text


@pytest.mark.parametrize("limit", [50, 100, 333])
def test_split_message_honours_a_smaller_limit(limit: int) -> None:
    text = SPLIT_CASES["paragraphs"]
    parts = render.split_message(text, limit)
    assert all(len(part) <= limit for part in parts)
    assert [word for part in parts for word in words(part)] == words(text)


# ----- intro -----------------------------------------------------------------------------------------


def test_intro_has_title_framing_numbered_questions_window_and_how_to_take_part() -> None:
    parts = render.intro(dialogue(), questions("What has engagement added?", "What did it cost?"))
    assert len(parts) == 1
    text = parts[0]
    assert text.startswith("# Defenders and the HRC\n\nWhy engage with Geneva at all?\n\n")
    assert "**Seed questions**\n**1.** What has engagement added?\n**2.** What did it cost?" in text
    assert f"**Open** from <t:{OPENS_UNIX}:F> (<t:{OPENS_UNIX}:R>) to <t:{CLOSES_UNIX}:F>" in text
    assert "**How to take part:** reply in the thread of a question below, or post a message" in text


def test_intro_without_framing_has_no_empty_block() -> None:
    text = render.intro(dialogue(framing="  "), questions("Q?"))[0]
    assert text.startswith("# Defenders and the HRC\n\n**Seed questions**\n**1.** Q?")
    assert "\n\n\n" not in text


def test_intro_lists_staged_questions_by_release_time() -> None:
    later = OPENS + timedelta(days=2)
    staged = [*questions("Now?"), Question(3, 2, "Later?", later, None)]
    text = render.intro(dialogue(), staged)[0]
    assert "**1.** Now?" in text
    assert "Later?" not in text
    assert f"**Later questions**\n**2.** opens <t:{int(later.timestamp())}:F>" in text


def test_intro_with_twenty_questions_of_a_thousand_characters_splits_into_valid_parts() -> None:
    texts = [f"Q{n:02d} " + ("lorem ipsum " * 100)[:995] + "?" for n in range(1, 21)]
    assert all(len(text) == 1000 for text in texts)
    framing = "Framing " * 500  # 4,000 characters: what one modal input holds
    parts = render.intro(dialogue(framing=framing.strip()), questions(*texts))
    assert len(parts) > 10
    assert all(0 < len(part) <= LIMIT for part in parts)
    whole = "\n".join(parts)
    assert whole.startswith("# Defenders and the HRC")
    # Each question arrives whole, in one part, with its number.
    for n, text in enumerate(texts, 1):
        holders = [part for part in parts if f"**{n}.** {text}" in part]
        assert len(holders) == 1, n
    # And the parts keep the order: the last part tells people how to take part.
    assert "**How to take part:**" in parts[-1]
    assert [word for part in parts for word in words(part)] == words(
        "\n\n".join(
            [
                "# Defenders and the HRC",
                framing.strip(),
                "**Seed questions**\n" + "\n".join(f"**{n}.** {text}" for n, text in enumerate(texts, 1)),
                f"**Open** from {render.window(dialogue())}.",
                "**How to take part:** reply in the thread of a question below, or post a message in this "
                "channel to start a new topic: it gets a thread of its own, named from its first line.",
            ]
        )
    )


# ----- wrap-up ---------------------------------------------------------------------------------------


def test_wrapup_numbers_are_digits() -> None:
    stats = PostStats(
        posts=20,
        participants=12,
        threads=(thread(1, 12, 9, title="What has engagement added?"), thread(2, 8, 5), thread(3, 0, 0)),
    )
    parts = render.wrapup(dialogue(state=State.CLOSED), stats)
    assert len(parts) == 1
    lines = parts[0].splitlines()
    assert lines[0] == "# Thank you for taking part in “Defenders and the HRC”"
    assert lines[1] == f"This dialogue ran from <t:{OPENS_UNIX}:F> to <t:{CLOSES_UNIX}:F>."
    assert lines[2] == "**20 posts from 12 participants.**"
    assert "- What has engagement added?: 12 posts from 9 participants" in lines
    assert "- Thread 2: 8 posts from 5 participants" in lines
    assert "- Thread 3: 0 posts from 0 participants" in lines
    assert lines[-1].startswith("The dialogue is now closed")


def test_wrapup_singular() -> None:
    stats = PostStats(posts=1, participants=1, threads=(thread(1, 1, 1),))
    text = render.wrapup(dialogue(), stats)[0]
    assert "**1 post from 1 participant.**" in text
    assert "- Thread 1: 1 post from 1 participant" in text
    assert "1 posts" not in text and "1 participants" not in text


def test_wrapup_with_no_posts_and_no_threads() -> None:
    text = render.wrapup(dialogue(), PostStats(posts=0, participants=0, threads=()))[0]
    assert "**0 posts from 0 participants.**" in text
    assert "**Threads**" not in text


def test_wrapup_leaves_out_leaders_threads() -> None:
    stats = PostStats(posts=3, participants=2, threads=(thread(1, 2, 2), thread(2, 1, 1, origin=ThreadOrigin.LEADERS)))
    text = render.wrapup(dialogue(), stats)[0]
    assert "Thread 1" in text
    assert "Thread 2" not in text


def test_wrapup_with_many_threads_names_the_busiest_and_sums_up_the_rest_within_the_limit() -> None:
    many = tuple(thread(n, n, 1, title=f"Thread {n} " + "t" * 80) for n in range(1, 101))
    parts = render.wrapup(dialogue(), PostStats(posts=5050, participants=100, threads=many))
    assert all(len(part) <= LIMIT for part in parts)
    whole = "\n".join(parts)
    named = [n for n in range(1, 101) if f"Thread {n} " in whole]
    assert named == list(range(86, 101))  # the 15 busiest, busiest first
    assert whole.index("Thread 100 ") < whole.index("Thread 86 ")
    # 1 + 2 + … + 85 posts in the 85 others.
    assert "- …and 85 more threads with 3655 posts between them" in whole
    assert "**5050 posts from 100 participants.**" in parts[0]


def test_a_wrapup_of_two_hundred_threads_is_one_message() -> None:
    many = tuple(thread(n, n % 7, 1, title=f"What about topic {n}?") for n in range(1, 201))
    assert len(render.wrapup_posts(dialogue(), PostStats(posts=600, participants=40, threads=many))) == 1


# ----- status and list -------------------------------------------------------------------------------


def test_status_shows_state_window_and_activity() -> None:
    stats = PostStats(posts=3, participants=2, threads=(thread(1, 3, 2),))
    text = render.status(dialogue(), stats)
    assert text.splitlines() == [
        "**Defenders and the HRC** (#3)",
        "State: open",
        f"Window: {render.window(dialogue())}",
        "Time zone: Europe/Zurich",
        "Channel: <#555>",
        "Activity: 3 posts from 2 participants",
        "- <#1001> Thread 1: 3 posts, 2 participants",
    ]


def test_status_of_a_failed_dialogue_gives_the_reason() -> None:
    reason = "the bot is missing permissions: Manage Roles"
    failed = dialogue(state=State.FAILED, failure_reason=reason, channel_id=None)
    text = render.status(failed, PostStats(0, 0, ()))
    assert "State: failed — the bot is missing permissions: Manage Roles" in text
    assert "Channel:" not in text


def test_status_is_cut_to_one_message_and_says_so() -> None:
    many = tuple(thread(n, n, n, title="A long thread title " * 4) for n in range(1, 200))
    text = render.status(dialogue(), PostStats(posts=10_000, participants=300, threads=many))
    assert len(text) <= LIMIT
    # The cut falls between threads: every thread line kept is whole, and the last line counts the rest.
    *kept, more = text.splitlines()
    shown = [line for line in kept if line.startswith("- <#")]
    assert more == f"- …and {199 - len(shown)} more threads"
    assert kept[-1].endswith("participants")
    assert kept[0] == "**Defenders and the HRC** (#3)"


def test_status_extra_sections_are_appended() -> None:
    text = render.status(dialogue(), PostStats(0, 0, ()), ["**Leaders**\n- none"])
    assert text.endswith("\n\n**Leaders**\n- none")


def test_dialogue_list_groups_by_state_in_lifecycle_order() -> None:
    items = [
        dialogue(id=1, title="Alpha", state=State.CLOSED),
        dialogue(id=2, title="Beta", state=State.SCHEDULED),
        dialogue(id=3, title="Gamma", state=State.SCHEDULED),
    ]
    lines = render.dialogue_list(items).splitlines()
    assert lines == [
        "**Scheduled**",
        f"- #2 Beta: <t:{OPENS_UNIX}:f> to <t:{CLOSES_UNIX}:f>",
        f"- #3 Gamma: <t:{OPENS_UNIX}:f> to <t:{CLOSES_UNIX}:f>",
        "**Closed**",
        f"- #1 Alpha: <t:{OPENS_UNIX}:f> to <t:{CLOSES_UNIX}:f>",
    ]


def test_dialogue_list_empty_says_how_to_start() -> None:
    assert "`/dialogue create`" in render.dialogue_list([])


def test_dialogue_list_is_cut_to_one_message_and_says_how_many_more() -> None:
    items = [dialogue(id=n, title="t" * 100) for n in range(100)]
    text = render.dialogue_list(items)
    assert len(text) <= LIMIT
    shown = [line for line in text.splitlines() if line.startswith("- #")]
    assert 5 < len(shown) < 100
    assert text.splitlines()[-1] == f"+{100 - len(shown)} more ({100 - len(shown)} open)"


def test_dialogue_list_never_hides_dialogues_that_need_action() -> None:
    # Newest first, as the database returns them: the failed and the missed one are the oldest of all.
    items = [dialogue(id=n, title=f"Closed {n} " + "c" * 90, state=State.CLOSED) for n in range(60, 2, -1)]
    items += [
        dialogue(id=2, title="Half made", state=State.FAILED, failure_reason="the bot is missing permissions: Pin"),
        dialogue(id=1, title="Never opened", state=State.MISSED),
    ]
    text = render.dialogue_list(items)
    assert len(text) <= LIMIT
    lines = text.splitlines()
    assert lines[0].startswith("**Failed** (needs action")
    assert lines[1] == (
        f"- #2 Half made: <t:{OPENS_UNIX}:f> to <t:{CLOSES_UNIX}:f> — the bot is missing permissions: Pin"
    )
    assert lines[2].startswith("**Missed** (needs action")
    assert lines[3].startswith("- #1 Never opened: ")
    assert lines[4] == "**Closed**"
    shown = [line for line in lines if line.startswith("- #")]
    assert lines[-1] == f"+{60 - len(shown)} more ({60 - len(shown)} closed)"


def test_dialogue_list_puts_the_next_to_open_first_and_the_latest_closed_first() -> None:
    later = OPENS + timedelta(days=3)
    items = [
        dialogue(id=1, title="Soon", state=State.SCHEDULED, opens_at=OPENS, closes_at=OPENS + timedelta(days=1)),
        dialogue(id=2, title="Later", state=State.SCHEDULED, opens_at=later, closes_at=later + timedelta(days=1)),
        dialogue(id=3, title="Old", state=State.CLOSED, opens_at=OPENS, closes_at=OPENS + timedelta(days=1)),
        dialogue(id=4, title="Recent", state=State.CLOSED, opens_at=later, closes_at=later + timedelta(days=1)),
    ]
    titles = [line.split(":")[0] for line in render.dialogue_list(list(reversed(items))).splitlines()]
    assert titles == ["**Scheduled**", "- #1 Soon", "- #2 Later", "**Closed**", "- #4 Recent", "- #3 Old"]


def test_every_timestamp_is_a_discord_timestamp() -> None:
    stats = PostStats(posts=1, participants=1, threads=(thread(1, 1, 1),))
    texts = [
        *render.intro(dialogue(), questions("Q?")),
        *render.wrapup(dialogue(), stats),
        render.status(dialogue(), stats),
        render.channel_topic(dialogue()),
        render.created_confirmation(dialogue(), 1),
    ]
    for text in texts:
        stamps = re.findall(r"<t:[^>]*>", text)
        assert stamps
        assert all(re.fullmatch(rf"<t:({OPENS_UNIX}|{CLOSES_UNIX}):[FR]>", stamp) for stamp in stamps), stamps


# ----- the close reply and the status say what is pending ----------------------------------------------------


def progress(**changes: object) -> Progress:
    """A closed dialogue whose every closing step is done, with ``changes``."""
    return replace(CLOSED, **changes)  # type: ignore[arg-type]


def test_close_reply_says_done_only_when_done() -> None:
    closed = dialogue(state=State.CLOSED)
    assert "locked and the wrap-up is posted" in render.close_reply(closed, progress())
    pending = progress(
        channel_locked=False,
        wrapup_expected=None,
        wrapup_posted=0,
        pending_step="lock the channel",
        pending_reason="Discord refused to lock the channel: missing permissions",
        retry_at=CLOSES,
    )
    text = render.close_reply(closed, pending)
    assert "locked and" not in text
    assert "could not lock the channel (Discord refused to lock the channel: missing permissions)" in text
    assert f"tries again <t:{CLOSES_UNIX}:R>" in text
    assert "their posts are recorded" in text


def test_status_names_the_pending_closing_step_and_its_retry() -> None:
    closed = dialogue(state=State.CLOSED)
    stats = PostStats(posts=0, participants=0, threads=())
    pending = progress(wrapup_posted=1, wrapup_expected=2, pending_step="post the wrap-up", retry_at=CLOSES)
    text = render.status(closed, stats, progress=pending)
    assert "Closing: not finished (lock the channel ✓, lock the threads ✓, post the wrap-up …)" in text
    assert f"could not post the wrap-up; it tries again <t:{CLOSES_UNIX}:R>" in text
    assert "Closing: done" in render.status(closed, stats, progress=progress())


def test_status_keeps_its_sections_whole_when_the_thread_list_is_cut() -> None:
    many = tuple(thread(n, n, n, title="A long thread title " * 4) for n in range(1, 41))
    sections = ["**Feedback survey** (open): 3 responses", "Transcript purged on Monday"]
    text = render.status(dialogue(), PostStats(posts=800, participants=60, threads=many), sections)
    assert len(text) <= LIMIT
    assert text.endswith("\n\n**Feedback survey** (open): 3 responses\n\nTranscript purged on Monday")
    shown = [line for line in text.splitlines() if line.startswith("- <#")]
    assert 0 < len(shown) < 40
    assert f"- …and {40 - len(shown)} more threads" in text
