"""Shared fixtures. Notebooks under tests/ are data for the tests, not nbval targets."""

from __future__ import annotations

from pathlib import Path

import pytest

collect_ignore_glob = ["**/*.ipynb"]

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def repo() -> Path:
    """The checkout's root folder (the course folder of the bundled course)."""
    return REPO
