"""nbgrader's gradebook: where it is, that it opens, the source cells it records and the scores it keeps."""

from __future__ import annotations

import os
import sys
import tempfile
import warnings
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.coursedir import CourseDirectory
from sqlalchemy import create_engine
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from grader.course.layout import CourseError, nbgrader_metadata
from grader.course.settings import course_config
from grader.release.generate import generate_assignment
from grader.results.records import SubmissionResult


def put_tools_on_path() -> None:
    """nbgrader's gradebook runs ``alembic`` by name: make this Python's scripts findable."""
    scripts = str(Path(sys.executable).parent)
    if scripts not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = f"{scripts}{os.pathsep}{os.environ.get('PATH', '')}"


def gradebook_url(course_root: Path) -> str:
    """The gradebook's database URL (the course's setting, or ``gradebook.db`` in the course), checked."""
    config = course_config(course_root)
    db_url = CourseDirectory(config=config).db_url
    check_gradebook(db_url)
    return db_url


def gradebook_dialect(db_url: str) -> URL:
    """The parsed URL, once SQLAlchemy knows its database and can import its driver."""
    try:
        url = make_url(db_url)
        dialect = url.get_dialect()
    except (ArgumentError, ValueError) as error:
        raise CourseError(f"the gradebook's db_url is not a database URL SQLAlchemy knows: {error}") from None
    try:
        dialect.import_dbapi()
    except ImportError:
        postgres = url.get_backend_name() == "postgresql"
        hint = "; the grader ships psycopg2: write postgresql+psycopg2://..." if postgres else ""
        raise CourseError(f"the gradebook {url.render_as_string(hide_password=True)} needs the driver "
                          f"{url.get_driver_name()!r}, which is not installed{hint}") from None
    return url


def check_gradebook(db_url: str) -> None:
    """Raise :class:`CourseError`, naming the cause, when the gradebook's database can't be opened.

    SQLite needs no server (nbgrader creates the file); any other database is connected to once.
    """
    url = gradebook_dialect(db_url)
    if url.get_backend_name() == "sqlite":
        return
    engine = create_engine(url)
    try:
        with engine.connect():
            pass
    except SQLAlchemyError as error:
        cause = str(getattr(error, "orig", None) or error).strip().splitlines()
        raise CourseError(f"cannot open the gradebook {url.render_as_string(hide_password=True)}: "
                          f"{cause[0] if cause else type(error).__name__}") from None
    finally:
        engine.dispose()


def record_source_cells(course_root: Path, assignment: str) -> nbformat.NotebookNode:
    """Store the source notebook's cells in the gradebook (nbgrader's generate_assignment).

    Returns the student version that nbgrader made on the way: submissions are rebuilt on it.
    """
    config = course_config(course_root)
    with tempfile.TemporaryDirectory(prefix="grader-release-") as scratch:
        config.CourseDirectory.release_directory = scratch
        generate_assignment(course_root, assignment, config)
        return nbformat.read(Path(scratch) / assignment / f"{assignment}.ipynb", as_version=4)


def ensure_student(db_url: str, student: str) -> None:
    """Add ``student`` to the gradebook when it is not there yet."""
    with Gradebook(db_url) as gradebook:
        gradebook.update_or_create_student(student)


def cell_owners(source: nbformat.NotebookNode) -> dict[str, str]:
    """The grade id (its solution cell's) that owns each graded test cell of a source notebook."""
    owner, owners = "", {}
    for cell in source.cells:
        meta = nbgrader_metadata(cell)
        if meta.get("solution"):
            owner = meta["grade_id"]
        elif meta.get("grade") and owner:
            owners[meta["grade_id"]] = owner
    return owners


def auto_scores(result: SubmissionResult, owners: dict[str, str], max_scores: dict[str, float]) -> dict[str, float]:
    """Each test cell's auto score: its points times the share its grade id earned (``max_scores``: the cells')."""
    share = {test.grade_id: (test.score / test.max_score if test.max_score else 0.0) for test in result.tests}
    return {cell: round((max_scores.get(cell) or 0.0) * share.get(grade_id, 0.0), 4)
            for cell, grade_id in owners.items()}


def record_in_gradebook(db_url: str, result: SubmissionResult, source: nbformat.NotebookNode) -> None:
    """Write one result's auto scores through nbgrader's own calls, one session each (the unbatched path, kept as
    the reference :class:`GradebookSession` is compared with)."""
    with Gradebook(db_url) as gradebook, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SQLAlchemy's autoflush notes inside nbgrader's add_submission
        gradebook.update_or_create_student(result.student)
        try:
            gradebook.find_submission(result.assignment, result.student)
        except MissingEntry:
            gradebook.add_submission(result.assignment, result.student)
        owners = cell_owners(source)
        for cell_id in owners:
            grade = gradebook.find_grade(cell_id, result.assignment, result.assignment, result.student)
            grade.auto_score = auto_scores(result, owners, {cell_id: grade.max_score})[cell_id]
        gradebook.db.commit()
