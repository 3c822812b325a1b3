"""nbgrader's gradebook written in batches: one connection for a run, one transaction for many results.

SQLAlchemy core on nbgrader's own tables, with the rows nbgrader's ``add_submission`` makes: a
new submission mirrors its assignment's notebooks, grade cells, solution cells and task cells
(a grade per grade or task cell, a comment per solution or task cell), in nbgrader's order, and
results are stored in the order they come, so that the gradebook reads exactly as after
:func:`grader.results.gradebook.record_in_gradebook`, one result at a time
(tests/test_gradebook_batched.py): nbgrader's export, formgrader's totals, every auto score.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

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
    new_uuid,
)
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.engine import Connection

from grader.results.gradebook import auto_scores, cell_owners
from grader.results.records import SubmissionResult

GRADES, SUBMITTED = Grade.__table__, SubmittedAssignment.__table__
CHUNK = 500  # names in one IN list (a batch of results has at most as many: grader.batch.bookkeeping)


@dataclass(frozen=True)
class NotebookCells:
    """One notebook of an assignment as nbgrader mirrors it in a submission, in nbgrader's order."""

    notebook_id: str
    name: str
    grade_cells: tuple[tuple[str, str, float], ...]  # (cell id, name, points)
    solution_cells: tuple[str, ...]
    task_cells: tuple[str, ...]


