"""An assignment's probes and hidden checks in this process, on a submission made of the source notebook.

As tests/test_pooling_layers_content.py does for pooling_layers, for any assignment: each
submission is the source notebook with some solution cells replaced; its probe cells run in a
namespace as grader.probing.probe runs them (the assignment's ``probe_names`` first), and the hidden
checks run through pytest with the grader's own collector.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from grader.assignments import module, probe_names, probe_spec
from grader.pipeline.artifacts import Artifacts
from grader.probing.probe import cell_sources, run_cells
from tests.inprocess import probed, run_checks, shares  # noqa: F401 - the in-process checks, with the property rule
from tests.submissions import reference_cells

REPO = Path(__file__).resolve().parent.parent


def read_only_inputs(assignment: str, parameters: dict[str, Any]) -> dict[str, np.ndarray]:
    """The unseen inputs, read-only as the grader hands them out."""
    made = probe_spec(assignment).make_inputs(parameters)
    for array in made.values():
        array.setflags(write=False)
    return made


def submission(assignment: str, cells: dict[str, str]) -> dict:
    """The source notebook (plain JSON) with its solution cells replaced by ``cells`` where named."""
    notebook = json.loads((REPO / "source" / assignment / f"{assignment}.ipynb").read_text(encoding="utf-8"))
    solutions = {**reference_cells(REPO, assignment), **cells}
    for cell in notebook["cells"]:
        meta = cell["metadata"].get("nbgrader", {})
        if meta.get("solution"):
            cell["source"] = solutions[meta["grade_id"]]
    return notebook


def probe_namespace(assignment: str, notebook: dict) -> tuple[dict, dict[str, str]]:
    """The probe cells run as grader.probing.probe runs them: (namespace, cell id -> error)."""
    sources = cell_sources(notebook, probe_spec(assignment).cells)
    namespace: dict = {**probe_names(assignment), "__name__": "__main__", "__cells__": dict(sources)}
    return namespace, run_cells(sources, namespace)


def artifacts_of(assignment: str, cells: dict[str, str], inputs: dict[str, np.ndarray], workdir: Path,
                 values: dict | None = None, parameters: dict | None = None) -> Artifacts:
    """The artifacts the grader would hold for a submission with these solution cells (exported ``values``)."""
    namespace, errors = probe_namespace(assignment, submission(assignment, cells))
    parameters = dict(getattr(module(assignment), "PARAMETERS", {}) if parameters is None else parameters)
    return Artifacts(assignment, workdir, parameters, values or {}, {},
                     probed(assignment, namespace, errors, inputs), inputs)


