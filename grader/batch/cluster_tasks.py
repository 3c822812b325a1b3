"""Hand submissions to a Dask cluster one per worker, retry a failed task once, never wait forever.

A worker grades one submission at a time (``grader.batch.cluster._grading``), so the coordinator keeps
at most one task in flight per worker process and submits the next as one finishes: a worker
that dies takes only the submission it was grading with it. A task that fails (its worker
died: ``KilledWorker``; an error on the worker; cancelled; lost) is submitted once more under a
fresh key; a second failure is final and the submission is recorded as ``GRADER_ERROR`` with both
reasons. The scheduler's own retries are turned off while the grader runs, so that "once" is once.

distributed 2026.8.0's client can fail to complete a future whose worker died (its report
handler raises on the traceback and leaves the future pending), so the coordinator never waits
on a future alone: it polls, asks the scheduler about tasks the client still calls pending, and
gives up on a task that has run past a deadline derived from the grading timeouts.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from grader.pipeline.autograde import Submission

POLL_SECONDS = 2.0
UNKNOWN_GRACE_SECONDS = 30.0  # a key the scheduler has not heard of yet may still be on its way there
DEADLINE_MARGIN_SECONDS = 300.0  # preparing the course on a fresh worker, shipping the notebook and results


@dataclass(frozen=True)
class Attempt:
    """One try at grading a submission: when it was submitted, and why the first try failed (a retry)."""

    submission: Submission
    submitted: float
    first_failure: str | None = None


@dataclass(frozen=True)
class TaskFailed:
    """A submission whose task failed twice: the reasons, first try then retry."""

    reason: str


class TaskRunner(Protocol):
    """What the retry loop needs of a cluster (a Dask client, or test doubles)."""

    def capacity(self) -> int:
        """How many tasks may be in flight now."""

    def submit(self, submission: Submission) -> Any:
        """Start a task grading ``submission``, under a fresh key; its future."""

    def settled(self, futures: list[Any], seconds: float) -> dict[Any, str | None]:
        """Within ``seconds``, the futures that ended: ``None`` for a result, else why it failed."""

    def cancel(self, future: Any) -> None:
        """Give up on a task (it ran past its deadline)."""


def grading_deadline(notebook_timeout: float, probe_timeout: float) -> float:
    """Seconds after which a task with no result is given up: the grading timeouts and a margin."""
    return notebook_timeout + probe_timeout + DEADLINE_MARGIN_SECONDS


def outcomes_in_turn(submissions: list[Submission], runner: TaskRunner, deadline: float,
                     clock: Callable[[], float] = time.monotonic,
                     poll: float = POLL_SECONDS) -> Iterator[tuple[Submission, Any]]:
    """``(submission, future with its result)`` or ``(submission, TaskFailed)``, in the order they end."""
    waiting: deque[Attempt] = deque(Attempt(submission, 0.0) for submission in submissions)
    in_flight: dict[Any, Attempt] = {}
    while waiting or in_flight:
        while waiting and len(in_flight) < max(runner.capacity(), 1):
            attempt = waiting.popleft()
            in_flight[runner.submit(attempt.submission)] = Attempt(attempt.submission, clock(),
                                                                   attempt.first_failure)
        ended = runner.settled(list(in_flight), poll)
        for future, attempt in list(in_flight.items()):
            if future not in ended and clock() - attempt.submitted > deadline:
                runner.cancel(future)
                ended[future] = f"no result after {deadline:.0f} s"
        for future, failure in ended.items():
            attempt = in_flight.pop(future)
            if failure is None:
                yield attempt.submission, future
            elif attempt.first_failure is None:  # first failure: again, under a fresh key, before the others
                waiting.appendleft(Attempt(attempt.submission, 0.0, failure))
            else:
                yield attempt.submission, TaskFailed(f"tried twice on the Dask cluster; first: "
                                                     f"{attempt.first_failure}; then: {failure}")


def scheduler_task_states(dask_scheduler: Any, keys: list[str]) -> dict[str, tuple[str, str]]:
    """Runs on the scheduler: each key's state and the error text it holds (``unknown`` when it has none)."""
    states = {}
    for key in keys:
        task = dask_scheduler.tasks.get(key)
        states[key] = ("unknown", "") if task is None else (task.state, str(task.exception_text or ""))
    return states


def set_allowed_failures(dask_scheduler: Any, failures: int) -> int:
    """Runs on the scheduler: set how many worker deaths a task survives; the value it had."""
    previous = dask_scheduler.allowed_failures
    dask_scheduler.allowed_failures = failures
    return previous


