"""``python -m grader.probing.probe``: call student code in its own process and write plain data back.

Hidden checks that must call a student's function or class never do it in the grader's
process. The grader starts this module as a child process in the submission's scratch
folder; it executes the notebook's given and solution cells that the assignment's probe
spec names, calls each probe, and writes ``<grade_id>.json`` and ``<grade_id>.npz``.

Cells are turned into Python by IPython's own input transformer, as Jupyter does: IPython's
syntax (``files = !ls``, ``f?``, ``%%time``, ``x = %time f()``) becomes ``get_ipython()`` calls,
answered here by :class:`ProbeShell`, which runs no shell.
"""

from __future__ import annotations

import argparse
import ast
import builtins
import json
import re
import sys
import traceback
from pathlib import Path
from typing import Any

import numpy as np
from IPython.core.inputtransformer2 import TransformerManager  # imported with IPython, preloaded by the forkserver
from IPython.utils.capture import capture_output
from IPython.utils.text import SList

from grader.course.layout import nbgrader_metadata

MAX_ERROR = 2_000
TRANSFORMER = TransformerManager()
TRANSFORMER.transform_cell("x = 1\n")  # its one-off set-up, paid where this module is preloaded
# %timeit's own options, before the statement: -n N, -r R, -p P, -t, -c, -q, -o
TIMEIT_OPTIONS = re.compile(r"^\s*(?:(?:-[nrp]\s*\d+|-[tcqo]+)(?:\s+|$))*")
CAPTURE_OPTIONS = ("--no-stdout", "--no-stderr", "--no-display")


def as_python(source: str) -> str:
    """A cell's source as plain Python: IPython's syntax turned into ``get_ipython()`` calls, as Jupyter does."""
    try:
        return TRANSFORMER.transform_cell(source)
    except Exception:  # noqa: BLE001 - what IPython cannot transform, compiling reports as a SyntaxError
        return source


def run_python(source: str, global_ns: dict, local_ns: Any) -> Any:
    """Execute ``source`` (IPython syntax allowed); the value of its last line when that is an expression."""
    tree = ast.parse(as_python(source), "<magic>")
    last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    exec(compile(tree, "<magic>", "exec"), global_ns, local_ns)
    return None if last is None else eval(compile(ast.Expression(last.value), "<magic>", "eval"), global_ns, local_ns)


class ProbeShell:
    """What ``get_ipython()`` answers in the probe: no shell, no help; only the magics that run Python run it.

    - shell escapes (``!cmd``, ``x = !cmd``, ``!!cmd``, ``%sx``, ``%system``) run nothing and give
      an empty list of lines; ``%%bash``, ``%%sh``, ``%%script`` and the like run nothing either;
    - ``%time`` / ``%%time`` run their code in the cell's namespace (``x = %time f()`` gets f's value);
    - ``%timeit`` / ``%%timeit`` run their setup and code once, in a scope of their own (in Jupyter
      too, what they assign does not stay);
    - ``%%capture [name]`` runs the cell with its output captured, kept in ``name``;
    - help (``f?``, ``?f``, ``f??``) and every other magic do nothing and give ``None``.
    """

    def system(self, command: str) -> None:
        """``!command``: runs nothing."""

    def getoutput(self, command: str, split: bool = True, depth: int = 0) -> SList:
        """``x = !command``: runs nothing; an empty list of lines."""
        return SList()

    def run_line_magic(self, name: str, line: str, _stack_depth: int = 1) -> Any:
        """``%name line`` in the caller's namespace, as the class docstring says."""
        caller = sys._getframe(1)
        if name == "time":
            return run_python(line, caller.f_globals, caller.f_locals)
        if name == "timeit":
            run_python(TIMEIT_OPTIONS.sub("", line, count=1), caller.f_globals, dict(caller.f_locals))
        return SList() if name in ("sx", "system") else None

    def run_cell_magic(self, name: str, line: str, cell: str) -> Any:
        """``%%name line`` over ``cell`` in the caller's namespace, as the class docstring says."""
        caller = sys._getframe(1)
        if name == "time":
            return run_python(cell, caller.f_globals, caller.f_locals)
        if name == "timeit":
            scope = dict(caller.f_locals)
            run_python(TIMEIT_OPTIONS.sub("", line, count=1), caller.f_globals, scope)
            run_python(cell, caller.f_globals, scope)
        if name == "capture":
            words = line.split()
            with capture_output(*(option not in words for option in CAPTURE_OPTIONS)) as captured:
                run_python(cell, caller.f_globals, caller.f_locals)
            for word in (word for word in words if not word.startswith("-")):
                caller.f_locals[word] = captured
        return None


def display(*objects: Any, **options: Any) -> None:
    """IPython's ``display``, a builtin in Jupyter: the probe shows nothing."""


def install_probe_shell() -> ProbeShell:
    """Put ``get_ipython`` and ``display`` among this process's builtins, as IPython does (the probe process only)."""
    shell = ProbeShell()
    builtins.get_ipython = lambda: shell  # type: ignore[attr-defined]
    builtins.display = display  # type: ignore[attr-defined]
    return shell


def cell_sources(notebook: dict, cell_ids: tuple[str, ...]) -> list[tuple[str, str]]:
    """(cell id, Python source) for the named cells, in notebook order, IPython syntax transformed.

    The notebook is plain JSON here: importing nbformat (and its schema validators) would
    double this process's start-up time.
    """
    wanted = []
    for cell in notebook.get("cells", []):
        grade_id = nbgrader_metadata(cell).get("grade_id", "")
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else str(source)
        if cell.get("cell_type") == "code" and grade_id in cell_ids:
            wanted.append((grade_id, as_python(source)))
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
    from grader.assignments import probe_names, probe_spec
    from grader.pipeline.readback import load_npz

    spec = probe_spec(assignment)
    notebook = json.loads(notebook_path.read_text(encoding="utf-8"))
    inputs = load_npz(inputs_path)
    sources = cell_sources(notebook, spec.cells)
    install_probe_shell()
    namespace: dict = {**probe_names(assignment), "__name__": "__main__", "__cells__": dict(sources)}
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
    parser = argparse.ArgumentParser(prog="python -m grader.probing.probe")
    parser.add_argument("assignment")
    parser.add_argument("notebook", type=Path)
    parser.add_argument("inputs", type=Path)
    parser.add_argument("out", type=Path)
    args = parser.parse_args(argv)
    run_probes(args.assignment, args.notebook, args.inputs, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
