"""The course folder layout (nbgrader's) and the grade ids of a source notebook.

Which assignments a course has, and their folders, is :mod:`grader.course.catalog`'s.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any


class CourseError(ValueError):
    """A course folder, assignment or notebook that does not match the contract."""

    def __init__(self, message: str, *, path: str = "", assignment: str = "") -> None:
        super().__init__(message)
        self.path = path
        self.assignment = assignment


def source_notebook(course_root: Path, assignment: str) -> Path:
    """Where the instructor notebook of ``assignment`` lives."""
    return Path(course_root) / "source" / assignment / f"{assignment}.ipynb"


def release_notebook(course_root: Path, assignment: str) -> Path:
    """Where the student version of ``assignment`` lives."""
    return Path(course_root) / "release" / assignment / f"{assignment}.ipynb"


SUBMITTED, AUTOGRADED, FEEDBACK = "submitted", "autograded", "feedback"  # nbgrader's folders in a course


def submitted_folder(course_root: Path, student: str, assignment: str) -> Path:
    """``submitted/<student>/<assignment>/``: what a student handed in."""
    return Path(course_root) / SUBMITTED / student / assignment


def autograded_folder(course_root: Path, student: str, assignment: str) -> Path:
    """``autograded/<student>/<assignment>/``: everything grading keeps of one submission (results.json...)."""
    return Path(course_root) / AUTOGRADED / student / assignment


def feedback_page(course_root: Path, student: str, assignment: str) -> Path:
    """``feedback/<student>/<assignment>/<assignment>.html``: the student's feedback page."""
    return Path(course_root) / FEEDBACK / student / assignment / f"{assignment}.html"


def nbgrader_metadata(cell: Mapping[str, Any]) -> Mapping[str, Any]:
    """nbgrader's metadata of a notebook cell (plain JSON or nbformat's), empty when it has none or it is not a
    mapping."""
    metadata = cell.get("metadata", {})
    found = metadata.get("nbgrader", {}) if isinstance(metadata, Mapping) else {}
    return found if isinstance(found, Mapping) else {}


def grade_points(source: Any) -> dict[str, float]:
    """Points per grade id: the graded test cells between its solution cell and the next one."""
    points: dict[str, float] = {}
    current = ""
    for cell in source.cells:
        meta = nbgrader_metadata(cell)
        if meta.get("solution"):
            current = meta.get("grade_id", "")
            points.setdefault(current, 0.0)
        elif meta.get("grade") and current:
            points[current] += float(meta.get("points", 0) or 0)
    return points
