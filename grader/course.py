"""The course folder layout (nbgrader's) and the grade ids of a source notebook.

Which assignments a course has, and their folders, is :mod:`grader.catalog`'s.
"""

from __future__ import annotations

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


def grade_points(source: Any) -> dict[str, float]:
    """Points per grade id: the graded test cells between its solution cell and the next one."""
    points: dict[str, float] = {}
    current = ""
    for cell in source.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("solution"):
            current = meta.get("grade_id", "")
            points.setdefault(current, 0.0)
        elif meta.get("grade") and current:
            points[current] += float(meta.get("points", 0) or 0)
    return points
