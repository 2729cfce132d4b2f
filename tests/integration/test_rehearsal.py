"""The offline rehearsal of the example plan runs inside the suite, and its timeline holds the whole life."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.__main__ import main
from bot.domain.models import AfterClose
from bot.domain.plan import parse_plan
from bot.rehearsal import (
    SCRIPTED_SUMMARY,
    SIM_START,
    SUMMARY_AFTER,
    SURVEY_AFTER,
    Event,
    PlaceholderPost,
    RehearsalResult,
    place_plan,
    readable,
    rehearse,
)
from bot.render import plural

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "human-rights-council.toml"
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def plan_text() -> str:
    return EXAMPLE.read_text(encoding="utf-8")


def check_exports(result: RehearsalResult, folder: Path) -> None:
    """The rehearsed dialogue's record lies next to its timeline, in each format, with every post and the summary."""
    assert result.path is not None
    stem = result.path.stem
    assert [p.name for p in result.exports] == [f"{stem}.export.md", f"{stem}.export.html", f"{stem}.export.json"]
    assert all(p.parent == folder for p in result.exports)
    document = json.loads(result.exports[2].read_text(encoding="utf-8"))
    posts = [post for thread in document["threads"] for post in thread["posts"]]
    # The export counts every post: the window's and the comments after it.
    assert len(posts) == result.posts + len(result.comments) == document["wrapup"]["posts"]
    assert {post["author"]["name"] for post in posts} == {made.author for made in result.made + result.comments}
    assert document["summary"] == SCRIPTED_SUMMARY
    assert result.exports[1].read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert f"`{stem}.export.html`" in result.markdown


async def test_rehearsal_of_the_example_plan(plan_text: str, tmp_path: Path) -> None:
    plan = parse_plan(plan_text, NOW, allow_past=True)
    printed: list[str] = []
    result = await rehearse(plan, participants=3, out=tmp_path, source="example", echo=printed.append)
    assert result.ok, result.errors
    assert result.posts > 0
    check_exports(result, tmp_path)
    events = result.events

    # The opening: the channel, then the intro, at the planned instant.
    (channel,) = [e for e in events if e.kind == "channel"]
    (intro,) = [e for e in events if e.kind == "intro"]
    assert channel.at == intro.at == plan.opens_at
    assert intro.local.strftime("%a %H:%M") == "Mon 14:00"
    assert plan.title in intro.text and "**Later questions**" in intro.text

    # Every seed thread, the staged one a day later; each starts with its full question.
    created = {e.text: e.at for e in events if e.kind == "thread"}
    for number, question in enumerate(plan.questions, start=1):
        name = next(text for text in created if question.text[:40] in text)
        assert created[name] == (question.release_at or plan.opens_at), number
        assert any(e.kind == "message" and e.text.split("\n-# ")[0] == question.text for e in events)
    assert created["private thread created: “Leaders · #1”"] == plan.opens_at

    # Daily check-ins at 09:00 local, in at least two zones (Kathmandu is UTC+5:45, Bogotá UTC-5).
    checkins = [e for e in events if e.kind == "dm" and e.text.startswith("Your dialogue check-in")]
    at_nine = {e.zone for e in checkins if (e.local.hour, e.local.minute) == (9, 0)}
    assert {"Asia/Kathmandu", "America/Bogota"} <= at_nine
    kathmandu = [e.at for e in checkins if e.zone == "Asia/Kathmandu"]
    assert datetime(2027, 3, 2, 3, 15, tzinfo=UTC) in kathmandu
    warsaw = [e for e in checkins if e.zone == "Europe/Warsaw"]
    assert warsaw and all(e.local.hour == 8 for e in warsaw)  # its leader asked for 08:00

    # The wrap-up at the closing; the example keeps comments open until the summary, so nothing locks yet.
    assert plan.after_close is AfterClose.COMMENTS_UNTIL_SUMMARY
    wrapups = [e for e in events if e.kind == "wrap-up"]
    assert wrapups and wrapups[0].at == plan.closes_at
    assert "Comments stay open here and in the threads until the summary is posted" in wrapups[-1].text
    assert not [e for e in events if e.kind == "lock" and e.at < plan.closes_at + SUMMARY_AFTER]

    # The wrap-up's numbers are the posts the rehearsal made: in total, and thread by thread.
    wrapup = "\n".join(e.text for e in wrapups)
    assert result.made and len(result.made) == result.posts
    people = {post.author for post in result.made}
    totals = f"**{len(result.made)} posts from {len(people)} participants.**"
    assert totals in wrapup, wrapup
    made: dict[str, list[str]] = {}
    for post in result.made:
        made.setdefault(post.thread, []).append(post.author)
    expected = sorted(
        f"- {name}: {plural(len(a), 'post')} from {plural(len(set(a)), 'participant')}" for name, a in made.items()
    )
    listed = sorted(
        line
        for line in wrapup.splitlines()
        if line.startswith("- ") and not line.endswith(": 0 posts from 0 participants")
    )
    assert listed == expected

    # The after-life: comments after the window, counted apart, then the summary, which locks everything.
    summary = check_afterlife(result, comments=True)
    status = next(e.text for e in events if e.where == "/dialogue status (ephemeral reply)")
    assert f"Posts during the window: {result.posts}; after it: {len(result.comments)} from " in status
    assert "Phase: comments open until the summary is posted" in status

    # After the summary, three participants answer the feedback survey and the facilitator reads the results.
    survey = [e for e in events if e.kind == "survey"]
    assert [e.text.split(".")[0] for e in survey[:3]] == ["Thank you: your answer is saved"] * 3
    assert all(e.at > summary.at for e in survey)
    assert "3 responses" in survey[-1].text and "mean **4.0** of 5, from 3 ratings" in survey[-1].text
    assert "> Placeholder: a shorter window." in survey[-1].text

    # The same timeline, readable, in Markdown; and printed as it went.
    assert result.path is not None
    markdown = result.path.read_text(encoding="utf-8")
    assert markdown.startswith(f"# Rehearsal: {plan.title}\n")
    assert "- Result: OK" in markdown
    assert "Tue 09:00 Asia/Kathmandu · DM to @anjali.shrestha** — dm: Your dialogue check-in" in markdown
    assert "— wrap-up" in markdown and "— intro" in markdown and "— lock" in markdown and "— survey" in markdown
    assert "— comment" in markdown and "— summary" in markdown
    assert "DM to @participant-01** — dm: A dialogue summary you may want to read is ready." in markdown
    assert f"comments after the window: {len(result.comments)}" in markdown
    assert "  > Placeholder summary, written by the rehearsal." in markdown
    assert "<t:" not in markdown
    assert any("closed;" in line for line in printed)
    assert any("[intro]" in line for line in printed)


