"""The Markdown export: for pasting into a wiki or a report."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import datetime

from .text import after_window_line, local_time, plural, survey_lines, utc_time
from .transcript import Post, Record, Thread, Transcript

__all__ = ("markdown",)

# Characters that would start emphasis, code, links or HTML inside a line of our own making.
_INLINE = re.compile(r"([\\`*_\[\]<>#|])")


def _inline(text: str) -> str:
    """A name or title made safe to stand inside a Markdown line."""
    return _INLINE.sub(r"\\\1", " ".join(text.split()))


def _quote(text: str) -> str:
    """A post's own text as a block quote, so its headings and lists stay inside the post; no raw HTML in it."""
    text = text.replace("<", "&lt;")
    return "\n".join(f"> {line}" if line.strip() else ">" for line in text.splitlines()) or "> *(no text)*"


def _when(record: Record, moment: datetime) -> str:
    return f"{local_time(record, moment)} ({utc_time(moment)})"


def _thread_heading(thread: Thread) -> str:
    if thread.question is not None:
        return f"Question {thread.question} · {thread.title}"
    return thread.title


def _post(record: Record, post: Post) -> str:
    head = [f"**{_inline(post.author)}**", _when(record, post.at)]
    if post.edited_at is not None:
        head.append("*edited*")
    if post.reply_to is not None:
        head.append(f"replying to {_inline(post.reply_to_author or 'a post')} ([↑](#post-{post.reply_to}))")
    lines = [f'<a id="post-{post.id}"></a>' + " · ".join(head), "", _quote(post.content)]
    if post.files:
        lines.append("")
        for file in post.files:
            name = _inline(file.filename)
            lines.append(f"- Attachment: [{name}]({file.url})" if file.url else f"- Attachment: {name}")
    return "\n".join(lines) + "\n\n"


async def markdown(transcript: Transcript) -> AsyncIterator[str]:
    """The export as Markdown, a post at a time."""
    record = transcript.record
    head = [f"# {_inline(record.title)}", ""]
    head.append(f"- Dialogue #{record.dialogue_id} ({record.state.value})")
    head.append(f"- Window: {_when(record, record.opens_at)} to {_when(record, record.closes_at)}")
    head.append(f"- Times are shown in {record.timezone}, with UTC in brackets")
    head.append(f"- Exported {_when(record, record.exported_at)}")
    if record.pseudonymised:
        head.append("- Names are pseudonyms; mentions of people, roles and channels are replaced")
    if record.purged_at is not None:
        head.append(f"- **The text of the posts was purged on {_when(record, record.purged_at)}**; only counts remain")
    head.append("")
    if record.framing.strip():
        head += [record.framing.strip(), ""]
    if record.questions:
        head += ["## Questions", ""]
        head += [f"{q.position}. {' '.join(q.text.split())}" for q in record.questions]
        head.append("")
    if record.threads:
        head += ["## Contents", ""]
        head += [f"- [{_inline(_thread_heading(t))}](#{t.anchor})" for t in record.threads]
        head.append("")
    yield "\n".join(head) + "\n"
    for thread in record.threads:
        started = f"started {_when(record, thread.started_at)}"
        yield (
            f'<a id="{thread.anchor}"></a>\n\n## {_inline(_thread_heading(thread))}\n\n'
            f"*{plural(thread.posts, 'post')} · {started}*\n\n"
        )
        async for post in transcript.posts(thread):
            yield _post(record, post)
    tail = ["## Wrap-up", "", f"**{plural(record.posts, 'post')} from {plural(record.participants, 'participant')}.**"]
    if after := after_window_line(record):
        tail += ["", after]
    counted = [t for t in record.threads if t.id is not None]
    if counted:
        tail += ["", "| Thread | Posts | Participants |", "| --- | ---: | ---: |"]
        tail += [f"| {_inline(t.title)} | {t.posts} | {t.participants} |" for t in counted]
    if record.summary:
        tail += ["", "## Summary", "", record.summary.strip()]
    if record.survey is not None:
        tail += ["", "## Feedback survey", "", *survey_lines(record.survey)]
    yield "\n".join(tail) + "\n"
