"""Stand-ins for grader.batch.pool's tests that run in its spawned processes: light to import, no real grading.

A spawned pool process imports what it unpickles; these import only grader.results.records, so a pool
of them starts in well under a second where a real grading process takes seconds.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from grader.results.records import Status, SubmissionResult
from tests.submissions import GRADE_IDS

QUIZ = "cnn_quiz"


@dataclass(frozen=True)
class PretendSubmission:
    """What grader.batch.pool reads of a submission: who, which assignment (and a path, unused)."""

    student: str
    assignment: str = QUIZ
    path: Path = Path("unused.ipynb")


@dataclass(frozen=True)
class PretendContext:
    """What grader.batch.pool reads of a context: the points per grade id; ``course`` holds the attempt notes."""

    course: Path
    points: dict[str, dict[str, float]] = field(default_factory=lambda: {QUIZ: dict.fromkeys(GRADE_IDS[QUIZ], 2.0)})


def start_nothing() -> None:
    """A grading process's start, for pools that do not grade for real."""


def pretend_or_die(submission: PretendSubmission, context: PretendContext) -> SubmissionResult:
    """Notes the attempt; a ``crash*`` student kills its process after 0.2 s, the others pass after 0.6 s."""
    with (context.course / f"{submission.student}.attempts").open("a") as attempts:
        attempts.write(f"{os.getpid()}\n")
    time.sleep(0.2 if submission.student.startswith("crash") else 0.6)
    if submission.student.startswith("crash"):
        os._exit(70)
    return SubmissionResult(submission.student, QUIZ, Status.OK, 0.0, "pretended", ())


def raise_always(submission: PretendSubmission, context: PretendContext) -> SubmissionResult:
    """Raises for every submission: a failure that is not a crash."""
    raise RuntimeError(f"no grading for {submission.student} today")
