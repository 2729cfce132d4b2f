"""Texts of ``/dialogue export`` and of the ``dialogue-bot export`` command line."""

from __future__ import annotations

from .record.export import Exported, ExportFormat

__all__ = ("export_ready", "export_too_large", "megabytes")

_NAMES = {ExportFormat.MARKDOWN: "Markdown", ExportFormat.HTML: "HTML", ExportFormat.JSON: "JSON"}


def megabytes(size: int) -> str:
    """A file size for people: ``3.4 MB``, ``12 KB``."""
    if size < 1_000_000:
        return f"{max(1, round(size / 1000))} KB"
    return f"{size / 1_000_000:.1f} MB"


def export_ready(exported: Exported, fmt: ExportFormat) -> str:
    """The reply that carries the file."""
    record = exported.record
    lines = [
        f"Here is the record of “{record.title}” (#{record.dialogue_id}) as {_NAMES[fmt]}: "
        f"{record.posts:,} posts in {len(record.threads):,} threads, {megabytes(exported.size)}."
    ]
    if record.pseudonymised:
        lines.append(
            "Names are pseudonyms, and mentions, ids and Discord links are removed. Names inside pictures and "
            "attached files are not: check those before you publish."
        )
    else:
        lines.append(
            "It shows everyone's names. Before publishing it, consider `pseudonymise:True`, "
            "which replaces every name with a pseudonym."
        )
    if record.purged_at is not None:
        lines.append("The text of the posts was purged under the retention setting: only the counts remain.")
    return "\n".join(lines)


def export_too_large(exported: Exported, fmt: ExportFormat, limit: int) -> str:
    """The reply when the file is over Discord's upload limit: where to get it instead."""
    record = exported.record
    flag = " --pseudonymise" if record.pseudonymised else ""
    return (
        f"No file was sent: the {_NAMES[fmt]} export of “{record.title}” is {megabytes(exported.size)}, over "
        f"this server's upload limit of {megabytes(limit)}. Try `format:markdown`, the smallest, or ask whoever "
        f"runs the bot to export it on its server: `dialogue-bot export {record.dialogue_id} "
        f"--format {fmt.value}{flag} -o FILE`."
    )
