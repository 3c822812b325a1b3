"""Grade one submission: sanitize, execute headlessly, probe, run the hidden checks, score."""

from __future__ import annotations

import contextlib
import functools
import io
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import nbformat
import numpy as np
from jupyter_client.manager import AsyncKernelManager
from nbformat.v4 import new_code_cell

from grader.assignments import Declaration, probe_spec
from grader.checks.registry import (
    CheckOutcome,
    earned_share,
    has_evidence,
    most_restrictive,
    outcome_line,
    withheld_line,
)
from grader.checks.session import run_checks
from grader.course.settings import GraderSettings
from grader.course.source_cells import NotebookCells
from grader.pipeline.artifacts import ArtifactError, Artifacts, read_regular_file
from grader.pipeline.cell_timeout import probe_notebook
from grader.pipeline.execute import ExecutedNotebook, ExecutionOptions, execute_notebook
from grader.pipeline.ingest import InvalidNotebook, read_notebook
from grader.pipeline.readback import read_back
from grader.pipeline.rebuild import rebuild
from grader.pipeline.run_status import execution_status, limit_status, noted_timeouts
from grader.pipeline.sanitize import sanitize
from grader.pipeline.shown import capped, capped_output
from grader.probing.probe_launcher import WaitingProbe, run_probe_process
from grader.results.records import GradeResult, Status, SubmissionResult, zero_result
from grader.sandbox.jail_spec import SandboxRun
from grader.sandbox.policy import Sandbox, jail_spec, make_scratch

if TYPE_CHECKING:
    from grader.kernels.warm_kernel import KernelReserve

ARTIFACT_DIR = "_grader_artifacts"
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
    sandbox: Sandbox
    source_cells: dict[str, NotebookCells]  # each source notebook's cells, as the gradebook holds them
    points: dict[str, dict[str, float]]  # each assignment's points per grade id, in the source notebook's order
    declarations: dict[str, Declaration] = field(default_factory=dict)  # what each assignment's folder declares


def export_cell(names: tuple[str, ...]) -> nbformat.NotebookNode:
    """The trusted last cell: writes ``names`` (the assignment's exported names) as inert data for the checks."""
    names = list(names)
    return new_code_cell(
        "from grader.pipeline.export import export_artifacts as _grader_export\n"
        f"_grader_export(globals(), {names!r}, {ARTIFACT_DIR!r})",
        metadata={"tags": ["grader-export"]},
    )


def scored(outcomes: list[CheckOutcome], grade_id: str, points: float) -> GradeResult:
    """Points of ``grade_id`` in proportion to the weight of its checks that passed, once a value check passed.

    Each check's message is one line, capped, and so is the whole output (grader.pipeline.shown).
    """
    mine = [outcome for outcome in outcomes if outcome.grade_id == grade_id]
    if not mine:
        return GradeResult(grade_id, 0.0, points, "no hidden check ran for this part")
    share, evidence = earned_share(mine), has_evidence(mine)
    lines = [outcome_line(o, capped(o.message).replace(chr(10), " "), evidence) for o in mine]
    visibility = most_restrictive([o.visibility for o in mine])
    shown_lines = [line if o.visibility == "visible" else withheld_line(o) for o, line in zip(mine, lines, strict=True)]
    return GradeResult(grade_id, round(points * share, 4), points, capped_output("\n".join(lines)), visibility,
                       capped_output("\n".join(shown_lines)) if visibility != "visible" else "")


@functools.lru_cache(maxsize=8)
def probe_inputs(assignment: str, parameters: tuple[tuple[str, object], ...]) -> dict[str, np.ndarray]:
    """The unseen inputs of ``assignment`` for these grading parameters, made once per process."""
    inputs = probe_spec(assignment).make_inputs(dict(parameters))
    for array in inputs.values():
        array.setflags(write=False)
    return inputs


@functools.lru_cache(maxsize=8)
def probe_inputs_npz(assignment: str, parameters: tuple[tuple[str, object], ...]) -> bytes:
    """What the probe process may see of :func:`probe_inputs` (no ``*_labels``), as NPZ bytes made once."""
    buffer = io.BytesIO()
    inputs = probe_inputs(assignment, parameters)
    np.savez(buffer, **{name: array for name, array in inputs.items() if not name.endswith(SECRET_SUFFIX)})
    return buffer.getvalue()


