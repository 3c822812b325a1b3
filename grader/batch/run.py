"""Grade every submission of a course (nbgrader's layout) and write results, gradebook and grades.csv."""

from __future__ import annotations

import dataclasses
import functools
import gc
import multiprocessing
import multiprocessing.util
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import nbformat

from grader.assignments import warm_up
from grader.batch.bookkeeping import Bookkeeper
from grader.batch.pool import GradingPool, grader_error, pooled_results
from grader.batch.resume import Plan, file_sha256, plan_run
from grader.checks.session import start_check_session, stop_check_session
from grader.course.catalog import course_assignments, course_catalog
from grader.course.layout import SUBMITTED, autograded_folder, grade_points, source_notebook
from grader.course.settings import course_config, load_settings, with_declared_parameters
from grader.course.source_cells import read_notebook_cells
from grader.pipeline.autograde import GradingContext, Submission, grade_submission, probe_inputs_npz, sandbox_run
from grader.pipeline.ingest import InvalidNotebook, open_submitted
from grader.results.gradebook import gradebook_url, put_tools_on_path, record_source_cells
from grader.results.gradebook_batch import GradebookSession
from grader.results.records import GradesCsv, Status, SubmissionResult, all_results, zero_result
from grader.sandbox.policy import Sandbox, check_isolation

_kernels = None  # this grading process's KernelReserve, made by start_worker


def find_submissions(course: Path, assignments: tuple[str, ...], student: str | None = None) -> Iterator[Submission]:
    """``submitted/<student>/<assignment>/`` folders, sorted; the notebook path may not exist."""
    submitted = course / SUBMITTED
    if not submitted.is_dir():
        return
    for student_dir in sorted(p for p in submitted.iterdir() if p.is_dir()):
        if student is not None and student_dir.name != student:
            continue
        for assignment in assignments:
            folder = student_dir / assignment
            if folder.is_dir():
                yield Submission(student_dir.name, assignment, submitted_notebook(folder, assignment))


def submitted_notebook(folder: Path, assignment: str) -> Path:
    """``<assignment>.ipynb`` in ``folder``, or the folder's only notebook when the student renamed it."""
    expected = folder / f"{assignment}.ipynb"
    if os.path.lexists(expected):  # even a link, a FIFO...: it is the submission, refused with its reason
        return expected
    notebooks = sorted(folder.glob("*.ipynb"))
    return notebooks[0] if len(notebooks) == 1 else expected


def missing_notebook_result(submission: Submission, course: Path) -> SubmissionResult:
    """A zero with the reason when the expected notebook is not in the submission folder as a file of its own."""
    found = sorted(p.name for p in submission.path.parent.glob("*.ipynb"))
    reason = f"expected {submission.path.name} in the submission" + (f", found {', '.join(found)}" if found else "")
    if os.path.lexists(submission.path):  # there, but a FIFO, a device, a dangling link...: say which
        try:
            os.close(open_submitted(submission.path))
        except InvalidNotebook as error:
            reason = error.reason
    return refused_result(submission, course, reason)


def refused_result(submission: Submission, course: Path, reason: str) -> SubmissionResult:
    """``INVALID_NOTEBOOK`` with no points, for a submission refused before it runs."""
    points = grade_points(nbformat.read(source_notebook(course, submission.assignment), as_version=4))
    return zero_result(submission.student, submission.assignment, Status.INVALID_NOTEBOOK, reason, points)


def prepare_context(course: Path, assignments: tuple[str, ...] | None = None,
                    timeout: float | None = None) -> GradingContext:
    """Settings and gradebook ready for grading ``assignments`` (None: all of the course's): every assignment
    checked against its folder first (grader.course.catalog), the source cells recorded by nbgrader, then read back
    once."""
    catalog = course_catalog(course)
    assignments = catalog.assignments if assignments is None else tuple(map(catalog.check, assignments))
    declarations = {assignment: catalog.declarations[assignment] for assignment in assignments}
    put_tools_on_path()
    db_url = gradebook_url(course)
    skeletons = {assignment: record_source_cells(course, assignment) for assignment in assignments}
    settings = with_declared_parameters(load_settings(course), {a: d.parameters for a, d in declarations.items()})
    if timeout is not None:
        settings.notebook_timeout = float(timeout)
    sandbox = Sandbox(config=course_config(course))
    check_isolation(sandbox)
    points = {assignment: grade_points(nbformat.read(source_notebook(course, assignment), as_version=4))
              for assignment in assignments}
    source_cells = {assignment: read_notebook_cells(db_url, assignment) for assignment in assignments}
    return GradingContext(course=course, settings=settings, db_url=db_url, skeletons=skeletons, sandbox=sandbox,
                          source_cells=source_cells, points=points, declarations=declarations)


