"""Grade on a Dask distributed cluster: the submissions travel with the tasks, results come back as data.

Workers need only this project installed. Each task carries one submitted notebook (its bytes)
and a reference to the course bundle (the source notebooks and ``nbgrader_config.py``,
scattered once to every worker). A worker keeps a private copy of the course in a temporary
folder, with a gradebook of its own that holds only the source cells; the coordinator alone
writes the course's gradebook, results and feedback. A task returns plain data (the
results.json text and the files grading kept), never a pickled student object.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import nbformat

from grader.course.layout import autograded_folder, grade_points, source_notebook, submitted_folder
from grader.results.records import Status, SubmissionResult, read_results_json, zero_result

if TYPE_CHECKING:
    from grader.pipeline.autograde import GradingContext, Submission

MAX_KEPT_BYTES = 256 * 1024 * 1024  # what one task may send back


class ClusterError(RuntimeError):
    """The Dask cluster cannot be used; ``address`` says which one."""

    def __init__(self, address: str, reason: str) -> None:
        super().__init__(f"cannot grade on the Dask cluster at {address}: {reason}")
        self.address = address


@dataclass(frozen=True)
class CourseBundle:
    """What a worker needs of the course: its configuration, its source notebooks and its own assignment folders."""

    key: str  # a digest of the content, so a worker prepares each course once
    config: str
    sources: tuple[tuple[str, bytes], ...]  # (assignment, source notebook bytes), every assignment of the course
    assignments: tuple[str, ...] = ()  # those graded
    files: tuple[tuple[str, bytes], ...] = ()  # (path in the course, bytes) of its own assignment folders


@dataclass(frozen=True)
class RemoteResult:
    """A submission graded on a worker: its results.json text and the files grading kept."""

    student: str
    assignment: str
    results_json: str
    files: tuple[tuple[str, bytes], ...]


def course_bundle(course: Path, assignments: tuple[str, ...]) -> CourseBundle:
    """The course's configuration, source notebooks and own assignment folders (those inside the course; folders
    elsewhere must be at the same place on the workers), as a bundle for the workers grading ``assignments``."""
    from grader.course.catalog import course_catalog

    config_file = course / "nbgrader_config.py"
    config = config_file.read_text(encoding="utf-8") if config_file.exists() else ""
    catalog = course_catalog(course)
    sources = tuple((a, source_notebook(course, a).read_bytes()) for a in catalog.assignments)
    root = course.resolve()
    files = tuple((path.relative_to(root).as_posix(), path.read_bytes())
                  for declaration in catalog.declarations.values() if declaration.folder.is_relative_to(root)
                  for path in sorted(declaration.folder.rglob("*.py")))
    digest = hashlib.sha256(config.encode())
    for name, content in (*sources, *files):
        digest.update(name.encode() + content)
    digest.update(repr(assignments).encode())
    return CourseBundle(digest.hexdigest()[:16], config, sources, tuple(assignments), files)


_courses: dict[str, GradingContext] = {}
_grading = threading.Lock()  # one submission at a time per worker process, whatever its thread count


def _prepared_course(bundle: CourseBundle, workers_here: int) -> GradingContext:
    """The worker's private copy of the course, made and warmed up once per bundle."""
    if bundle.key not in _courses:
        from grader.batch.run import prepare_context, start_worker

        root = Path(tempfile.mkdtemp(prefix=f"grader-course-{bundle.key}-"))
        gradebook = root / "gradebook.db"
        (root / "nbgrader_config.py").write_text(
            f"{bundle.config}\n\nc.CourseDirectory.db_url = {f'sqlite:///{gradebook}'!r}\n", encoding="utf-8")
        for assignment, content in bundle.sources:
            (root / "source" / assignment).mkdir(parents=True)
            (root / "source" / assignment / f"{assignment}.ipynb").write_bytes(content)
        for name, content in bundle.files:
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_bytes(content)
        assignments = bundle.assignments
        context = prepare_context(root, assignments)
        threads = max(1, (os.cpu_count() or 1) // max(workers_here, 1))
        start_worker(threads, assignments, context)
        _courses[bundle.key] = context
    return _courses[bundle.key]


def kept_files(folder: Path) -> tuple[tuple[str, bytes], ...]:
    """The plain files grading wrote in ``folder`` (results.json aside), read without following links."""
    from grader.pipeline.artifacts import read_regular_file

    files, total = [], 0
    for path in sorted(folder.iterdir()):
        content = read_regular_file(path) if path.name != "results.json" else None
        if content is not None and total + len(content) <= MAX_KEPT_BYTES:
            files.append((path.name, content))
            total += len(content)
    return tuple(files)


def grade_remote(bundle: CourseBundle, student: str, assignment: str, notebook_name: str, notebook: bytes,
                 hosts: dict[str, int]) -> RemoteResult:
    """A Dask task: grade one submission on this worker and return its result as data.

    ``hosts`` says how many worker processes each host runs, to size torch's threads here.
    """
    from distributed import get_worker

    from grader.batch.run import grade_in_worker
    from grader.pipeline.autograde import Submission
    from grader.results.records import write_results_json

    if multiprocessing.current_process().daemon:
        multiprocessing.current_process().daemon = False  # Dask's nanny starts daemonic workers; grading forks
    with _grading:
        context = _prepared_course(bundle, hosts.get(get_worker().address.rsplit(":", 1)[0], 1))
        folder = submitted_folder(context.course, student, assignment)
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        (folder / notebook_name).write_bytes(notebook)
        result = grade_in_worker(Submission(student, assignment, folder / notebook_name), context)
        out_dir = autograded_folder(context.course, student, assignment)
        write_results_json(out_dir / "results.json", result)
        remote = RemoteResult(student, assignment, (out_dir / "results.json").read_text(encoding="utf-8"),
                              kept_files(out_dir))
        shutil.rmtree(folder, ignore_errors=True)
        shutil.rmtree(out_dir, ignore_errors=True)
        return remote


def store_remote_result(course: Path, remote: RemoteResult) -> SubmissionResult:
    """Write a worker's files into ``autograded/`` and read its result back (validated)."""
    out_dir = autograded_folder(course, remote.student, remote.assignment)
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, content in remote.files:
        if "/" not in name and name not in ("", ".", ".."):
            (out_dir / name).write_bytes(content)
    staged = out_dir / ".results.remote.json"
    staged.write_text(remote.results_json, encoding="utf-8")
    try:
        return read_results_json(staged, remote.student, remote.assignment)
    finally:
        staged.unlink(missing_ok=True)


def workers_per_host(client: object) -> dict[str, int]:
    """How many Dask worker processes each host runs (to size torch's threads there)."""
    counts: dict[str, int] = {}
    for address in client.scheduler_info()["workers"]:  # type: ignore[attr-defined]
        host = address.rsplit(":", 1)[0]
        counts[host] = counts.get(host, 0) + 1
    return counts


def notebooks_to_ship(submissions: list[Submission],
                      course: Path) -> tuple[dict[Submission, bytes], list[SubmissionResult]]:
    """Each notebook's bytes, read as grading reads them (no link followed); a refused one's result instead."""
    from grader.batch.run import refused_result
    from grader.course.settings import load_settings
    from grader.pipeline.ingest import InvalidNotebook, read_submitted

    max_bytes = int(load_settings(course).max_notebook_bytes)
    notebooks, refused = {}, []
    for submission in submissions:
        try:
            notebooks[submission] = read_submitted(submission.path, max_bytes)
        except InvalidNotebook as error:
            refused.append(refused_result(submission, course, error.reason))
    return notebooks, refused


def graded_on_cluster(address: str, submissions: list[Submission], course: Path,
                      assignments: tuple[str, ...]) -> Iterator[SubmissionResult]:
    """Results in the order they finish, graded by the Dask cluster at ``address`` (notebooks that exist).

    One task per worker process at a time; a failed task is retried once, then ``GRADER_ERROR``
    (see grader.batch.cluster_tasks). The course bundle travels with each task (tens of kB), so a
    worker that a crash restarted gets it too.
    """
    from distributed import Client

    from grader.batch.cluster_tasks import DaskTasks, SchedulerRetriesOff, TaskFailed, course_deadline, outcomes_in_turn
    from grader.course.settings import load_settings

    notebooks, refused = notebooks_to_ship(submissions, course)
    yield from refused
    if not notebooks:
        return
    try:
        client = Client(address, timeout=float(load_settings(course).scheduler_connect_timeout))
    except (OSError, TimeoutError, ValueError) as error:
        raise ClusterError(address, str(error) or type(error).__name__) from error
    with client, SchedulerRetriesOff(client):
        hosts = workers_per_host(client)
        if not hosts:
            raise ClusterError(address, "the scheduler has no workers")
        submit = task_submitter(client, course_bundle(course, assignments), notebooks, hosts)
        for submission, outcome in outcomes_in_turn(list(notebooks), DaskTasks(client, submit),
                                                    course_deadline(course)):
            if isinstance(outcome, TaskFailed):
                yield failed_on_cluster(course, submission, outcome.reason)
            else:
                yield remote_outcome(course, submission, outcome)


def task_submitter(client: object, bundle: CourseBundle, notebooks: dict[Submission, bytes],
                   hosts: dict[str, int]) -> Callable[[Submission, str | None], object]:
    """Submits a task grading one submission (under a fresh key), on the worker named if one is."""

    def submit(submission: Submission, worker: str | None) -> object:
        return client.submit(grade_remote, bundle, submission.student,  # type: ignore[attr-defined]
                             submission.assignment, submission.path.name, notebooks[submission], hosts,
                             pure=False, retries=0, workers=None if worker is None else [worker],
                             allow_other_workers=False)

    return submit


def remote_outcome(course: Path, submission: Submission, future: object) -> SubmissionResult:
    """The result of a finished Dask task; ``GRADER_ERROR`` with the reason when it cannot be read back."""
    try:
        return store_remote_result(course, future.result())  # type: ignore[attr-defined]
    except Exception as error:  # noqa: BLE001 - KilledWorker, a cancelled task, an error on the worker
        return failed_on_cluster(course, submission, f"{type(error).__name__}: {str(error)[:300]}")


def failed_on_cluster(course: Path, submission: Submission, why: str) -> SubmissionResult:
    """``GRADER_ERROR`` with no points: grading ``submission`` on the cluster failed, for ``why``."""
    reason = f"grading on the Dask cluster failed ({why})"
    points = grade_points(nbformat.read(source_notebook(course, submission.assignment), as_version=4))
    return zero_result(submission.student, submission.assignment, Status.GRADER_ERROR, reason, points)
