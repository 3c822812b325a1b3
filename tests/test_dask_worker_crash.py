"""Issue 15, item 1 on Dask: a submission that kills its worker process is tried twice, then GRADER_ERROR.

The coordinator keeps one task per worker process, retries a failed task once under a fresh
key, asks the scheduler about futures the client leaves pending, and gives up on a task past
its deadline (grader.batch.cluster_tasks). The retry loop runs here on test doubles; the slow test
runs a real scheduler and two workers whose preload kills the process grading ``zz-crash``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from grader.batch.cluster_tasks import (
    UNKNOWN_GRACE_SECONDS,
    DaskTasks,
    SchedulerRetriesOff,
    TaskFailed,
    outcomes_in_turn,
)
from tests.one_submission_doubles import PretendSubmission

QUIZ = "cnn_quiz"
FULL = 14.0
REFERENCES = ("reference-a", "reference-b", "reference-c")


class Clock:
    """A clock the test moves: each poll of the fake cluster advances it by its poll seconds."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class FakeFuture:
    """A task of the fake cluster: which submission, which try, and how it will end."""

    def __init__(self, key: str, student: str, ending: str | None) -> None:
        self.key, self.student, self.ending = key, student, ending


class FakeCluster:
    """``workers`` slots; each student's tries end as ``script[student]`` says, one poll after submission.

    An ending is ``None`` (a result), a failure reason, or ``"hang"`` (never settles).
    """

    def __init__(self, workers: int, script: dict[str, list[str | None]], clock: Clock) -> None:
        self.workers, self.script, self.clock = workers, script, clock
        self.submitted: list[str] = []
        self.cancelled: list[str] = []
        self.most_in_flight = 0
        self.live: list[FakeFuture] = []

    def capacity(self) -> int:
        return self.workers

    def submit(self, submission: PretendSubmission) -> FakeFuture:
        tries = sum(1 for student in self.submitted if student == submission.student)
        self.submitted.append(submission.student)
        future = FakeFuture(f"{submission.student}-{tries}", submission.student,
                            self.script.get(submission.student, [None, None])[tries])
        self.live.append(future)
        self.most_in_flight = max(self.most_in_flight, len(self.live))
        return future

    def settled(self, futures: list[FakeFuture], seconds: float) -> dict[FakeFuture, str | None]:
        self.clock.now += seconds
        ended = {future: future.ending for future in futures if future.ending != "hang"}
        self.live = [future for future in self.live if future not in ended]
        return ended

    def cancel(self, future: FakeFuture) -> None:
        self.cancelled.append(future.key)
        self.live.remove(future)


def run_loop(workers: int, script: dict[str, list[str | None]], students: tuple[str, ...],
             deadline: float = 100.0) -> tuple[dict[str, object], FakeCluster]:
    clock = Clock()
    cluster = FakeCluster(workers, script, clock)
    outcomes = dict((submission.student, outcome) for submission, outcome in
                    outcomes_in_turn([PretendSubmission(s) for s in students], cluster, deadline, clock, poll=1.0))
    return outcomes, cluster


def test_no_more_tasks_in_flight_than_workers_and_each_success_once() -> None:
    students = tuple(f"s{index}" for index in range(7))
    outcomes, cluster = run_loop(2, {}, students)
    assert cluster.most_in_flight == 2
    assert sorted(cluster.submitted) == sorted(students), "each graded once"
    assert all(isinstance(outcome, FakeFuture) for outcome in outcomes.values())


def test_a_task_that_fails_twice_is_tried_exactly_twice_then_task_failed_with_both_reasons() -> None:
    script = {"zz-crash": ["KilledWorker: first worker died", "KilledWorker: second worker died"]}
    outcomes, cluster = run_loop(2, script, ("a", "zz-crash", "b", "c"))
    assert cluster.submitted.count("zz-crash") == 2
    failed = outcomes["zz-crash"]
    assert isinstance(failed, TaskFailed)
    assert "first worker died" in failed.reason and "second worker died" in failed.reason
    assert all(isinstance(outcomes[student], FakeFuture) for student in ("a", "b", "c"))
    assert [cluster.submitted.count(student) for student in ("a", "b", "c")] == [1, 1, 1]


