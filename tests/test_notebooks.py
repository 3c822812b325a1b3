"""Every instructor notebook passes all its tests; every student notebook stops at the student's part."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.course.layout import release_notebook, source_notebook
from grader.pipeline.execute import ExecutionOptions, earned_points, execute_notebook
from tests.submissions import ASSIGNMENTS, GRADE_IDS


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_source_notebook_passes_every_visible_and_hidden_test(
    assignment: str, repo: Path, tmp_path: Path
) -> None:
    executed = execute_notebook(
        source_notebook(repo, assignment), tmp_path / "out.ipynb", tmp_path / "work",
        ExecutionOptions(keep_going=False),
    )
    assert executed.first_error is None, f"cell {executed.first_error.index}: {executed.first_error}"
    earned, possible = earned_points(executed)
    assert earned == possible > 0
    graded = {cell.grade_id for cell in executed.cells if cell.is_solution}
    assert graded == set(GRADE_IDS[assignment])


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_notebook_stops_at_the_first_unfinished_part(
    assignment: str, repo: Path, tmp_path: Path
) -> None:
    executed = execute_notebook(
        release_notebook(repo, assignment), tmp_path / "out.ipynb", tmp_path / "work",
        ExecutionOptions(keep_going=False),
    )
    error = executed.first_error
    assert error is not None, "a student notebook with empty solutions ran to the end"
    assert error.error_name == "NotImplementedError", f"given code failed: {error}"
    first_solution = next(cell for cell in executed.cells if cell.is_solution)
    given_before = [cell for cell in executed.cells if cell.index < first_solution.index]
    assert all(cell.passed for cell in given_before)
    assert error.is_solution or error.is_test, f"cell {error.index} is given code, not the student's part"
    assert error.index <= next(c.index for c in executed.cells if c.is_test and c.index > first_solution.index)
