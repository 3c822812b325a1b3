"""The contract status of an execution: why it ended early, or what it ran into and went on past."""

from __future__ import annotations

import dataclasses

from nbclient.exceptions import CellTimeoutError, DeadKernelError

from grader.pipeline.cell_timeout import CellIgnoredInterrupt, cell_label
from grader.pipeline.execute import ExecutedNotebook, KernelDied
from grader.results.records import GradeResult, Status
from grader.sandbox.watchdog import NotebookTimeout, ScratchFull

RESOURCE_ERRORS = ("File too large", "Too many open files", "Resource temporarily unavailable",
                   "can't start new thread", "No space left on device", "Disk quota exceeded")
MEMORY_ERRORS = ("MemoryError", "can't allocate memory", "Cannot allocate memory", "std::bad_alloc")
LIMIT_SIGNALS = ("SIGXCPU", "SIGXFSZ")


def execution_status(error: BaseException) -> tuple[Status, str]:
    """The contract status of a notebook execution that ended early with ``error``, and why."""
    if isinstance(error, CellIgnoredInterrupt):
        return Status.CELL_TIMEOUT, str(error)
    if isinstance(error, CellTimeoutError):
        return Status.CELL_TIMEOUT, "a cell ran past its time limit"
    if isinstance(error, NotebookTimeout | ScratchFull):
        status = Status.NOTEBOOK_TIMEOUT if isinstance(error, NotebookTimeout) else Status.RESOURCE_LIMIT
        return status, f"{error}; the kernel was stopped"
    if isinstance(error, KernelDied):
        if error.signal_name in LIMIT_SIGNALS:
            return Status.RESOURCE_LIMIT, f"{error}: a CPU-time or file-size limit was reached"
        return Status.KERNEL_DIED, str(error)
    if isinstance(error, DeadKernelError):
        return Status.KERNEL_DIED, "the kernel died"
    return Status.GRADER_ERROR, f"{type(error).__name__}: {str(error)[:300]}"


def limit_status(executed: ExecutedNotebook) -> tuple[Status, str]:
    """What a notebook that ran to its end ran into: ``CELL_TIMEOUT`` when a cell was interrupted at its time
    limit, ``MEMORY_LIMIT`` or ``RESOURCE_LIMIT`` when a cell ran into a sandbox limit; ``OK`` otherwise."""
    if executed.timed_out:
        labels = [cell_label(cell.index, cell.grade_id) for cell in executed.timed_out]
        cells = " ".join(f"{label[0].upper()}{label[1:]} ran past its time limit of {cell.timed_out:g} s and was "
                         "interrupted." for label, cell in zip(labels, executed.timed_out, strict=True))
        return Status.CELL_TIMEOUT, f"{cells} The notebook went on and was graded."
    for cell in executed.cells:
        error = f"{cell.error_name}: {cell.error_value}"
        if any(text in error for text in MEMORY_ERRORS):
            return Status.MEMORY_LIMIT, f"cell {cell.index} ran out of memory ({error[:200]})"
        if any(text in error for text in RESOURCE_ERRORS):
            return Status.RESOURCE_LIMIT, f"cell {cell.index} reached a sandbox limit ({error[:200]})"
    if executed.output_flood:
        return Status.RESOURCE_LIMIT, "the notebook printed far more output than the grader keeps; it was interrupted"
    return Status.OK, ""


def noted_timeouts(tests: tuple[GradeResult, ...], executed: ExecutedNotebook) -> tuple[GradeResult, ...]:
    """``tests`` with a first line, for each grade id whose cell was interrupted at its time limit, saying so."""
    limits = {cell.grade_id: cell.timed_out for cell in executed.timed_out if cell.grade_id}
    return tuple(dataclasses.replace(test, output=(
        f"This cell ran past its time limit of {limits[test.grade_id]:g} s and was interrupted; what it had "
        f"defined by then was checked.\n{test.output}")) if test.grade_id in limits else test for test in tests)
