"""Plan files: a whole dialogue written once in TOML, checked, imported, exported and rehearsed.

Pure standard library, in three parts: ``model`` (the records), ``reader`` (``parse_plan`` turns the text
of a plan into a ``Plan`` or raises ``PlanError`` listing every problem with its key path and what would be
valid) and ``writer`` (``render_plan`` writes a ``Plan`` back as TOML that ``parse_plan`` reads to the same
``Plan``: the round trip).
"""

from __future__ import annotations

from .model import (
    MAX_LEADERS,
    MAX_PLAN_BYTES,
    Plan,
    PlanError,
    PlanLeader,
    PlanProblem,
    PlanQuestion,
    shift_weeks,
)
from .reader import decode_plan, parse_plan
from .writer import render_plan

__all__ = (
    "MAX_LEADERS",
    "MAX_PLAN_BYTES",
    "Plan",
    "PlanError",
    "PlanLeader",
    "PlanProblem",
    "PlanQuestion",
    "decode_plan",
    "parse_plan",
    "render_plan",
    "shift_weeks",
)
