"""The one place SQL is adapted for PostgreSQL: ``?`` placeholders become ``$1..$n``, literals untouched."""

from __future__ import annotations

import pytest

from db.postgres import adapt


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT 1", "SELECT 1"),
        ("UPDATE t SET a = ?, b = ? WHERE id = ?", "UPDATE t SET a = $1, b = $2 WHERE id = $3"),
        # A question mark inside a string literal or a quoted identifier is text, not a parameter.
        ("SELECT '?' AS q, \"odd?\" FROM t WHERE x = ?", "SELECT '?' AS q, \"odd?\" FROM t WHERE x = $1"),
        ("SELECT 'it''s ?' WHERE a = ? AND b IN (?, ?)", "SELECT 'it''s ?' WHERE a = $1 AND b IN ($2, $3)"),
    ],
)
def test_placeholders_are_numbered_outside_literals(sql: str, expected: str) -> None:
    assert adapt(sql) == expected