def check_afterlife(result: RehearsalResult, *, comments: bool) -> Event:
    """Comments after the window (two-phase only), the summary, and the lock at it; returns the summary's first part."""
    plan, events = result.plan, result.events
    after = [e for e in events if e.kind == "comment"]
    if comments:
        # A few participants go on commenting in the threads for some hours after the window.
        assert len(result.comments) == len(after) >= 3
        assert all(plan.closes_at < e.at < plan.closes_at + SUMMARY_AFTER for e in after)
        assert {e.where for e in after} == {f"thread “{made.thread}”" for made in result.comments}
    else:
        assert not after and not result.comments
    # The facilitator posts the scripted summary through /dialogue summary and its form, a few hours after the close.
    (summary,) = [e for e in events if e.kind == "summary"]
    assert summary.at == plan.closes_at + SUMMARY_AFTER
    assert summary.text.startswith(SCRIPTED_SUMMARY)
    (answer,) = [e for e in events if e.where == "/dialogue summary, its form submitted (ephemeral reply)"]
    assert " is posted: 1 message" in answer.text
    # Everyone who posted (in the window or after it) is told by DM, under a first line that does not name the topic.
    notices = [e for e in events if e.label == "dm: A dialogue summary you may want to read is ready."]
    posters = {made.author for made in result.made + result.comments}
    assert sorted(e.where for e in notices) == sorted(f"DM to @{name}" for name in posters)
    assert all(summary.at <= e.at < plan.closes_at + SURVEY_AFTER for e in notices)
    assert all(f"/{summary.message_id}\n" in e.text for e in notices)  # the link to the summary's first part
    (report,) = [e for e in events if e.where == "DM to @facilitator" and e.text.startswith("The summary notices")]
    assert f"{len(posters)} members told by DM" in report.text
    assert f"Summary notice: {len(posters)} sent, 0 with closed DMs, 0 pending" in answer.text
    # The channel locks once: at the summary for comments-until-summary, at the close otherwise.
    (locked,) = [e for e in events if e.kind == "lock" and e.where.startswith("#")]
    assert locked.at == (summary.at if comments else plan.closes_at)
    threads = [e for e in events if e.kind == "lock" and e.where.startswith("thread")]
    assert len(threads) >= len(plan.questions) and all(e.at == locked.at for e in threads)
    return summary


