"""A re-run pays only for what changed (issue 18): finished submissions cost a look at their stamp,
a killed run's results are recorded without grading them again, a changed file or ``--force`` is graded.

No notebook runs here: results.json files are written as grading would have written them, and
preparing to grade (workers, kernels, the sandbox check) fails the test if it is reached.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_markdown_cell

import grader.batch.bookkeeping
import grader.batch.resume
import grader.batch.run
from grader.batch.resume import STAMP, file_sha256, plan_run
from grader.batch.run import autograde_course, find_submissions
from grader.course.layout import autograded_folder, feedback_page, grade_points, source_notebook
from grader.results.gradebook import gradebook_url
from grader.results.gradebook_batch import GradebookSession
from grader.results.records import GradeResult, Status, SubmissionResult, read_results_json, write_results_json
from tests.gradebook_reading import gradebook_reading

QUIZ = "cnn_quiz"
STUDENTS = ("s1", "s2", "s3")


def graded_result(course: Path, student: str, fraction: float, status: Status = Status.OK) -> SubmissionResult:
    """What grading the student's quiz would have written: ``fraction`` of every grade id's points."""
    points = grade_points(nbformat.read(source_notebook(course, QUIZ), as_version=4))
    tests = tuple(GradeResult(grade_id, round(most * fraction, 4), most, "PASS: ok") for grade_id, most in
                  points.items())
    path = course / "submitted" / student / QUIZ / f"{QUIZ}.ipynb"
    return SubmissionResult(student, QUIZ, status, 2.0, "Graded.", tests, file_sha256(path))


@pytest.fixture
def course(repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Three quiz submissions whose results.json were written and never recorded (a run killed there)."""
    course = tmp_path / "course"
    for folder in ("source", "release"):
        shutil.copytree(repo / folder, course / folder)
    shutil.copy(repo / "nbgrader_config.py", course / "nbgrader_config.py")
    for number, student in enumerate(STUDENTS):
        notebook = nbformat.read(repo / "release" / QUIZ / f"{QUIZ}.ipynb", as_version=4)
        notebook.cells.append(new_markdown_cell(f"by {student}"))
        path = course / "submitted" / student / QUIZ / f"{QUIZ}.ipynb"
        path.parent.mkdir(parents=True)
        nbformat.write(notebook, path)
        write_results_json(autograded_folder(course, student, QUIZ) / "results.json",
                           graded_result(course, student, (number + 1) / 4))

    def no_grading(*args: object, **kwargs: object) -> None:
        raise AssertionError("nothing needed grading, yet grading was prepared")

    monkeypatch.setattr(grader.batch.run, "prepare_context", no_grading)
    return course


def scores_in_gradebook(course: Path) -> dict[str, float]:
    from nbgrader.api import Gradebook

    with Gradebook(gradebook_url(course)) as gradebook:
        return {submission.student.id: submission.score for submission in gradebook.assignment_submissions(QUIZ)}


def written(course: Path) -> dict[str, int]:
    """mtime of every file the coordinator writes."""
    files = [*(course / "autograded").rglob("*"), *(course / "feedback").rglob("*"), course / "gradebook.db"]
    return {str(path): path.stat().st_mtime_ns for path in files if path.is_file()}


def test_nothing_new_writes_nothing_hashes_nothing_and_starts_nothing(course: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    first = autograde_course(course)  # records the three: gradebook, feedback, stamps; grades nothing
    assert scores_in_gradebook(course) == {r.student: r.score for r in first} == {"s1": 3.5, "s2": 7.0, "s3": 10.5}
    assert all(feedback_page(course, s, QUIZ).is_file() and (autograded_folder(course, s, QUIZ) / STAMP).is_file()
               for s in STUDENTS)
    before = written(course)
    hashed: list[Path] = []
    monkeypatch.setattr(grader.batch.resume, "file_sha256", lambda path: hashed.append(path) or file_sha256(path))
    monkeypatch.setattr(grader.batch.bookkeeping, "write_feedback", None)  # calling it fails the test
    monkeypatch.setattr(GradebookSession, "record", None)
    again = autograde_course(course)
    assert [dataclasses.astuple(r) for r in again] == [dataclasses.astuple(r) for r in first]
    assert written(course) == before and hashed == []

    touched = course / "submitted" / "s2" / QUIZ / f"{QUIZ}.ipynb"  # same content, new mtime: hashed once
    os.utime(touched, ns=(touched.stat().st_atime_ns, touched.stat().st_mtime_ns + 10**9))
    assert [r.score for r in autograde_course(course)] == [r.score for r in first]
    assert set(hashed) == {touched}
    stamp = json.loads((autograded_folder(course, "s2", QUIZ) / STAMP).read_text())
    assert stamp["mtime_ns"] == touched.stat().st_mtime_ns
    hashed.clear()
    autograde_course(course)
    assert hashed == []


def test_a_run_killed_after_results_json_records_them_without_grading(course: Path) -> None:
    autograde_course(course)
    reading = gradebook_reading(gradebook_url(course), course / "before.csv")
    # s2 regraded (same file, new scores): its results.json written, killed before the gradebook
    (autograded_folder(course, "s2", QUIZ) / STAMP).unlink()
    write_results_json(autograded_folder(course, "s2", QUIZ) / "results.json", graded_result(course, "s2", 1.0))
    autograde_course(course)
    assert scores_in_gradebook(course) == {"s1": 3.5, "s2": 14.0, "s3": 10.5}
    assert "14.00 / 14.00" in feedback_page(course, "s2", QUIZ).read_text(encoding="utf-8")
    assert (autograded_folder(course, "s2", QUIZ) / STAMP).is_file()

    # the gradebook lost (or a class copied without it): every finished result is recorded again
    write_results_json(autograded_folder(course, "s2", QUIZ) / "results.json", graded_result(course, "s2", 0.5))
    (course / "gradebook.db").unlink()
    autograde_course(course)
    assert gradebook_reading(gradebook_url(course), course / "after.csv") == reading


def test_a_changed_file_a_grader_error_and_force_are_graded(course: Path) -> None:
    autograde_course(course)
    submissions = list(find_submissions(course, (QUIZ,)))
    changed = course / "submitted" / "s3" / QUIZ / f"{QUIZ}.ipynb"
    notebook = nbformat.read(changed, as_version=4)
    notebook.cells.append(new_markdown_cell("one more line"))
    nbformat.write(notebook, changed)
    failed = autograded_folder(course, "s1", QUIZ) / "results.json"
    write_results_json(failed, dataclasses.replace(read_results_json(failed, "s1", QUIZ), status=Status.GRADER_ERROR))
    earlier = {(s, QUIZ): read_results_json(autograded_folder(course, s, QUIZ) / "results.json", s, QUIZ)
               for s in STUDENTS}
    with GradebookSession(gradebook_url(course), {}) as gradebook:
        in_gradebook = gradebook.submitted()
    plan = plan_run(course, submissions, earlier, in_gradebook, force=False)
    assert [s.student for s in plan.to_grade] == ["s1", "s3"]
    assert [r.student for r in plan.done] == ["s2"] and plan.to_record == []
    forced = plan_run(course, submissions, earlier, in_gradebook, force=True)
    assert [s.student for s in forced.to_grade] == list(STUDENTS)
    with pytest.raises(AssertionError, match="grading was prepared"):
        autograde_course(course)
