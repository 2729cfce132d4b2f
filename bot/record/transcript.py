"""A dialogue's record as exports read it: frozen records for the whole, and its posts streamed thread by thread.

``load`` reads everything but the posts (a few rows per thread); ``Transcript.posts`` then reads one thread's
posts a page at a time, so an export of 20,000 posts never holds more than a page of them. Names and texts
pass through a ``Naming`` on the way out: the plain one shows them as recorded, a pseudonymising one replaces
every name and mention, so no renderer ever sees what it must not print.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol
from zoneinfo import ZoneInfo

import db.dialogues as dialogues_db
import db.posts as posts_db
import db.record as record_db
import db.retention as retention_db
import db.summaries as summaries_db
import db.survey as survey_db
from db import Database

from ..domain.models import Attachment, Dialogue, State, ThreadOrigin
from ..domain.survey import aggregate

__all__ = (
    "CHANNEL",
    "File",
    "Naming",
    "PlainNaming",
    "Post",
    "QuestionEntry",
    "Record",
    "SurveyFigures",
    "Thread",
    "ThreadCount",
    "Transcript",
    "load",
)

# The origin of the pseudo-thread that holds posts made in the channel itself (when no thread could be made).
CHANNEL = "channel"
PAGE = 500


class Naming(Protocol):
    """How names and texts appear in an export."""

    @property
    def pseudonymised(self) -> bool:
        """Whether names are replaced."""
        ...

    def author(self, author_id: int, name: str) -> str:
        """The name shown for a post's author."""
        ...

    def key(self, author_id: int) -> str:
        """A stable id for an author within this export."""
        ...

    def text(self, text: str) -> str:
        """A text as shown (posts, titles, questions)."""
        ...


class PlainNaming:
    """Names and texts as recorded."""

    pseudonymised = False

    def author(self, author_id: int, name: str) -> str:
        """The name the author posted under."""
        return name

    def key(self, author_id: int) -> str:
        """The author's Discord id."""
        return f"user-{author_id}" if author_id >= 0 else f"bridge-{-author_id}"

    def text(self, text: str) -> str:
        """The text unchanged."""
        return text


@dataclass(frozen=True, slots=True)
class File:
    """An attached file: a link to it, or only its name when links are removed."""

    filename: str
    url: str | None
    content_type: str | None
    size: int


@dataclass(frozen=True, slots=True)
class Post:
    """One post as exported."""

    id: int
    author: str
    author_key: str
    at: datetime  # UTC
    local: datetime  # in the dialogue's time zone
    edited_at: datetime | None
    reply_to: int | None  # the shown post it answers
    reply_to_author: str | None
    files: tuple[File, ...]
    content: str


@dataclass(frozen=True, slots=True)
class Thread:
    """A thread in reading order; ``id`` None holds the posts made in the channel itself."""

    id: int | None
    origin: str  # seed, participant or channel
    title: str
    question: int | None
    started_at: datetime
    posts: int
    participants: int

    @property
    def anchor(self) -> str:
        """The id the table of contents links to."""
        return f"thread-{self.id}" if self.id is not None else "channel-posts"


@dataclass(frozen=True, slots=True)
class QuestionEntry:
    """A seed question, and the thread it became (if it did)."""

    position: int
    text: str
    thread_id: int | None
    release_at: datetime | None


@dataclass(frozen=True, slots=True)
class ThreadCount:
    """The wrap-up's numbers for one thread."""

    title: str
    posts: int
    participants: int


@dataclass(frozen=True, slots=True)
class SurveyFigures:
    """The feedback survey's aggregates (never its texts): how many answered, the ratings and their mean."""

    responses: int
    rated: int
    mean: float | None
    distribution: tuple[tuple[int, int], ...]  # (rating, how many gave it), 1 to 5


@dataclass(frozen=True, slots=True)
class Record:
    """Everything an export shows except the posts themselves."""

    dialogue_id: int
    title: str
    framing: str
    timezone: str
    opens_at: datetime
    closes_at: datetime
    state: State
    questions: tuple[QuestionEntry, ...]
    threads: tuple[Thread, ...]
    posts: int
    participants: int
    exported_at: datetime
    pseudonymised: bool
    # "lock", or "comments-until-summary": then posts made after the window (until the summary) are counted apart.
    after_close: str = "lock"
    posts_after: int = 0
    participants_after: int = 0
    purged_at: datetime | None = None
    summary: str | None = None
    survey: SurveyFigures | None = None
    chart_png: bytes | None = field(default=None, repr=False)

    @property
    def zone(self) -> ZoneInfo:
        """The dialogue's time zone."""
        return ZoneInfo(self.timezone)

    def local(self, moment: datetime) -> datetime:
        """A moment in the dialogue's time zone."""
        return moment.astimezone(self.zone)


