"""A cell interrupted at its time limit: where it stopped, what the probe runs of it, and what the student is told."""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

from grader.pipeline.cell_timeout import CellIgnoredInterrupt, finished_part, interrupted_line, probe_notebook
from grader.pipeline.execute import CellOutcome, ExecutedNotebook
from grader.pipeline.run_status import execution_status, limit_status, noted_timeouts
from grader.results.records import GradeResult, Status

# IPython's traceback of a KeyboardInterrupt, as the kernel sends it (colours and all)
TRACEBACK = [
    "\x1b[31m---------------------------------------------------------------------------\x1b[39m",
    "\x1b[31mKeyboardInterrupt\x1b[39m                         Traceback (most recent call last)",
    "\x1b[36mCell\x1b[39m\x1b[36m \x1b[39m\x1b[32mIn[5]\x1b[39m\x1b[32m, line 3\x1b[39m\n"
    "\x1b[32m      1\x1b[39m x = 1\n",
    "\x1b[36mCell\x1b[39m\x1b[36m \x1b[39m\x1b[32mIn[2]\x1b[39m\x1b[32m, line 7\x1b[39m, in "
    "\x1b[36mspin\x1b[39m\x1b[34m()\n",
    "\x1b[31mKeyboardInterrupt\x1b[39m: ",
]
CELL = "import numpy as np\n%time a = 1\ndef f(x):\n    while True:\n        x += 1\nb = (1,\n     2)\nf(b)\nc = 3\n"


def test_the_interrupted_line_is_the_cells_own_outermost_frame() -> None:
    assert interrupted_line(TRACEBACK) == 3, "the running cell's frame, not the function it called"
    assert interrupted_line(["KeyboardInterrupt: "]) == 0


def test_an_interrupted_cell_keeps_the_statements_that_had_finished() -> None:
    before_call = "import numpy as np\n%time a = 1\ndef f(x):\n    while True:\n        x += 1\nb = (1,\n     2)\n"
    assert finished_part(CELL, 8) == before_call, "stopped in the call on line 8"
    assert finished_part(CELL, 5) == "import numpy as np\n%time a = 1\n", "stopped in the body of f"
    assert finished_part(CELL, 7) == "import numpy as np\n%time a = 1\ndef f(x):\n    while True:\n        x += 1\n"
    assert finished_part(CELL, 0) == "", "where it stopped is unknown: none of it runs"
    assert finished_part(CELL, 99) == "" and finished_part("def (:\n", 1) == ""


def graded_cell(grade_id: str, source: str) -> nbformat.NotebookNode:
    return new_code_cell(source, metadata={"nbgrader": {"grade_id": grade_id, "solution": True}})


def test_the_probe_runs_only_what_an_interrupted_cell_had_finished(tmp_path: Path) -> None:
    loop = "def g():\n    return 1\nwhile True:\n    pass\n"
    notebook = new_notebook(cells=[graded_cell("first", loop), graded_cell("second", loop), new_code_cell(loop)])
    probed = probe_notebook(notebook, {"second": 3, "": 3})  # a cell without a grade id is never the probe's
    assert [cell.source for cell in probed.cells] == [loop, "def g():\n    return 1\n", loop]
    assert notebook.cells[1].source == loop, "the grader's own copy is left as it was"
    nbformat.write(probed, tmp_path / "probed.ipynb")  # still a valid notebook


def outcome(index: int, grade_id: str, timed_out: float = 0.0, error: str = "") -> CellOutcome:
    return CellOutcome(index, grade_id, True, False, 0.0, error_name=error, timed_out=timed_out)


def executed(*cells: CellOutcome) -> ExecutedNotebook:
    return ExecutedNotebook(path=Path("x.ipynb"), wall_seconds=1.0, cells=cells, first_error=None)


def test_a_notebook_that_went_on_past_a_stuck_cell_says_cell_timeout_and_names_it() -> None:
    ran = executed(outcome(3, "q", error="MemoryError"), outcome(5, "quiz_answers", 300, "KeyboardInterrupt"),
                   outcome(7, "", 300, "KeyboardInterrupt"))
    status, reason = limit_status(ran)
    assert status is Status.CELL_TIMEOUT
    assert reason == ("The cell `quiz_answers` ran past its time limit of 300 s and was interrupted. Cell 7 ran "
                      "past its time limit of 300 s and was interrupted. The notebook went on and was graded.")
    assert limit_status(executed(outcome(5, "quiz_answers"))) == (Status.OK, "")


def test_the_stuck_grade_id_is_told_and_the_others_are_left_alone() -> None:
    ran = executed(outcome(2, "a"), outcome(5, "b", 2.5, "KeyboardInterrupt"))
    tests = (GradeResult("a", 1.0, 1.0, "PASS: fine"), GradeResult("b", 2.0, 2.0, "PASS: right"))
    noted = noted_timeouts(tests, ran)
    assert noted[0] == tests[0]
    assert noted[1].output.splitlines() == ["This cell ran past its time limit of 2.5 s and was interrupted; what it "
                                            "had defined by then was checked.", "PASS: right"]
    assert noted[1].score == 2.0


def test_a_cell_that_ignored_the_interrupt_is_a_cell_timeout_that_says_the_kernel_was_killed() -> None:
    status, reason = execution_status(CellIgnoredInterrupt(12, "quiz_answers", 300, 10))
    assert status is Status.CELL_TIMEOUT
    assert reason == ("the cell `quiz_answers` ran past its 300 s limit and was still running 10 s after the "
                      "interrupt; the kernel was killed")
