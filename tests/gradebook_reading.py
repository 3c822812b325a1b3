"""What an instructor reads of a gradebook, for comparing two of them: nbgrader's export, formgrader's
totals and every grade's scores (database ids left out: they are random)."""

from __future__ import annotations

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


def without_ids(rows: list[dict]) -> list[dict]:
    """Rows without their random ids, in a stable order."""
    kept = [{key: value for key, value in row.items() if key != "id" and not key.endswith("_id") or
             key == "student_id"} for row in rows]
    return sorted(kept, key=repr)


def gradebook_reading(db_url: str, export_to: Path) -> dict[str, object]:
    """nbgrader's CSV export, formgrader's per-assignment, per-notebook and per-student totals and averages,
    and every grade and comment of every submission. Sums and averages are compared to the last bit: the
    gradebook adds scores up in the order their rows were stored, and that order is nbgrader's own too."""
    with Gradebook(db_url) as gradebook:
        CsvExportPlugin(to=str(export_to)).export(gradebook)
        reading: dict[str, object] = {"export": export_to.read_text(encoding="utf-8"),
                                      "students": without_ids(gradebook.student_dicts())}
        for assignment in gradebook.assignments:
            reading[f"{assignment.name}/submissions"] = without_ids(gradebook.submission_dicts(assignment.name))
            reading[f"{assignment.name}/average"] = (gradebook.average_assignment_score(assignment.name),
                                                     gradebook.average_assignment_code_score(assignment.name))
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
