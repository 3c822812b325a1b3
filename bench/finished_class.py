"""A finished class of any size from one graded course, no grading: its results and feedback hard-linked under
new student names (``<student>-<copy>``), its submissions copied with their mtimes (grading refuses a
submission hard-linked from outside ``submitted/``). Shared by bench/rerun.py and bench/bookkeeping.py."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

FOLDERS = ("submitted", "autograded", "feedback")


def copy_tree(source: Path, target: Path, copy: Callable[[Path, Path], object]) -> None:
    """``target`` as a copy of the folder ``source``, each file copied with ``copy``."""
    for folder, _, files in os.walk(source):
        here = target / Path(folder).relative_to(source)
        here.mkdir(parents=True, exist_ok=True)
        for name in files:
            copy(Path(folder) / name, here / name)


def finished_class(graded: Path, target: Path, copies: int, folders: tuple[str, ...] = FOLDERS) -> Path:
    """A course at ``target`` with ``copies`` copies of every student of ``graded`` (its ``folders``), the
    course's notebooks and config copied, and no gradebook (the first run records it)."""
    for folder in ("source", "release"):
        shutil.copytree(graded / folder, target / folder)
    shutil.copy(graded / "nbgrader_config.py", target / "nbgrader_config.py")
    students = sorted(path.name for path in (graded / "submitted").iterdir() if path.is_dir())
    for copy in range(copies):
        for student in students:
            for folder in folders:
                if (graded / folder / student).is_dir():
                    copy_tree(graded / folder / student, target / folder / f"{student}-{copy:04d}",
                              shutil.copy2 if folder == "submitted" else os.link)
    return target