def grade_submission(submission: Submission, context: GradingContext, out_dir: Path,
                     kernels: KernelReserve | None = None) -> SubmissionResult:
    """Grade one submission; everything the grader keeps is written under ``out_dir``.

    With ``kernels`` the notebook runs in the kernel started ahead for it, and the next one
    starts as soon as this notebook has run.
    """
    started = time.perf_counter()
    assignment, student = submission.assignment, submission.student
    points = context.points[assignment]
    try:
        submitted = read_notebook(submission.path, int(context.settings.max_notebook_bytes))
        notebook = sanitize(rebuild(context.skeletons[assignment], submitted), assignment, student, context.db_url,
                            context.source_cells[assignment])
    except InvalidNotebook as error:
        return zero_result(student, assignment, Status.INVALID_NOTEBOOK, error.reason, points,
                           time.perf_counter() - started)
    except Exception as error:  # nbgrader's preprocessors refuse what they cannot rebuild
        reason = f"nbgrader could not rebuild the notebook from the assignment: {str(error)[:300]}"
        return zero_result(student, assignment, Status.INVALID_NOTEBOOK, reason, points,
                           time.perf_counter() - started)
    notebook.cells.append(export_cell(context.declarations[assignment].exported_names))
    try:
        return run_and_check(notebook, submission, context, out_dir, kernels, started)
    except Exception as error:  # noqa: BLE001 - one submission never stops a class: a failure is its status
        reason = f"the grader failed on this notebook ({type(error).__name__}: {str(error)[:300]})"
        return zero_result(student, assignment, Status.GRADER_ERROR, reason, points, time.perf_counter() - started)


def run_and_check(notebook: nbformat.NotebookNode, submission: Submission, context: GradingContext, out_dir: Path,
                  kernels: KernelReserve | None, started: float) -> SubmissionResult:
    """Run the sanitized notebook in its sandbox, read back what it produced and run the hidden checks."""
    assignment, student = submission.assignment, submission.student
    points = context.points[assignment]
    with sandbox_session(context, kernels) as session:
        try:
            executed = run_notebook(notebook, submission, context, session.run, out_dir, session.manager)
        except Exception as error:  # noqa: BLE001 - execution_status names what it knows, the rest is GRADER_ERROR
            status, reason = execution_status(error)
            return zero_result(student, assignment, status, f"grading stopped: {reason}", points,
                               time.perf_counter() - started)
        finally:
            if kernels is not None:
                kernels.start_next()
        if executed.timed_out:  # the probe runs what those cells had finished, never the loop they stopped in
            stopped = {cell.grade_id: cell.stopped_line for cell in executed.timed_out if cell.grade_id}
            write_notebook(probe_notebook(notebook, stopped), session.run.scratch / f"{assignment}.ipynb")
        try:
            artifacts = collect_artifacts(submission, context, session, out_dir)
        except (ArtifactError, ValueError, OSError) as error:
            return zero_result(student, assignment, Status.ARTIFACT_INVALID, str(error), points,
                               time.perf_counter() - started)
    outcomes = run_checks(artifacts)
    draw_figures(artifacts, out_dir)
    tests = noted_timeouts(tuple(scored(outcomes, grade_id, points[grade_id]) for grade_id in points), executed)
    status, reason = limit_status(executed)
    return SubmissionResult(student, assignment, status, time.perf_counter() - started,
                            " ".join(filter(None, [f"Graded {len(outcomes)} hidden checks.", reason])), tests)


def draw_figures(artifacts: Artifacts, out_dir: Path) -> None:
    """The feedback page's pictures; a picture that fails to draw never fails the grading."""
    from grader.feedback.figures import write_figures

    try:
        write_figures(artifacts, out_dir)
    except Exception as error:  # noqa: BLE001 - a picture of odd data: the page goes without it
        (out_dir / "figures.log").write_text(f"{type(error).__name__}: {error}\n", encoding="utf-8")


