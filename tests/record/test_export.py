"""Exports of a small fixed dialogue: golden Markdown and JSON, the JSON Schema, the HTML's promises, paging."""

from __future__ import annotations

import base64
import io
import json
import os
import re
from datetime import timedelta
from pathlib import Path

import jsonschema
import pytest

import db.dialogues as dialogues_db
import db.posts as posts_db
import db.retention as retention_db
import db.withdrawals as withdrawals_db
from bot.domain.models import Dialogue, DialogueDraft
from bot.record.export import ExportFormat, export, render
from bot.record.naming import Identity, pseudonym_naming
from bot.record.transcript import SurveyFigures, load
from db import Database
from tests.record.sample import ALICE, ARABIC, EXPORTED, GUILD, OPENS

REPO = Path(__file__).resolve().parents[2]
GOLDEN = REPO / "tests" / "golden"
SCHEMA = REPO / "docs" / "export-schema.json"


async def text_of(database: Database, dialogue: Dialogue, fmt: ExportFormat, **options: object) -> str:
    out = io.BytesIO()
    written = await export(database, dialogue.id, fmt, out, now=EXPORTED, **options)  # type: ignore[arg-type]
    assert written.size == len(out.getvalue())
    return out.getvalue().decode("utf-8")


def check_golden(name: str, text: str) -> None:
    """Compare with tests/golden/<name>; UPDATE_GOLDEN=1 rewrites the file instead (review the diff)."""
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


@pytest.mark.parametrize(("fmt", "golden"), [(ExportFormat.MARKDOWN, "export.md"), (ExportFormat.JSON, "export.json")])
async def test_export_matches_its_golden_file(
    database: Database, sample: Dialogue, fmt: ExportFormat, golden: str
) -> None:
    check_golden(golden, await text_of(database, sample, fmt))


async def test_json_export_validates_against_the_documented_schema(database: Database, sample: Dialogue) -> None:
    document = json.loads(await text_of(database, sample, ExportFormat.JSON))
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker()).validate(document)
    assert document["schema"] == 1


async def test_the_schema_refuses_what_it_should(database: Database, sample: Dialogue) -> None:
    document = json.loads(await text_of(database, sample, ExportFormat.JSON))
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(schema)
    broken = json.loads(json.dumps(document))
    broken["threads"][0]["posts"][0]["created_at"] = "yesterday"
    assert not validator.is_valid(broken)
    broken = json.loads(json.dumps(document))
    broken["schema"] = 2
    assert not validator.is_valid(broken)


async def test_order_omissions_replies_and_marks(database: Database, sample: Dialogue) -> None:
    document = json.loads(await text_of(database, sample, ExportFormat.JSON))
    # Seed threads in question order, then the participant's thread, then the channel's own posts.
    assert [t["id"] for t in document["threads"]] == ["thread-5001", "thread-5002", "thread-5003", "channel-posts"]
    posts = {p["id"]: p for t in document["threads"] for p in t["posts"]}
    assert "post-7005" not in posts  # deleted
    assert posts["post-7002"]["reply_to"] == "post-7001"
    assert posts["post-7001"]["edited_at"] is not None and posts["post-7002"]["edited_at"] is None
    assert posts["post-7004"]["attachments"][0]["url"].endswith("/plan.pdf")
    assert posts["post-7003"]["created_at"] == "2026-03-02T10:00:00+00:00"
    assert posts["post-7003"]["created_at_local"] == "2026-03-02T11:00:00+01:00"
    assert [q["thread"] for q in document["questions"]] == ["thread-5001", "thread-5002", None]
    assert "Leaders" not in json.dumps(document)
    assert document["wrapup"]["posts"] == 7


async def test_a_reply_to_a_deleted_post_names_no_post(database: Database, sample: Dialogue) -> None:
    await posts_db.clear(database, [7001], OPENS)
    document = json.loads(await text_of(database, sample, ExportFormat.JSON))
    posts = {p["id"]: p for t in document["threads"] for p in t["posts"]}
    assert "post-7001" not in posts
    assert posts["post-7002"]["reply_to"] is None


@pytest.mark.parametrize("fmt", list(ExportFormat))
async def test_paging_changes_nothing(database: Database, sample: Dialogue, fmt: ExportFormat) -> None:
    assert await text_of(database, sample, fmt, page=1) == await text_of(database, sample, fmt)


