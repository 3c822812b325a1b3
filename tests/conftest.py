"""Shared fixtures. Notebooks under tests/ are data for the tests, not nbval targets."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

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
