"""Rebuild a submission on the instructor's notebook with nbgrader's own preprocessors.

The gradebook learns the source cells through nbgrader's ``generate_assignment`` (its
``SaveCells`` step: :func:`grader.results.gradebook.record_source_cells`); ``OverwriteCells`` then
restores every locked and graded cell of a submission from it and re-adds missing ones, and
``ClearHiddenTests`` keeps the notebook's own hidden tests out of the student's kernel: the
grade comes from the checks in each assignment folder, which run outside it.
"""

from __future__ import annotations

import nbformat
from nbgrader.preprocessors import ClearHiddenTests, ClearOutput, DeduplicateIds
from nbgrader.preprocessors.base import NbGraderPreprocessor
from traitlets.config import Config

from grader.course.source_cells import (
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