def start_worker(threads: int, assignments: tuple[str, ...], context: GradingContext) -> None:
    """Prepare a grading process once: thread pools sized, probe server up, checks and inputs loaded.

    Thread limits are inherited by kernels and probes so that workers don't oversubscribe the
    cores; the rest moves fixed costs out of the time of each notebook.
    """
    for variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[variable] = str(threads)
    from grader.probing.probe_launcher import start_probe_server

    start_probe_server()  # exec'd with the allow-listed environment (and the thread counts above)
    for assignment in assignments:
        warm_up(context.declarations[assignment])  # an assignment's one-off costs, paid here
        probe_inputs_npz(assignment, tuple(sorted(context.settings.check_parameters(assignment).items())))
    start_check_session(assignments)
    from grader.feedback.figures import warm_up as warm_up_figures

    warm_up_figures()
    global _kernels
    from grader.kernels.warm_kernel import KernelReserve

    _kernels = KernelReserve(functools.partial(sandbox_run, context))
    _kernels.start_next()
    multiprocessing.util.Finalize(_kernels, _kernels.close, exitpriority=10)  # runs when a pool worker exits
    # what is alive now (torch, nbgrader, pytest, all warmed up) lives as long as the process: the
    # cyclic garbage collector need not walk it again in every full collection (bench/results/fixed_costs.md)
    gc.collect()
    gc.freeze()


def stop_worker() -> None:
    """Stop the kernel a grading process started ahead and its check session (at the end of an in-process run)."""
    global _kernels
    stop_check_session()
    if _kernels is not None:
        _kernels.close()
        _kernels = None
        gc.unfreeze()


def grade_in_worker(submission: Submission, context: GradingContext) -> SubmissionResult:
    """Grade one submission in this grading process, with the kernel it started ahead.

    Whatever fails is this submission's ``GRADER_ERROR``, with the reason; the class goes on.
    """
    started = time.perf_counter()
    try:
        out_dir = autograded_folder(context.course, submission.student, submission.assignment)
        out_dir.mkdir(parents=True, exist_ok=True)
        digest = file_sha256(submission.path)
        if not submission.path.is_file():
            result = missing_notebook_result(submission, context.course)
        else:
            result = grade_submission(submission, context, out_dir, _kernels)
        return dataclasses.replace(result, submission_sha256=digest)
    except Exception as error:  # noqa: BLE001 - one submission never stops a class
        reason = f"the grader failed on this notebook ({type(error).__name__}: {str(error)[:300]})"
        return grader_error(submission, context, reason, time.perf_counter() - started)