def test_a_task_that_fails_once_keeps_the_result_of_its_retry() -> None:
    outcomes, cluster = run_loop(1, {"flaky": ["the task was lost", None]}, ("flaky", "other"))
    assert cluster.submitted == ["flaky", "flaky", "other"], "the retry goes before the rest"
    assert outcomes["flaky"].key == "flaky-1", "the retry's own future, a fresh key"


def test_a_task_that_never_settles_is_cancelled_at_its_deadline_and_the_class_ends() -> None:
    outcomes, cluster = run_loop(2, {"stuck": ["hang", "hang"]}, ("stuck", "a", "b"), deadline=10.0)
    assert cluster.cancelled == ["stuck-0", "stuck-1"]
    assert isinstance(outcomes["stuck"], TaskFailed) and "no result after 10 s" in outcomes["stuck"].reason
    assert isinstance(outcomes["a"], FakeFuture) and isinstance(outcomes["b"], FakeFuture)


class PendingFuture:
    """A distributed future the client never completed (its report handler raised)."""

    status = "pending"

    def __init__(self, key: str) -> None:
        self.key = key


class FakeScheduler:
    """What the coordinator reads and sets on a scheduler: its tasks' states and allowed_failures."""

    def __init__(self, states: dict[str, tuple[str, str]], allowed_failures: int = 3,
                 workers: tuple[str, ...] = ("tcp://w1",)) -> None:
        self.workers = workers
        self.tasks = {key: SimpleNamespace(state=state, exception_text=text) for key, (state, text) in states.items()}
        self.allowed_failures = allowed_failures


class FakeClient:
    """A client whose run_on_scheduler runs the function on a FakeScheduler."""

    def __init__(self, scheduler: FakeScheduler) -> None:
        self.scheduler = scheduler

    def scheduler_info(self) -> dict:
        return {"workers": dict.fromkeys(self.scheduler.workers, {})}

    def run_on_scheduler(self, function, **kwargs):  # noqa: ANN001, ANN003, ANN201 - distributed's signature
        return function(dask_scheduler=self.scheduler, **kwargs)


def test_a_future_the_client_leaves_pending_fails_when_the_scheduler_has_erred_or_lost_it() -> None:
    clock = Clock()
    scheduler = FakeScheduler({"erred": ("erred", "KilledWorker: died"), "running": ("processing", "")})
    tasks = DaskTasks(FakeClient(scheduler), lambda key, worker: PendingFuture(key), clock)
    tasks.capacity()
    futures = [tasks.submit(key) for key in ("erred", "running", "vanished")]
    failed = tasks.failed_on_scheduler(futures)
    assert {future.key: why for future, why in failed.items()} == {
        "erred": "the scheduler holds the task as erred (KilledWorker: died)"}
    scheduler.tasks["running"].state = "no-worker"  # pinned to a worker that left
    assert "running" in {future.key for future in tasks.failed_on_scheduler(futures)}
    clock.now += UNKNOWN_GRACE_SECONDS + 1
    assert sorted(future.key for future in tasks.failed_on_scheduler(futures)) == ["erred", "running", "vanished"]


def test_each_task_is_pinned_to_a_worker_with_none_of_ours() -> None:
    pinned: dict[str, str | None] = {}

    def submit_task(key: str, worker: str | None) -> PendingFuture:
        pinned[key] = worker
        return PendingFuture(key)

    scheduler = FakeScheduler({"a": ("memory", "")}, workers=("tcp://w2", "tcp://w1"))
    tasks = DaskTasks(FakeClient(scheduler), submit_task, Clock())
    assert tasks.capacity() == 2
    first, _ = tasks.submit("a"), tasks.submit("b")
    assert pinned == {"a": "tcp://w1", "b": "tcp://w2"}
    first.status = "finished"
    assert tasks.ended([first]) == {first: None}
    tasks.submit("c")
    assert pinned["c"] == "tcp://w1", "the worker whose task ended takes the next"
    tasks.submit("d")
    assert pinned["d"] is None, "no free worker: the scheduler chooses"


