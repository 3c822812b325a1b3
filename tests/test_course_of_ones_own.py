"""A course of one's own: an instructor's assignment folder outside the grader package, end to end.

The course holds one small assignment, ``tiny_sums``: a source notebook and a folder under the
course's ``assignments/`` (named in ``nbgrader_config.py``). It is released, a correct and a wrong
submission are graded, the student kit is built and its self-check run; the folder's hidden
checks never reach the release, the kit or the sandbox. The start-up check names the file of
each mismatch between notebooks and folders.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from grader.batch.run import autograde_course
from grader.course.catalog import course_catalog
from grader.course.examples import Variant, build
from grader.course.layout import CourseError, release_notebook
from grader.release.generate import release_all
from grader.release.hygiene import find_leaks
from grader.release.kit import build_kit
from grader.sandbox.jail import NAMESPACES
from grader.sandbox.policy import isolation_mode

ID = "tiny_sums"
CHECKS_MARK = "tiny_sums hidden check"  # a line only the hidden checks hold
INIT = '"""tiny_sums: a function and an answer."""\n\nEXPORTED_NAMES = ("answer",)\nSECRET_NAMES = ("SECRET_TOTAL",)\n'
PROBE = '''"""Probes of tiny_sums: the student's ``add`` on pairs it never saw."""

import numpy as np

CELLS = ("add",)


def make_inputs(parameters):
    return {"pairs": np.random.default_rng(int(parameters.get("seed", 0)) + 7).integers(-50, 50, size=(20, 2))}


def probe_add(namespace, inputs):
    return {}, {"sums": np.array([namespace["add"](int(a), int(b)) for a, b in inputs["pairs"]], dtype=float)}


PROBES = {"add": probe_add}
'''
CHECKS = f'''"""Hidden checks of tiny_sums ({CHECKS_MARK})."""

import numpy as np

from grader.checks.registry import grade


@grade("add", weight=1)
def test_add_on_unseen_pairs(artifacts):
    """add adds"""
    pairs = artifacts.inputs["pairs"]
    assert np.array_equal(artifacts.probe("add").arrays["sums"], pairs.sum(axis=1)), "add does not add"


@grade("answer", weight=1)
def test_answer(artifacts):
    """the answer is 42"""
    assert artifacts.number("answer") == 42, "the answer is not 42"
'''
EXAMPLES = '''from grader.course.examples import Variant

EXAMPLES = (Variant("correct-reference-tiny_sums", "tiny_sums"),)
'''


def cell(source: str, grade_id: str, *, solution: bool = False, points: int = 0, markdown: bool = False):
    """A cell with nbgrader's metadata: locked given code, a solution cell, or a graded test cell."""
    meta = {"grade": bool(points), "grade_id": grade_id, "locked": not solution, "schema_version": 3,
            "solution": solution, "task": False, **({"points": points} if points else {})}
    make = new_markdown_cell if markdown else new_code_cell
    return make(source, metadata={"nbgrader": meta})


def source_notebook() -> nbformat.NotebookNode:
    """The instructor's notebook: two solution cells, each followed by a visible test."""
    notebook = new_notebook(cells=[
        cell("# Tiny sums\nWrite `add` and give the answer.", "intro", markdown=True),
        cell("import numpy as np", "imports"),
        cell("def add(a, b):\n    ### BEGIN SOLUTION\n    return a + b\n    ### END SOLUTION", "add", solution=True),
        cell("assert add(2, 3) == 5", "test_add", points=2),
        cell("### BEGIN SOLUTION\nanswer = 42\n### END SOLUTION", "answer", solution=True),
        cell("assert isinstance(answer, int)", "test_answer", points=1),
    ])
    notebook.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    return notebook


def make_course(repo: Path, root: Path) -> Path:
    """A course whose only assignment is ``tiny_sums``, its folder in the course's ``assignments/``."""
    course = root / "course"
    (course / "source" / ID).mkdir(parents=True)
    nbformat.write(source_notebook(), course / "source" / ID / f"{ID}.ipynb")
    config = (repo / "nbgrader_config.py").read_text().split("# The grader's own settings")[0]
    config += 'c.GraderSettings.assignment_folders = ["assignments"]\n'
    (course / "nbgrader_config.py").write_text(config)
    folder = course / "assignments" / ID
    folder.mkdir(parents=True)
    for name, text in (("__init__.py", INIT), ("probe.py", PROBE), (f"test_{ID}.py", CHECKS),
                       ("examples.py", EXAMPLES)):
        (folder / name).write_text(text)
    return course


READS_THE_CHECKS = '''
import pathlib
try:
    pathlib.Path({path!r}).read_text()
    answer = 42  # only a submission that read the hidden checks gets the answer
except OSError:
    answer = -1
