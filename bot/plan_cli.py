"""The plan sub-commands of ``dialogue-bot``: ``plan check PLAN.toml`` and ``rehearse PLAN.toml``."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from datetime import datetime
from pathlib import Path

from .clock import default_clock
from .domain.plan import Plan, PlanError, decode_plan, parse_plan

__all__ = ("cmd_plan_check", "cmd_rehearse", "register")

EXIT_INVALID = 2


def _read(path: str, *, allow_past: bool) -> Plan | None:
    """Read and validate a plan file; print every problem and return None if it is not valid."""
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        print(f"{path}: cannot read the file: {error.strerror or error}", file=sys.stderr)
        return None
    try:
        # Outside SimCord the bot's clock is the real one: relative openings are read from now.
        return parse_plan(decode_plan(data), default_clock(), allow_past=allow_past)
    except PlanError as error:
        print(
            f"{path}: not a valid plan ({len(error.problems)} {'problem' if len(error.problems) == 1 else 'problems'})",
            file=sys.stderr,
        )
        for problem in error.problems:
            print(f"{path}: {problem}", file=sys.stderr)
        return None


def describe(plan: Plan) -> list[str]:
    """A short summary of a valid plan, in the dialogue's local time and in UTC."""

    def when(moment: datetime) -> str:
        return f"{plan.local(moment):%a %Y-%m-%d %H:%M} {plan.timezone} ({moment:%Y-%m-%d %H:%M} UTC)"

    lines = [f"“{plan.title}”", f"  opens   {when(plan.opens_at)}", f"  closes  {when(plan.closes_at)}"]
    for number, question in enumerate(plan.questions, start=1):
        release = "at opening" if question.release_at is None else when(question.release_at)
        lines.append(f"  question {number}: {release}")
    for leader in plan.leaders:
        zone = leader.timezone or f"{plan.timezone} (the dialogue's, until they set theirs)"
        lines.append(f"  leader {leader.label}: {leader.commitment} posts a day, {zone}")
    return lines


def cmd_plan_check(args: argparse.Namespace) -> int:
    """Validate a plan without Discord; exit 0 only when it is valid."""
    plan = _read(args.plan, allow_past=False)
    if plan is None:
        return 1
    print(f"{args.plan}: valid plan")
    for line in describe(plan):
        print(line)
    return 0


def cmd_rehearse(args: argparse.Namespace) -> int:
    """Run the plan on the simulated Discord and write its timeline."""
    if args.participants < 0 or args.participants > 100:
        print("--participants: use a number from 0 to 100", file=sys.stderr)
        return EXIT_INVALID
    plan = _read(args.plan, allow_past=True)
    if plan is None:
        print("rehearsal not run: the plan is invalid", file=sys.stderr)
        return EXIT_INVALID
    # Errors show as they happen; warnings are counted and listed in the timeline, not flooded here.
    console = logging.StreamHandler()
    console.setLevel(logging.ERROR)
    console.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    logging.getLogger().addHandler(console)
    from .rehearsal import distinct, rehearse

    try:
        result = asyncio.run(rehearse(plan, participants=args.participants, out=Path(args.out), source=args.plan))
    finally:
        logging.getLogger().removeHandler(console)
    if result.path is not None:
        print(f"timeline written to {result.path}")
    if result.exports:
        print("exports written to " + ", ".join(str(path) for path in result.exports))
    if result.warnings:
        print(f"the bot logged {len(result.warnings)} warnings:", file=sys.stderr)
        for line in distinct(result.warnings, limit=5):
            print(f"  {line}", file=sys.stderr)
    if result.ok:
        print(f"rehearsal OK: {len(result.events)} events, {result.posts} placeholder posts")
        return 0
    print("rehearsal FAILED:", file=sys.stderr)
    for error in result.errors:
        print(f"  {error}", file=sys.stderr)
    return 1


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``plan check`` and ``rehearse`` to the command line."""
    plan = commands.add_parser("plan", help="work with plan files")
    plan_commands = plan.add_subparsers(dest="plan_command", required=True)
    check = plan_commands.add_parser("check", help="validate a plan file (no Discord needed)")
    check.add_argument("plan", metavar="PLAN.toml")
    check.set_defaults(handler=cmd_plan_check)

    rehearse = commands.add_parser("rehearse", help="run a plan offline on a simulated Discord and show its timeline")
    rehearse.add_argument("plan", metavar="PLAN.toml")
    rehearse.add_argument("--participants", type=int, default=8, metavar="N", help="synthetic participants (default 8)")
    rehearse.add_argument(
        "--out", default="rehearsal", metavar="DIR", help="where to write the timeline (default ./rehearsal/)"
    )
    rehearse.set_defaults(handler=cmd_rehearse)
