"""Headless notebook execution through papermill, summarised per cell."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
import papermill
from jupyter_client.manager import AsyncKernelManager
from papermill.exceptions import PapermillExecutionError

from grader.watchdog import NotebookTimeout, Watchdog, stop_kernel


@dataclass(frozen=True)
class CellOutcome:
    """What happened to one code cell: its nbgrader identity and the error it raised, if any."""

    index: int
    grade_id: str
    is_solution: bool
    is_test: bool
    points: float
    error_name: str = ""
    error_value: str = ""

    @property
    def passed(self) -> bool:
        """True when the cell ran without raising."""
        return not self.error_name


@dataclass(frozen=True)
class ExecutedNotebook:
    """An executed notebook on disk and the outcome of each of its code cells."""

    path: Path
    wall_seconds: float
    cells: tuple[CellOutcome, ...]
    first_error: CellOutcome | None


def _cell_error(cell: nbformat.NotebookNode) -> tuple[str, str]:
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            return str(output.get("ename", "")), str(output.get("evalue", ""))
    return "", ""


def summarise_cells(notebook: nbformat.NotebookNode) -> tuple[CellOutcome, ...]:
    """One :class:`CellOutcome` per code cell of an executed notebook."""
    outcomes = []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        meta = cell.get("metadata", {}).get("nbgrader", {})
        name, value = _cell_error(cell)
        outcomes.append(CellOutcome(
            index=index,
            grade_id=str(meta.get("grade_id", "")),
            is_solution=bool(meta.get("solution", False)),
            is_test=bool(meta.get("grade", False)) and not meta.get("solution", False),
            points=float(meta.get("points", 0) or 0),
            error_name=name,
            error_value=value,
        ))
    return tuple(outcomes)


def execute_notebook(
    notebook: Path,
    output: Path,
    workdir: Path,
    parameters: dict[str, Any] | None = None,
    timeout: float | None = None,
    keep_going: bool = True,
    notebook_timeout: float | None = None,
) -> ExecutedNotebook:
    """Run ``notebook`` with papermill in ``workdir``, writing the executed copy to ``output``.

    With ``keep_going`` every cell runs even after one raises (as nbgrader grades); without
    it execution stops at the first error. Either way the outcome of each cell is returned.
    ``timeout`` limits each cell (nbclient's ``CellTimeoutError``); ``notebook_timeout`` the
    whole run: the kernel is killed and :class:`NotebookTimeout` raised.
    """
    output.parent.mkdir(parents=True, exist_ok=True)
    workdir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    manager = AsyncKernelManager(kernel_name="python3")
    with Watchdog(manager, notebook_timeout) as watchdog:
        try:
            papermill.execute_notebook(
                str(notebook), str(output), parameters=parameters or {}, cwd=str(workdir),
                kernel_name="python3", progress_bar=False, execution_timeout=timeout,
                allow_errors=keep_going, km=manager,
            )
        except PapermillExecutionError:
            pass  # papermill has written the executed notebook; the cells say what failed
        except Exception:
            if watchdog.expired.is_set():
                raise NotebookTimeout(notebook_timeout or 0.0) from None
            raise
        finally:
            stop_kernel(manager)  # nbclient leaves a kernel it did not create running
    if watchdog.expired.is_set():
        raise NotebookTimeout(notebook_timeout or 0.0)
    wall = time.perf_counter() - started
    cells = summarise_cells(nbformat.read(output, as_version=4))
    first_error = next((cell for cell in cells if not cell.passed), None)
    return ExecutedNotebook(path=output, wall_seconds=wall, cells=cells, first_error=first_error)


def earned_points(executed: ExecutedNotebook) -> tuple[float, float]:
    """(points earned, points possible) from the graded test cells that ran cleanly."""
    tests = [cell for cell in executed.cells if cell.is_test]
    return sum(cell.points for cell in tests if cell.passed), sum(cell.points for cell in tests)