class DaskTasks:
    """The retry loop's view of a Dask client: each task pinned to a worker process with none of ours.

    Pinned, because the scheduler may queue two tasks on one worker (its worker-saturation), and
    a worker that dies takes with it the task it runs, the ones queued there and the results it
    holds that the coordinator has not fetched yet.
    """

    def __init__(self, client: Any, submit_task: Callable[[Submission, str | None], Any],
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.client = client
        self.submit_task = submit_task
        self.clock = clock
        self.workers: list[str] = []
        self.submitted: dict[Any, tuple[float, str | None]] = {}  # key: (when, on which worker)

    def capacity(self) -> int:
        """The worker processes the scheduler knows now (each grades one submission at a time)."""
        self.workers = sorted(self.client.scheduler_info()["workers"])
        return len(self.workers)

    def submit(self, submission: Submission) -> Any:
        """Start grading ``submission`` under a fresh key, on a worker that runs none of our tasks (if any)."""
        busy = {worker for _, worker in self.submitted.values()}
        worker = next((address for address in self.workers if address not in busy), None)
        future = self.submit_task(submission, worker)
        self.submitted[future.key] = (self.clock(), worker)
        return future

    def settled(self, futures: list[Any], seconds: float) -> dict[Any, str | None]:
        """Within ``seconds`` (or as soon as one ends), the futures that ended."""
        from distributed import wait

        try:
            wait(futures, timeout=seconds, return_when="FIRST_COMPLETED")
        except TimeoutError:
            pass
        return self.ended(futures)

    def ended(self, futures: list[Any]) -> dict[Any, str | None]:
        """The futures that ended now, as the client or, failing it, the scheduler tells; their workers freed."""
        ended = {future: client_failure(future) for future in futures if future.status != "pending"}
        pending = [future for future in futures if future not in ended]
        ended.update(self.failed_on_scheduler(pending))
        for future in ended:
            self.submitted.pop(future.key, None)
        return ended

    def failed_on_scheduler(self, pending: list[Any]) -> dict[Any, str]:
        """The futures the client still calls pending whose tasks the scheduler has failed or does not know."""
        if not pending:
            return {}
        try:
            states = self.client.run_on_scheduler(scheduler_task_states, keys=[future.key for future in pending])
        except Exception:  # noqa: BLE001 - the scheduler cannot say now; the deadline still holds
            return {}
        failed = {}
        for future in pending:
            state, text = states.get(future.key, ("unknown", ""))
            known_late = self.clock() - self.submitted.get(future.key, (self.clock(), ""))[0] > UNKNOWN_GRACE_SECONDS
            if state in ("erred", "forgotten", "no-worker") or (state == "unknown" and known_late):
                failed[future] = f"the scheduler holds the task as {state} ({text[:300] or 'no error text'})"
        return failed

    def cancel(self, future: Any) -> None:
        """Ask the scheduler to drop the task (a worker already running it finishes in vain)."""
        self.submitted.pop(future.key, None)
        try:
            self.client.cancel(future)
        except Exception:  # noqa: BLE001, S110 - nothing waits on it any longer
            pass


def client_failure(future: Any) -> str | None:
    """``None`` for a future with its result; else why it failed, as the client knows it."""
    if future.status == "finished":
        return None
    if future.status != "error":
        return f"the task was {future.status}"
    try:
        error = future.exception(timeout=POLL_SECONDS)
    except Exception as unreadable:  # noqa: BLE001 - the client could not read the error back
        error = unreadable
    return f"{type(error).__name__}: {str(error)[:300]}"


class SchedulerRetriesOff:
    """While the grader runs: the scheduler fails a task at its first dead worker (the grader retries it).

    ``distributed.scheduler.allowed-failures`` is the scheduler's, shared by its clients; it is set
    to 0 for the run and put back after, unless another client changed it meanwhile. A scheduler
    that refuses ``run_on_scheduler`` keeps its own retries.
    """

    def __init__(self, client: Any) -> None:
        self.client = client
        self.previous: int | None = None

    def __enter__(self) -> SchedulerRetriesOff:
        try:
            self.previous = self.client.run_on_scheduler(set_allowed_failures, failures=0)
        except Exception:  # noqa: BLE001 - keep the scheduler's retries
            self.previous = None
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.previous:
            try:
                self.client.run_on_scheduler(restore_allowed_failures, failures=self.previous)
            except Exception:  # noqa: BLE001, S110 - the scheduler is gone or busy; it keeps 0
                pass


def restore_allowed_failures(dask_scheduler: Any, failures: int) -> None:
    """Runs on the scheduler: put ``failures`` back, unless someone set a value other than 0 since."""
    if dask_scheduler.allowed_failures == 0:
        dask_scheduler.allowed_failures = failures


def course_deadline(course: Path) -> float:
    """The deadline for one task of ``course``, from its grading timeouts."""
    from grader.course.settings import load_settings

    settings = load_settings(course)
    return grading_deadline(float(settings.notebook_timeout), float(settings.probe_timeout))
