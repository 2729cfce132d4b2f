"""A small fixed dialogue written straight into a database: fixed times, fixed ids, for the export tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import db.dialogues as dialogues_db
import db.posts as posts_db
from bot.domain.models import Attachment, Dialogue, DialogueDraft, State, ThreadOrigin
from db import Database

OPENS = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # Monday 09:00 in Geneva
CLOSES = OPENS + timedelta(days=2)
EXPORTED = CLOSES + timedelta(days=1)
GUILD = 900
FACILITATOR = 1000
ALICE, BOB, CHEN, NOUR = 1001, 1002, 1003, 1004
HOME, OUTCOMES, TOPIC, LEADERS = 5001, 5002, 5003, 5004
PLAN_URL = "https://cdn.discordapp.com/attachments/5002/7004/plan.pdf"
EDITED = "Our **shadow report** reached the review <b>in time</b> (edited)."
ARABIC = "نحن بحاجة إلى آليات حماية أقوى للمدافعين عن حقوق الإنسان"


async def make_sample(database: Database) -> Dialogue:
    """Two seed questions, a participant's thread, a top-level post, a reply, an edit, a deletion, a file."""
    draft = DialogueDraft(
        title="Engaging the Council",
        framing="Why do networks take their cases to international bodies?\nShare what worked & what didn't.",
        questions=("What does engagement add at home?", "What outcomes are realistic?", "What comes next?"),
        timezone="Europe/Zurich",
        opens_at=OPENS,
        closes_at=CLOSES,
    )
    dialogue = await dialogues_db.create(database, GUILD, FACILITATOR, draft, OPENS - timedelta(days=3))
    assert await dialogues_db.transition(database, dialogue.id, (State.SCHEDULED,), State.OPEN, OPENS)
    await dialogues_db.set_channel(database, dialogue.id, 4000, OPENS)
    await dialogues_db.set_question_thread(database, dialogue.id, 1, HOME, "What does engagement add at home?", OPENS)
    await dialogues_db.set_question_thread(database, dialogue.id, 2, OUTCOMES, "What outcomes are realistic?", OPENS)
    await dialogues_db.add_thread(database, dialogue.id, LEADERS, ThreadOrigin.LEADERS, "Leaders · #1", None, OPENS)

    async def post(
        message_id: int,
        thread_id: int | None,
        author_id: int,
        name: str,
        text: str,
        minutes: int,
        reply_to: int | None = None,
        files: tuple[Attachment, ...] = (),
    ) -> None:
        assert await posts_db.record(
            database,
            message_id=message_id,
            dialogue_id=dialogue.id,
            thread_id=thread_id,
            author_id=author_id,
            author_name=name,
            content=text,
            created_at=OPENS + timedelta(minutes=minutes),
            reply_to_id=reply_to,
            attachments=files,
        )

    # The participant's thread starts (and is recorded) after the seed threads' first posts.
    await post(7001, HOME, ALICE, "Alice", "Our **shadow report** reached the review <b>in time</b>.", 30)
    await post(7002, HOME, BOB, "Bob", "Same here.\n\n# Not a heading\n- nor a list", 95, reply_to=7001)
    await post(7003, OUTCOMES, NOUR, "Nour", ARABIC, 120)
    await post(
        7004,
        OUTCOMES,
        CHEN,
        "Chen",
        "See the attached plan.",
        600,
        files=(
            Attachment(
                "plan.pdf", "https://cdn.discordapp.com/attachments/5002/7004/plan.pdf", "application/pdf", 2048
            ),
        ),
    )
    await post(7005, OUTCOMES, BOB, "Bob", "This one will be deleted.", 610)
    await dialogues_db.add_thread(database, dialogue.id, TOPIC, ThreadOrigin.PARTICIPANT, "Funding", TOPIC, OPENS)
    await post(TOPIC, TOPIC, CHEN, "Chen", "Funding\nWho pays for the trips to Geneva?", 1500)
    await post(7006, TOPIC, ALICE, "Alice", "Small grants, mostly.", 1530, reply_to=TOPIC)
    await post(7007, None, BOB, "Bob", "A post in the channel itself.", 1600)
    await posts_db.edit(database, 7001, EDITED, OPENS + timedelta(hours=1))
    await posts_db.clear(database, [7005], OPENS + timedelta(hours=11))
    assert await dialogues_db.transition(database, dialogue.id, (State.OPEN,), State.CLOSED, CLOSES)
    await dialogues_db.mark_locked(database, dialogue.id, CLOSES)
    found = await dialogues_db.get(database, dialogue.id)
    assert found is not None
    return found
