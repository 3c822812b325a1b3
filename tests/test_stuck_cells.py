"""A stuck cell costs only itself: interrupted at its time limit, the notebook goes on and the rest is graded.

End to end, every assignment: an infinite loop after the reference answer of its last graded
cell, then of its first. Every grade id keeps its points (the stuck cell's names were defined
before the loop), the status says CELL_TIMEOUT and the feedback names the cell. A cell that
ignores the interrupt ends the run with its kernel killed, well before the notebook's limit. The
interrupt reaches a sandboxed kernel whichever way it was started (forked, or ``python -m grader.sandbox.jail``).
"""

from __future__ import annotations

import html
import json
import shutil
import time
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from grader.batch.run import autograde_course, prepare_context
from grader.course.layout import feedback_page
from grader.kernels.kernel import sandboxed_manager
from grader.pipeline.autograde import sandbox_run
from grader.pipeline.cell_timeout import CellIgnoredInterrupt
from grader.pipeline.execute import ExecutionOptions, execute_notebook
from grader.sandbox.policy import isolation_mode
from grader.sandbox.watchdog import stop_kernel
from tests.submissions import ASSIGNMENTS, GRADE_IDS, Variant, build
from tests.test_warm_kernel import processes_of, small_course

CELL_TIMEOUT = 20
# mnist_mlp's training is the longest legitimate cell: a few epochs keep it well inside the limit on a
# loaded machine (the reference reaches about 0.78 after 6 epochs); accuracy is not what this file tests.
SETTINGS = f"""
c.GraderSettings.parameters = {{"mnist_mlp": {{"n_epochs": 6, "seed": 0, "dataset": "mnist5k"}}}}
c.GraderSettings.accuracy_thresholds = {{"mnist5k": 0.7, "mnist": 0.97}}
c.GraderSettings.cell_timeout = {CELL_TIMEOUT}
c.GraderSettings.interrupt_grace = 3
"""
LOOP = "\nwhile True:\n    pass\n"
IGNORES = "\nimport signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass\n"
DEAF = Variant("deaf-to-interrupt-cnn_quiz", "cnn_quiz")

pytestmark = [pytest.mark.slow, pytest.mark.skipif(isolation_mode() != "namespaces",
                                                   reason="the kernel runs in the namespaced sandbox")]


def stuck(assignment: str, where: str) -> tuple[Variant, str]:
    """The variant whose ``where`` (first or last) graded cell loops forever after its answer, and that grade id."""
    grade_id = GRADE_IDS[assignment][0 if where == "first" else -1]
    return Variant(f"stuck-{where}-{assignment}", assignment), grade_id


STUCK = {variant.name: (variant, grade_id) for variant, grade_id in
         (stuck(assignment, where) for assignment in ASSIGNMENTS for where in ("first", "last"))}


def with_appended(course: Path, variant: Variant, grade_id: str, tail: str) -> nbformat.NotebookNode:
    """The reference submission with ``tail`` after the answer of ``grade_id``'s cell."""
    notebook = build(course, variant)
    cell = next(cell for cell in notebook.cells if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
                == grade_id)
    cell.source += tail
    return notebook


