"""A grading run killed with SIGKILL halfway finishes on the next run without redoing finished work."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from tests.submissions import Variant, build

QUIZ = "cnn_quiz"
STUDENTS = ["s1", "s2", "s3", "s4"]


def grader(course: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "grader", "autograde", "--course", str(course),
                             "--workers", "1", *extra],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def results_of(course: Path) -> dict[str, Path]:
    return {p.parent.parent.name: p for p in (course / "autograded").glob(f"*/{QUIZ}/results.json")}


@pytest.mark.slow
def test_killed_run_resumes_and_regrading_gives_the_same_scores(repo: Path, tmp_path: Path) -> None:
    course = tmp_path / "course"
    for folder in ("source", "release"):
        shutil.copytree(repo / folder, course / folder)
    shutil.copy(repo / "nbgrader_config.py", course / "nbgrader_config.py")
    for student in STUDENTS:
        target = course / "submitted" / student / QUIZ / f"{QUIZ}.ipynb"
        target.parent.mkdir(parents=True)
        nbformat.write(build(course, Variant(student, QUIZ)), target)

    first = grader(course)
    deadline = time.monotonic() + 240
    while not results_of(course) and time.monotonic() < deadline:
        time.sleep(0.2)
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    kept = results_of(course)
    assert 1 <= len(kept) < len(STUDENTS), "the first run should have been stopped halfway"
    before = {student: (path.stat().st_mtime_ns, path.read_bytes()) for student, path in kept.items()}

    assert grader(course).wait(timeout=600) == 0
    after = results_of(course)
    assert sorted(after) == STUDENTS
    for student, (mtime, content) in before.items():
        assert (after[student].stat().st_mtime_ns, after[student].read_bytes()) == (mtime, content)
    rows = (course / "grades.csv").read_text(encoding="utf-8").splitlines()[1:]
    assert sorted(row.split(",")[0] for row in rows) == STUDENTS

    scores = {s: json.loads(p.read_text())["score"] for s, p in after.items()}
    assert grader(course, "--force").wait(timeout=600) == 0
    assert {s: json.loads(p.read_text())["score"] for s, p in results_of(course).items()} == scores

    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        assert sorted(s.student.id for s in gradebook.assignment_submissions(QUIZ)) == STUDENTS
