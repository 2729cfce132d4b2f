"""The JSON export: a versioned schema (``docs/export-schema.json``) written a post at a time."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime

from .transcript import Post, Record, Thread, Transcript

__all__ = ("SCHEMA_VERSION", "json_export", "post_id", "thread_id")

SCHEMA_VERSION = 1


def _time(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def thread_id(thread: Thread) -> str:
    """A thread's stable id: its Discord id, or ``channel`` for posts made in the channel itself."""
    return thread.anchor


def post_id(message_id: int) -> str:
    """A post's stable id, from its Discord message id."""
    return f"post-{message_id}"


def _dump(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


def _post(post: Post) -> dict[str, object]:
    return {
        "id": post_id(post.id),
        "author": {"id": post.author_key, "name": post.author},
        "created_at": _time(post.at),
        "created_at_local": _time(post.local),
        "edited_at": _time(post.edited_at),
        "reply_to": post_id(post.reply_to) if post.reply_to is not None else None,
        "attachments": [
            {"filename": f.filename, "url": f.url, "content_type": f.content_type, "size": f.size} for f in post.files
        ],
        "text": post.content,
    }


def _head(record: Record) -> dict[str, object]:
    by_thread = {t.id: t for t in record.threads if t.id is not None}
    return {
        "schema": SCHEMA_VERSION,
        "exported_at": _time(record.exported_at),
        "pseudonymised": record.pseudonymised,
        "dialogue": {
            "id": record.dialogue_id,
            "title": record.title,
            "framing": record.framing,
            "timezone": record.timezone,
            "opens_at": _time(record.opens_at),
            "closes_at": _time(record.closes_at),
            "state": record.state.value,
            "after_close": record.after_close,
            "transcript_purged_at": _time(record.purged_at),
        },
        "questions": [
            {
                "position": q.position,
                "text": q.text,
                "thread": thread_id(by_thread[q.thread_id])
                if q.thread_id is not None and q.thread_id in by_thread
                else None,
            }
            for q in record.questions
        ],
    }


async def json_export(transcript: Transcript) -> AsyncIterator[str]:
    """The export as one JSON document, a post at a time (never the whole document in memory), a post a line."""
    record = transcript.record
    head = _dump(_head(record))
    yield head[:-1] + ', "threads": ['
    for number, thread in enumerate(record.threads):
        meta = {
            "id": thread_id(thread),
            "origin": thread.origin,
            "title": thread.title,
            "question": thread.question,
            "started_at": _time(thread.started_at),
        }
        yield ("," if number else "") + "\n" + _dump(meta)[:-1] + ', "posts": ['
        first = True
        async for post in transcript.posts(thread):
            yield ("" if first else ",") + "\n" + _dump(_post(post))
            first = False
        yield "]}"
    wrapup = {
        "posts": record.posts,
        "participants": record.participants,
        "posts_after_window": record.posts_after,
        "participants_after_window": record.participants_after,
        "threads": [
            {"thread": thread_id(t), "posts": t.posts, "participants": t.participants}
            for t in record.threads
            if t.id is not None
        ],
    }
    survey = None
    if record.survey is not None:
        survey = {
            "responses": record.survey.responses,
            "rated": record.survey.rated,
            "mean_rating": record.survey.mean,
            "ratings": {str(rating): count for rating, count in record.survey.distribution},
        }
    yield f'\n], "wrapup": {_dump(wrapup)}, "summary": {_dump(record.summary)}, "survey": {_dump(survey)}}}\n'