@dataclass(frozen=True, slots=True)
class Transcript:
    """A loaded record, and the way to stream its threads' posts."""

    record: Record
    database: Database
    naming: Naming
    page: int = PAGE

    async def posts(self, thread: Thread) -> AsyncIterator[Post]:
        """The thread's shown posts, oldest first, read a page at a time."""
        after = 0
        zone = self.record.zone
        while True:
            rows = await record_db.posts(
                self.database, self.record.dialogue_id, thread.id, after=after, limit=self.page
            )
            if not rows:
                return
            files = await record_db.attachments(self.database, [row.message_id for row in rows])
            for row in rows:
                yield self._post(row, files.get(row.message_id, ()), zone)
            if len(rows) < self.page:
                return
            after = rows[-1].message_id

    def _post(self, row: record_db.RecordedPost, attached: tuple[Attachment, ...], zone: ZoneInfo) -> Post:
        naming = self.naming
        # Pseudonymised: a file's link is a Discord link (it names the channel), so only its name is kept.
        shown = tuple(
            File(naming.text(item.filename), None if naming.pseudonymised else item.url, item.content_type, item.size)
            for item in attached
        )
        reply_author = None
        if row.reply_to_id is not None and row.reply_to_author_id is not None:
            reply_author = naming.author(row.reply_to_author_id, row.reply_to_author_name or "")
        return Post(
            id=row.message_id,
            author=naming.author(row.author_id, row.author_name),
            author_key=naming.key(row.author_id),
            at=row.created_at,
            local=row.created_at.astimezone(zone),
            edited_at=row.edited_at,
            reply_to=row.reply_to_id,
            reply_to_author=reply_author,
            files=shown,
            content=naming.text(row.content),
        )


async def load(
    database: Database,
    dialogue: Dialogue,
    now: datetime,
    *,
    naming: Naming | None = None,
    chart_png: bytes | None = None,
    page: int = PAGE,
    summary: str | None = None,
    survey: SurveyFigures | None = None,
) -> Transcript:
    """Read a dialogue's record (not its posts yet) for an export made at ``now``.

    The summary is the one wholly posted (a replacement still being posted is not shown yet); the survey's
    figures are its aggregates only: its written answers stay with the facilitators. Either can be given instead.
    """
    naming = naming or PlainNaming()
    if summary is None:
        summary = await posted_summary(database, dialogue.id)
    if survey is None:
        survey = await survey_figures(database, dialogue.id)
    questions = await dialogues_db.questions(database, dialogue.id)
    recorded = await record_db.threads(database, dialogue.id)
    stats = await posts_db.stats(database, dialogue.id)
    counts = {thread.thread_id: thread for thread in stats.threads}
    threads = [
        Thread(
            id=thread.thread_id,
            origin=thread.origin.value,
            title=naming.text(thread.title),
            question=thread.question,
            started_at=thread.started_at,
            posts=counts[thread.thread_id].posts if thread.thread_id in counts else 0,
            participants=counts[thread.thread_id].participants if thread.thread_id in counts else 0,
        )
        for thread in recorded
        if thread.origin is not ThreadOrigin.LEADERS
    ]
    loose = await record_db.posts(database, dialogue.id, None, limit=1)
    if loose:
        threads.append(
            Thread(
                id=None,
                origin=CHANNEL,
                title="Posts in the channel",
                question=None,
                started_at=loose[0].created_at,
                posts=stats.posts - sum(thread.posts for thread in threads),
                participants=0,
            )
        )
    retention = await retention_db.retention(database, dialogue.id)
    record = Record(
        dialogue_id=dialogue.id,
        title=naming.text(dialogue.title),
        framing=naming.text(dialogue.framing),
        timezone=dialogue.timezone,
        opens_at=dialogue.opens_at,
        closes_at=dialogue.closes_at,
        state=dialogue.state,
        questions=tuple(QuestionEntry(q.position, naming.text(q.text), q.thread_id, q.release_at) for q in questions),
        threads=tuple(threads),
        posts=stats.posts,
        participants=stats.participants,
        after_close=dialogue.after_close.value,
        posts_after=stats.posts_after,
        participants_after=stats.participants_after,
        exported_at=now,
        pseudonymised=naming.pseudonymised,
        purged_at=retention.purged_at,
        summary=naming.text(summary) if summary else None,
        survey=survey,
        chart_png=chart_png,
    )
    return Transcript(record, database, naming, page)


async def posted_summary(database: Database, dialogue_id: int) -> str | None:
    """The text of the dialogue's summary as posted, or None while none is wholly posted."""
    recorded = await summaries_db.get(database, dialogue_id)
    return recorded.text if recorded is not None and recorded.posted_at is not None else None


async def survey_figures(database: Database, dialogue_id: int) -> SurveyFigures | None:
    """The survey's count, ratings and mean, or None when nobody answered."""
    results = aggregate(await survey_db.responses(database, dialogue_id), ())
    if not results.responses:
        return None
    return SurveyFigures(results.responses, results.rated, results.mean, results.distribution)
