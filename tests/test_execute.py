"""Headless execution through papermill: the executed notebook is written once, or as far as it ran; a cell past
its time limit is interrupted and the notebook goes on, unless it ignores the interrupt (its kernel is killed)."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import nbformat
import papermill.engines
import papermill.execute
import pytest
from jupyter_client.manager import AsyncKernelManager
from nbclient.exceptions import CellTimeoutError
from nbformat.v4 import new_code_cell, new_notebook

from grader.pipeline.cell_timeout import CellIgnoredInterrupt
from grader.pipeline.execute import ExecutionOptions, execute_notebook
from grader.sandbox.watchdog import stop_kernel


def notebook_file(folder: Path, *sources: str) -> Path:
    notebook = new_notebook(cells=[new_code_cell(source) for source in sources])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = folder / "input.ipynb"
    nbformat.write(notebook, path)
    return path


@pytest.fixture
def writes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every path papermill writes a notebook to, at the start, after cells or at the end."""
    written: list[str] = []
    for module in (papermill.engines, papermill.execute):
        real = module.write_ipynb

        def counted(nb: nbformat.NotebookNode, path: str, *args: object, real=real, **kwargs: object) -> None:
            written.append(str(path))
            real(nb, path, *args, **kwargs)

        monkeypatch.setattr(module, "write_ipynb", counted)
    return written


def test_a_finished_run_is_written_once_and_summarised(tmp_path: Path, writes: list[str]) -> None:
    output = tmp_path / "out" / "executed.ipynb"
    executed = execute_notebook(notebook_file(tmp_path, "print('hello')", "1 / 0", "x = 2"), output, tmp_path,
                                ExecutionOptions(cell_timeout=30))
    assert writes == [str(output)], "papermill's start, per-cell and end writes are left out"
    on_disk = [cell for cell in nbformat.read(output, as_version=4).cells if cell.cell_type == "code"]
    assert on_disk[0].source == "print('hello')" and on_disk[0].outputs[0].text == "hello\n"
    assert [cell.error_name for cell in executed.cells] == ["", "ZeroDivisionError", ""]


def test_a_run_stopped_by_a_timeout_is_written_as_far_as_it_ran(tmp_path: Path, writes: list[str]) -> None:
    output = tmp_path / "executed.ipynb"
    with pytest.raises(CellTimeoutError):
        execute_notebook(notebook_file(tmp_path, "print('first')", "import time; time.sleep(30)"), output,
                         tmp_path, ExecutionOptions(cell_timeout=2, keep_going=False))
    assert writes, "the partial run is saved"
    on_disk = [cell for cell in nbformat.read(output, as_version=4).cells if cell.cell_type == "code"]
    assert on_disk[0].outputs[0].text == "first\n"


STUCK = "def f():\n    return 3\ny = 2\nwhile True:\n    pass\nz = 5"
DEAF = "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass"


def test_a_cell_past_its_limit_is_interrupted_and_the_notebook_goes_on(tmp_path: Path) -> None:
    output = tmp_path / "executed.ipynb"
    executed = execute_notebook(notebook_file(tmp_path, "x = 1", STUCK, "print(x + y + f())", "z"), output,
                                tmp_path, ExecutionOptions(cell_timeout=2))
    assert [cell.timed_out for cell in executed.cells] == [0, 2, 0, 0]
    assert [cell.error_name for cell in executed.cells] == ["", "KeyboardInterrupt", "", "NameError"]
    assert executed.cells[1].stopped_line == 4, "interrupted in the loop, after what came before it had run"
    assert executed.timed_out == (executed.cells[1],)
    on_disk = {cell.source: cell for cell in nbformat.read(output, as_version=4).cells}
    assert on_disk["print(x + y + f())"].outputs[0].text == "6\n", "the next cell sees what the stuck one defined"
    assert "ran past its time limit of 2 s and was interrupted" in on_disk[STUCK].outputs[0].text


def test_a_cell_that_ignores_the_interrupt_has_its_kernel_killed(tmp_path: Path) -> None:
    manager = AsyncKernelManager(kernel_name="python3")
    started = time.monotonic()
    try:
        with pytest.raises(CellIgnoredInterrupt, match=r"^cell 1 ran past its 2 s limit and was still running "
                                                        r"1 s after the interrupt; the kernel was killed$"):
            execute_notebook(notebook_file(tmp_path, "x = 1", DEAF, "y = 2"), tmp_path / "executed.ipynb", tmp_path,
                             ExecutionOptions(cell_timeout=2, interrupt_grace=1), manager)
        assert time.monotonic() - started < 30, "killed after the grace, never waiting for another cell limit"
        assert manager.provisioner.process.wait(timeout=10) == -signal.SIGKILL
    finally:
        stop_kernel(manager)
