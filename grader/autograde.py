"""Grade one submission: sanitize, execute headlessly, probe, run the hidden checks, score."""

from __future__ import annotations

import functools
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat
import numpy as np
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat.v4 import new_code_cell

from grader.artifacts import ArtifactError, Artifacts, load_json, load_npz, load_probes
from grader.checks.registry import CheckOutcome
from grader.checks.runner import run_checks
from grader.course import EXPORTED_NAMES, GRADE_IDS, grade_points, source_notebook
from grader.execute import execute_notebook
from grader.ingest import InvalidNotebook, read_notebook
from grader.probe_launcher import run_probe_process
from grader.probes import PROBES
from grader.rebuild import rebuild
from grader.results import GradeResult, Status, SubmissionResult, zero_result
from grader.sanitize import sanitize
from grader.settings import GraderSettings
from grader.watchdog import NotebookTimeout

ARTIFACT_DIR = "_grader_artifacts"
KEPT_FILES = ("model.pt",)
SECRET_SUFFIX = "_labels"  # inputs the checks need but the probe process never sees


@dataclass(frozen=True)
class Submission:
    """One student's notebook for one assignment, where nbgrader's layout puts it."""

    student: str
    assignment: str
    path: Path


@dataclass(frozen=True)
class GradingContext:
    """What grading every submission of a course needs, prepared once."""

    course: Path
    settings: GraderSettings
    db_url: str
    skeletons: dict[str, nbformat.NotebookNode]  # the student version of each source notebook


def export_cell(assignment: str) -> nbformat.NotebookNode:
    """The trusted last cell: writes the contract's names as inert data for the checks."""
    names = list(EXPORTED_NAMES[assignment])
    return new_code_cell(
        "from grader.export import export_artifacts as _grader_export\n"
        f"_grader_export(globals(), {names!r}, {ARTIFACT_DIR!r})",
        metadata={"tags": ["grader-export"]},
    )


def scored(outcomes: list[CheckOutcome], grade_id: str, points: float) -> GradeResult:
    """Points of ``grade_id`` in proportion to the weight of its checks that passed."""
    mine = [outcome for outcome in outcomes if outcome.grade_id == grade_id]
    if not mine:
        return GradeResult(grade_id, 0.0, points, "no hidden check ran for this part")
    share = sum(o.weight for o in mine if o.passed) / sum(o.weight for o in mine)
    lines = [f"{'PASS' if o.passed else 'FAIL'}: {o.message}" for o in mine]
    return GradeResult(grade_id, round(points * share, 4), points, "\n".join(lines))


@functools.lru_cache(maxsize=8)
def probe_inputs(assignment: str, parameters: tuple[tuple[str, object], ...]) -> dict[str, np.ndarray]:
    """The unseen inputs of ``assignment`` for these grading parameters, made once per process."""
    inputs = PROBES[assignment].make_inputs(dict(parameters))
    for array in inputs.values():
        array.setflags(write=False)
    return inputs


def execution_status(error: BaseException | None) -> Status:
    """The contract status of a notebook execution that raised ``error`` (None: it finished)."""
    if error is None:
        return Status.OK
    if isinstance(error, CellTimeoutError):
        return Status.CELL_TIMEOUT
    if isinstance(error, NotebookTimeout):
        return Status.NOTEBOOK_TIMEOUT
    if isinstance(error, DeadKernelError):
        return Status.KERNEL_DIED
    return Status.GRADER_ERROR


def grade_submission(submission: Submission, context: GradingContext, out_dir: Path) -> SubmissionResult:
    """Grade one submission; everything the grader keeps is written under ``out_dir``."""
    started = time.perf_counter()
    assignment, student = submission.assignment, submission.student
    points = grade_points(nbformat.read(source_notebook(context.course, assignment), as_version=4))
    try:
        submitted = read_notebook(submission.path, int(context.settings.max_notebook_bytes))
        notebook = sanitize(rebuild(context.skeletons[assignment], submitted), assignment, student, context.db_url)
    except InvalidNotebook as error:
        return zero_result(student, assignment, Status.INVALID_NOTEBOOK, error.reason, points,
                           time.perf_counter() - started)
    except Exception as error:  # nbgrader's preprocessors refuse what they cannot rebuild
        reason = f"nbgrader could not rebuild the notebook from the assignment: {str(error)[:300]}"
        return zero_result(student, assignment, Status.INVALID_NOTEBOOK, reason, points,
                           time.perf_counter() - started)
    notebook.cells.append(export_cell(assignment))
    with tempfile.TemporaryDirectory(prefix="grader-work-") as scratch:
        workdir = Path(scratch) / "work"
        status = run_notebook(notebook, submission, context, workdir, out_dir)
        if status is not Status.OK:
            reason = f"grading stopped: {status.value}"
            return zero_result(student, assignment, status, reason, points, time.perf_counter() - started)
        try:
            artifacts = collect_artifacts(submission, context, workdir, out_dir)
        except (ArtifactError, ValueError, OSError) as error:
            return zero_result(student, assignment, Status.ARTIFACT_INVALID, str(error), points,
                               time.perf_counter() - started)
    outcomes = run_checks(artifacts)
    tests = tuple(scored(outcomes, grade_id, points[grade_id]) for grade_id in GRADE_IDS[assignment])
    return SubmissionResult(student, assignment, Status.OK, time.perf_counter() - started,
                            f"Graded {len(outcomes)} hidden checks.", tests)


def run_notebook(notebook: nbformat.NotebookNode, submission: Submission, context: GradingContext,
                 workdir: Path, out_dir: Path) -> Status:
    """Execute the sanitized notebook with papermill; keep the executed copy in ``out_dir``."""
    workdir.mkdir(parents=True)
    sanitized = workdir.parent / f"{submission.assignment}.ipynb"
    nbformat.write(notebook, sanitized)
    try:
        execute_notebook(sanitized, out_dir / f"{submission.assignment}.ipynb", workdir,
                         parameters=context.settings.parameters_for(submission.assignment),
                         timeout=context.settings.cell_timeout, notebook_timeout=context.settings.notebook_timeout)
    except (CellTimeoutError, DeadKernelError, NotebookTimeout, RuntimeError) as error:
        return execution_status(error)
    return Status.OK


def collect_artifacts(submission: Submission, context: GradingContext, workdir: Path,
                      out_dir: Path) -> Artifacts:
    """Probe the student's code in a child process and gather everything as validated data."""
    assignment = submission.assignment
    parameters = context.settings.check_parameters(assignment)
    inputs = probe_inputs(assignment, tuple(sorted(parameters.items())))
    inputs_file = workdir.parent / "inputs.npz"
    np.savez(inputs_file, **{name: array for name, array in inputs.items() if not name.endswith(SECRET_SUFFIX)})
    probe_dir = workdir.parent / "probes"
    run_probe_process(assignment, out_dir / f"{assignment}.ipynb", inputs_file, probe_dir, workdir,
                      context.settings.probe_timeout)
    exported = workdir / ARTIFACT_DIR
    for name in KEPT_FILES:
        if (workdir / name).is_file():
            shutil.copyfile(workdir / name, out_dir / name)
    return Artifacts(assignment=assignment, workdir=out_dir, parameters=parameters,
                     values=load_json(exported / "values.json"), arrays=load_npz(exported / "arrays.npz"),
                     probes=load_probes(probe_dir), inputs=inputs)
