"""Runs inside the student's kernel during plain ``nbgrader autograde`` (the benchmark's anchor).

The anchor's hidden test cells import this module and call :func:`earned`. The first call of a
notebook does what the grader does outside the kernel, here inside it: export the contract's
names, run the assignment's probes on the notebook's cells in a fresh namespace, and run the
grader's hidden pytest checks on the result. Every call then returns the points of one test
cell: its points times the passing share of its grade id, as the grader scores it.

Nothing may reach stderr while a graded cell runs (nbgrader gives such a cell 0 points), so
Python's and the file descriptors' output are silenced around the work.
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

_SECRET_SUFFIX = "_labels"  # as grader.pipeline.autograde: inputs the probes never see
_shares: dict[str, dict[str, float]] = {}  # assignment -> grade id -> passing share, once per kernel


@contextlib.contextmanager
def _silenced() -> Iterator[None]:
    """No output at all: Python streams, file descriptors 1 and 2, warnings."""
    streams = io.StringIO()
    saved = [os.dup(1), os.dup(2)]
    with open(os.devnull, "w") as devnull, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        os.dup2(devnull.fileno(), 1)
        os.dup2(devnull.fileno(), 2)
        try:
            with contextlib.redirect_stdout(streams), contextlib.redirect_stderr(streams):
                yield
        finally:
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for descriptor in saved:
                os.close(descriptor)


def _notebook_path(assignment: str) -> Path:
    """The sanitized notebook nbgrader is executing: it sits in the kernel's working folder."""
    expected = Path.cwd() / f"{assignment}.ipynb"
    if expected.exists():
        return expected
    found = sorted(Path.cwd().glob("*.ipynb"))
    if not found:
        raise FileNotFoundError(f"no notebook in {Path.cwd()} to take the probe cells from")
    return found[0]


def _run_probes(assignment: str, inputs: Mapping[str, Any], scratch: Path) -> Path:
    """The grader's probe process, run in this kernel: the spec's cells in a fresh namespace."""
    import matplotlib.pyplot as plt
    import numpy as np
    import torch

    from grader.probing.probe import run_probes

    plt.switch_backend("agg")  # as in the grader's probe process (MPLBACKEND=Agg)
    inputs_file = scratch / "inputs.npz"
    np.savez(inputs_file, **{name: array for name, array in inputs.items() if not name.endswith(_SECRET_SUFFIX)})
    probe_dir = scratch / "probes"
    torch.manual_seed(0)  # as grader.probing.probe_launcher: the same submission probes the same way every time
    run_probes(assignment, _notebook_path(assignment), inputs_file, probe_dir)
    return probe_dir


def _grade_shares(namespace: dict, assignment: str, exported: list[str], parameters: dict) -> dict[str, float]:
    """Export, probe and check once; the passing share (by weight) of each grade id."""
    from grader.assignments import probe_spec
    from grader.checks.runner import run_checks
    from grader.pipeline.artifacts import Artifacts
    from grader.pipeline.export import export_artifacts
    from grader.pipeline.readback import load_json, load_npz, load_probes

    with tempfile.TemporaryDirectory(prefix="anchor-") as folder:
        scratch = Path(folder)
        export_artifacts(namespace, exported, str(scratch / "exported"))
        inputs = probe_spec(assignment).make_inputs(dict(parameters))
        probe_dir = _run_probes(assignment, inputs, scratch)
        artifacts = Artifacts(assignment=assignment, workdir=Path.cwd(), parameters=parameters,
                              values=load_json(scratch / "exported" / "values.json"),
                              arrays=load_npz(scratch / "exported" / "arrays.npz"),
                              probes=load_probes(probe_dir), inputs=inputs)
        outcomes = run_checks(artifacts)
    from grader.checks.registry import earned_share

    by_grade_id: dict[str, list] = {}
    for outcome in outcomes:
        by_grade_id.setdefault(outcome.grade_id, []).append(outcome)
    return {grade_id: earned_share(mine) for grade_id, mine in by_grade_id.items()
            if sum(o.weight for o in mine)}


def earned(namespace: dict, assignment: str, grade_id: str, points: float, exported: list[str],
           parameters: dict) -> float:
    """Points of one test cell of ``grade_id``: ``points`` times the grade id's passing share."""
    if assignment not in _shares:
        with _silenced():
            _shares[assignment] = _grade_shares(namespace, assignment, exported, parameters)
    return round(float(points) * _shares[assignment].get(grade_id, 0.0), 4)
