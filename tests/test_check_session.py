"""One pytest session per grading process: the same outcomes as a pytest run per submission, run after run."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from grader.checks import runner, session
from grader.checks.session import CheckSession, CheckSessionError
from grader.course.settings import GraderSettings
from grader.pipeline.artifacts import Artifacts
from tests.submissions import GRADE_IDS

ASSIGNMENTS = tuple(sorted(GRADE_IDS))


def untouched(assignment: str, folder: Path) -> Artifacts:
    parameters = GraderSettings().check_parameters(assignment)
    return Artifacts(assignment, folder, parameters, values={}, arrays={}, probes={})


@pytest.fixture(scope="module")
def checks() -> Iterator[CheckSession]:
    started = CheckSession(ASSIGNMENTS)
    yield started
    started.close()


def test_each_run_equals_a_pytest_run_of_its_own(checks: CheckSession, tmp_path: Path) -> None:
    for assignment in (*ASSIGNMENTS, *reversed(ASSIGNMENTS)):  # every assignment, twice, interleaved
        artifacts = untouched(assignment, tmp_path)
        served = checks.run(artifacts)
        assert served == runner.run_checks(artifacts)
        assert {outcome.grade_id for outcome in served} == set(GRADE_IDS[assignment])
        assert not any(outcome.passed for outcome in served)


def test_a_session_saves_pytest_start_up(checks: CheckSession, tmp_path: Path) -> None:
    artifacts = untouched("cnn_quiz", tmp_path)
    timings = {}
    for name, run in (("session", checks.run), ("pytest.main", runner.run_checks)):
        run(artifacts)
        started = time.perf_counter()
        for _ in range(5):
            run(artifacts)
        timings[name] = (time.perf_counter() - started) / 5
    print(f"checks of an untouched cnn_quiz: {timings}")  # measured, not gated (machines are noisy)
    assert checks.run(artifacts) == runner.run_checks(artifacts)


def test_a_closed_session_refuses_runs_and_the_grader_falls_back(tmp_path: Path) -> None:
    closed = CheckSession(("cnn_quiz",))
    closed.close()
    assert not closed.running
    with pytest.raises(CheckSessionError):
        closed.run(untouched("cnn_quiz", tmp_path))
    session.start_check_session(("cnn_quiz",))
    try:
        session._active.close()  # the session ends under the grader: it grades on without it
        outcomes = session.run_checks(untouched("cnn_quiz", tmp_path))
        assert {outcome.grade_id for outcome in outcomes} == set(GRADE_IDS["cnn_quiz"])
    finally:
        session.stop_check_session()
