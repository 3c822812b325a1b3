"""Shared fixtures. Notebooks under tests/ are data for the tests, not nbval targets."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser import headless_chromium
from tests.graded_class import QUICK_VARIANTS, make_course
from tests.postgres_server import postgres_server

collect_ignore_glob = ["**/*.ipynb"]

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def repo() -> Path:
    """The checkout's root folder (the course folder of the bundled course)."""
    return REPO


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A throwaway PostgreSQL server on 127.0.0.1 (tests/postgres_server.py): its database's URL."""
    with postgres_server() as url:
        yield url


@pytest.fixture(scope="session")
def graded_course(repo: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default tier's class (tests/graded_class.py): references, a few mistakes, the untouched release."""
    from grader.batch.run import autograde_course

    course = make_course(repo, tmp_path_factory.mktemp("class"), QUICK_VARIANTS, untouched=True)
    autograde_course(course, workers=2)
    return course


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Headless Chromium driven by Selenium (tests/browser.py), console log recorded."""
    with headless_chromium() as driver:
        yield driver
