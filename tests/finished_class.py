"""A finished class of any size, made without grading: for the report's tests and bench/grow.py.

The bundled class's notebooks (``submitted/``) are copied as the first students' notebooks and
hard-linked into the next students' ``submitted/student-NNNNN/<assignment>/`` in rotation, so
that a class of 10,000 costs 20 files of disk. Every name of a linked file stays inside
``submitted/``: the grader refuses a hard link to a file outside it (grader/pipeline/ingest.py).
Each one gets a ``results.json`` written as the grader writes it
(grader.results.records), with the SHA-256 of its notebook, so ``grader autograde`` takes it as
finished. Scores and statuses are made up from the submission's number, deterministically:
they exercise the report, they are not anyone's grade.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import nbformat

from grader.course.layout import autograded_folder, grade_points, source_notebook
from grader.results.records import GradeResult, Status, SubmissionResult, write_results_json
from tests.submissions import ASSIGNMENTS

STATUSES = (Status.OK,) * 20 + (  # 23: every assignment gets each status
    Status.CELL_TIMEOUT, Status.KERNEL_DIED, Status.INVALID_NOTEBOOK)


def bundled_submissions(repo: Path) -> list[tuple[str, str]]:
    """(student, assignment) of every notebook of the bundled class, sorted."""
    return sorted((path.parent.parent.name, path.parent.name)
                  for path in (repo / "submitted").glob("*/*/*.ipynb") if path.parent.name in ASSIGNMENTS)


def finished_student(index: int) -> str:
    """The id of the ``index``-th student of a finished class."""
    return f"student-{index:05d}"


def made_up_result(student: str, assignment: str, number: int, points: dict[str, float],
                   digest: str) -> SubmissionResult:
    """The result of submission ``number``: each grade id full, half or no marks, in a rotation of its own."""
    status = STATUSES[number % len(STATUSES)]
    tests = []
    for position, (grade_id, most) in enumerate(points.items()):
        share = 0.0 if status is not Status.OK else (1.0, 0.5, 0.0, 1.0)[(number + position) % 4]
        message = "PASS: as expected" if share == 1.0 else f"FAIL: {grade_id} differs from the expected value"
        tests.append(GradeResult(grade_id, share * most, most, message))
    seconds = 1.0 + (number * 7919) % 600 / 10
    return SubmissionResult(student, assignment, status, seconds, "", tuple(tests), digest)


def make_finished_class(repo: Path, root: Path, size: int) -> Path:
    """``root/course``: the repo's course with ``size`` finished submissions, five assignments per student.

    Its first notebooks are files of their own; :func:`first_notebooks` names them, to link more to.
    """
    course = root / "course"
    for folder in ("source", "release"):
        shutil.copytree(repo / folder, course / folder)
    shutil.copy(repo / "nbgrader_config.py", course / "nbgrader_config.py")
    bundled = bundled_submissions(repo)
    owners = sorted({student for student, _ in bundled})
    points = {a: grade_points(nbformat.read(source_notebook(course, a), as_version=4)) for a in ASSIGNMENTS}
    digests, firsts = {}, {}
    for number in range(size):
        assignment = ASSIGNMENTS[number % len(ASSIGNMENTS)]
        student = finished_student(number // len(ASSIGNMENTS))
        owner = owners[(number // len(ASSIGNMENTS)) % len(owners)]
        target = course / "submitted" / student / assignment / f"{assignment}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        if (owner, assignment) in firsts:
            target.hardlink_to(firsts[(owner, assignment)])
        else:
            shutil.copy(repo / "submitted" / owner / assignment / f"{assignment}.ipynb", target)
            firsts[(owner, assignment)] = target
            digests[(owner, assignment)] = hashlib.sha256(target.read_bytes()).hexdigest()
        result = made_up_result(student, assignment, number, points[assignment], digests[(owner, assignment)])
        write_results_json(autograded_folder(course, student, assignment) / "results.json", result)
    return course


def first_notebooks(course: Path) -> dict[tuple[str, str], Path]:
    """(bundled student, assignment) -> the finished class's own copy of that notebook."""
    bundled = bundled_submissions(Path(__file__).resolve().parent.parent)
    owners = sorted({student for student, _ in bundled})
    found = {}
    for index, owner in enumerate(owners):
        for assignment in ASSIGNMENTS:
            path = course / "submitted" / finished_student(index) / assignment / f"{assignment}.ipynb"
            if path.is_file():
                found[(owner, assignment)] = path
    return found
