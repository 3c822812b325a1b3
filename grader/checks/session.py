"""One pytest session per grading process: the checks collected once, then run for each submission.

``pytest.main`` for every notebook parses its options, registers its plugins and collects the
check module again: most of the checks' time on a notebook (bench/results/fixed_costs.md).
A :class:`CheckSession` runs a single
pytest session on a thread of its own: pytest collects every assignment's checks once, and
the session's run loop (pytest's ``pytest_runtestloop`` hook, taken over) then runs the
checks of each submission handed to it, through pytest's own run protocol, until closed.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import queue
import threading
import time

import pytest

from grader.assignments import checks_file
from grader.checks import runner
from grader.checks.registry import CheckOutcome
from grader.checks.runner import CheckCollector, pytest_arguments
from grader.pipeline.artifacts import Artifacts

START_TIMEOUT = 120  # seconds pytest may take to collect the checks
RUN_TIMEOUT = 600  # seconds the checks of one submission may take


class CheckSessionError(RuntimeError):
    """The check session is not running (it failed to start, ended, or a run took too long)."""


class _ServingCollector(CheckCollector):
    """The collector of one long pytest session: checks grouped by assignment, run on request."""

    def __init__(self, jobs: queue.Queue) -> None:
        super().__init__(None)
        self._jobs = jobs
        self._by_assignment: dict[str, list[pytest.Item]] = {}
        self.collected = threading.Event()

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        """Group the collected checks by the assignment their module is named after."""
        for item in items:
            assignment = item.path.stem.removeprefix("test_")
            self._by_assignment.setdefault(assignment, []).append(item)

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session: pytest.Session) -> bool:
        """Serve runs until the session is closed (a ``None`` job)."""
        self.collected.set()
        while (job := self._jobs.get()) is not None:
            artifacts, result = job
            try:
                result.set_result(self._run(session, artifacts))
            except BaseException as error:  # noqa: BLE001 - handed to the caller
                result.set_exception(error)
        return True

    def _run(self, session: pytest.Session, artifacts: Artifacts) -> list[CheckOutcome]:
        items = self._by_assignment.get(artifacts.assignment, [])
        self._artifacts, self._errors, self._items = artifacts, {}, items
        for index, item in enumerate(items):
            following = items[index + 1] if index + 1 < len(items) else None
            item.config.hook.pytest_runtest_protocol(item=item, nextitem=following)
            if session.shouldfail or session.shouldstop:
                raise CheckSessionError(f"pytest stopped: {session.shouldfail or session.shouldstop}")
        return self.outcomes_for_run()


class CheckSession:
    """A pytest session on its own thread, collecting ``assignments``' checks once and running them on request."""

    def __init__(self, assignments: tuple[str, ...]) -> None:
        self._jobs: queue.Queue = queue.Queue()
        self._collector = _ServingCollector(self._jobs)
        self._broken = False
        targets = [str(checks_file(assignment)) for assignment in assignments]
        self._thread = threading.Thread(target=self._serve, args=(targets,), daemon=True, name="grader-checks")
        self._thread.start()
        if not self._collector.collected.wait(START_TIMEOUT):
            self._broken = True
            raise CheckSessionError("pytest did not collect the checks in time")

    def _serve(self, targets: list[str]) -> None:
        try:
            pytest.main([*targets, *pytest_arguments()], plugins=[self._collector])
        finally:
            self._broken = True
            self._collector.collected.set()  # a session that failed to start wakes its starter
            while not self._jobs.empty():
                job = self._jobs.get_nowait()
                if job is not None:
                    job[1].set_exception(CheckSessionError("the check session has ended"))

    def run(self, artifacts: Artifacts) -> list[CheckOutcome]:
        """The outcome of each check of ``artifacts.assignment`` on ``artifacts``."""
        if self._broken:
            raise CheckSessionError("the check session has ended")
        result: concurrent.futures.Future[list[CheckOutcome]] = concurrent.futures.Future()
        self._jobs.put((artifacts, result))
        deadline = time.monotonic() + RUN_TIMEOUT
        while True:
            with contextlib.suppress(concurrent.futures.TimeoutError):
                return result.result(timeout=1.0)
            if not self._thread.is_alive():
                raise CheckSessionError("the check session has ended")
            if time.monotonic() > deadline:
                self._broken = True  # later submissions get a pytest run of their own
                raise CheckSessionError(f"the checks of {artifacts.assignment} ran past {RUN_TIMEOUT} s")

    @property
    def running(self) -> bool:
        """Whether the session takes runs."""
        return not self._broken and self._thread.is_alive()

    def close(self) -> None:
        """End the pytest session."""
        self._jobs.put(None)
        self._thread.join(timeout=30)


_active: CheckSession | None = None  # this grading process's session, started by start_check_session


def start_check_session(assignments: tuple[str, ...]) -> None:
    """Start this process's check session for ``assignments`` (a grading process does, once warmed up)."""
    global _active
    stop_check_session()
    _active = CheckSession(assignments)


def stop_check_session() -> None:
    """End this process's check session, if it has one."""
    global _active
    if _active is not None:
        _active.close()
        _active = None


def run_checks(artifacts: Artifacts) -> list[CheckOutcome]:
    """The hidden checks on ``artifacts``: in this process's check session when it runs, else in a pytest run."""
    if _active is not None and _active.running:
        with contextlib.suppress(CheckSessionError):
            return _active.run(artifacts)
    return runner.run_checks(artifacts)