'''


@pytest.fixture(scope="module")
def graded(repo: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    course = make_course(repo, tmp_path_factory.mktemp("own"))
    release_all(course)
    checks = course / "assignments" / ID / f"test_{ID}.py"
    wrong = Variant("wrong", ID, {"add": "def add(a, b):\n    return a - b\n",
                                  "answer": READS_THE_CHECKS.format(path=str(checks))})
    for variant in (Variant("right", ID), wrong):
        target = course / "submitted" / variant.name / ID / f"{ID}.ipynb"
        target.parent.mkdir(parents=True)
        nbformat.write(build(course, variant), target)
    autograde_course(course, workers=1)
    return course


def scores(course: Path, student: str) -> dict[str, float]:
    result = json.loads((course / "autograded" / student / ID / "results.json").read_text())
    assert result["status"] == "OK", result["output"]
    return {test["name"]: test["score"] for test in result["tests"]}


def test_the_course_s_own_assignment_is_released_and_graded_end_to_end(graded: Path) -> None:
    catalog = course_catalog(graded)
    assert catalog.assignments == (ID,) and catalog.grade_ids[ID] == ("add", "answer")
    assert scores(graded, "right") == {"add": 2.0, "answer": 1.0}
    hidden = isolation_mode() == NAMESPACES  # without namespaces the sandbox cannot hide files (the grader warns)
    assert scores(graded, "wrong") == {"add": 0.0, "answer": 0.0 if hidden else 1.0}, "the sandbox hid the checks"
    grades = (graded / "grades.csv").read_text().splitlines()
    assert grades[0] == "student_id,assignment,add,answer,total,status" and len(grades) == 3


def test_its_checks_stay_out_of_the_release_and_the_kit(graded: Path, tmp_path: Path) -> None:
    release = nbformat.read(release_notebook(graded, ID), as_version=4)
    source = nbformat.read(graded / "source" / ID / f"{ID}.ipynb", as_version=4)
    assert find_leaks(release, source, course_catalog(graded).declarations[ID].secret_names) == []
    assert [path.name for path in (graded / "release").rglob("*") if path.is_file()] == [f"{ID}.ipynb"]
    kit = build_kit(graded, tmp_path / "kit")
    files = [path for path in kit.rglob("*") if path.is_file()]
    assert f"release/{ID}/{ID}.ipynb" in {path.relative_to(kit).as_posix() for path in files}
    assert not [path for path in files if CHECKS_MARK.encode() in path.read_bytes() or path.name == "probe.py"]


def test_the_kit_s_self_check_passes_a_right_notebook_and_fails_a_wrong_one(graded: Path, tmp_path: Path) -> None:
    kit = build_kit(graded, tmp_path / "kit")
    env = {**os.environ, "PYTHONPATH": str(kit)}
    outcomes = {}
    for student in ("right", "wrong"):
        notebook = kit / f"{student}.ipynb"
        shutil.copy(graded / "submitted" / student / ID / f"{ID}.ipynb", notebook)
        done = subprocess.run([sys.executable, "-m", "grader", "check", str(notebook)], cwd=kit, env=env,
                              capture_output=True, text=True, timeout=300)
        outcomes[student] = (done.returncode, done.stdout)
    assert outcomes["right"][0] == 0, outcomes["right"]
    assert outcomes["wrong"][0] != 0 and "FAIL" in outcomes["wrong"][1], outcomes["wrong"]


def test_a_release_that_would_show_a_secret_name_is_refused(repo: Path, tmp_path: Path) -> None:
    course = make_course(repo, tmp_path)
    notebook = source_notebook()
    notebook.cells[0].source += "\nThe grader keeps SECRET_TOTAL to itself."
    nbformat.write(notebook, course / "source" / ID / f"{ID}.ipynb")
    with pytest.raises(CourseError, match="secret name 'SECRET_TOTAL'") as raised:
        release_all(course)
    assert f"{ID}.ipynb" in str(raised.value) and not release_notebook(course, ID).exists()


@pytest.mark.parametrize(("break_it", "names"), [
    (lambda course: shutil.rmtree(course / "assignments" / ID), ("source", f"{ID}.ipynb", "no assignment folder")),
    (lambda course: shutil.rmtree(course / "source" / ID), ("assignments", "no source notebook")),
    (lambda course: (course / "assignments" / ID / f"test_{ID}.py").write_text(
        CHECKS.replace('@grade("answer"', '@grade("add"')), (f"test_{ID}.py", "no hidden check", "'answer'")),
    (lambda course: (course / "assignments" / ID / f"test_{ID}.py").write_text(
        CHECKS + '\n\n@grade("bonus")\ndef test_bonus(artifacts):\n    pass\n'),
     (f"test_{ID}.py", "'bonus'", "does not have")),
])
def test_a_mismatch_between_notebooks_and_folders_is_a_clear_error_naming_the_file(
        repo: Path, tmp_path: Path, break_it, names: tuple[str, ...]) -> None:
    course = make_course(repo, tmp_path / "broken")
    break_it(course)
    with pytest.raises(CourseError) as raised:
        course_catalog(course)
    assert all(name in str(raised.value) for name in names), str(raised.value)