async def test_a_past_plan_is_moved_by_whole_weeks(plan_text: str, tmp_path: Path) -> None:
    past = (
        plan_text.replace('opens = "2027-03-01 14:00"', 'opens = "2025-03-03 14:00"')
        .replace('duration = "5d"', 'duration = "1d"')
        .replace('release = "day 2"', 'release = "+6h"')
    )
    plan = parse_plan(past, NOW, allow_past=True)
    result = await rehearse(plan, participants=1, out=tmp_path, echo=lambda _: None)
    assert result.ok, result.errors
    placed = result.plan
    assert placed.opens_at >= SIM_START + timedelta(days=1)
    assert placed.opens_at - SIM_START < timedelta(days=8)
    local = placed.local(placed.opens_at)
    assert (local.strftime("%a %H:%M")) == "Mon 14:00"
    assert result.notes[0] == (
        "The plan opens Mon 2025-03-03 14:00, before the simulated clock; SimCord's clock starts at 2026-01-01 UTC, "
        "so the rehearsal moves the whole plan 44 weeks later, to open Mon 2026-01-05 14:00 Europe/Zurich: "
        "weekdays and local times of day are kept."
    )
    assert "moves the whole plan 44 weeks later" in result.markdown


def test_relative_plans_are_placed_after_the_simulated_start(plan_text: str) -> None:
    plan = parse_plan(plan_text.replace('"2027-03-01 14:00"', '"in 3d"'), NOW)
    placed, weeks = place_plan(plan)
    assert weeks < 0
    assert SIM_START + timedelta(days=1) <= placed.opens_at < SIM_START + timedelta(days=8)
    assert placed.local(placed.opens_at).strftime("%a %H:%M") == plan.local(plan.opens_at).strftime("%a %H:%M")


def test_readable_timestamps_and_mentions() -> None:
    at = datetime(2027, 3, 1, 13, 0, tzinfo=UTC)
    text = "Opens <t:1803992400:F> (<t:1803992400:R>), ask <@42>."
    assert readable(text, "Asia/Kathmandu", at, {42: "amara"}) == (
        "Opens Tue 2027-03-02 18:45 (Asia/Kathmandu) (in 1 day), ask @amara."
    )


