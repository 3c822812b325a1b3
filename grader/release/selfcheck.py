"""``grader check NOTEBOOK``: a student runs their notebook headlessly against its visible tests.

Only what the student already has is used: the notebook's own test cells (nbgrader's graded
cells of the release version) and the student pool of digits. Nothing here knows the hidden
checks, the solutions or the held-out digits, so the student kit can ship this module.
"""

from __future__ import annotations

import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from grader.pipeline.execute import CellOutcome

STUB_ERROR = "NotImplementedError"


@dataclass(frozen=True)
class CheckRow:
    """One visible test: the part (grade id) it tests, whether it passed, its points and why."""

    grade_id: str
    passed: bool
    points: float
    message: str


class SelfCheckError(ValueError):
    """The file cannot be checked (missing, not a notebook); ``path`` says which."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path


def check_notebook(notebook: Path, timeout: float = 600.0) -> tuple[CheckRow, ...]:
    """Execute a copy of ``notebook`` in a fresh kernel; one row per visible test cell."""
    import nbformat

    from grader.pipeline.execute import ExecutionOptions, execute_notebook

    if not notebook.is_file():
        raise SelfCheckError(notebook, "no such file")
    try:
        nbformat.read(notebook, as_version=4)
    except Exception as error:  # noqa: BLE001 - any unreadable file gets the same plain answer
        raise SelfCheckError(notebook, f"not a readable notebook ({type(error).__name__})") from None
    with tempfile.TemporaryDirectory(prefix="grader-check-") as scratch:
        executed = execute_notebook(notebook, Path(scratch) / notebook.name, notebook.parent.resolve(),
                                    ExecutionOptions(cell_timeout=timeout))
    rows, owner, unwritten = [], "", set()
    for cell in executed.cells:
        if cell.is_solution:
            owner = cell.grade_id
            if cell.error_name == STUB_ERROR:
                unwritten.add(owner)
        if not cell.is_test:
            continue
        rows.append(CheckRow(owner or cell.grade_id, cell.passed, cell.points,
                             _message(cell, owner, owner in unwritten)))
    return tuple(rows)


def _message(cell: CellOutcome, owner: str, owner_unwritten: bool) -> str:
    if cell.passed:
        return f"{cell.grade_id}: passed"
    if owner_unwritten or cell.error_name == STUB_ERROR:
        return f"{cell.grade_id}: not written yet: your `{owner}` cell still raises NotImplementedError"
    first_line = (cell.error_value.strip().splitlines() or [""])[0][:200]
    return f"{cell.grade_id} (cell {cell.index}): {cell.error_name}: {first_line}".rstrip(": ")


def print_rows(rows: tuple[CheckRow, ...], out: TextIO = sys.stdout) -> None:
    """The table a student reads: one line per visible test, then the points."""
    print(f"{'':4} {'part':<24} {'points':>6}  what happened", file=out)
    for row in rows:
        mark = "ok" if row.passed else "FAIL"
        print(f"{mark:<4} {row.grade_id:<24} {row.points:>6g}  {row.message}", file=out)
    earned = sum(row.points for row in rows if row.passed)
    total = sum(row.points for row in rows)
    failed = sum(not row.passed for row in rows)
    verdict = "all visible tests pass" if not failed else f"{failed} visible test(s) fail"
    print(f"\n{verdict}: {earned:g} of {total:g} points. Hidden tests grade more than these.", file=out)


def main(argv: list[str] | None = None) -> int:
    """``check NOTEBOOK [--timeout SECONDS]``: exit 0 when every visible test passes, 1 when one fails."""
    import argparse

    parser = argparse.ArgumentParser(prog="grader check", description=main.__doc__)
    parser.add_argument("notebook", type=Path)
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per cell (default 600)")
    parser.add_argument("--results", type=Path, help="also write the rows as JSON (Gradescope's format) here")
    args = parser.parse_args(argv)
    from nbclient.exceptions import CellTimeoutError

    try:
        rows = check_notebook(args.notebook, args.timeout)
    except SelfCheckError as error:
        print(f"grader check: {error}", file=sys.stderr)
        return 2
    except CellTimeoutError:
        print(f"grader check: a cell ran longer than {args.timeout:g} s; is there an endless loop?", file=sys.stderr)
        return 1
    if not rows:
        print(f"grader check: {args.notebook} has no visible tests to run", file=sys.stderr)
        return 2
    print_rows(rows)
    if args.results is not None:
        write_rows_json(rows, args.results)
    return 0 if all(row.passed for row in rows) else 1


def write_rows_json(rows: tuple[CheckRow, ...], path: Path) -> None:
    """The visible tests as a results.json: one test per row, the score its points when it passed."""
    import json

    tests = [{"name": row.grade_id, "score": row.points if row.passed else 0.0, "max_score": row.points,
              "output": row.message} for row in rows]
    data = {"score": sum(test["score"] for test in tests), "max_score": sum(row.points for row in rows),
            "visibility": "visible", "tests": tests}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
