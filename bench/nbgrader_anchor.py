"""The benchmark's anchor: a plain nbgrader course whose hidden tests equal the grader's hidden checks.

Each graded test cell of the course's source notebooks is split in two. Its visible tests stay
where they were, as a locked cell without points (the grader runs them too, for no points).
Its points move to a graded cell appended at the end of the notebook, whose hidden tests call
``bench/anchor_kernel.py`` in the student's kernel: the grader's export, probes and pytest
checks, run once per notebook after the student's cells, as the grader runs them. Each graded
cell outputs its partial credit as a number, which nbgrader 0.9 records as the cell's score
(``nbgrader.utils.determine_grade``). The grading parameters are written into the notebook's
``parameters`` cell, so the anchor trains as the grader does.
"""

from __future__ import annotations

import copy
import os
import re
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from grader.course.settings import GraderSettings, load_settings  # noqa: E402
from tests.submissions import ASSIGNMENTS, CATALOG  # noqa: E402

NBGRADER = ROOT / ".venv" / "bin" / "nbgrader"
HIDDEN = re.compile(r"^[ \t]*### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS[ \t]*\n?", re.MULTILINE | re.DOTALL)
HIDDEN_CELL = """# Hidden tests: the grader's checks of `{owner}`, run in this kernel (benchmark anchor).
### BEGIN HIDDEN TESTS
import sys as _anchor_sys
if {bench!r} not in _anchor_sys.path:
    _anchor_sys.path.insert(0, {bench!r})
import anchor_kernel as _anchor_kernel
_anchor_kernel.earned(globals(), {assignment!r}, {owner!r}, {points!r}, {exported!r}, {parameters!r})
### END HIDDEN TESTS
"""


def nbgrader_meta(grade_id: str, *, grade: bool, points: float | None = None) -> dict:
    """nbgrader's cell metadata for a locked cell, graded or not."""
    meta = {"grade": grade, "grade_id": grade_id, "locked": True, "schema_version": 3, "solution": False,
            "task": False}
    if points is not None:
        meta["points"] = points
    return meta


def cell_id(text: str) -> str:
    """A valid, deterministic nbformat cell id made from ``text``."""
    return re.sub(r"[^A-Za-z0-9_-]", "-", text)[:64]


def graded_cell(assignment: str, test_id: str, owner: str, points: float, parameters: dict) -> nbformat.NotebookNode:
    """The appended graded cell of one test cell: hidden tests that output its points."""
    source = HIDDEN_CELL.format(owner=owner, bench=str(BENCH), assignment=assignment, points=points,
                                exported=list(CATALOG.declarations[assignment].exported_names), parameters=parameters)
    cell = new_code_cell(source.rstrip("\n"), metadata={"nbgrader": nbgrader_meta(test_id, grade=True,
                                                                                  points=points)})
    cell["id"] = cell_id(test_id)
    return cell


def inject_parameters(cell: nbformat.NotebookNode, parameters: dict) -> None:
    """Append the grading parameters to the ``parameters`` cell, as papermill's injection would set them."""
    if parameters:
        lines = [f"{name} = {value!r}" for name, value in parameters.items()]
        cell.source = cell.source.rstrip("\n") + "\n# grading parameters (benchmark anchor)\n" + "\n".join(lines)


def anchor_notebook(source: nbformat.NotebookNode, assignment: str, settings: GraderSettings) -> nbformat.NotebookNode:
    """The anchor's instructor notebook of ``assignment`` made from the course's one."""
    notebook = copy.deepcopy(source)
    check_parameters = settings.check_parameters(assignment)
    cells, appended, owner = [], [], ""
    for cell in notebook.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            inject_parameters(cell, settings.parameters_for(assignment))
        if meta.get("solution"):
            owner = meta["grade_id"]
        elif meta.get("grade") and cell.cell_type == "code" and owner:
            test_id, points = meta["grade_id"], float(meta.get("points", 0) or 0)
            cell.source = HIDDEN.sub("", cell.source).rstrip("\n")
            cell.metadata["nbgrader"] = nbgrader_meta(f"{test_id}_visible", grade=False)
            cell["id"] = cell_id(f"{test_id}_visible")
            appended.append(graded_cell(assignment, test_id, owner, points, check_parameters))
        cells.append(cell)
    notebook.cells = cells + appended
    return notebook