def sandbox_run(context: GradingContext, scratch: Path) -> SandboxRun:
    """The scratch folder of one submission, made ready, and the sandbox its code runs in."""
    threads = int(os.environ.get("OMP_NUM_THREADS", "0") or 0) or max(1, os.cpu_count() or 1)
    make_scratch(scratch)
    environment = {}
    for declaration in context.declarations.values():  # the kernel started ahead may grade any of them
        if declaration.prepare_scratch is not None:
            environment.update(declaration.prepare_scratch(scratch.resolve()))
    box = context.sandbox
    return SandboxRun(spec=jail_spec(box, scratch, context.course, threads, environment), scratch=scratch,
                      scratch_bytes=box.scratch_mb * 1024 * 1024, output_kb=box.output_kb,
                      cell_output_kb=box.cell_output_kb, notebook_output_kb=box.notebook_output_kb)


@dataclass(frozen=True)
class Session:
    """Where one submission runs: its sandbox and, when they were started ahead, its kernel and probe process."""

    run: SandboxRun
    manager: AsyncKernelManager | None = None
    probe: WaitingProbe | None = None


@contextlib.contextmanager
def sandbox_session(context: GradingContext, kernels: KernelReserve | None) -> Iterator[Session]:
    """A submission's scratch folder and sandbox, with the kernel and probe process started ahead when there are."""
    try:
        ready = kernels.take() if kernels is not None else None
    except Exception:  # noqa: BLE001 - the kernel started ahead failed: start one the plain way
        ready = None
    if ready is None:
        with tempfile.TemporaryDirectory(prefix="grader-work-") as scratch:
            yield Session(sandbox_run(context, Path(scratch)))
        return
    try:
        yield Session(ready.run, ready.manager, ready.probe)
    finally:
        kernels.retire(ready)


def write_notebook(notebook: nbformat.NotebookNode, path: Path) -> None:
    """Write ``notebook`` to ``path`` in the scratch folder as a new file, never through what student code put there."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    path.unlink(missing_ok=True)
    nbformat.write(notebook, path)


def run_notebook(notebook: nbformat.NotebookNode, submission: Submission, context: GradingContext,
                 run: SandboxRun, out_dir: Path, manager: AsyncKernelManager | None = None) -> ExecutedNotebook:
    """Execute the sanitized notebook with papermill in the sandbox; keep the executed copy in ``out_dir``."""
    sanitized = run.scratch / f"{submission.assignment}.ipynb"
    nbformat.write(notebook, sanitized)
    settings = context.settings
    options = ExecutionOptions(parameters=settings.parameters_for(submission.assignment), sandbox=run,
                               cell_timeout=settings.cell_timeout, notebook_timeout=settings.notebook_timeout,
                               interrupt_grace=settings.interrupt_grace)
    return execute_notebook(sanitized, out_dir / f"{submission.assignment}.ipynb", Path(run.spec.workdir), options,
                            manager)


def fresh_folder(path: Path) -> Path:
    """``path`` as a new empty folder, whatever student code left there (a link, a file, a folder)."""
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.exists():
        shutil.rmtree(path)
    path.mkdir()
    return path


def keep_file(source: Path, target: Path) -> None:
    """Copy a plain file student code wrote (never through a link) to where the grader keeps it."""
    content = read_regular_file(source)
    if content is not None:
        target.write_bytes(content)


def collect_artifacts(submission: Submission, context: GradingContext, session: Session,
                      out_dir: Path) -> Artifacts:
    """Probe the student's code in the sandbox and gather everything as validated data."""
    run = session.run
    assignment, workdir = submission.assignment, Path(run.spec.workdir)
    parameters = context.settings.check_parameters(assignment)
    inputs = probe_inputs(assignment, tuple(sorted(parameters.items())))
    inputs_file = run.scratch / "inputs.npz"
    inputs_file.unlink(missing_ok=True)
    inputs_file.write_bytes(probe_inputs_npz(assignment, tuple(sorted(parameters.items()))))
    probe_dir = fresh_folder(run.scratch / "probes")
    notebook = run.scratch / f"{assignment}.ipynb"
    if session.probe is not None:
        session.probe.run(assignment, notebook, inputs_file, probe_dir, context.settings.probe_timeout)
    else:
        run_probe_process(assignment, notebook, inputs_file, probe_dir, run.spec, context.settings.probe_timeout)
    for name in context.declarations[assignment].kept_files:
        keep_file(workdir / name, out_dir / name)
    values, arrays, probes = read_back(workdir / ARTIFACT_DIR, probe_dir)
    return Artifacts(assignment=assignment, workdir=out_dir, parameters=parameters,
                     values=values, arrays=arrays, probes=probes, inputs=inputs)
