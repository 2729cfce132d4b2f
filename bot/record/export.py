"""Writing a dialogue's export in one of its formats, from the database alone (the bot and the CLI share it)."""

from __future__ import annotations

import enum
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO

import db.dialogues as dialogues_db
from db import Database

from ..domain.errors import DialogueNotFound
from ..domain.models import Dialogue
from ..domain.parsing import slugify
from .html import html
from .jsonfile import json_export
from .markdown import markdown
from .transcript import PAGE, Naming, Record, Transcript, load

__all__ = ("ExportFormat", "Exported", "export", "filename", "render")

log = logging.getLogger(__name__)


class ExportFormat(enum.StrEnum):
    """The formats an export comes in."""

    MARKDOWN = "markdown"
    HTML = "html"
    JSON = "json"

    @property
    def suffix(self) -> str:
        """The file name's extension."""
        return {"markdown": ".md", "html": ".html", "json": ".json"}[self.value]


_RENDERERS: dict[ExportFormat, Callable[[Transcript], AsyncIterator[str]]] = {
    ExportFormat.MARKDOWN: markdown,
    ExportFormat.HTML: html,
    ExportFormat.JSON: json_export,
}

# Output is gathered into writes of about this size: the HTML template yields many small pieces.
_BUFFER = 64 * 1024


@dataclass(frozen=True, slots=True)
class Exported:
    """What was written: the record (without its posts), the file name to give it and its size."""

    record: Record
    filename: str
    size: int


def filename(record: Record, fmt: ExportFormat) -> str:
    """``dialogue-12-engaging-the-council.html``."""
    return f"dialogue-{record.dialogue_id}-{slugify(record.title)}{fmt.suffix}"


def render(transcript: Transcript, fmt: ExportFormat) -> AsyncIterator[str]:
    """The export's text, in pieces, in the order they are written."""
    return _RENDERERS[fmt](transcript)


async def _chart(database: Database, dialogue: Dialogue, naming: Naming | None) -> bytes | None:
    """The activity chart for the HTML export, its labels scrubbed as the export's texts are; None if it fails."""
    try:
        # Imported here: matplotlib loads when an HTML export is made, not when the bot or the CLI starts.
        from .activity import dialogue_activity
        from .chart import activity_png
        from .naming import PseudonymNaming

        pseudonymiser = naming.pseudonymiser if isinstance(naming, PseudonymNaming) else None
        return activity_png(await dialogue_activity(database, dialogue, pseudonymiser))
    except Exception:
        log.exception("Dialogue %s: the activity chart could not be drawn; the export goes without it", dialogue.id)
        return None


async def export(
    database: Database,
    dialogue_id: int,
    fmt: ExportFormat,
    out: BinaryIO,
    *,
    now: datetime,
    naming: Naming | None = None,
    chart_png: bytes | None = None,
    page: int = PAGE,
) -> Exported:
    """Write a dialogue's export to ``out`` (UTF-8), streaming its posts; raise if there is no such dialogue.

    The HTML export embeds the activity chart (drawn here unless ``chart_png`` is given).
    """
    dialogue = await dialogues_db.get(database, dialogue_id)
    if dialogue is None:
        raise DialogueNotFound(f"There is no dialogue #{dialogue_id}.")
    if fmt is ExportFormat.HTML and chart_png is None:
        chart_png = await _chart(database, dialogue, naming)
    transcript = await load(database, dialogue, now, naming=naming, chart_png=chart_png, page=page)
    size = 0
    pending: list[str] = []
    buffered = 0
    async for piece in render(transcript, fmt):
        pending.append(piece)
        buffered += len(piece)
        if buffered >= _BUFFER:
            size += out.write("".join(pending).encode("utf-8"))
            pending, buffered = [], 0
    size += out.write("".join(pending).encode("utf-8"))
    return Exported(transcript.record, filename(transcript.record, fmt), size)
