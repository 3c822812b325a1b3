"""The gradebook on PostgreSQL: grading, nbgrader's export and feedback against a real server.

``postgres_url`` (tests/conftest.py) starts a throwaway server on 127.0.0.1; the course's
``nbgrader_config.py`` points ``c.CourseDirectory.db_url`` at it, as an instructor would.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from grader.batch.run import autograde_course
from grader.course.layout import CourseError
from grader.results.gradebook import gradebook_url
from grader.results.records import SubmissionResult
from tests.submissions import GRADE_IDS, Variant, build

QUIZ = "cnn_quiz"
EXPECTED = {"reference": 14.0, "untouched": 0.0}  # the instructor's solution, the release as handed out


@dataclass(frozen=True)
class GradedCourse:
    """A course graded once against PostgreSQL, with what that run returned."""

    path: Path
    db_url: str
    results: dict[str, SubmissionResult]


def make_course(repo: Path, root: Path, db_url: str) -> Path:
    """The repo's notebooks, its config plus ``db_url``, and the two quiz submissions."""
    course = root / "course"
    for folder in ("source", "release"):
        shutil.copytree(repo / folder, course / folder)
    config = (repo / "nbgrader_config.py").read_text(encoding="utf-8")
    (course / "nbgrader_config.py").write_text(f"{config}\nc.CourseDirectory.db_url = {db_url!r}\n", encoding="utf-8")
    for student in EXPECTED:
        target = course / "submitted" / student / QUIZ / f"{QUIZ}.ipynb"
        target.parent.mkdir(parents=True)
        if student == "reference":
            nbformat.write(build(course, Variant(student, QUIZ)), target)
        else:
            shutil.copy(repo / "release" / QUIZ / f"{QUIZ}.ipynb", target)
    return course


@pytest.fixture(scope="module")
def graded(repo: Path, postgres_url: str, tmp_path_factory: pytest.TempPathFactory) -> GradedCourse:
    """The quiz course graded once, its gradebook on the PostgreSQL server."""
    course = make_course(repo, tmp_path_factory.mktemp("postgres"), postgres_url)
    results = autograde_course(course, (QUIZ,), workers=1)
    return GradedCourse(course, postgres_url, {result.student: result for result in results})


def gradebook_scores(db_url: str) -> dict[str, tuple[float, float]]:
    """(score, max score) per student of the quiz, as nbgrader's Gradebook reads them."""
    with Gradebook(db_url) as gradebook:
        return {submission.student.id: (submission.score, submission.max_score)
                for submission in gradebook.assignment_submissions(QUIZ)}


def results_json(course: Path, student: str) -> Path:
    return course / "autograded" / student / QUIZ / "results.json"


def test_grading_gives_the_reference_full_marks_and_the_release_zero(graded: GradedCourse) -> None:
    assert {student: (result.status.value, result.score) for student, result in graded.results.items()} == {
        student: ("OK", score) for student, score in EXPECTED.items()}
    assert [test.grade_id for test in graded.results["reference"].tests] == list(GRADE_IDS[QUIZ])


def test_postgres_gradebook_holds_the_scores_of_the_results(graded: GradedCourse) -> None:
    assert gradebook_scores(graded.db_url) == {student: (score, 14.0) for student, score in EXPECTED.items()}
    for student in EXPECTED:
        assert json.loads(results_json(graded.path, student).read_text())["score"] == EXPECTED[student]
    with Gradebook(graded.db_url) as gradebook:  # the source cells generate_assignment recorded
        notebook = gradebook.find_notebook(QUIZ, QUIZ)
        assert notebook.max_score == 14.0 and len(notebook.source_cells) >= len(GRADE_IDS[QUIZ])
        grades = gradebook.find_submission_notebook(QUIZ, QUIZ, "reference").grades
        assert sum(grade.auto_score for grade in grades) == pytest.approx(14.0)


def test_no_sqlite_gradebook_is_created(graded: GradedCourse) -> None:
    assert not (graded.path / "gradebook.db").exists()
    assert not [path for path in graded.path.rglob("*") if path.suffix in (".db", ".sqlite", ".sqlite3")]


def test_nbgrader_export_reads_the_postgres_gradebook(graded: GradedCourse) -> None:
    scripts = str(Path(sys.executable).parent)  # nbgrader runs alembic by name
    env = {**os.environ, "PATH": f"{scripts}{os.pathsep}{os.environ.get('PATH', '')}"}
    exported = graded.path / "nbgrader-export.csv"
    done = subprocess.run([sys.executable, "-m", "nbgrader", "export", "--to", exported.name],
                          cwd=graded.path, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    with exported.open(newline="", encoding="utf-8") as stream:
        rows = {row["student_id"]: row for row in csv.DictReader(stream)}
    assert {student: (float(row["score"]), float(row["max_score"]), row["assignment"])
            for student, row in rows.items()} == {student: (score, 14.0, QUIZ) for student, score in EXPECTED.items()}
    assert not (graded.path / "gradebook.db").exists(), "nbgrader export fell back to SQLite"


def test_feedback_is_written_for_each_submission(graded: GradedCourse) -> None:
    for student, score in EXPECTED.items():
        page = (graded.path / "feedback" / student / QUIZ / f"{QUIZ}.html").read_text(encoding="utf-8")
        assert f"<strong>{score:.2f} / 14.00</strong>" in page
        assert all(f"<code>{grade_id}</code>" in page for grade_id in GRADE_IDS[QUIZ])


def test_grading_again_reuses_results_and_regrading_keeps_the_gradebook(graded: GradedCourse) -> None:
    kept = {student: results_json(graded.path, student).stat().st_mtime_ns for student in EXPECTED}
    again = autograde_course(graded.path, (QUIZ,), workers=1)
    assert {result.student: result.score for result in again} == EXPECTED
    assert {student: results_json(graded.path, student).stat().st_mtime_ns for student in EXPECTED} == kept
    assert gradebook_scores(graded.db_url) == {student: (score, 14.0) for student, score in EXPECTED.items()}

    regraded = autograde_course(graded.path, (QUIZ,), workers=1, force=True)
    assert {result.student: (result.status.value, result.score) for result in regraded} == {
        student: ("OK", score) for student, score in EXPECTED.items()}
    assert gradebook_scores(graded.db_url) == {student: (score, 14.0) for student, score in EXPECTED.items()}
    assert not (graded.path / "gradebook.db").exists()


def test_a_gradebook_that_cannot_be_opened_stops_grading_with_the_cause(postgres_url: str, tmp_path: Path) -> None:
    wrong = [(postgres_url.rsplit("/", 1)[0] + "/no_such_gradebook", 'database "no_such_gradebook" does not exist')]
    if importlib.util.find_spec("psycopg") is None:  # SQLAlchemy 2.1 reads a bare postgresql:// as psycopg 3
        wrong.append((postgres_url.replace("postgresql+psycopg2://", "postgresql://"), "write postgresql[+]psycopg2"))
    for db_url, cause in wrong:
        (tmp_path / "nbgrader_config.py").write_text(f"c.CourseDirectory.db_url = {db_url!r}\n", encoding="utf-8")
        with pytest.raises(CourseError, match=cause):
            gradebook_url(tmp_path)
