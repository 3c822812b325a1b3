"""Regenerate the student versions in ``release/`` from the instructor notebooks in ``source/``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from nbgrader.converters import GenerateAssignment
from nbgrader.coursedir import CourseDirectory
from nbgrader.utils import capture_log
from traitlets.config import Config

from grader.course.catalog import course_catalog
from grader.course.layout import CourseError, release_notebook, source_notebook
from grader.course.settings import course_config
from grader.release.hygiene import find_leaks


@dataclass(frozen=True)
class ReleasedNotebook:
    """One student notebook written by nbgrader's ``generate_assignment``."""

    assignment: str
    path: Path
    n_cells: int


def generate_assignment(course_root: Path, assignment: str, config: Config) -> None:
    """Run nbgrader's ``GenerateAssignment`` converter; a failure is a :class:`CourseError` with nbgrader's words."""
    source = source_notebook(course_root, course_catalog(course_root).check(assignment))
    if not source.exists():
        raise CourseError(f"no source notebook at {source}", path=str(source))
    coursedir = CourseDirectory(config=config)
    coursedir.assignment_id = assignment
    converter = GenerateAssignment(coursedir=coursedir, config=config)
    converter.force = True
    outcome = capture_log(converter)
    if not outcome["success"]:
        errors = [line for line in outcome.get("log", "").splitlines() if "Error" in line or "error" in line]
        detail = errors[-1] if errors else outcome.get("error", "").strip().splitlines()[-1:]
        raise CourseError(f"nbgrader could not generate the student version of {assignment}: {detail}",
                          path=str(source), assignment=assignment)


def release_assignment(course_root: Path, assignment: str) -> ReleasedNotebook:
    """Run nbgrader's ``generate_assignment`` for one assignment, overwriting ``release/``; a student notebook that
    shows a solution, a hidden test or a secret name (grader.release.hygiene, the folder's ``SECRET_NAMES``) is removed
    and a :class:`CourseError` says where."""
    import nbformat

    course_root = Path(course_root).resolve()
    config = course_config(course_root)
    config.GenerateAssignment.no_database = True
    config.SaveCells.enabled = False
    generate_assignment(course_root, assignment, config)
    released = release_notebook(course_root, assignment)
    student_version = nbformat.read(released, as_version=4)
    secret_names = course_catalog(course_root).declarations[assignment].secret_names
    leaks = find_leaks(student_version, nbformat.read(source_notebook(course_root, assignment), as_version=4),
                       secret_names)
    if leaks:
        released.unlink()
        shown = "; ".join(f"cell {leak.cell_index}: {leak.what}" for leak in leaks[:3])
        raise CourseError(f"{source_notebook(course_root, assignment)}: its student version would show {shown}",
                          path=str(source_notebook(course_root, assignment)), assignment=assignment)
    return ReleasedNotebook(assignment, released, len(student_version.cells))


def release_all(course_root: Path, assignments: tuple[str, ...] | None = None) -> list[ReleasedNotebook]:
    """Regenerate the release of every assignment in ``assignments`` (None: all of the course's)."""
    chosen = course_catalog(course_root).assignments if assignments is None else assignments
    return [release_assignment(course_root, assignment) for assignment in chosen]
