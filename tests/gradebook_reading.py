"""What an instructor reads of a gradebook, for comparing two of them: nbgrader's export, formgrader's
totals and every grade's scores (database ids left out: they are random)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from nbgrader.api import (
    Assignment,
    BaseCell,
    Comment,
    Grade,
    Gradebook,
    Notebook,
    SubmittedAssignment,
    SubmittedNotebook,
)
from nbgrader.plugins.export import CsvExportPlugin


def rounded(value: object) -> object:
    """A float rounded to 9 places; anything else as it is."""
    return round(value, 9) if isinstance(value, float) else value


def rounded_csv(text: str) -> list[list[str]]:
    """CSV rows, each number in them rounded."""
    rows = []
    for row in csv.reader(io.StringIO(text)):
        cells = []
        for cell in row:
            try:
                cells.append(repr(round(float(cell), 9)))
            except ValueError:
                cells.append(cell)
        rows.append(cells)
    return rows


def without_ids(rows: list[dict]) -> list[dict]:
    """Rows without their random ids, numbers rounded, in a stable order."""
    return sorted(({key: rounded(value) for key, value in row.items() if key != "id"} for row in rows), key=repr)


def gradebook_reading(db_url: str, export_to: Path) -> dict[str, object]:
    """nbgrader's CSV export, formgrader's per-assignment, per-notebook and per-student totals and averages,
    and every grade and comment of every submission.

    Numbers are rounded to 9 places: SQLite sums a gradebook's scores in the order of an index on
    random ids (``SCAN grade USING COVERING INDEX``), so two gradebooks that hold the same scores,
    both written by nbgrader's own calls, may differ in the last bits of a sum or an average.
    """
    with Gradebook(db_url) as gradebook:
        CsvExportPlugin(to=str(export_to)).export(gradebook)
        reading: dict[str, object] = {"export": rounded_csv(export_to.read_text(encoding="utf-8")),  # in its order
                                      "student order": [student.id for student in gradebook.students],
                                      "students": without_ids(gradebook.student_dicts())}
        for assignment in gradebook.assignments:
            reading[f"{assignment.name}/submissions"] = without_ids(gradebook.submission_dicts(assignment.name))
            reading[f"{assignment.name}/average"] = (round(gradebook.average_assignment_score(assignment.name), 9),
                                                     round(gradebook.average_assignment_code_score(assignment.name), 9))
            for notebook in assignment.notebooks:
                reading[f"{assignment.name}/{notebook.name}"] = without_ids(
                    gradebook.notebook_submission_dicts(notebook.name, assignment.name))
        reading["grades"] = sorted(
            gradebook.db.query(SubmittedAssignment.student_id, Assignment.name, Notebook.name, BaseCell.name,
                               Grade.auto_score, Grade.manual_score, Grade.extra_credit, Grade.needs_manual_grade,
                               Grade.max_score)
            .join(SubmittedNotebook, SubmittedNotebook.id == Grade.notebook_id)
            .join(Notebook, Notebook.id == SubmittedNotebook.notebook_id)
            .join(SubmittedAssignment, SubmittedAssignment.id == SubmittedNotebook.assignment_id)
            .join(Assignment, Assignment.id == SubmittedAssignment.assignment_id)
            .join(BaseCell, BaseCell.id == Grade.cell_id).all(), key=repr)
        reading["comments"] = sorted(
            gradebook.db.query(SubmittedAssignment.student_id, BaseCell.name, Comment.manual_comment)
            .join(SubmittedNotebook, SubmittedNotebook.id == Comment.notebook_id)
            .join(SubmittedAssignment, SubmittedAssignment.id == SubmittedNotebook.assignment_id)
            .join(BaseCell, BaseCell.id == Comment.cell_id).all(), key=repr)
    return reading
