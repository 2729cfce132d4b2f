"""A plan's records: a whole dialogue written once (title, window, questions, leaders, reminder settings)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from ..errors import DialogueError
from ..models import AfterClose, DialogueDraft

__all__ = (
    "DEFAULT_COMMITMENT",
    "MAX_LEADERS",
    "MAX_PLAN_BYTES",
    "Plan",
    "PlanError",
    "PlanLeader",
    "PlanProblem",
    "PlanQuestion",
    "shift_weeks",
)

MAX_LEADERS = 50
DEFAULT_COMMITMENT = 2
MAX_PLAN_BYTES = 256 * 1024


@dataclass(frozen=True, slots=True)
class PlanProblem:
    """One thing wrong with a plan: where (a key path such as ``questions[2].release``) and what."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class PlanError(DialogueError):
    """A plan that cannot be used; ``problems`` lists every problem found, in file order."""

    def __init__(self, problems: list[PlanProblem]) -> None:
        self.problems = tuple(problems)
        count = len(self.problems)
        heading = "The plan has 1 problem:" if count == 1 else f"The plan has {count} problems:"
        super().__init__(heading + "\n" + "\n".join(f"- {problem}" for problem in self.problems))


@dataclass(frozen=True, slots=True)
class PlanQuestion:
    """A seed question in a plan, released at opening or at its own time."""

    text: str
    # None: the thread is created at opening.
    release_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class PlanLeader:
    """A conversation leader named in a plan, by user id or username."""

    # A Discord user id, or a username (lowercase, as Discord shows it under "Username").
    user: int | str
    commitment: int = DEFAULT_COMMITMENT
    timezone: str | None = None
    checkin_hour: int | None = None

    @property
    def label(self) -> str:
        """How the leader is named in messages: the id, or ``@username``."""
        return str(self.user) if isinstance(self.user, int) else f"@{self.user}"


@dataclass(frozen=True, slots=True)
class Plan:
    """A validated plan; every instant is aware UTC."""

    title: str
    framing: str
    timezone: str
    opens_at: datetime
    closes_at: datetime
    questions: tuple[PlanQuestion, ...]
    leaders: tuple[PlanLeader, ...] = ()
    checkin_hour: int | None = None
    unanswered_after: timedelta | None = None
    # What happens at the window's end: lock, or keep taking comments until the summary (``dialogue.after_close``).
    after_close: AfterClose = AfterClose.LOCK
    # How the opening was written, when it was relative to the moment of reading ("now", "in 2d").
    relative_opening: str | None = field(default=None, compare=False)

    @property
    def zone(self) -> ZoneInfo:
        """The plan's time zone."""
        return ZoneInfo(self.timezone)

    def draft(self) -> DialogueDraft:
        """The dialogue this plan creates (without its leaders and reminder settings)."""
        return DialogueDraft(
            title=self.title,
            framing=self.framing,
            questions=tuple(q.text for q in self.questions),
            timezone=self.timezone,
            opens_at=self.opens_at,
            closes_at=self.closes_at,
            releases=tuple(q.release_at for q in self.questions),
            after_close=self.after_close,
        )

    def local(self, moment: datetime) -> datetime:
        """Return ``moment`` on the dialogue's wall clock."""
        return moment.astimezone(self.zone)


def shift_weeks(plan: Plan, weeks: int) -> Plan:
    """Move every instant of the plan by whole weeks on its own wall clock (weekday and time of day kept)."""
    if weeks == 0:
        return plan
    zone = plan.zone

    def move(moment: datetime) -> datetime:
        local = moment.astimezone(zone).replace(tzinfo=None) + timedelta(weeks=weeks)
        shifted = local.replace(tzinfo=zone).astimezone(UTC)
        return shifted

    return replace(
        plan,
        opens_at=move(plan.opens_at),
        closes_at=move(plan.closes_at),
        questions=tuple(
            replace(q, release_at=None if q.release_at is None else move(q.release_at)) for q in plan.questions
        ),
    )
