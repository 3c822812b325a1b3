"""The batched gradebook (one session, one transaction per batch) reads exactly as nbgrader's own calls,
one result at a time, left it: nbgrader's export, formgrader's totals, every grade's auto score."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest

from grader.course.layout import grade_points, source_notebook
from grader.results.gradebook import ensure_student, put_tools_on_path, record_in_gradebook, record_source_cells
from grader.results.gradebook_batch import GradebookSession
from grader.results.records import GradeResult, Status, SubmissionResult, all_results
from tests.gradebook_reading import gradebook_reading
from tests.submissions import ASSIGNMENTS

FRACTIONS = (1.0, 0.5, 0.0, 1 / 3, 0.25, 0.7)


def course_with_sources(repo: Path, course: Path, assignments: tuple[str, ...]) -> Path:
    """The repo's notebooks and config, the source cells of ``assignments`` recorded in a new gradebook."""
    for folder in ("source", "release"):
        shutil.copytree(repo / folder, course / folder)
    shutil.copy(repo / "nbgrader_config.py", course / "nbgrader_config.py")
    put_tools_on_path()
    for assignment in assignments:
        record_source_cells(course, assignment)
    return course


def sources(course: Path, assignments: tuple[str, ...]) -> dict[str, nbformat.NotebookNode]:
    return {a: nbformat.read(source_notebook(course, a), as_version=4) for a in assignments}


def synthetic_results(course: Path, students: list[str], turn: int) -> list[SubmissionResult]:
    """A result per student and assignment, scores varying with ``turn``; some grader errors, some grade ids
    missing from the tests."""
    results = []
    for i, (student, assignment) in enumerate((s, a) for s in students for a in ASSIGNMENTS):
        points = grade_points(nbformat.read(source_notebook(course, assignment), as_version=4))
        tests = [GradeResult(grade_id, round(most * FRACTIONS[(i + j + turn) % len(FRACTIONS)], 4), most, "out")
                 for j, (grade_id, most) in enumerate(points.items())]
        if (i + turn) % 5 == 2:
            tests = tests[:-1]  # a grade id the checks did not score: its cells get 0
        status = Status.GRADER_ERROR if (i + turn) % 7 == 3 else Status.OK
        results.append(SubmissionResult(student, assignment, status, 1.0, "", tuple(tests)))
    return results


def test_batched_writes_read_as_nbgraders_own_calls_on_the_example_class(repo: Path, tmp_path: Path) -> None:
    unbatched = course_with_sources(repo, tmp_path / "unbatched", ASSIGNMENTS)
    batched = tmp_path / "batched"
    shutil.copytree(unbatched, batched)
    students = sorted(path.name for path in (repo / "submitted").iterdir() if path.is_dir())
    assert len(students) >= 4
    # as autograde runs: the students found are added first, then results come in the order grading ends
    runs = [(students, synthetic_results(unbatched, students, 0)[::-1]),
            (students[1:3] + ["late student"], synthetic_results(unbatched, students[1:3] + ["late student"], 1))]
    for found, results in runs:  # before: nbgrader's own calls, a Gradebook per student and per result
        for student in found:
            ensure_student(f"sqlite:///{unbatched / 'gradebook.db'}", student)
        for result in results:
            record_in_gradebook(f"sqlite:///{unbatched / 'gradebook.db'}", result, sources(unbatched, ASSIGNMENTS)[
                result.assignment])
    with GradebookSession(f"sqlite:///{batched / 'gradebook.db'}", sources(batched, ASSIGNMENTS)) as gradebook:
        for found, results in runs:
            gradebook.add_students(found)
            gradebook.record(results[:7])  # regraded submissions (the second run) and new ones, in batches
            gradebook.record(results[7:])
        assert gradebook.submitted() == {(r.student, r.assignment) for _, results in runs for r in results}

    expected = gradebook_reading(f"sqlite:///{unbatched / 'gradebook.db'}", tmp_path / "unbatched.csv")
    found = gradebook_reading(f"sqlite:///{batched / 'gradebook.db'}", tmp_path / "batched.csv")
    assert found == expected
    scores = [row[4] for row in expected["grades"] if row[4] is not None]
    assert len(set(scores)) > 3 and max(scores) > 0  # varied scores were written, not only zeros


def test_a_failed_batch_writes_nothing(repo: Path, tmp_path: Path) -> None:
    course = course_with_sources(repo, tmp_path / "course", ("cnn_quiz",))
    good = synthetic_results(course, ["ada"], 0)
    quiz = [result for result in good if result.assignment == "cnn_quiz"]
    other = [result for result in good if result.assignment != "cnn_quiz"]  # no source cells: refused
    with GradebookSession(f"sqlite:///{course / 'gradebook.db'}", sources(course, ASSIGNMENTS)) as gradebook:
        with pytest.raises(Exception):  # noqa: B017 - nbgrader's MissingEntry
            gradebook.record(quiz + other[:1])
        assert gradebook.submitted() == set()
        gradebook.record(quiz)
        assert gradebook.submitted() == {("ada", "cnn_quiz")}


def test_the_graded_class_reads_as_with_nbgraders_own_calls(repo: Path, graded_course: Path, tmp_path: Path) -> None:
    """The default tier's graded class, recorded in batches by ``autograde_course``, against its results recorded
    again one at a time with nbgrader's calls in a fresh gradebook."""
    results = all_results(graded_course, ASSIGNMENTS)
    assert len(results) >= 10
    unbatched = course_with_sources(repo, tmp_path / "unbatched", ASSIGNMENTS)
    shutil.copy(graded_course / "nbgrader_config.py", unbatched / "nbgrader_config.py")
    for result in results:
        record_in_gradebook(f"sqlite:///{unbatched / 'gradebook.db'}", result,
                            sources(unbatched, ASSIGNMENTS)[result.assignment])
    expected = gradebook_reading(f"sqlite:///{unbatched / 'gradebook.db'}", tmp_path / "unbatched.csv")
    found = gradebook_reading(f"sqlite:///{graded_course / 'gradebook.db'}", tmp_path / "batched.csv")
    assert found == expected
