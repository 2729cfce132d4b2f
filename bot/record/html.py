"""The HTML export: one self-contained, printable file (inline CSS, no scripts, nothing fetched)."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator

import jinja2

from .text import after_window_line, local_time, plural, survey_lines, utc_time
from .transcript import Transcript

__all__ = ("html",)

_ENVIRONMENT = jinja2.Environment(
    loader=jinja2.PackageLoader("bot.record", "templates"),
    autoescape=True,
    enable_async=True,
    trim_blocks=True,
    lstrip_blocks=True,
    undefined=jinja2.StrictUndefined,
)


async def html(transcript: Transcript, lang: str = "en") -> AsyncIterator[str]:
    """The export as HTML, streamed as the template renders each post."""
    record = transcript.record
    chart = None
    if record.chart_png:
        chart = "data:image/png;base64," + base64.b64encode(record.chart_png).decode("ascii")
    template = _ENVIRONMENT.get_template("export.html.j2")
    async for chunk in template.generate_async(
        record=record,
        lang=lang,
        chart=chart,
        posts=transcript.posts,
        plural=plural,
        survey_lines=survey_lines,
        after_window=after_window_line(record),
        local=lambda moment: local_time(record, moment),
        utc=utc_time,
        when=lambda moment: f"{local_time(record, moment)} ({utc_time(moment)})",
    ):
        yield chunk
