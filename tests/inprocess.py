"""An assignment's folder in this process: source-notebook submissions through its probes and hidden checks.

Each submission is the assignment's source notebook with some solution cells replaced. Its
probe cells run in a namespace as the probe process runs them (grader.probing.probe), its exported
answers are described as the export cell describes them (grader.pipeline.export), and the hidden checks
run through pytest with the grader's own collector (grader.checks.runner). Scores per grade id
follow grader.checks.registry.earned_share, as grader.pipeline.autograde does. No notebook is executed
and no grader is started: seconds per submission, fit for the default test tier.
"""

from __future__ import annotations

import contextlib
import functools
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from grader.assignments import checks_file, declaration_at, module, probe_names, probe_spec
from grader.checks.registry import CheckOutcome, earned_share
from grader.checks.runner import CheckCollector, pytest_arguments
from grader.course.settings import GraderSettings
from grader.pipeline.artifacts import Artifacts, ProbeResult
from grader.pipeline.export import describe
from grader.probing.probe import cell_sources, run_cells
from tests.submissions import GRADE_IDS, reference_cells

REPO = Path(__file__).resolve().parent.parent
# The cells that define an assignment's exported names, run in order (solution cells and the locked ones they read).
EXPORT_CELLS = {
    "pooling_layers": ("imports", "pooling_answers"),
    "cnn_quiz": ("imports", "quiz_answers"),
    "custom_filters": ("imports", "load_image", "sobel_x", "blur_then_edges", "high_pass_5x5"),
    "conv_layers": (),
    "mnist_mlp": (),  # exports come from training: tests give them as `exports`
}


def source_path(assignment: str) -> Path:
    """The assignment's source notebook in the repo's course."""
    return REPO / "source" / assignment / f"{assignment}.ipynb"


def submission(assignment: str, cells: dict[str, str]) -> dict:
    """The source notebook (plain JSON) with its solution cells replaced by ``cells`` where named."""
    notebook = json.loads(source_path(assignment).read_text(encoding="utf-8"))
    solutions = {**reference_cells(REPO, assignment), **cells}
    for cell in notebook["cells"]:
        meta = cell["metadata"].get("nbgrader", {})
        if meta.get("solution"):
            cell["source"] = solutions[meta["grade_id"]]
    return notebook


@functools.lru_cache(maxsize=8)
def grading_inputs(assignment: str) -> dict[str, np.ndarray]:
    """The unseen inputs at the assignment's grading parameters, read-only as the grader hands them out."""
    made = probe_spec(assignment).make_inputs(declaration_at(assignment, checks_file(assignment).parent).parameters)
    for array in made.values():
        array.setflags(write=False)
    return made


def probe_results(assignment: str, notebook: dict, inputs: dict[str, np.ndarray]) -> dict[str, ProbeResult]:
    """Each grade id's probe, run as grader.probing.probe runs it, its output as plain data read back."""
    spec = probe_spec(assignment)
    sources = cell_sources(notebook, spec.cells)
    namespace: dict = {**probe_names(assignment), "__name__": "__main__", "__cells__": dict(sources)}
    return probed(assignment, namespace, run_cells(sources, namespace), inputs)


def probed(assignment: str, namespace: dict, errors: dict[str, str],
           inputs: dict[str, np.ndarray]) -> dict[str, ProbeResult]:
    """Each grade id's probe on ``namespace`` (``errors``: its cells' by grade id), read back as plain data."""
    results = {}
    for grade_id, run_probe in probe_spec(assignment).probes.items():
        try:
            values, arrays = run_probe(namespace, inputs)
        except Exception as error:  # noqa: BLE001 - as grader.probing.probe: the probe fails, the checks say why
            cause = errors.get(grade_id) or f"{type(error).__name__}: {error}"
            results[grade_id] = ProbeResult(f"expected your code to run; {cause}", {}, {})
            continue
        plain = {name: np.asarray(array, dtype=np.float64) for name, array in arrays.items()}
        results[grade_id] = ProbeResult("", json.loads(json.dumps(values)), plain)
    return results


def described(assignment: str, namespace: dict[str, Any]) -> tuple[dict, dict]:
    """(values, arrays) of the exported names in ``namespace``, as grader.pipeline.export writes them."""
    values, arrays = {}, {}
    for name in module(assignment).EXPORTED_NAMES:
        if name not in namespace:
            values[name] = {"kind": "missing"}
            continue
        values[name], array = describe(namespace[name])
        if array is not None and array.dtype != object:
            arrays[name] = array
    return json.loads(json.dumps(values)), arrays


def exported(assignment: str, notebook: dict) -> tuple[dict, dict]:
    """(values, arrays) of the exported names after the assignment's EXPORT_CELLS run."""
    namespace: dict = {"__name__": "__main__"}
    run_cells(cell_sources(notebook, EXPORT_CELLS[assignment]), namespace)
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")  # the locked cells' pictures
    return described(assignment, namespace)


def artifacts_of(assignment: str, cells: dict[str, str], workdir: Path,
                 exports: dict[str, Any] | None = None) -> Artifacts:
    """The artifacts the grader would hold for a submission with these solution cells.

    ``exports`` (name -> value) stands in for what the notebook exported when it is given; the
    probes run in ``workdir`` (where mnist_mlp's probe reads ``model.pt``).
    """
    notebook, inputs = submission(assignment, cells), grading_inputs(assignment)
    values, arrays = exported(assignment, notebook) if exports is None else described(assignment, exports)
    with contextlib.chdir(workdir):
        probes = probe_results(assignment, notebook, inputs)
    parameters = GraderSettings().check_parameters(assignment)
    parameters = {**declaration_at(assignment, checks_file(assignment).parent).parameters, **parameters}
    return Artifacts(assignment, workdir, parameters, values, arrays, probes, inputs)


def run_checks(artifacts: Artifacts) -> list[CheckOutcome]:
    """The hidden checks of the assignment's folder, run by pytest with the grader's collector."""
    collector = CheckCollector(artifacts)
    code = pytest.main([str(checks_file(artifacts.assignment)), *pytest_arguments()], plugins=[collector])
    assert code in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED), f"the checks could not run: {code}"
    return collector.outcomes_for_run()


def shares(assignment: str, outcomes: list[CheckOutcome]) -> dict[str, float]:
    """The fraction of each grade id's points, as grader.pipeline.autograde.scored gives them."""
    fractions = {}
    for grade_id in GRADE_IDS[assignment]:
        mine = [outcome for outcome in outcomes if outcome.grade_id == grade_id]
        assert mine, f"no check for {grade_id}"
        fractions[grade_id] = earned_share(mine)
    return fractions


def graded(assignment: str, cells: dict[str, str], workdir: Path,
           exports: dict[str, Any] | None = None) -> tuple[dict[str, float], list[CheckOutcome]]:
    """(share per grade id, each check's outcome) of a submission with these solution cells."""
    outcomes = run_checks(artifacts_of(assignment, cells, workdir, exports))
    return shares(assignment, outcomes), outcomes
