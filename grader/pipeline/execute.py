"""Headless notebook execution through papermill, summarised per cell."""

from __future__ import annotations

import contextlib
import signal
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
import papermill
from jupyter_client.manager import AsyncKernelManager
from nbclient.exceptions import DeadKernelError
from papermill.exceptions import PapermillExecutionError

from grader.course import defaults
from grader.course.layout import nbgrader_metadata
from grader.kernels.kernel import ENGINE, sandboxed_manager
from grader.pipeline.cell_timeout import TIMEOUT_KEY, interrupted_line
from grader.sandbox.jail_spec import SandboxRun
from grader.sandbox.watchdog import Watchdog, kill_kernel, stop_kernel


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
    timed_out: float = 0.0  # the time limit (seconds) the cell ran past and was interrupted at; 0: it did not
    stopped_line: int = 0  # where in the cell the interrupt stopped it (0: unknown)

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
    output_flood: bool = False  # the grader interrupted a flood of output

    @property
    def timed_out(self) -> tuple[CellOutcome, ...]:
        """The cells interrupted at their time limit (the notebook went on after each)."""
        return tuple(cell for cell in self.cells if cell.timed_out)


def _cell_error(cell: nbformat.NotebookNode) -> tuple[str, str, int]:
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            line = interrupted_line([str(entry) for entry in output.get("traceback", [])])
            return str(output.get("ename", "")), str(output.get("evalue", "")), line
    return "", "", 0


def summarise_cells(notebook: nbformat.NotebookNode) -> tuple[CellOutcome, ...]:
    """One :class:`CellOutcome` per code cell of an executed notebook."""
    outcomes = []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        meta = nbgrader_metadata(cell)
        name, value, line = _cell_error(cell)
        timed_out = float(cell.metadata.get(TIMEOUT_KEY, 0) or 0)
        outcomes.append(CellOutcome(
            index=index,
            grade_id=str(meta.get("grade_id", "")),
            is_solution=bool(meta.get("solution", False)),
            is_test=bool(meta.get("grade", False)) and not meta.get("solution", False),
            points=float(meta.get("points", 0) or 0),
            error_name=name,
            error_value=value,
            timed_out=timed_out,
            stopped_line=line if timed_out else 0,
        ))
    return tuple(outcomes)


class KernelDied(RuntimeError):
    """The kernel process ended while the notebook ran; ``exit_code`` is 128 + signal when it was killed."""

    def __init__(self, exit_code: int | None) -> None:
        self.exit_code = exit_code
        self.signal_name = ""
        if exit_code is not None and exit_code > 128:
            with contextlib.suppress(ValueError):
                self.signal_name = signal.Signals(exit_code - 128).name
        how = f"killed by {self.signal_name}" if self.signal_name else f"exit code {exit_code}"
        super().__init__(f"the kernel died ({how})")


def _kernel_exit_code(manager: AsyncKernelManager) -> int | None:
    process = getattr(getattr(manager, "provisioner", None), "process", None)
    for _ in range(20):  # the kernel may still be on its way out
        code = process.poll() if process is not None else None
        if code is not None:
            return code
        time.sleep(0.05)
    return None


def _engine_options(options: ExecutionOptions) -> dict[str, Any]:
    engine = {"engine_name": ENGINE, "interrupt_on_timeout": options.keep_going,
              "interrupt_grace": options.interrupt_grace}
    sandbox = options.sandbox
    if sandbox is None:
        return engine
    return {**engine, "output_kb": sandbox.output_kb, "cell_output_kb": sandbox.cell_output_kb,
            "notebook_output_kb": sandbox.notebook_output_kb}


@dataclass(frozen=True)
class ExecutionOptions:
    """How a notebook runs.

    ``parameters`` go to the cell tagged ``parameters`` (papermill). ``cell_timeout`` limits each
    cell; ``notebook_timeout`` the whole run: the kernel is killed and :class:`NotebookTimeout`
    raised. With ``keep_going`` every cell runs even after one raises (as nbgrader grades), and a
    cell past its limit is interrupted and the run goes on; one still running ``interrupt_grace``
    seconds later has its kernel killed (:class:`grader.pipeline.cell_timeout.CellIgnoredInterrupt`).
    Without it execution stops at the first error, or with ``CellTimeoutError``. With
    ``sandbox`` the kernel runs in the jail; :class:`ScratchFull` and :class:`KernelDied` say
    how it ended early.
    """

    parameters: Mapping[str, Any] = field(default_factory=dict)
    cell_timeout: float | None = None
    notebook_timeout: float | None = None
    keep_going: bool = True
    sandbox: SandboxRun | None = None
    interrupt_grace: float = defaults.INTERRUPT_GRACE_SECONDS


def execute_notebook(notebook: Path, output: Path, workdir: Path, options: ExecutionOptions = ExecutionOptions(),
                     manager: AsyncKernelManager | None = None) -> ExecutedNotebook:
    """Run ``notebook`` with papermill in ``workdir`` as ``options`` say, writing the executed copy to ``output``.

    The outcome of each cell is returned. ``manager`` is a kernel already started for this run
    (see :mod:`grader.kernels.warm_kernel`).
    """
    sandbox, notebook_timeout = options.sandbox, options.notebook_timeout
    output.parent.mkdir(parents=True, exist_ok=True)
    workdir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    owns_manager = manager is None
    if manager is None:
        manager = AsyncKernelManager(kernel_name="python3") if sandbox is None else sandboxed_manager(
            sandbox.spec, sandbox.scratch)
    scratch = sandbox.scratch if sandbox else None
    executed = None  # what papermill returns; after a failed run, what it wrote
    with Watchdog(manager, notebook_timeout, scratch, sandbox.scratch_bytes if sandbox else 0) as watchdog:
        try:
            executed = papermill.execute_notebook(
                str(notebook), str(output), parameters=dict(options.parameters), cwd=str(workdir),
                kernel_name="python3", progress_bar=False, execution_timeout=options.cell_timeout,
                allow_errors=options.keep_going, km=manager, **_engine_options(options),
            )
        except PapermillExecutionError:
            pass  # papermill has written the executed notebook; the cells say what failed
        except DeadKernelError:
            if watchdog.reason is None:
                raise KernelDied(_kernel_exit_code(manager)) from None
        except Exception:
            if watchdog.reason is None:
                raise
        finally:  # nbclient leaves a kernel it did not create running
            if owns_manager:
                stop_kernel(manager)
            else:
                kill_kernel(manager)  # whoever started it waits for its end and frees its files
    if watchdog.reason is not None:
        raise watchdog.reason
    wall = time.perf_counter() - started
    if executed is None:
        executed = nbformat.read(output, as_version=4)
    cells = summarise_cells(executed)
    first_error = next((cell for cell in cells if not cell.passed), None)
    flood = bool(executed.metadata.get("grader", {}).get("output_flood", False))
    return ExecutedNotebook(path=output, wall_seconds=wall, cells=cells, first_error=first_error, output_flood=flood)


def earned_points(executed: ExecutedNotebook) -> tuple[float, float]:
    """(points earned, points possible) from the graded test cells that ran cleanly."""
    tests = [cell for cell in executed.cells if cell.is_test]
    return sum(cell.points for cell in tests if cell.passed), sum(cell.points for cell in tests)