def graded_results(submissions: list[Submission], context: GradingContext, workers: int,
                   grade: Callable[[Submission, GradingContext], SubmissionResult] = grade_in_worker,
                   ) -> Iterator[SubmissionResult]:
    """Results in the order they finish, from ``workers`` processes (1: in this process).

    ``grade`` grades one submission in a grading process (picklable: it travels to the pool's
    processes). A submission whose grading process dies is retried once alone, then recorded
    as ``GRADER_ERROR`` (grader.batch.pool); every other result is kept.
    """
    if not submissions:  # no worker, kernel or probe server for nothing
        return
    threads = max(1, (os.cpu_count() or 1) // max(workers, 1))
    assignments = tuple(sorted({submission.assignment for submission in submissions}))
    if workers <= 1:
        start_worker(threads, assignments, context)
        try:
            yield from (grade(submission, context) for submission in submissions)
        finally:
            stop_worker()
        return
    yield from pooled_results(submissions, GradingPool(workers, start_worker, (threads, assignments, context),
                                                       grade, context))


GradeElsewhere = Callable[[list[Submission], Path, tuple[str, ...]], Iterator[SubmissionResult]]


def fresh_results(submissions: list[Submission], context: GradingContext, workers: int,
                  elsewhere: GradeElsewhere | None) -> Iterator[SubmissionResult]:
    """Grade ``submissions``: here, in ``workers`` processes, or ``elsewhere`` (e.g. on a Dask cluster:
    :func:`grader.batch.cluster.graded_on_cluster` with its scheduler's address).

    A submission without its notebook is answered here at once; there is nothing to run.
    """
    missing = [submission for submission in submissions if not submission.path.is_file()]
    present = [submission for submission in submissions if submission.path.is_file()]
    yield from (grade_in_worker(submission, context) for submission in missing)
    if elsewhere is None:
        yield from graded_results(present, context, workers)
    elif present:  # no connection to the cluster for nothing
        yield from elsewhere(present, context.course, tuple(sorted({submission.assignment for submission in present})))


def autograde_course(course: Path, assignments: tuple[str, ...] | None = None, student: str | None = None,
                     on_result: Callable[[SubmissionResult], None] | None = None,
                     workers: int = 1, timeout: float | None = None, force: bool = False,
                     elsewhere: GradeElsewhere | None = None,
                     on_start: Callable[[int], None] | None = None) -> list[SubmissionResult]:
    """Grade the course's submissions; only this process writes results, gradebook and grades.csv, as they come.

    A submission whose results.json was written for the same file (same SHA-256) is not graded
    again unless ``force``, and one whose bookkeeping was done too costs a look at its stamp
    (grader.batch.resume): a run that was killed picks up where it stopped, and a run with
    nothing new starts no worker. ``elsewhere`` grades them somewhere else than in this
    machine's processes; ``on_start`` learns how many results to expect.
    """
    assignments = course_assignments(course, assignments)  # the hidden checks are read once there is work
    put_tools_on_path()
    db_url = gradebook_url(course)
    every = all_results(course, course_assignments(course))
    submissions = list(find_submissions(course, assignments, student))
    sources = {a: nbformat.read(source_notebook(course, a), as_version=4) for a in assignments}
    with GradebookSession(db_url, sources) as gradebook:
        plan = plan_run(course, submissions, {(r.student, r.assignment): r for r in every}, gradebook.submitted(),
                        force)
        gradebook.add_students(s.student for s in submissions)  # in the order found, as before: nbgrader lists them so
        if on_start is not None:
            on_start(len(submissions))
        book = Bookkeeper(course, gradebook, GradesCsv(course / "grades.csv", every), on_result)
        run_plan(plan, book, course, workers, timeout, elsewhere)
        book.close()
    return book.results


def run_plan(plan: Plan, book: Bookkeeper, course: Path, workers: int, timeout: float | None,
             elsewhere: GradeElsewhere | None) -> None:
    """Report what was done, record what was graded but not recorded, grade the rest; the heavy preparation
    (source cells recorded by nbgrader, the sandbox checked) only for assignments with work left."""
    for result in plan.done:
        book.finished(result)
    present = [submission for submission in plan.to_grade if submission.path.is_file()]
    grading = tuple(sorted({submission.assignment for submission in present}))
    recording = {s.assignment for s, _ in plan.to_record} | {s.assignment for s in plan.to_grade}
    for assignment in sorted(recording - set(grading)):
        record_source_cells(course, assignment)  # the gradebook needs the assignment's cells
    context = prepare_context(course, grading, timeout) if grading else None
    for submission, result in plan.to_record:
        book.add(result, submission.path, new=False)
    for submission in plan.to_grade:
        if not submission.path.is_file():  # nothing to run: answered here, no preparation needed
            book.add(missing_notebook_result(submission, course), submission.path)
    if context is None:
        return
    paths = {(submission.student, submission.assignment): submission.path for submission in present}
    for result in fresh_results(present, context, workers, elsewhere):
        book.add(result, paths[(result.student, result.assignment)])
