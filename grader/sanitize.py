"""Rebuild a submission on the instructor's notebook with nbgrader's own preprocessors.

The gradebook learns the source cells through nbgrader's ``generate_assignment`` (its
``SaveCells`` step); ``OverwriteCells`` then restores every locked and graded cell of a
submission from it and re-adds missing ones, and ``ClearHiddenTests`` keeps the
notebook's own hidden tests out of the student's kernel: the grade comes from the checks
in ``grader/checks``, which run outside it.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import ClearHiddenTests, ClearOutput, DeduplicateIds
from nbgrader.preprocessors.base import NbGraderPreprocessor
from sqlalchemy import create_engine
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from traitlets.config import Config

from grader.course import CourseError
from grader.release import generate_assignment
from grader.settings import course_config
from grader.source_cells import (
    NotebookCells,
    QuickCheckCellMetadata,
    RecordedOverwriteCells,
    RecordedOverwriteKernelspec,
)


def sanitizers(config: Config, cells: NotebookCells) -> tuple[NbGraderPreprocessor, ...]:
    """nbgrader's autograde chain, its gradebook lookups answered from ``cells`` in memory."""
    return (ClearOutput(config=config), DeduplicateIds(config=config),
            RecordedOverwriteKernelspec(config=config, cells=cells), RecordedOverwriteCells(config=config, cells=cells),
            QuickCheckCellMetadata(config=config), ClearHiddenTests(config=config))


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


def sanitize(notebook: nbformat.NotebookNode, assignment: str, student: str, db_url: str,
             cells: NotebookCells) -> nbformat.NotebookNode:
    """The submission with locked and graded cells taken from the source (``cells``), hidden tests cleared."""
    config = Config()
    config.OverwriteCells.add_missing_cells = True
    resources = {"nbgrader": {"notebook": assignment, "assignment": assignment, "student": student,
                              "db_url": db_url}}
    for preprocessor in sanitizers(config, cells):
        notebook, resources = preprocessor.preprocess(notebook, resources)
    return notebook
