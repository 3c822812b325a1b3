"""release/ is what nbgrader makes of source/, and it gives nothing away."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest

from grader.course.layout import CourseError, release_notebook, source_notebook
from grader.release.generate import release_all, release_assignment
from grader.release.hygiene import find_leaks
from tests.submissions import ASSIGNMENTS, CATALOG


def cell_signature(notebook: nbformat.NotebookNode) -> list[tuple]:
    """What a student sees and nbgrader relies on, cell by cell."""
    return [
        (cell.cell_type, cell.source, cell.get("metadata", {}).get("nbgrader"), cell.get("outputs", []))
        for cell in notebook.cells
    ]


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory: pytest.TempPathFactory, repo: Path) -> Path:
    course = tmp_path_factory.mktemp("course")
    shutil.copytree(repo / "source", course / "source")
    shutil.copy(repo / "nbgrader_config.py", course / "nbgrader_config.py")
    release_all(course)
    return course


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_is_up_to_date_with_source(assignment: str, repo: Path, regenerated: Path) -> None:
    committed = nbformat.read(release_notebook(repo, assignment), as_version=4)
    fresh = nbformat.read(release_notebook(regenerated, assignment), as_version=4)
    assert cell_signature(committed) == cell_signature(fresh), "run `grader release` and commit release/"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_holds_no_solution_hidden_test_or_heldout_data(assignment: str, repo: Path) -> None:
    source = nbformat.read(source_notebook(repo, assignment), as_version=4)
    release = nbformat.read(release_notebook(repo, assignment), as_version=4)
    assert find_leaks(release, source, CATALOG.declarations[assignment].secret_names) == []
    assert "NotImplementedError" in "".join(cell.source for cell in release.cells)


def test_leak_finder_sees_a_copied_hidden_line(repo: Path) -> None:
    source = nbformat.read(source_notebook(repo, "mnist_mlp"), as_version=4)
    release = nbformat.read(release_notebook(repo, "mnist_mlp"), as_version=4)
    release.cells[-1].source += "\nfrom grader.data import heldout_digits, to_tensors"
    assert [leak.what for leak in find_leaks(release, source)] == [
        "secret name 'heldout'", "hidden line 'from grader.data import heldout_digits, to_tensors'"
    ]


def test_release_of_a_missing_or_unknown_assignment_is_a_clear_error(tmp_path: Path, regenerated: Path) -> None:
    with pytest.raises(CourseError, match="no source notebook"):
        release_assignment(tmp_path, "mnist_mlp")
    with pytest.raises(CourseError, match="unknown assignment 'week9'"):
        release_assignment(regenerated, "week9")
