"""``python -m grader.probe``: call student code in its own process and write plain data back.

Hidden checks that must call a student's function or class never do it in the grader's
process. The grader starts this module as a child process in the submission's scratch
folder; it executes the notebook's given and solution cells that the assignment's probe
spec names, calls each probe, and writes ``<grade_id>.json`` and ``<grade_id>.npz``.
"""

from __future__ import annotations

import argparse
import json
import sys
import traceback
from pathlib import Path

import numpy as np

MAX_ERROR = 2_000


def cell_sources(notebook: dict, cell_ids: tuple[str, ...]) -> list[tuple[str, str]]:
    """(cell id, source) for the named cells, in notebook order, magics and shell lines removed.

    The notebook is plain JSON here: importing nbformat (and its schema validators) would
    double this process's start-up time.
    """
    wanted = []
    for cell in notebook.get("cells", []):
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", "")
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else str(source)
        if cell.get("cell_type") == "code" and grade_id in cell_ids:
            lines = [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]
            wanted.append((grade_id, "\n".join(lines)))
    return wanted


def describe_error(error: BaseException) -> str:
    """``Type: message``, with a plain word for the stub nbgrader leaves in unfinished cells."""
    if isinstance(error, NotImplementedError):
        return "NotImplementedError: this part is not written yet (the cell still raises NotImplementedError)"
    return f"{type(error).__name__}: {error}"[:MAX_ERROR]


def run_cells(sources: list[tuple[str, str]], namespace: dict) -> dict[str, str]:
    """Execute each cell in ``namespace``, going on after errors; returns cell id -> error."""
    errors = {}
    for cell_id, source in sources:
        try:
            exec(compile(source, f"<cell {cell_id}>", "exec"), namespace)
        except BaseException as error:  # noqa: BLE001 - a student cell may raise anything
            errors[cell_id] = describe_error(error)
    return errors


def write_probe(out: Path, grade_id: str, error: str, values: dict, arrays: dict) -> None:
    """Write one probe's result as JSON and NPZ (no pickles)."""
    clean = {name: np.asarray(array, dtype=np.float64) for name, array in arrays.items()}
    np.savez(out / f"{grade_id}.npz", **clean)
    (out / f"{grade_id}.json").write_text(json.dumps({"error": error, "values": values}), encoding="utf-8")


def run_probes(assignment: str, notebook_path: Path, inputs_path: Path, out: Path) -> None:
    """Execute the probe spec of ``assignment`` against ``notebook_path``."""
    from grader.artifacts import load_npz
    from grader.probes import PROBES

    spec = PROBES[assignment]
    notebook = json.loads(notebook_path.read_text(encoding="utf-8"))
    inputs = load_npz(inputs_path)
    sources = cell_sources(notebook, spec.cells)
    import torch

    namespace: dict = {"__name__": "__main__", "__cells__": dict(sources), "device": torch.device("cpu")}
    cell_errors = run_cells(sources, namespace)
    out.mkdir(parents=True, exist_ok=True)
    for grade_id, probe in spec.probes.items():
        failed_cell = cell_errors.get(grade_id)
        try:
            values, arrays = probe(namespace, inputs)
            error = ""
        except BaseException as error_:  # noqa: BLE001
            values, arrays = {}, {}
            error = describe_error(error_)
            traceback.print_exc(file=sys.stderr)
        if error and failed_cell:
            error = f"your `{grade_id}` cell raised {failed_cell}"
        if error:
            error = f"expected your code to run; {error}"
        write_probe(out, grade_id, error, values, arrays)


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments the grader passes and run the probes."""
    parser = argparse.ArgumentParser(prog="python -m grader.probe")
    parser.add_argument("assignment")
    parser.add_argument("notebook", type=Path)
    parser.add_argument("inputs", type=Path)
    parser.add_argument("out", type=Path)
    args = parser.parse_args(argv)
    run_probes(args.assignment, args.notebook, args.inputs, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
