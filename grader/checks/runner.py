"""Run the hidden pytest checks of one assignment on one submission's artifacts."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.assignments import checks_file
from grader.checks.registry import CheckOutcome, first_line
from grader.pipeline.artifacts import Artifacts
from grader.pipeline.shown import capped

CHECKS_DIR = Path(__file__).resolve().parent


def error_line(error: BaseException) -> str:
    """What a failed check tells the student: the first line of its error, capped (grader.pipeline.shown)."""
    try:
        return capped(first_line(error))
    except Exception:  # noqa: BLE001 - an error that cannot be written as text is told by its type
        return capped(type(error).__name__)


class CheckCollector:
    """A pytest plugin: serves the ``artifacts`` fixture and records each check's verdict."""

    def __init__(self, artifacts: Artifacts | None) -> None:
        self._artifacts = artifacts
        self._errors: dict[str, str] = {}
        self._items: list[pytest.Item] = []

    @pytest.fixture
    def artifacts(self) -> Artifacts | None:
        """The submission under test."""
        return self._artifacts

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo) -> pytest.TestReport | None:
        """The report of one phase of a check, its first error kept as one line.

        pytest's own report formats a source-annotated traceback per failure (most of the checks' time on an
        untouched notebook) that nobody reads: the grader keeps the first line of each error.
        """
        error = call.excinfo
        if error is not None and error.errisinstance(pytest.skip.Exception):
            return None  # pytest's own report knows how to describe a skip
        if error is not None:
            self._errors.setdefault(item.nodeid, error_line(error.value))
        return pytest.TestReport(item.nodeid, item.location, keywords={}, when=call.when,
                                 outcome="passed" if error is None else "failed",
                                 longrepr=None if error is None else self._errors[item.nodeid],
                                 duration=call.duration, start=call.start, stop=call.stop)

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        """Remember the items to turn into outcomes once they have run."""
        self._items = list(items)

    def outcomes_for_run(self) -> list[CheckOutcome]:
        """One outcome per collected check, in file order."""
        outcomes = []
        for item in self._items:
            mark = item.get_closest_marker("grade")
            if mark is None:
                continue
            error = self._errors.get(item.nodeid, "")
            doc = (item.function.__doc__ or item.name).strip().splitlines()[0]
            callspec = getattr(item, "callspec", None)
            doc = f"{doc} ({callspec.id})" if callspec is not None else doc
            outcomes.append(CheckOutcome(item.name, mark.kwargs["grade_id"], float(mark.kwargs["weight"]),
                                         not error, error or doc, bool(mark.kwargs.get("evidence", True)),
                                         str(mark.kwargs.get("visibility", "visible"))))
        return outcomes


def pytest_arguments() -> list[str]:
    """pytest's options for the checks (the check files to run go before them)."""
    # no plugin the checks don't use: the unraisable-exception plugin alone runs gc.collect every run
    unused = ("cacheprovider", "terminal", "unraisableexception", "threadexception", "faulthandler", "logging",
              "warnings", "debugging", "unittest", "capture", "legacypath", "tmpdir", "monkeypatch", "recwarn",
              "pastebin", "junitxml", "doctest", "setuponly", "setupplan", "stepwise", "subtests")
    return ["--disable-plugin-autoload", *(f"-pno:{name}" for name in unused),
            "-c", str(CHECKS_DIR / "pytest.ini"), "--rootdir", str(CHECKS_DIR), "-W", "ignore"]


def run_checks(artifacts: Artifacts) -> list[CheckOutcome]:
    """Run the assignment folder's ``test_<assignment>.py`` against ``artifacts`` in this process."""
    collector = CheckCollector(artifacts)
    target = checks_file(artifacts.assignment)
    code = pytest.main([str(target), *pytest_arguments()], plugins=[collector])
    if code not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        raise RuntimeError(f"the hidden checks of {artifacts.assignment} could not run (pytest exit {code})")
    return collector.outcomes_for_run()
