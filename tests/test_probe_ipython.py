"""IPython syntax in probes: cells go through IPython's own input transformer, and the
``get_ipython()`` calls it makes reach :class:`grader.probing.probe.ProbeShell`, which runs no shell.

Unit tests of the transformation and the shell, then cnn_quiz graded end to end: correct solution
cells written with ``files = !ls``, ``conv_param_count?``, ``%%time``, ``%time``, ``!echo hi`` score
full marks, and a cell whose answer depends on a shell escape shows that the probe ran no shell.
"""

from __future__ import annotations

import builtins
import json
import time
from pathlib import Path

import pytest

from grader.probing.probe import ProbeShell, as_python, cell_sources, install_probe_shell, run_cells
from tests.graded_class import make_course
from tests.submissions import Variant

ASSIGNMENT = "cnn_quiz"


@pytest.fixture
def shell(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> ProbeShell:
    """The probe's shell in this process's builtins (taken out again after the test), in an empty folder."""
    monkeypatch.setattr(builtins, "get_ipython", None, raising=False)
    monkeypatch.setattr(builtins, "display", None, raising=False)
    monkeypatch.chdir(tmp_path)
    return install_probe_shell()


def run(source: str) -> dict:
    """``source`` as a cell of the probe: transformed, then executed in a fresh namespace."""
    namespace: dict = {"__name__": "__main__"}
    exec(compile(as_python(source), "<cell>", "exec"), namespace)
    return namespace


@pytest.mark.parametrize(("cell", "python"), [
    ("files = !ls\n", "files = get_ipython().getoutput('ls')\n"),
    ("!echo hi\n", "get_ipython().system('echo hi')\n"),
    ("conv_param_count?\n", "get_ipython().run_line_magic('pinfo', 'conv_param_count')\n"),
    ("?conv_param_count\n", "get_ipython().run_line_magic('pinfo', 'conv_param_count')\n"),
    ("x = %time f()\n", "x = get_ipython().run_line_magic('time', 'f()')\n"),
    ("%%time\nx = 1\n", "get_ipython().run_cell_magic('time', '', 'x = 1\\n')\n"),
    ("%time \\\n  f()\n", "get_ipython().run_line_magic('time', '   f()')\n"),
    ("y = 100 % 7\nprint('%d' % y)\n", "y = 100 % 7\nprint('%d' % y)\n"),
])
def test_cells_become_python_as_ipython_makes_them(cell: str, python: str) -> None:
    assert as_python(cell) == python
    compile(as_python(cell), "<cell>", "exec")


def test_shell_escapes_give_empty_output_and_run_nothing(shell: ProbeShell, tmp_path: Path) -> None:
    namespace = run("files = !ls\n!touch escaped-marker\nlines = !!touch double-marker\n"
                    "%sx touch sx-marker\nswept = %system touch system-marker\n")
    assert namespace["files"] == [] and isinstance(namespace["files"], list)
    assert namespace["lines"] == [] and namespace["swept"] == []
    run("%%bash\ntouch bash-marker\n")
    run("%%sh\ntouch sh-marker\n")
    assert list(tmp_path.iterdir()) == [], "a shell escape ran a command in the probe"


def test_time_magics_run_their_code_in_the_cell_namespace(shell: ProbeShell) -> None:
    namespace = run("def f():\n    return 41\nx = %time f() + 1\n%time y = f()\n%time \\\n  z = f() - 1\n")
    assert (namespace["x"], namespace["y"], namespace["z"]) == (42, 41, 40)
    namespace = run("%%time\nfiles = !ls\ndef g(a):\n    return a * 2\nw = g(4)\n")
    assert namespace["w"] == 8 and namespace["files"] == []


def test_timeit_runs_once_in_a_scope_of_its_own(shell: ProbeShell) -> None:
    namespace = run("calls = []\n%timeit -n1 -r1 calls.append(1)\n%timeit kept = 1\n")
    assert namespace["calls"] == [1] and "kept" not in namespace
    namespace = run("calls = []\n")
    exec(compile(as_python("%%timeit -n 3 -r 2 start = len(calls)\ncalls.append(start)\n"), "<cell>", "exec"),
         namespace)
    assert namespace["calls"] == [0] and "start" not in namespace


def test_help_and_other_magics_do_nothing(shell: ProbeShell) -> None:
    namespace = run("def f():\n    return 1\nf?\n?f\nf??\n%matplotlib inline\n%pip install nothing\n"
                    "%load_ext autoreload\nshown = display(f)\nr = f()\n")
    assert namespace["r"] == 1 and namespace["shown"] is None


def test_capture_runs_the_cell_and_keeps_its_output(shell: ProbeShell) -> None:
    namespace = run("%%capture out\nprint('hello')\nv = 3\n")
    assert namespace["v"] == 3 and namespace["out"].stdout == "hello\n"


def test_a_cell_ipython_cannot_run_still_fails_as_in_jupyter(shell: ProbeShell) -> None:
    errors = run_cells([("broken", as_python("x = %time\ndef f(:\n"))], {"__name__": "__main__"})
    assert errors["broken"].startswith("SyntaxError")


def test_cell_sources_transform_only_the_named_code_cells() -> None:
    def cell(grade_id: str, source: str | list[str], kind: str = "code") -> dict:
        return {"cell_type": kind, "source": source, "metadata": {"nbgrader": {"grade_id": grade_id}}}

    notebook = {"cells": [cell("a", ["files = !ls\n", "x = 1\n"]), cell("b", "!rm -rf ~\n"),
                          cell("c", "%%time\ny = 2\n"), cell("a2", "# !ls", "markdown")]}
    assert cell_sources(notebook, ("a", "c", "a2")) == [
        ("a", "files = get_ipython().getoutput('ls')\nx = 1\n"),
        ("c", "get_ipython().run_cell_magic('time', '', 'y = 2\\n')\n"),
    ]


def test_transforming_a_notebook_is_cheap(repo: Path) -> None:
    notebook = json.loads((repo / "source" / "mnist_mlp" / "mnist_mlp.ipynb").read_text())
    code_ids = tuple(c["metadata"]["nbgrader"]["grade_id"] for c in notebook["cells"]
                     if c["cell_type"] == "code" and "nbgrader" in c["metadata"])
    started = time.perf_counter()
    sources = cell_sources(notebook, code_ids)
    elapsed = time.perf_counter() - started
    assert len(sources) == len(code_ids) > 5
    assert elapsed < 0.25, f"transforming {len(sources)} cells took {elapsed * 1000:.0f} ms"


# Graded end to end

CORRECT_CELLS = {
    "conv_output_size": '''%%time
files = !ls
!echo hi
assert isinstance(files, list)
def conv_output_size(w_in, kernel_size, stride=1, padding=0):
    return (w_in + 2 * padding - kernel_size) // stride + 1
''',
    "conv_param_count": '''_weights = %time 3 * 8 * 5 * 5
assert _weights == 600, "x = %time expression gives the expression's value"
%time \\
  _bias = 8

def conv_param_count(in_channels, out_channels, kernel_size, bias=True):
    count = out_channels * in_channels * kernel_size * kernel_size
    if bias:
        count += out_channels
    return count

conv_param_count?
?conv_output_size
%timeit -n1 -r1 conv_param_count(3, 8, 5)
%matplotlib inline
''',
}
# Right only where a shell escape gives nothing: the probe scores it full marks iff it ran no shell
SHELL_ESCAPE_CELLS = {"conv_param_count": '''_ran = !echo ran
def conv_param_count(in_channels, out_channels, kernel_size, bias=True):
    return out_channels * in_channels * kernel_size * kernel_size + (out_channels if bias else 0) + len(_ran)
'''}


@pytest.fixture(scope="module")
def graded(repo: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """cnn_quiz with IPython syntax in its probed solution cells, graded."""
    from grader.batch.run import autograde_course

    variants = [Variant("correct-ipython-syntax", ASSIGNMENT, CORRECT_CELLS),
                Variant("shell-escape-in-probe", ASSIGNMENT, SHELL_ESCAPE_CELLS)]
    course = make_course(repo, tmp_path_factory.mktemp("ipython"), variants, untouched=False)
    autograde_course(course, assignments=(ASSIGNMENT,))
    return course


def scores(course: Path, student: str) -> dict[str, tuple[float, float, str]]:
    result = json.loads((course / "autograded" / student / ASSIGNMENT / "results.json").read_text())
    assert result["status"] == "OK", result["output"]
    return {test["name"]: (test["score"], test["max_score"], test["output"]) for test in result["tests"]}


def test_correct_cells_with_ipython_syntax_score_full_marks(graded: Path) -> None:
    for grade_id, (score, max_score, output) in scores(graded, "correct-ipython-syntax").items():
        assert score == max_score > 0, f"{grade_id}: {output}"


def test_a_shell_escape_runs_no_shell_in_the_probe(graded: Path) -> None:
    score, max_score, output = scores(graded, "shell-escape-in-probe")["conv_param_count"]
    assert score == max_score > 0, output
