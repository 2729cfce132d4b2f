"""The anonymous feedback survey, pure: its questions, its window, checking an answer, and the results.

Who answered is never kept: a repeat is detected by a keyed one-way hash of the member id (HMAC-SHA256 with a
random secret per dialogue), and the results are counts and texts in random order.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import random
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from .errors import DialogueError, InvalidInput

__all__ = (
    "ANSWER_LIMIT",
    "DEFAULT_QUESTIONS",
    "MAX_QUESTIONS",
    "MAX_SURVEY_DAYS",
    "QUESTION_LIMIT",
    "RATINGS",
    "SurveyAnswer",
    "SurveyConfig",
    "SurveyPhase",
    "SurveyResponse",
    "SurveyResults",
    "aggregate",
    "check_answer",
    "new_secret",
    "parse_rating",
    "respondent_key",
    "survey_deadline",
    "survey_phase",
)

RATINGS = (1, 2, 3, 4, 5)
MAX_QUESTIONS = 3
# A modal's Label shows at most 45 characters; longer questions go in its description (at most 100).
QUESTION_LIMIT = 100
ANSWER_LIMIT = 1000
MAX_SURVEY_DAYS = 365
DEFAULT_QUESTIONS = (
    "What was most useful to you in this dialogue?",
    "What should we do differently next time?",
)


@dataclass(frozen=True, slots=True)
class SurveyConfig:
    """A dialogue's survey as its plan set it: ``None`` means the default questions or the configured days."""

    questions: tuple[str, ...] | None = None
    days: int | None = None

    def resolved_questions(self) -> tuple[str, ...]:
        """The questions the form asks."""
        return DEFAULT_QUESTIONS if self.questions is None else self.questions

    def resolved_days(self, default_days: int) -> int:
        """How many days after the close the survey stays open."""
        return default_days if self.days is None else self.days


class SurveyPhase(enum.Enum):
    """Whether a dialogue's survey takes answers now."""

    NOT_YET = "not yet"
    OPEN = "open"
    ENDED = "ended"


def survey_deadline(closed_at: datetime, days: int) -> datetime:
    """The moment the survey stops taking answers."""
    return closed_at + timedelta(days=days)


def survey_phase(closed_at: datetime | None, days: int, now: datetime) -> SurveyPhase:
    """Answers are taken from the close until ``days`` after it; never before the close."""
    if closed_at is None:
        return SurveyPhase.NOT_YET
    return SurveyPhase.OPEN if now < survey_deadline(closed_at, days) else SurveyPhase.ENDED


@dataclass(frozen=True, slots=True)
class SurveyAnswer:
    """One person's checked answer: a rating (or none) and one text per question ('' when skipped)."""

    rating: int | None
    texts: tuple[str, ...]


def parse_rating(value: str | None) -> int | None:
    """Read the radio group's value: nothing chosen is None; anything but 1 to 5 is refused."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if not text.isascii() or not text.isdigit() or int(text) not in RATINGS:
        raise InvalidInput("Usefulness", "the rating must be a whole number from 1 to 5. Nothing was saved.")
    return int(text)


def check_answer(rating: str | None, texts: Sequence[str], questions: int) -> SurveyAnswer:
    """Check a submitted form; refuse an empty one, a rating outside 1-5 or an overlong text."""
    cleaned = [text.strip() for text in texts]
    if any(cleaned[questions:]):
        raise DialogueError("This form asks fewer questions than were answered. Nothing was saved.")
    value = parse_rating(rating)
    cleaned = cleaned[:questions] + [""] * (questions - len(cleaned))
    for number, text in enumerate(cleaned, start=1):
        if len(text) > ANSWER_LIMIT:
            raise InvalidInput(
                f"Question {number}",
                f"the answer has {len(text):,} characters; the limit is {ANSWER_LIMIT:,}. Nothing was saved.",
            )
    if value is None and not any(cleaned):
        raise DialogueError("Nothing was saved: choose a rating or write an answer to at least one question.")
    return SurveyAnswer(value, tuple(cleaned))


def new_secret() -> bytes:
    """A fresh random key for one dialogue's respondent hashes."""
    return secrets.token_bytes(32)


def respondent_key(secret: bytes, user_id: int) -> str:
    """The keyed one-way hash that recognises a repeat answer without storing who gave it."""
    return hmac.new(secret, str(user_id).encode("ascii"), hashlib.sha256).hexdigest()


@dataclass(frozen=True, slots=True)
class SurveyResponse:
    """A stored response as read back: nothing in it says whose it is."""

    rating: int | None
    texts: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SurveyResults:
    """What facilitators see: how many answered, the ratings, and each question's answers in random order."""

    responses: int
    distribution: tuple[tuple[int, int], ...]  # (rating, count) for 1..5
    mean: float | None
    rated: int
    answers: tuple[tuple[str, tuple[str, ...]], ...]  # (question, texts)


def aggregate(
    responses: Iterable[SurveyResponse], questions: Sequence[str], rng: random.Random | None = None
) -> SurveyResults:
    """Count the responses, tally the ratings and shuffle each question's texts (never submission order)."""
    shuffler = rng or random.SystemRandom()
    counts = dict.fromkeys(RATINGS, 0)
    texts: list[list[str]] = [[] for _ in questions]
    total = 0
    for response in responses:
        total += 1
        if response.rating is not None:
            counts[response.rating] += 1
        for index, text in enumerate(response.texts[: len(questions)]):
            if text:
                texts[index].append(text)
    for bucket in texts:
        shuffler.shuffle(bucket)
    rated = sum(counts.values())
    mean = sum(rating * count for rating, count in counts.items()) / rated if rated else None
    return SurveyResults(
        responses=total,
        distribution=tuple(counts.items()),
        mean=mean,
        rated=rated,
        answers=tuple((question, tuple(bucket)) for question, bucket in zip(questions, texts, strict=True)),
    )