async def test_html_is_escaped_self_contained_and_right_to_left_ready(database: Database, sample: Dialogue) -> None:
    page = await text_of(database, sample, ExportFormat.HTML)
    assert page.startswith("<!DOCTYPE html>") and '<html lang="en">' in page
    assert "<b>in time</b>" not in page and "&lt;b&gt;in time&lt;/b&gt;" in page
    articles = re.findall(r"<article[^>]*>", page)
    assert len(articles) == 7 and all('dir="auto"' in tag for tag in articles)
    assert ARABIC in page
    assert "<script" not in page.lower() and "<link" not in page.lower() and "@import" not in page
    assert re.findall(r'\bsrc="(?!data:)', page) == []
    # The only links out are the attachments a reader may click; everything else jumps within the page.
    outside = re.findall(r'href="(?!#)([^"]*)"', page)
    assert outside == ["https://cdn.discordapp.com/attachments/5002/7004/plan.pdf"]
    for anchor in ("thread-5001", "thread-5002", "thread-5003", "channel-posts"):
        assert f'href="#{anchor}"' in page and f'id="{anchor}"' in page


async def test_an_export_after_the_purge_says_so_plainly(database: Database, sample: Dialogue) -> None:
    assert await retention_db.purge(database, sample.id, EXPORTED) is not None
    page = await text_of(database, sample, ExportFormat.MARKDOWN)
    assert "- **The text of the posts was purged on Thu 2026-03-05 09:00 Europe/Zurich (2026-03-05 08:00 UTC)**" in page
    assert "shadow report" not in page and "**7 posts from 4 participants.**" in page
    assert "plan.pdf" not in page  # attachment links are purged with the text
    document = json.loads(await text_of(database, sample, ExportFormat.JSON))
    assert document["dialogue"]["transcript_purged_at"] == "2026-03-05T08:00:00+00:00"
    assert "The text of the posts was purged" in await text_of(database, sample, ExportFormat.HTML)


async def test_the_html_export_embeds_the_activity_chart(database: Database, sample: Dialogue) -> None:
    page = await text_of(database, sample, ExportFormat.HTML)
    (chart,) = re.findall(r'<img class="chart"[^>]*src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert base64.b64decode(chart).startswith(b"\x89PNG\r\n\x1a\n")


async def test_the_summary_and_the_survey_figures_are_exported(database: Database, sample: Dialogue) -> None:
    # What the `summary` and `survey` branches provide is passed in at the seam (transcript.load).
    figures = SurveyFigures(responses=4, rated=3, mean=4.0, distribution=((1, 0), (2, 0), (3, 1), (4, 1), (5, 1)))
    transcript = await load(database, sample, EXPORTED, summary="We learnt <a lot>.", survey=figures)
    texts = {fmt: "".join([piece async for piece in render(transcript, fmt)]) for fmt in ExportFormat}
    assert "## Summary\n\nWe learnt <a lot>." in texts[ExportFormat.MARKDOWN]
    assert "Mean rating 4.0 out of 5, from 3 ratings." in texts[ExportFormat.MARKDOWN]
    assert "We learnt &lt;a lot&gt;." in texts[ExportFormat.HTML]
    assert "<p>Ratings: 1: 0, 2: 0, 3: 1, 4: 1, 5: 1.</p>" in texts[ExportFormat.HTML]
    document = json.loads(texts[ExportFormat.JSON])
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema).validate(document)
    assert document["summary"] == "We learnt <a lot>."
    assert document["survey"] == {
        "responses": 4,
        "rated": 3,
        "mean_rating": 4.0,
        "ratings": {"1": 0, "2": 0, "3": 1, "4": 1, "5": 1},
    }


@pytest.mark.parametrize("fmt", list(ExportFormat))
async def test_a_dialogue_without_posts_exports_too(database: Database, fmt: ExportFormat) -> None:
    draft = DialogueDraft("Not yet", "", ("One?",), "Asia/Kathmandu", OPENS, OPENS + timedelta(days=1))
    dialogue = await dialogues_db.create(database, 1, 2, draft, OPENS)
    text = await text_of(database, dialogue, fmt)
    if fmt is ExportFormat.JSON:
        document = json.loads(text)
        jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text(encoding="utf-8"))).validate(document)
        assert document["threads"] == [] and document["dialogue"]["state"] == "scheduled"
    else:
        assert "Not yet" in text and "0 posts from 0 participants" in text


async def test_a_withdrawn_member_stays_pseudonymised_where_others_name_them(
    database: Database, sample: Dialogue
) -> None:
    # Bob names Alice; Alice withdraws (her name leaves the record). The server still knows her by name.
    await database.execute("UPDATE posts SET content = 'Thanks Alice, agreed.' WHERE message_id = 7002")
    assert await withdrawals_db.withdraw(database, GUILD, ALICE, sample.id, EXPORTED, by_facilitator=False)
    known = [Identity(ALICE, "Alice", "alice.k")]
    naming = await pseudonym_naming(database, sample, known=known)
    text = await text_of(database, sample, ExportFormat.MARKDOWN, naming=naming)
    assert "agreed." in text
    assert "Alice" not in text and "alice.k" not in text
