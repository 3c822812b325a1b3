"""Benchmark: grade one complete reference submission (every assignment of the course) and split the time.

Overhead per notebook = grading wall time minus the time spent inside the notebook's own
cells (papermill's per-cell durations, the grader's appended cell excluded). Prints a table
and writes it to bench/results/grade_reference.md. Usage: .venv/bin/python bench/grade_reference.py
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader.batch.run import autograde_course  # noqa: E402
from tests.submissions import ASSIGNMENTS  # noqa: E402

STUDENT = "reference"


def cell_seconds(executed: Path) -> float:
    """Seconds spent inside the notebook's own cells (the grader's export cell excluded)."""
    notebook = nbformat.read(executed, as_version=4)
    return sum(float(cell.metadata.get("papermill", {}).get("duration") or 0.0) for cell in notebook.cells
               if "grader-export" not in cell.metadata.get("tags", []))


def make_course(root: Path) -> Path:
    for folder in ("source", "release"):
        shutil.copytree(ROOT / folder, root / folder)
    shutil.copy(ROOT / "nbgrader_config.py", root / "nbgrader_config.py")
    for assignment in ASSIGNMENTS:
        target = root / "submitted" / STUDENT / assignment / f"{assignment}.ipynb"
        target.parent.mkdir(parents=True)
        shutil.copy(ROOT / "source" / assignment / f"{assignment}.ipynb", target)
    return root


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="bench-reference-") as scratch:
        course = make_course(Path(scratch))
        started = time.perf_counter()
        results = autograde_course(course, workers=1)
        total = time.perf_counter() - started
        lines = ["| assignment | score | grading wall s | inside cells s | overhead s |", "|---|---|---|---|---|"]
        for result in sorted(results, key=lambda r: ASSIGNMENTS.index(r.assignment)):
            inside = cell_seconds(course / "autograded" / STUDENT / result.assignment / f"{result.assignment}.ipynb")
            lines.append(f"| {result.assignment} | {result.score:g}/{result.max_score:g} | "
                         f"{result.execution_time:.1f} | {inside:.1f} | {result.execution_time - inside:.1f} |")
    lines.append(f"\nWhole reference submission (4 notebooks, 1 worker, set-up included): {total:.1f} s")
    report = "\n".join(lines)
    print(report)
    out = ROOT / "bench" / "results" / "grade_reference.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(f"# grade_reference ({time.strftime('%Y-%m-%d')})\n\n{report}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