def test_cli_rehearse_and_plan_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "check", str(EXAMPLE)]) == 0
    assert "valid plan" in capsys.readouterr().out
    bad = tmp_path / "bad.toml"
    bad.write_text('[dialogue]\ntitle = "x"\ntimezone = "Nowhere"\nopens = "now"\nduration = "1d"\n', "utf-8")
    assert main(["plan", "check", str(bad)]) == 1
    err = capsys.readouterr().err
    assert f"{bad}: dialogue.timezone: `Nowhere` is not an IANA time zone name. Example: `Europe/Zurich`." in err
    assert main(["rehearse", str(bad), "--out", str(tmp_path)]) == 2
    assert "rehearsal not run: the plan is invalid" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("x = " + "{a = " * 5000 + "1" + "}" * 5000 + "\n", "too deeply to read"),
        ('[[leaders]]\nuser = "²"\n', "].user: `²` is not a Discord username"),
    ],
    ids=["nested", "superscript"],
)
def test_cli_names_a_plan_that_used_to_crash(
    text: str, problem: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "crash.toml"
    path.write_text(EXAMPLE.read_text(encoding="utf-8") + "\n" + text, encoding="utf-8")
    assert main(["plan", "check", str(path)]) == 1
    captured = capsys.readouterr()
    assert captured.err.splitlines()[0] == f"{path}: not a valid plan (1 problem)"
    assert captured.err.splitlines()[1].startswith(f"{path}: ")
    assert problem in captured.err.splitlines()[1]
    assert len(captured.err.splitlines()) == 2
    assert "Traceback" not in captured.err + captured.out
    assert main(["rehearse", str(path), "--out", str(tmp_path)]) == 2
    assert "rehearsal not run: the plan is invalid" in capsys.readouterr().err


ONE_DAY = """
[dialogue]
title = "One day"
timezone = "America/Toronto"
opens = "2026-02-02 09:00"
duration = "1d"

[[questions]]
text = "What is one thing to change?"

[[leaders]]
user = 412345678901234567
timezone = "Asia/Kathmandu"
"""


async def test_a_plan_that_locks_at_the_close_still_rehearses_its_summary_and_survey(tmp_path: Path) -> None:
    plan = parse_plan(ONE_DAY, NOW, allow_past=True)
    assert plan.after_close is AfterClose.LOCK
    result = await rehearse(plan, participants=3, out=tmp_path, echo=lambda _: None)
    assert result.ok, result.errors
    summary = check_afterlife(result, comments=False)
    wrapup = next(e for e in result.events if e.kind == "wrap-up")
    assert "The dialogue is now closed" in wrapup.text
    assert not [e for e in result.events if e.where == "/dialogue status (ephemeral reply)"]
    survey = [e for e in result.events if e.kind == "survey"]
    assert len(survey) == 4 and all(e.at > summary.at for e in survey)
    assert "3 responses" in survey[-1].text
    check_exports(result, tmp_path)


async def test_leaders_given_by_id_are_played_by_stand_ins(tmp_path: Path) -> None:
    plan = parse_plan(ONE_DAY, NOW, allow_past=True)
    result = await rehearse(plan, participants=1, out=tmp_path, echo=lambda _: None)
    assert result.ok, result.errors
    assert result.notes == ["Leader 412345678901234567 is played by @leader_1."]
    welcome = [e for e in result.events if e.kind == "dm" and e.where == "DM to @leader_1"]
    assert welcome and welcome[0].text.startswith("Your dialogue role")
    assert welcome[0].zone == "Asia/Kathmandu"


def test_cli_fails_and_says_why_when_the_bot_logs_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = tmp_path / "one-day.toml"
    plan.write_text(ONE_DAY, encoding="utf-8")

    def broken(*_: object) -> list[str]:
        raise RuntimeError("intro exploded")

    monkeypatch.setattr("bot.render.intro", broken)  # a bug in the bot, as the rehearsal would find it
    assert main(["rehearse", str(plan), "--participants", "1", "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "rehearsal FAILED:" in err
    assert "the bot logged an error:" in err
    assert "intro exploded" in err
    markdown = (tmp_path / "one-day.md").read_text(encoding="utf-8")
    assert "- Result: FAILED" in markdown
    assert "raised an exception (RuntimeError: intro exploded)" in markdown


LATER_ONLY = """
[dialogue]
title = "Later only"
timezone = "Europe/Zurich"
opens = "2026-02-02 09:00"
duration = "2d"

[[questions]]
text = "What comes later?"
release = "+6h"

[[leaders]]
user = "amara.k"
"""


async def test_a_plan_whose_every_question_is_released_later_rehearses(tmp_path: Path) -> None:
    # The leaders' first posts fall before any question is released (it used to divide by zero).
    plan = parse_plan(LATER_ONLY, NOW, allow_past=True)
    result = await rehearse(plan, participants=1, out=tmp_path, echo=lambda _: None)
    assert result.ok, result.errors
    assert PlaceholderPost("amara.k", "Topic from amara.k") in result.made
    assert any(post.thread == "What comes later?" for post in result.made)


def _bot_threads() -> list[threading.Thread]:
    """Threads that would keep the process alive after the rehearsal (the bot's database connection)."""
    return [t for t in threading.enumerate() if t is not threading.main_thread() and not t.daemon and t.is_alive()]


async def test_a_rehearsal_that_errors_returns_and_closes_the_bot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: object) -> list[object]:
        raise RuntimeError("rehearsal bug")

    monkeypatch.setattr("bot.rehearsal._schedule_posts", broken)
    before = set(_bot_threads())
    plan = parse_plan(ONE_DAY, NOW, allow_past=True)
    result = await rehearse(plan, participants=1, out=tmp_path, echo=lambda _: None)
    assert result.errors == ["the rehearsal stopped: RuntimeError: rehearsal bug"]
    assert "- Result: FAILED" in (tmp_path / "one-day.md").read_text(encoding="utf-8")
    # A closed connection's worker thread ends a moment after close() returns; an unclosed one never does.
    for thread in set(_bot_threads()) - before:
        thread.join(timeout=5)
    assert set(_bot_threads()) <= before


def test_the_cli_exits_after_a_rehearsal_error(tmp_path: Path) -> None:
    plan = tmp_path / "one-day.toml"
    plan.write_text(ONE_DAY, encoding="utf-8")
    script = (
        "import sys, bot.rehearsal as rehearsal\n"
        "def broken(*_): raise RuntimeError('rehearsal bug')\n"
        "rehearsal._schedule_posts = broken\n"
        "from bot.__main__ import main\n"
        f"sys.exit(main(['rehearse', {str(plan)!r}, '--participants', '1', '--out', {str(tmp_path)!r}]))\n"
    )
    # Before the fix the process printed a traceback and then never exited: the timeout is the failure.
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 1, done.stderr
    assert "the rehearsal stopped: RuntimeError: rehearsal bug" in done.stderr
    assert "Traceback" not in done.stderr
