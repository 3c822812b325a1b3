"""The hidden-check runner: one outcome per check, each failure's first line, and no costly tracebacks."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.checks.runner import run_checks
from grader.course.settings import GraderSettings
from grader.pipeline.artifacts import Artifacts
from tests.submissions import GRADE_IDS


@pytest.mark.parametrize("assignment", sorted(GRADE_IDS))
def test_an_untouched_submission_fails_every_check_with_a_reason_and_no_traceback_formatted(
        assignment: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    styles: list[str] = []
    original = pytest.ExceptionInfo.getrepr

    def recording(self: pytest.ExceptionInfo, *args, **kwargs):
        styles.append(kwargs.get("style", "long"))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(pytest.ExceptionInfo, "getrepr", recording)
    parameters = GraderSettings().check_parameters(assignment)
    outcomes = run_checks(Artifacts(assignment, tmp_path, parameters, values={}, arrays={}, probes={}))
    assert {outcome.grade_id for outcome in outcomes} == set(GRADE_IDS[assignment])
    assert not any(outcome.passed for outcome in outcomes)
    assert all(outcome.message and "\n" not in outcome.message for outcome in outcomes)
    # pytest's own report reads and annotates the source of every frame: 0.1 to 0.7 s per untouched notebook
    assert styles == [], "no traceback should be formatted: the grader keeps each error's first line"
