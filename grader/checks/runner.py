"""Run the hidden pytest checks of one assignment on one submission's artifacts."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.artifacts import Artifacts
from grader.checks.registry import CheckOutcome, first_line

CHECKS_DIR = Path(__file__).resolve().parent


class CheckCollector:
    """A pytest plugin: serves the ``artifacts`` fixture and records each check's verdict."""

    def __init__(self, artifacts: Artifacts) -> None:
        self._artifacts = artifacts
        self._errors: dict[str, str] = {}
        self._items: list[pytest.Item] = []

    def pytest_configure(self, config: pytest.Config) -> None:
        """No source-annotated traceback per failed check: the grader keeps each error's first line only."""
        config.option.tbstyle = "no"  # pytest's "long" report of an untouched notebook took up to 0.8 s

    @pytest.fixture
    def artifacts(self) -> Artifacts:
        """The submission under test."""
        return self._artifacts

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo):
        """Keep the first error of each check, from setup or call."""
        yield
        if call.excinfo is not None and item.nodeid not in self._errors:
            self._errors[item.nodeid] = first_line(call.excinfo.value)

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
                                         not error, error or doc))
        return outcomes


def _pytest_arguments(target: Path) -> list[str]:
    # no plugin the checks don't use: the unraisable-exception plugin alone costs 0.2 s a run in gc.collect
    unused = ("cacheprovider", "terminal", "unraisableexception", "threadexception", "faulthandler", "logging",
              "warnings")
    return [str(target), "--disable-plugin-autoload", *(f"-pno:{name}" for name in unused),
            "-c", str(CHECKS_DIR / "pytest.ini"), "--rootdir", str(CHECKS_DIR), "-W", "ignore"]


def warm_up_checks(assignments: tuple[str, ...] = ()) -> None:
    """Collect the checks of ``assignments`` once, so that pytest's first-run cost is not charged to a submission."""
    for target in [CHECKS_DIR / f"test_{assignment}.py" for assignment in assignments] or [CHECKS_DIR / "registry.py"]:
        pytest.main([*_pytest_arguments(target), "--collect-only"])


def run_checks(artifacts: Artifacts) -> list[CheckOutcome]:
    """Run ``grader/checks/test_<assignment>.py`` against ``artifacts`` in this process."""
    collector = CheckCollector(artifacts)
    target = CHECKS_DIR / f"test_{artifacts.assignment}.py"
    code = pytest.main(_pytest_arguments(target), plugins=[collector])
    if code not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        raise RuntimeError(f"the hidden checks of {artifacts.assignment} could not run (pytest exit {code})")
    return collector.outcomes_for_run()