def test_the_scheduler_retries_are_off_while_grading_and_put_back_after() -> None:
    scheduler = FakeScheduler({}, allowed_failures=3)
    with SchedulerRetriesOff(FakeClient(scheduler)):
        assert scheduler.allowed_failures == 0
    assert scheduler.allowed_failures == 3
    with SchedulerRetriesOff(FakeClient(scheduler)):
        scheduler.allowed_failures = 5  # another client's choice meanwhile stays
    assert scheduler.allowed_failures == 5


@pytest.fixture
def crashing_cluster(tmp_path: Path):
    """A scheduler and two single-thread workers (with nannies) whose preload kills the process grading zz-crash."""
    from tests.test_cluster import free_port, wait_for_workers

    attempts = tmp_path / "attempts"
    attempts.mkdir()
    address, bin_dir = f"tcp://127.0.0.1:{free_port()}", Path(sys.executable).parent
    preload = str(Path(__file__).with_name("dask_worker_crash_preload.py"))
    environment = {**os.environ, "GRADER_TEST_ATTEMPTS": str(attempts)}
    processes = [subprocess.Popen([str(bin_dir / "dask"), "scheduler", "--host", "127.0.0.1", "--port",
                                   address.rsplit(":", 1)[1], "--no-dashboard"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    processes += [subprocess.Popen([str(bin_dir / "dask"), "worker", address, "--nthreads", "1", "--no-dashboard",
                                    "--host", "127.0.0.1", "--preload", preload], env=environment,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(2)]
    try:
        wait_for_workers(address, 2)
        yield address, attempts
    finally:
        for process in reversed(processes):
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


def scheduler_allowed_failures(address: str) -> int:
    from distributed import Client

    with Client(address, timeout=30) as client:
        return client.run_on_scheduler(lambda dask_scheduler: dask_scheduler.allowed_failures)


@pytest.mark.slow
def test_a_submission_that_kills_its_dask_worker_is_tried_twice_then_grader_error(
        repo: Path, tmp_path: Path, crashing_cluster: tuple[str, Path]) -> None:
    from tests.test_one_submission_never_stops_a_class import make_class, result_of

    address, attempts = crashing_cluster
    allowed_before = scheduler_allowed_failures(address)
    course = make_class(repo, tmp_path, {}, (*REFERENCES, "zz-crash"))
    started = time.monotonic()
    run = subprocess.run([sys.executable, "-m", "grader", "autograde", "--course", str(course),
                          "--assignment", QUIZ, "--scheduler", address],
                         capture_output=True, text=True, timeout=600)
    seconds = time.monotonic() - started
    assert run.returncode == 0, run.stderr[-3000:]
    tries = (attempts / "zz-crash.attempts").read_text().split()
    assert len(tries) == 2 and tries[0] != tries[1], f"tried twice, in two worker processes: {tries}"
    crashed = result_of(course, "zz-crash")
    assert crashed["status"] == "GRADER_ERROR" and crashed["score"] == 0, crashed["output"]
    assert crashed["output"].count("KilledWorker") == 2, crashed["output"]
    assert crashed["output"].count("on 1 different workers") == 2, "the scheduler did not retry it itself"
    for student in REFERENCES:
        result = result_of(course, student)
        assert (result["status"], result["score"]) == ("OK", FULL), result["output"]
        assert len((attempts / f"{student}.attempts").read_text().split()) == 1, "a reference is graded once"
    assert scheduler_allowed_failures(address) == allowed_before, "the scheduler's retries are put back"
    assert seconds < 600
    print(json.dumps({"seconds": round(seconds, 1), "crash_output": crashed["output"]}))
