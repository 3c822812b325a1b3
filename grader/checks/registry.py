"""How a hidden check declares the grade id it counts for, and how results are collected."""

from __future__ import annotations

from dataclasses import dataclass

import pytest


def grade(grade_id: str, weight: float = 1.0) -> pytest.MarkDecorator:
    """Mark a check as counting ``weight`` shares of ``grade_id``'s points."""
    return pytest.mark.grade(grade_id=grade_id, weight=weight)


@dataclass(frozen=True)
class CheckOutcome:
    """One hidden check's verdict: passed or not, and what the student is told."""

    name: str
    grade_id: str
    weight: float
    passed: bool
    message: str


def first_line(error: BaseException) -> str:
    """The message of an assertion, without pytest's rewritten ``assert ...`` explanation."""
    text = str(error).strip()
    if not text:
        return type(error).__name__
    line = text.splitlines()[0]
    return line if isinstance(error, AssertionError) else f"{type(error).__name__}: {line}"
