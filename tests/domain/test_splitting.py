"""Splitting a long text into messages: paragraph, then line, then word, then a deliberate cut."""

from __future__ import annotations

import pytest

from bot.domain.splitting import split_text


def test_short_text_is_one_part_and_blank_text_none() -> None:
    assert split_text("  Hello.\n", 100) == ["Hello."]
    assert split_text(" \n\n \t", 100) == []


def test_paragraphs_are_packed_whole_and_never_split_when_they_fit() -> None:
    paragraphs = [f"{n} " + "x" * 40 for n in range(10)]  # 42 or so characters each
    parts = split_text("\n\n".join(paragraphs), 100)
    assert all(len(part) <= 100 for part in parts)
    assert [p for part in parts for p in part.split("\n\n")] == paragraphs
    assert len(parts) == 5  # two per part: 2 x 42 + 2 <= 100, three would not fit


def test_a_paragraph_too_long_is_split_at_lines_then_words() -> None:
    lines = ["alpha " * 5, "beta " * 5, "gamma " * 5]
    paragraph = "\n".join(line.strip() for line in lines)
    parts = split_text(paragraph, 40)
    assert parts == ["alpha alpha alpha alpha alpha", "beta beta beta beta beta", "gamma gamma gamma gamma gamma"]
    words = split_text("word " * 30, 22)
    assert all(len(part) <= 22 for part in words)
    assert " ".join(words).split() == ["word"] * 30


def test_a_huge_word_is_cut_at_the_limit() -> None:
    link = "https://example.org/" + "a" * 250
    parts = split_text(f"See {link} now.", 100)
    assert all(len(part) <= 100 for part in parts)
    assert "".join(parts).replace(" ", "") == f"See{link}now."


def test_windows_line_ends_and_blank_lines_with_spaces_separate_paragraphs() -> None:
    assert split_text("One.\r\n \r\nTwo.", 6) == ["One.", "Two."]
    assert split_text("One.\r\n \r\nTwo.", 100) == ["One.\n\nTwo."]


@pytest.mark.parametrize("limit", [1, 7, 50, 1936])
def test_nothing_is_lost_and_no_part_is_over_the_limit(limit: int) -> None:
    text = "\n\n".join(("Lorem ipsum dolor sit amet, " * (n + 1)).strip() + "\nline" for n in range(30))
    parts = split_text(text, limit)
    assert all(0 < len(part) <= limit for part in parts)
    assert "".join("".join(parts).split()) == "".join(text.split())


def test_a_limit_below_one_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        split_text("x", 0)