def tool_environment() -> dict[str, str]:
    """This environment with the virtualenv's tools first on PATH (nbgrader calls ``alembic``, ``python``)."""
    return {**os.environ, "PATH": f"{NBGRADER.parent}{os.pathsep}{os.environ.get('PATH', '')}"}


def run_nbgrader(course: Path, *arguments: str, log: Path) -> None:
    """``nbgrader <arguments>`` in ``course``; its output goes to ``log``."""
    with log.open("a") as stream:
        stream.write(f"$ nbgrader {' '.join(arguments)}\n")
        stream.flush()
        done = subprocess.run([str(NBGRADER), *arguments], cwd=course, stdout=stream, stderr=subprocess.STDOUT,
                              env=tool_environment())
    if done.returncode != 0:
        raise RuntimeError(f"nbgrader {' '.join(arguments)} failed (exit {done.returncode}); see {log}")


def fill_solutions(release: nbformat.NotebookNode, submitted: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The anchor's student notebook with the submission's solution cells, by grade id."""
    answers = {cell.metadata["nbgrader"]["grade_id"]: cell.source for cell in submitted.cells
               if cell.get("metadata", {}).get("nbgrader", {}).get("solution")}
    notebook = copy.deepcopy(release)
    for cell in notebook.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("solution") and meta.get("grade_id") in answers:
            cell.source = answers[meta["grade_id"]]
    return notebook


def make_anchor_course(class_course: Path, anchor: Path, log: Path) -> Path:
    """The anchor course: instructor notebooks, nbgrader's release and gradebook, the class's submissions."""
    settings = load_settings(class_course)
    anchor.mkdir(parents=True, exist_ok=True)
    shutil.copy(class_course / "nbgrader_config.py", anchor / "nbgrader_config.py")
    for assignment in ASSIGNMENTS:
        source = nbformat.read(class_course / "source" / assignment / f"{assignment}.ipynb", as_version=4)
        target = anchor / "source" / assignment / f"{assignment}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(anchor_notebook(source, assignment, settings), target)
        run_nbgrader(anchor, "generate_assignment", assignment, "--force", log=log)
        release = nbformat.read(anchor / "release" / assignment / f"{assignment}.ipynb", as_version=4)
        for submitted in sorted((class_course / "submitted").glob(f"*/{assignment}/{assignment}.ipynb")):
            student = submitted.parent.parent.name
            out = anchor / "submitted" / student / assignment / f"{assignment}.ipynb"
            out.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(fill_solutions(release, nbformat.read(submitted, as_version=4)), out)
    return anchor


def autograde_command() -> list[str]:
    """Plain ``nbgrader autograde`` of every assignment and submission, in one process (run it in the course)."""
    return [str(NBGRADER), "autograde", "*", "--force"]


def anchor_scores(anchor: Path) -> dict[tuple[str, str], float]:
    """(student, assignment) -> total auto score, from the anchor's gradebook."""
    from nbgrader.api import Gradebook

    from grader.course.settings import course_config

    course_id = course_config(anchor).CourseDirectory.course_id
    scores = {}
    with Gradebook(f"sqlite:///{anchor / 'gradebook.db'}", course_id) as gradebook:
        for assignment in ASSIGNMENTS:
            for submission in gradebook.assignment_submissions(assignment):
                scores[(submission.student_id, assignment)] = float(submission.score)
    return scores


def _seconds(start: str, end: str) -> float:
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()


def student_cell_seconds(executed: Path) -> float:
    """Seconds inside the notebook's own cells (nbclient's timestamps); hidden-test cells excluded."""
    notebook = nbformat.read(executed, as_version=4)
    total = 0.0
    for cell in notebook.cells:
        timing = cell.get("metadata", {}).get("execution", {})
        graded = cell.get("metadata", {}).get("nbgrader", {}).get("grade", False)
        if cell.cell_type == "code" and not graded and "iopub.execute_input" in timing \
                and "shell.execute_reply" in timing:
            total += _seconds(timing["iopub.execute_input"], timing["shell.execute_reply"])
    return total