class GradebookSession:
    """The course's gradebook held open for a whole run; :meth:`record` writes a batch of results at once."""

    def __init__(self, db_url: str, sources: dict[str, nbformat.NotebookNode]) -> None:
        self.gradebook = Gradebook(db_url)  # nbgrader makes the tables of a new gradebook
        self.engine = self.gradebook.engine
        self.owners = {assignment: cell_owners(source) for assignment, source in sources.items()}
        self.layouts: dict[str, tuple[str, tuple[NotebookCells, ...]]] = {}

    def __enter__(self) -> GradebookSession:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.gradebook.close()

    def submitted(self, students: set[str] | None = None) -> set[tuple[str, str]]:
        """(student, assignment) of every submission the gradebook holds (of ``students`` only, when given)."""
        with self.engine.connect() as connection:
            return self._submitted(connection, students)

    def add_students(self, students: Iterable[str]) -> None:
        """Add those of ``students`` the gradebook lacks, in their order (one transaction)."""
        wanted = list(dict.fromkeys(students))
        if wanted:
            with self.engine.begin() as connection:
                self._add_students(connection, wanted)

    def _add_students(self, connection: Connection, students: list[str]) -> None:
        known: set[str] = set()
        for start in range(0, len(students), CHUNK):  # a bounded IN list: databases cap bound parameters
            wanted = set(students[start:start + CHUNK])
            known.update(connection.scalars(select(Student.id).where(Student.id.in_(wanted))))
        new = [name for name in students if name not in known]
        if new:
            connection.execute(insert(Student.__table__), [{"id": name} for name in new])

    def record(self, results: Iterable[SubmissionResult]) -> None:
        """Write ``results`` (students, submissions, auto scores) in one transaction: all of them or none."""
        results = list(results)
        if not results:
            return
        names = {result.student for result in results}
        with self.engine.begin() as connection:
            self._add_students(connection, list(dict.fromkeys(result.student for result in results)))
            existing = self._submitted(connection, names)
            rows, regraded = Rows(), []
            for result in results:
                if (result.student, result.assignment) in existing:
                    regraded.append(result)  # in the gradebook already (or earlier in this batch)
                else:
                    self._new_submission(result, rows)
                    existing.add((result.student, result.assignment))
            rows.insert(connection)
            updates = self._updates(connection, regraded) if regraded else []
            if updates:
                connection.execute(update(GRADES).where(GRADES.c.id == bindparam("grade")).values(
                    auto_score=bindparam("score")), updates)

    def _submitted(self, connection: Connection, students: set[str] | None) -> set[tuple[str, str]]:
        query = select(SubmittedAssignment.student_id, Assignment.name).join(
            Assignment, Assignment.id == SubmittedAssignment.assignment_id)
        if students is not None:
            query = query.where(SubmittedAssignment.student_id.in_(students))
        return {(student, assignment) for student, assignment in connection.execute(query)}

    def layout(self, assignment: str) -> tuple[str, tuple[NotebookCells, ...]]:
        """The assignment's id and notebooks, read once through nbgrader's models (its order of cells)."""
        if assignment not in self.layouts:
            found = self.gradebook.find_assignment(assignment)
            notebooks = tuple(NotebookCells(notebook.id, notebook.name,
                                            tuple((c.id, c.name, c.max_score or 0.0) for c in notebook.grade_cells),
                                            tuple(c.id for c in notebook.solution_cells),
                                            tuple(c.id for c in notebook.task_cells)) for notebook in found.notebooks)
            self.layouts[assignment] = (found.id, notebooks)
            self.gradebook.db.rollback()  # no read left open
        return self.layouts[assignment]

    def _new_submission(self, result: SubmissionResult, rows: Rows) -> None:
        """The rows of a new submission, as nbgrader's ``add_submission`` makes them, with its auto scores."""
        assignment_id, notebooks = self.layout(result.assignment)
        submission = new_uuid()
        rows.submissions.append({"id": submission, "assignment_id": assignment_id, "student_id": result.student})
        for notebook in notebooks:
            submitted = new_uuid()
            rows.notebooks.append({"id": submitted, "assignment_id": submission, "notebook_id": notebook.notebook_id})
            scores = self._new_scores(result, notebook) if notebook.name == result.assignment else {}
            rows.grades += [{"id": new_uuid(), "cell_id": cell_id, "notebook_id": submitted,
                             "auto_score": scores.get(name)} for cell_id, name, _ in notebook.grade_cells]
            rows.comments += [{"id": new_uuid(), "cell_id": c, "notebook_id": submitted}
                              for c in notebook.solution_cells]
            for cell_id in notebook.task_cells:
                rows.comments.append({"id": new_uuid(), "cell_id": cell_id, "notebook_id": submitted})
                rows.grades.append({"id": new_uuid(), "cell_id": cell_id, "notebook_id": submitted, "auto_score": None})

    def _new_scores(self, result: SubmissionResult, notebook: NotebookCells) -> dict[str, float]:
        """The auto scores of a new submission's test cells (by cell name), stored with its grades."""
        owners = self.owners[result.assignment]
        points = {name: most for _, name, most in notebook.grade_cells}
        missing = sorted(set(owners) - set(points))
        if missing:
            raise MissingEntry(f"No grade cell {missing[0]} in {result.assignment} for {result.student}")
        return auto_scores(result, owners, points)

    def _updates(self, connection: Connection, results: list[SubmissionResult]) -> list[dict]:
        """The auto score of each test cell of ``results`` (submissions the gradebook holds), by its grade's id."""
        grades: dict[tuple[str, str, str], tuple[str, float]] = {}
        for grade_id, name, points, student, assignment in connection.execute(
                select(Grade.id, GradeCell.name, GradeCell.max_score, SubmittedAssignment.student_id, Assignment.name)
                .join(GradeCell, GradeCell.id == Grade.cell_id)
                .join(SubmittedNotebook, SubmittedNotebook.id == Grade.notebook_id)
                .join(Notebook, Notebook.id == SubmittedNotebook.notebook_id)
                .join(SubmittedAssignment, SubmittedAssignment.id == SubmittedNotebook.assignment_id)
                .join(Assignment, Assignment.id == SubmittedAssignment.assignment_id)
                .where(Notebook.name == Assignment.name,
                       SubmittedAssignment.student_id.in_({r.student for r in results}),
                       Assignment.name.in_({r.assignment for r in results}))):
            grades[(student, assignment, name)] = (grade_id, points or 0.0)
        updates = []
        for result in results:
            owners = self.owners[result.assignment]
            cells = {name: grades.get((result.student, result.assignment, name)) for name in owners}
            missing = sorted(name for name, found in cells.items() if found is None)
            if missing:
                raise MissingEntry(f"No grade cell {missing[0]} in {result.assignment} for {result.student}")
            scores = auto_scores(result, owners, {name: points for name, (_, points) in cells.items()})
            updates += [{"grade": cells[name][0], "score": score} for name, score in scores.items()]
        return updates


@dataclass
class Rows:
    """The rows of new submissions, table by table, in the order nbgrader would have stored them."""

    submissions: list[dict] = field(default_factory=list)
    notebooks: list[dict] = field(default_factory=list)
    grades: list[dict] = field(default_factory=list)
    comments: list[dict] = field(default_factory=list)

    def insert(self, connection: Connection) -> None:
        """Insert them, parents first."""
        for table, rows in ((SUBMITTED, self.submissions), (SubmittedNotebook.__table__, self.notebooks),
                            (GRADES, self.grades), (Comment.__table__, self.comments)):
            if rows:
                connection.execute(insert(table), rows)
