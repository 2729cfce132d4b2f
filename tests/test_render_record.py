"""The search and withdrawal texts: a page always fits one message, people's words show as typed."""

from __future__ import annotations

from datetime import UTC, datetime

from bot import render_record
from bot.render import MESSAGE_LIMIT
from db.search import MATCH_END, MATCH_START, Hit, HitPage
from db.withdrawals import WithdrawnDialogue

WHEN = datetime(2026, 3, 1, tzinfo=UTC)


def hit(message_id: int, excerpt: str, *, top_level: bool = False) -> Hit:
    return Hit(
        message_id=message_id,
        dialogue_id=1,
        dialogue_title="T" * 100,
        channel_id=10,
        thread_id=20,
        thread_title="Q" * 100,
        top_level=top_level,
        author_name="a_name*with|marks",
        created_at=WHEN,
        excerpt=excerpt,
    )


def test_five_long_results_fit_one_message_without_losing_one() -> None:
    noisy = f"{MATCH_START}match{MATCH_END} " + "*_~`|<>[]()#:-" * 60
    page = HitPage(tuple(hit(n, noisy) for n in range(5)), 0, True)
    text = render_record.search_page("match", page, 1, per_page=5, scope=None)
    assert len(text) <= MESSAGE_LIMIT
    assert text.count("[Jump to the post]") == 5
    assert "cut to fit" not in text


def test_words_show_as_typed_and_only_matches_are_bold() -> None:
    page = HitPage((hit(7, f"see <@123> and **this** {MATCH_START}treaty{MATCH_END}\nnext line"),), 0, False)
    text = render_record.search_page("treaty", page, 1, per_page=5, scope=None)
    assert "> see \\<@123\\> and \\*\\*this\\*\\* **treaty** next line" in text
    assert "a\\_name\\*with\\|marks" in text


def test_a_match_cut_in_half_is_closed() -> None:
    excerpt = "x" * 295 + f"{MATCH_START}treaty bodies{MATCH_END}"
    page = HitPage((hit(7, excerpt),), 0, False)
    line = next(
        line
        for line in render_record.search_page("t", page, 1, per_page=5, scope=None).split("\n")
        if line.startswith(">")
    )
    assert line.count("**") % 2 == 0


def test_jump_links_go_to_the_thread_or_for_a_top_level_post_to_the_channel() -> None:
    assert render_record.jump_url(1, hit(7, "")) == "https://discord.com/channels/1/20/7"
    assert render_record.jump_url(1, hit(7, "", top_level=True)) == "https://discord.com/channels/1/10/7"


def test_the_withdrawal_answer_names_every_dialogue_and_count() -> None:
    entries = [WithdrawnDialogue(1, "Council", 2, False), WithdrawnDialogue(2, "Courts", 1, True)]
    text = render_record.forget_done(entries, member=None)
    assert text.startswith("Erased the text of **3 posts** in **2 dialogues**: “Council” (2 posts), “Courts” (1 post).")
    assert "“Courts” is still open" in text and "`/forget-me` again" in text
