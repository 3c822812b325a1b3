"""How a hidden check declares the grade id it counts for, and how results are collected.

A check is either a *value* check (the answer's values on the grader's own inputs: evidence that
it is right) or a *property* check (a shape, a dtype, whole numbers, weights that sum to 1, "is
a module", an answer consistent with the student's own other answers). A property holds for
many wrong answers too, so it earns its weight only when at least one value check of the same
grade id passes (:func:`earned_share`); docs/architecture.md says why.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pytest

VISIBILITIES = ("visible", "after_due_date", "after_published", "hidden")  # Gradescope's, least restrictive first


def grade(grade_id: str, weight: float = 1.0, *, evidence: bool = True, visibility: str = "visible"
          ) -> pytest.MarkDecorator:
    """Mark a check as counting ``weight`` shares of ``grade_id``'s points (``evidence=False``: a property).

    ``visibility`` (Gradescope's: ``visible``, ``hidden``, ``after_due_date``, ``after_published``) says when
    students may read what the check found; the feedback page says only that the check exists until then.
    """
    if visibility not in VISIBILITIES:
        raise ValueError(f"visibility {visibility!r} of a check of {grade_id!r}: expected one of {VISIBILITIES}")
    return pytest.mark.grade(grade_id=grade_id, weight=weight, evidence=evidence, visibility=visibility)


def grade_property(grade_id: str, weight: float = 1.0) -> pytest.MarkDecorator:
    """Mark a property check: it counts only when a value check of ``grade_id`` passes too."""
    return grade(grade_id, weight, evidence=False)


@dataclass(frozen=True)
class CheckOutcome:
    """One hidden check's verdict: passed or not, and what the student is told.

    ``evidence`` is False for a property check, which counts only beside a passing value check.
    """

    name: str
    grade_id: str
    weight: float
    passed: bool
    message: str
    evidence: bool = True
    visibility: str = "visible"


def has_evidence(outcomes: Sequence[CheckOutcome]) -> bool:
    """Whether a value check among ``outcomes`` passed; a check of weight 0 (a note to the student) is no evidence."""
    return any(outcome.passed and outcome.evidence and outcome.weight > 0 for outcome in outcomes)


def earned_share(outcomes: Sequence[CheckOutcome]) -> float:
    """The fraction of one grade id's points its checks earn: 0 unless a value check passed."""
    total = sum(outcome.weight for outcome in outcomes)
    if not total or not has_evidence(outcomes):
        return 0.0
    return sum(outcome.weight for outcome in outcomes if outcome.passed) / total


NOT_COUNTED = "(not counted: no check of your answer's values passed) "


def outcome_line(outcome: CheckOutcome, message: str, evidence: bool) -> str:
    """``PASS: message`` or ``FAIL: message``; a property that held without evidence says it did not count."""
    if not outcome.passed:
        return f"FAIL: {message}"
    return "PASS: " + ("" if outcome.evidence or evidence else NOT_COUNTED) + message


def most_restrictive(visibilities: Sequence[str]) -> str:
    """The visibility of a part whose checks have ``visibilities``: the most restrictive of them."""
    return max(visibilities, key=VISIBILITIES.index, default="visible")


def withheld_line(outcome: CheckOutcome) -> str:
    """What a student's feedback says of a check they may not read yet: that it exists, not what it tests."""
    when = {"hidden": "is not shown to students", "after_due_date": "is shown after the due date",
            "after_published": "is shown once grades are published"}[outcome.visibility]
    return f"A hidden check of this part {when}."


def first_line(error: BaseException) -> str:
    """The message of an assertion, without pytest's rewritten ``assert ...`` explanation."""
    text = str(error).strip()
    if not text:
        return type(error).__name__
    line = text.splitlines()[0]
    return line if isinstance(error, AssertionError) else f"{type(error).__name__}: {line}"
