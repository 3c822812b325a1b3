"""nbgrader's sanitizing against the source cells read once (grader/course/source_cells.py) equals nbgrader's
own chain."""

from __future__ import annotations

import copy
import shutil
from collections.abc import Callable
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import MissingEntry
from nbgrader.nbgraderformat import SchemaTooOldError, ValidationError
from nbgrader.preprocessors import (
    CheckCellMetadata,
    ClearHiddenTests,
    ClearOutput,
    DeduplicateIds,
    OverwriteCells,
    OverwriteKernelspec,
)
from traitlets.config import Config

from grader.batch.run import prepare_context
from grader.pipeline.rebuild import rebuild
from grader.pipeline.sanitize import sanitize
from grader.results.gradebook import ensure_student

ROOT = Path(__file__).resolve().parent.parent
ASSIGNMENT = "cnn_quiz"


@pytest.fixture(scope="module")
def context(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201 - grader.pipeline.autograde.GradingContext
    course = tmp_path_factory.mktemp("course")
    for folder in ("source", "release"):
        shutil.copytree(ROOT / folder, course / folder)
    shutil.copy(ROOT / "nbgrader_config.py", course)
    prepared = prepare_context(course, (ASSIGNMENT,))
    ensure_student(prepared.db_url, "s1")
    return prepared


def nbgrader_chain(notebook: nbformat.NotebookNode, db_url: str) -> nbformat.NotebookNode:
    """nbgrader's own preprocessors, each opening the gradebook as nbgrader does."""
    config = Config()
    config.OverwriteCells.add_missing_cells = True
    resources = {"nbgrader": {"notebook": ASSIGNMENT, "assignment": ASSIGNMENT, "student": "s1", "db_url": db_url}}
    for step in (ClearOutput, DeduplicateIds, OverwriteKernelspec, OverwriteCells, CheckCellMetadata,
                 ClearHiddenTests):
        notebook, resources = step(config=config).preprocess(notebook, resources)
    return notebook


def graded(cell: nbformat.NotebookNode, key: str) -> bool:
    return bool(cell.metadata.get("nbgrader", {}).get(key))


def tamper_locked(notebook: nbformat.NotebookNode) -> None:
    for cell in notebook.cells:
        if graded(cell, "locked"):
            cell.source = "print('the student changed a locked cell')"


def delete_graded(notebook: nbformat.NotebookNode) -> None:
    notebook.cells = [cell for cell in notebook.cells if not graded(cell, "grade")]


def inflate_points(notebook: nbformat.NotebookNode) -> None:
    for cell in notebook.cells:
        if graded(cell, "points"):
            cell.metadata.nbgrader["points"] = 99


def other_kernel(notebook: nbformat.NotebookNode) -> None:
    notebook.metadata["kernelspec"] = {"name": "other-kernel", "display_name": "Other", "language": "python"}


@pytest.mark.parametrize("folder", ["source", "release"])
@pytest.mark.parametrize("change", [lambda nb: None, tamper_locked, delete_graded, inflate_points, other_kernel],
                         ids=["as-is", "locked-cells-changed", "graded-cells-deleted", "points-changed",
                              "kernelspec-changed"])
def test_sanitized_exactly_as_nbgrader_does(context, folder: str, change: Callable) -> None:  # noqa: ANN001
    submitted = nbformat.read(ROOT / folder / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    change(submitted)
    skeleton = context.skeletons[ASSIGNMENT]
    ours = sanitize(rebuild(skeleton, copy.deepcopy(submitted)), ASSIGNMENT, "s1", context.db_url,
                    context.source_cells[ASSIGNMENT])
    theirs = nbgrader_chain(rebuild(skeleton, copy.deepcopy(submitted)), context.db_url)
    assert nbformat.writes(ours) == nbformat.writes(theirs)
    if change is tamper_locked:
        assert "the student changed a locked cell" not in nbformat.writes(ours)
    assert ours.metadata.kernelspec.name == "python3", "the source notebook's kernel, whatever the submission says"


@pytest.mark.parametrize("field, value, error", [("solution", "yes", ValidationError),
                                                  ("schema_version", 1, SchemaTooOldError)])
def test_malformed_metadata_is_refused_like_nbgrader(context, field: str, value: object, error: type) -> None:  # noqa: ANN001
    notebook = nbformat.read(ROOT / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    sanitize(copy.deepcopy(notebook), ASSIGNMENT, "s1", context.db_url, context.source_cells[ASSIGNMENT])
    first = next(cell for cell in notebook.cells if graded(cell, "solution") and not graded(cell, "grade"))
    first.metadata.nbgrader[field] = value  # the same cell was valid a moment ago: nothing is taken on trust
    for run in (lambda nb: sanitize(nb, ASSIGNMENT, "s1", context.db_url, context.source_cells[ASSIGNMENT]),
                lambda nb: nbgrader_chain(nb, context.db_url)):
        with pytest.raises(error):
            run(copy.deepcopy(notebook))


def test_the_record_answers_like_the_gradebook(context) -> None:  # noqa: ANN001
    cells = context.source_cells[ASSIGNMENT]
    assert [cell.name for cell in cells.grade_cells], "the quiz has graded cells"
    first = cells.source_cells[0]
    assert cells.find_source_cell(first.name, ASSIGNMENT, ASSIGNMENT) == first
    with pytest.raises(MissingEntry):
        cells.find_source_cell("no-such-cell", ASSIGNMENT, ASSIGNMENT)
    with pytest.raises(MissingEntry):
        cells.find_notebook("another", ASSIGNMENT)