@pytest.fixture(scope="module")
def stuck_class(repo: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A class of stuck submissions, graded with a short cell limit."""
    course = tmp_path_factory.mktemp("stuck") / "course"
    for folder in ("source", "release"):
        shutil.copytree(repo / folder, course / folder)
    (course / "nbgrader_config.py").write_text((repo / "nbgrader_config.py").read_text() + SETTINGS)
    entries = [(variant, grade_id, LOOP) for variant, grade_id in STUCK.values()]
    for variant, grade_id, tail in [*entries, (DEAF, "quiz_answers", IGNORES)]:
        target = course / "submitted" / variant.name / variant.assignment / f"{variant.assignment}.ipynb"
        target.parent.mkdir(parents=True)
        nbformat.write(with_appended(course, variant, grade_id, tail), target)
    autograde_course(course, workers=2)
    return course


def results(course: Path, variant: Variant) -> dict:
    return json.loads((course / "autograded" / variant.name / variant.assignment / "results.json").read_text())


@pytest.mark.parametrize("name", sorted(STUCK))
def test_a_stuck_cell_is_interrupted_and_every_sound_grade_id_keeps_its_points(stuck_class: Path, name: str) -> None:
    variant, grade_id = STUCK[name]
    graded = results(stuck_class, variant)
    assert graded["status"] == "CELL_TIMEOUT"
    assert f"The cell `{grade_id}` ran past its time limit of {CELL_TIMEOUT} s" in graded["output"], graded["output"]
    assert graded["output"].count("ran past") == 1, f"only the stuck cell: {graded['output']}"
    tests = {test["name"]: test for test in graded["tests"]}
    assert list(tests) == list(GRADE_IDS[variant.assignment])
    for test in tests.values():
        assert test["score"] == pytest.approx(test["max_score"]), f"{test['name']}: {test['output']}"
    assert "ran past its time limit" in tests[grade_id]["output"]
    assert graded["execution_time"] < CELL_TIMEOUT + 120, "one cell limit, then the rest of the notebook"
    page = html.unescape(feedback_page(stuck_class, variant.name, variant.assignment).read_text())
    assert f"The cell `{grade_id}` ran past its time limit" in page


def test_a_cell_that_ignores_the_interrupt_has_its_kernel_killed(stuck_class: Path) -> None:
    graded = results(stuck_class, DEAF)
    assert graded["status"] == "CELL_TIMEOUT"
    assert f"the cell `quiz_answers` ran past its {CELL_TIMEOUT} s limit" in graded["output"], graded["output"]
    assert "the kernel was killed" in graded["output"]
    assert all(test["score"] == 0 for test in graded["tests"]), "the run stopped: nothing was exported"
    assert graded["execution_time"] < CELL_TIMEOUT + 3 + 60, "killed after the grace, never left to hang"


@pytest.mark.parametrize("forked", [True, False], ids=["forked-kernel", "jail-launcher"])
def test_the_interrupt_reaches_the_sandboxed_kernel_and_a_deaf_one_is_killed(repo: Path, tmp_path: Path,
                                                                             forked: bool) -> None:
    course = small_course(repo, tmp_path / "course")
    run = sandbox_run(prepare_context(course, ("cnn_quiz",)), tmp_path / "scratch")
    whoami = "import os\nopen('pid.txt', 'w').write(str(os.getpid()))\ny = 2" + LOOP
    notebook = new_notebook(cells=[new_code_cell(source) for source in ("x = 1", whoami, "print(x + y)", IGNORES)])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, run.scratch / "input.ipynb")
    manager = sandboxed_manager(run.spec, run.scratch)
    manager.forked = forked
    output, started = tmp_path / "executed.ipynb", time.monotonic()
    try:
        with pytest.raises(CellIgnoredInterrupt, match=r"^cell 3 ran past its 3 s limit .* the kernel was killed$"):
            execute_notebook(run.scratch / "input.ipynb", output, Path(run.spec.workdir),
                             ExecutionOptions(cell_timeout=3, interrupt_grace=2, sandbox=run, notebook_timeout=120),
                             manager)
        assert time.monotonic() - started < 60
        assert manager.provisioner.process.wait(timeout=10) is not None
        deadline = time.monotonic() + 10
        while processes_of(run.spec.uid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not processes_of(run.spec.uid), "nothing of the killed kernel is left running"
    finally:
        stop_kernel(manager)
    assert (Path(run.spec.workdir) / "pid.txt").read_text() == "1", "the kernel is process 1 of its PID namespace"
    cells = [cell for cell in nbformat.read(output, as_version=4).cells if cell.cell_type == "code"]
    assert [output.get("ename") for output in cells[1].outputs if output.output_type == "error"] == [
        "KeyboardInterrupt"], "SIGINT reached the kernel through the launcher"
    assert cells[2].outputs[0].text == "3\n", "and the notebook went on"
