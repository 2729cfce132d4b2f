"""The survey's tables on a real database: settings, one replaceable response each, forgetting ended surveys."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

import db.dialogues as dialogues_db
import db.survey as survey_db
from bot.domain.survey import SurveyConfig, SurveyResponse
from db import Database
from tests.db.test_wake import draft

pytestmark = pytest.mark.both_backends

NOW = datetime(2026, 11, 27, 18, 0, tzinfo=UTC)


async def closed(database: Database, closed_at: datetime) -> int:
    """A dialogue recorded as closed at ``closed_at``."""
    dialogue = await dialogues_db.create(database, 1, 2, draft(), NOW)
    await database.execute(
        "UPDATE dialogues SET state = 'closed', closed_at = ? WHERE id = ?", (int(closed_at.timestamp()), dialogue.id)
    )
    return dialogue.id


async def test_settings_round_trip_and_keep_the_first_secret(database: Database) -> None:
    dialogue_id = await closed(database, NOW)
    assert await survey_db.get_settings(database, dialogue_id) == SurveyConfig()
    await survey_db.set_settings(database, dialogue_id, SurveyConfig(("One?", "Two?"), 5), b"a" * 32)
    assert await survey_db.get_settings(database, dialogue_id) == SurveyConfig(("One?", "Two?"), 5)
    await survey_db.set_settings(database, dialogue_id, SurveyConfig((), None), b"b" * 32)
    assert await survey_db.get_settings(database, dialogue_id) == SurveyConfig((), None)
    assert await survey_db.ensure_secret(database, dialogue_id, b"c" * 32) == b"a" * 32


async def test_a_response_is_replaced_by_the_same_respondent(database: Database) -> None:
    dialogue_id = await closed(database, NOW)
    assert not await survey_db.save_response(database, dialogue_id, "k1", 4, ["a", ""])
    assert await survey_db.save_response(database, dialogue_id, "k1", None, ["", "b"])
    assert not await survey_db.save_response(database, dialogue_id, "k2", 5, [])
    found = sorted(await survey_db.responses(database, dialogue_id), key=repr)
    assert found == sorted([SurveyResponse(None, ("", "b", "")), SurveyResponse(5, ("", "", ""))], key=repr)


async def test_ended_surveys_forget_secret_and_hashes_by_their_own_days(database: Database) -> None:
    ended_by_default = await closed(database, NOW - timedelta(days=14))
    still_open = await closed(database, NOW - timedelta(days=13))
    ended_by_plan = await closed(database, NOW - timedelta(days=4))
    await survey_db.set_settings(database, ended_by_plan, SurveyConfig(None, 3), b"p" * 32)
    for dialogue_id in (ended_by_default, still_open, ended_by_plan):
        assert await survey_db.ensure_secret(database, dialogue_id, bytes([dialogue_id]) * 32) is not None
        await survey_db.save_response(database, dialogue_id, f"key-{dialogue_id}", 3, ["text"])

    assert await survey_db.end_surveys(database, NOW, default_days=14) == 2
    for dialogue_id, kept in ((ended_by_default, False), (still_open, True), (ended_by_plan, False)):
        secret = await survey_db.ensure_secret(database, dialogue_id, b"new" * 11)
        assert (secret is not None) is kept  # an ended survey never gets a new secret
        row = await database.fetchone("SELECT respondent FROM survey_responses WHERE dialogue_id = ?", (dialogue_id,))
        assert row is not None and (row["respondent"] is not None) is kept
        assert len(await survey_db.responses(database, dialogue_id)) == 1  # the answers themselves stay
    assert await survey_db.end_surveys(database, NOW, default_days=14) == 0
