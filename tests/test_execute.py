"""Headless execution through papermill: the executed notebook is written once, or as far as it ran."""

from __future__ import annotations

from pathlib import Path

import nbformat
import papermill.engines
import papermill.execute
import pytest
from nbclient.exceptions import CellTimeoutError
from nbformat.v4 import new_code_cell, new_notebook

from grader.pipeline.execute import ExecutionOptions, execute_notebook


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
