"""nbgrader's gradebook: where it is, that it opens, the source cells it records and the scores it keeps."""

from __future__ import annotations

import os
import sys
import tempfile
import warnings
from collections.abc import Iterable
from pathlib import Path

import nbformat
from nbgrader.api import (
    Assignment,
    Comment,
    Grade,
    Gradebook,
    GradeCell,
    MissingEntry,
    Notebook,
    Student,
    SubmittedAssignment,
    SubmittedNotebook,
)
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


class GradebookSession:
    """nbgrader's gradebook held open for a whole run: results are written in batches, one transaction each.

    Rows are made as nbgrader's ``add_submission`` makes them (a submission mirrors its assignment's
    notebooks, grade, solution and task cells), so the gradebook reads exactly as with
    :func:`record_in_gradebook`; no transaction stays open between calls.
    """

    def __init__(self, db_url: str, sources: dict[str, nbformat.NotebookNode]) -> None:
        self.gradebook = Gradebook(db_url)
        self.db = self.gradebook.db
        self.owners = {assignment: cell_owners(source) for assignment, source in sources.items()}

    def __enter__(self) -> GradebookSession:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.gradebook.close()

    def submitted(self, students: set[str] | None = None, keep_open: bool = False) -> set[tuple[str, str]]:
        """(student, assignment) of every submission the gradebook holds (of ``students`` only, when given)."""
        query = (self.db.query(SubmittedAssignment.student_id, Assignment.name)
                 .join(Assignment, Assignment.id == SubmittedAssignment.assignment_id))
        if students is not None:
            query = query.filter(SubmittedAssignment.student_id.in_(students))
        rows = query.all()
        if not keep_open:
            self.db.rollback()  # a read left open would block nbgrader's own writers (SQLite)
        return {(student, assignment) for student, assignment in rows}

    def record(self, results: Iterable[SubmissionResult]) -> None:
        """Write ``results`` (students, submissions and auto scores) in one transaction; nothing of them on
        failure."""
        results = list(results)
        if not results:
            return
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # SQLAlchemy's notes on nbgrader's relationships
            try:
                students = self._students({result.student for result in results})
                existing = self.submitted({result.student for result in results}, keep_open=True)
                grades = self._grades(results)
                for result in results:
                    key = (result.student, result.assignment)
                    cells = grades.get(key, {}) if key in existing else self._new_submission(result, students)
                    scores = auto_scores(result, self.owners[result.assignment],
                                         {name: points for name, (_, points) in cells.items()})
                    for name, score in scores.items():
                        if name not in cells:
                            raise MissingEntry(f"No such grade cell {name} in {result.assignment}")
                        cells[name][0].auto_score = score
                self.db.commit()
            except BaseException:
                self.db.rollback()
                raise

    def _students(self, names: set[str]) -> dict[str, Student | None]:
        """Those of ``names`` the gradebook holds; the others None, to be added with their first submission."""
        found: dict[str, Student | None] = dict.fromkeys(names)
        found.update({student.id: student for student in self.db.query(Student).filter(Student.id.in_(names))})
        return found

    def _grades(self, results: list[SubmissionResult]) -> dict[tuple[str, str], dict[str, tuple[Grade, float]]]:
        """The grades of the test cells of those results' submissions that exist: (grade, the cell's points) by
        cell name, by (student, assignment)."""
        rows = (self.db.query(Grade, GradeCell.name, GradeCell.max_score, SubmittedAssignment.student_id,
                              Assignment.name)
                .join(GradeCell, GradeCell.id == Grade.cell_id)
                .join(SubmittedNotebook, SubmittedNotebook.id == Grade.notebook_id)
                .join(Notebook, Notebook.id == SubmittedNotebook.notebook_id)
                .join(SubmittedAssignment, SubmittedAssignment.id == SubmittedNotebook.assignment_id)
                .join(Assignment, Assignment.id == SubmittedAssignment.assignment_id)
                .filter(Notebook.name == Assignment.name,
                        SubmittedAssignment.student_id.in_({result.student for result in results}),
                        Assignment.name.in_({result.assignment for result in results})))
        found: dict[tuple[str, str], dict[str, tuple[Grade, float]]] = {}
        for grade, name, points, student, assignment in rows:
            found.setdefault((student, assignment), {})[name] = (grade, points or 0.0)
        return found

    def _new_submission(self, result: SubmissionResult, students: dict[str, Student | None]
                        ) -> dict[str, tuple[Grade, float]]:
        """A new submission made as nbgrader's ``add_submission`` makes it; its test cells' grades by name.

        Its rows (and its student's, when new) are flushed at once: they are stored in the order
        one-at-a-time recording stores them, so the gradebook's sums add them up in the same order.
        """
        assignment = result.assignment
        if students[result.student] is None:
            students[result.student] = Student(id=result.student)
            self.db.add(students[result.student])
        submission = SubmittedAssignment(assignment=self.gradebook.find_assignment(assignment),
                                         student=students[result.student])
        cells: dict[str, tuple[Grade, float]] = {}
        for notebook in submission.assignment.notebooks:
            submitted = SubmittedNotebook(notebook=notebook, assignment=submission)
            for cell in notebook.grade_cells:
                grade = Grade(cell_id=cell.id, notebook=submitted)
                if notebook.name == assignment:
                    cells[cell.name] = (grade, cell.max_score or 0.0)
            for cell in notebook.solution_cells:
                Comment(cell_id=cell.id, notebook=submitted)
            for cell in notebook.task_cells:
                Comment(cell_id=cell.id, notebook=submitted)
                Grade(cell_id=cell.id, notebook=submitted)
        self.db.add(submission)
        self.db.flush()
        return cells
