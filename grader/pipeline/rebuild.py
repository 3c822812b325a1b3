"""Rebuild a submission on the instructor's notebook: only solution cells come from the student.

nbgrader's sanitizing restores locked and graded cells but keeps whatever else a student
added, deleted or retyped. Here the notebook that runs is the student version of the source
(hidden tests cleared) with each solution cell's text taken, by grade id, from the submission;
the first of duplicated grade ids wins, a solution cell turned into markdown still runs as code,
and a missing one stays as the unfinished stub.
"""

from __future__ import annotations

import copy

import nbformat

from grader.course.layout import nbgrader_metadata


def _text(cell: nbformat.NotebookNode) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def solution_texts(submission: nbformat.NotebookNode) -> tuple[dict[str, str], dict[str, str]]:
    """Solution cell texts by grade id (first occurrence wins), and every cell's text by cell id."""
    by_grade_id: dict[str, str] = {}
    by_cell_id: dict[str, str] = {}
    for cell in submission.cells:
        meta = nbgrader_metadata(cell)
        grade_id = meta.get("grade_id")
        if meta.get("solution") and isinstance(grade_id, str) and grade_id not in by_grade_id:
            by_grade_id[grade_id] = _text(cell)
        if isinstance(cell.get("id"), str):
            by_cell_id.setdefault(cell["id"], _text(cell))
    return by_grade_id, by_cell_id


def rebuild(skeleton: nbformat.NotebookNode, submission: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """``skeleton`` (the student version of the source) with the submission's solution cells.

    A solution cell is found by its grade id, or, when the student changed the grade id, by
    the cell id that nbformat gave it in the released notebook.
    """
    by_grade_id, by_cell_id = solution_texts(submission)
    notebook = copy.deepcopy(skeleton)
    for cell in notebook.cells:
        meta = nbgrader_metadata(cell)
        if not meta.get("solution"):
            continue
        if meta.get("grade_id") in by_grade_id:
            cell.source = by_grade_id[meta["grade_id"]]
        elif cell.get("id") in by_cell_id:
            cell.source = by_cell_id[cell["id"]]
    return notebook
