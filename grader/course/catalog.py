"""A course's assignments: its source notebooks matched with their assignment folders, checked at start-up.

Grade ids come from the source notebook alone (its solution cells, in order). Before anything is
graded, released or checked, :func:`course_catalog` makes sure that every notebook has a folder,
every folder a notebook, every grade id a hidden check and every hidden check a grade id; each
mismatch is a :class:`~grader.course.layout.CourseError` naming the file to fix.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import nbformat

from grader import assignments
from grader.assignments import Declaration, declaration_at, folders_in
from grader.course.layout import CourseError, grade_points, source_notebook
from grader.course.settings import load_settings


@dataclass(frozen=True)
class Catalog:
    """The course's assignments (sorted by id), each with its declaration and its grade ids."""

    course: Path
    declarations: dict[str, Declaration]
    grade_ids: dict[str, tuple[str, ...]]

    @property
    def assignments(self) -> tuple[str, ...]:
        """The assignment ids, sorted."""
        return tuple(self.declarations)

    def check(self, assignment: str) -> str:
        """``assignment`` if the course has it, else a :class:`CourseError`."""
        if assignment not in self.declarations:
            known = ", ".join(self.assignments)
            raise CourseError(f"unknown assignment {assignment!r}; the course has {known}", assignment=assignment)
        return assignment


def assignment_folders(course: Path) -> tuple[Path, ...]:
    """The folders holding the course's assignment folders: ``c.GraderSettings.assignment_folders`` (relative to
    the course), else the grader's own."""
    configured = load_settings(course).assignment_folders
    return tuple((course / folder).resolve() for folder in configured) or (assignments.BUILT_IN,)


def course_notebooks(course: Path) -> dict[str, Path]:
    """``source/<id>/<id>.ipynb`` of every assignment of the course."""
    return {path.parent.name: path for path in sorted((course / "source").glob("*/*.ipynb"))
            if path.stem == path.parent.name}


def checked_grade_ids(declaration: Declaration) -> set[str]:
    """The grade ids the hidden checks of ``declaration`` count for (their ``@grade`` marks)."""
    if not declaration.checks_file.is_file():
        raise CourseError(f"{declaration.checks_file}: missing; every assignment folder holds its hidden checks",
                          path=str(declaration.checks_file), assignment=declaration.assignment)
    checks = assignments.checks_module(declaration.assignment)
    marks = [mark for value in vars(checks).values() for mark in getattr(value, "pytestmark", [])]
    marks += [inner for mark in marks if mark.name == "parametrize" for param in mark.args[1]
              for inner in getattr(param, "marks", ())]
    return {mark.kwargs["grade_id"] for mark in marks if mark.name == "grade"}


def matched(course: Path, assignment: str, notebook: Path, declaration: Declaration) -> tuple[str, ...]:
    """The grade ids of ``notebook``, after checking them against the folder's hidden checks."""
    grade_ids = tuple(grade_points(nbformat.read(notebook, as_version=4)))
    checked = checked_grade_ids(declaration)
    for grade_id in grade_ids:
        if grade_id not in checked:
            raise CourseError(f"{declaration.checks_file}: no hidden check for grade id {grade_id!r} of {notebook}",
                              path=str(declaration.checks_file), assignment=assignment)
    for grade_id in sorted(checked - set(grade_ids)):
        raise CourseError(f"{declaration.checks_file}: a check counts for grade id {grade_id!r}, which {notebook} "
                          "does not have", path=str(declaration.checks_file), assignment=assignment)
    return grade_ids


@functools.lru_cache(maxsize=16)
def _folders(course: Path) -> dict[str, Path]:
    """Each source notebook's assignment folder, every folder with its notebook."""
    folders = folders_in(assignment_folders(course))
    notebooks = course_notebooks(course)
    for assignment in sorted(set(notebooks) - set(folders)):
        where = " or ".join(str(parent) for parent in assignment_folders(course))
        raise CourseError(f"{notebooks[assignment]}: no assignment folder {assignment}/ in {where}",
                          path=str(notebooks[assignment]), assignment=assignment)
    for assignment in sorted(set(folders) - set(notebooks)):
        raise CourseError(f"{folders[assignment]}: no source notebook {source_notebook(course, assignment)}",
                          path=str(folders[assignment]), assignment=assignment)
    return folders


def course_assignments(course: Path, chosen: tuple[str, ...] | None = None) -> tuple[str, ...]:
    """The course's assignment ids (``chosen``, checked, or all of them, sorted), each notebook matched with its
    folder but the hidden checks not read: for work that grades nothing (:func:`course_catalog` reads them)."""
    known = tuple(sorted(_folders(Path(course).resolve())))
    for assignment in chosen or ():
        if assignment not in known:
            raise CourseError(f"unknown assignment {assignment!r}; the course has {', '.join(known)}",
                              assignment=assignment)
    return known if chosen is None else chosen


@functools.lru_cache(maxsize=16)
def _catalog(course: Path) -> Catalog:
    folders = _folders(course)
    notebooks = course_notebooks(course)
    declarations = {assignment: declaration_at(assignment, folders[assignment]) for assignment in sorted(folders)}
    grade_ids = {assignment: matched(course, assignment, notebooks[assignment], declaration)
                 for assignment, declaration in declarations.items()}
    return Catalog(course, declarations, grade_ids)


def course_catalog(course: Path) -> Catalog:
    """The checked catalog of ``course`` (read once per process)."""
    return _catalog(Path(course).resolve())
