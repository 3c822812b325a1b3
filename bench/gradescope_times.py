"""Benchmark: each assignment's Gradescope autograder, built, unpacked and run on its reference submission.

Times ``run_autograder`` end to end per submission as Gradescope would run it after ``setup.sh``
(a fresh process: start-up, sandbox, warm-up, grading, results.json), beside the zip's size and
Gradescope's default autograder timeout (10 minutes). Prints a table and writes it to
bench/results/gradescope.md. Usage: ``.venv/bin/python bench/gradescope_times.py``
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader.course.examples import Variant, build  # noqa: E402
from grader.release.gradescope import build_autograder, unpack_autograder  # noqa: E402
from tests.submissions import ASSIGNMENTS  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "gradescope.md"
GRADESCOPE_DEFAULT_TIMEOUT_S = 600  # Gradescope's documented default; an assignment may raise it to 40 minutes


def time_assignment(assignment: str, folder: Path) -> tuple[float, float, str, float]:
    """(zip MB, run_autograder seconds, score, max score) of the reference submission of ``assignment``."""
    archive = build_autograder(ROOT, assignment, folder / f"{assignment}.zip")
    root = folder / assignment
    source = unpack_autograder(archive, root)
    (root / "submission").mkdir(parents=True)
    notebook = build(ROOT, Variant("reference", assignment, {}))
    nbformat.write(notebook, root / "submission" / f"{assignment}.ipynb")
    env = {**os.environ, "GRADESCOPE_ROOT": str(root), "GRADER_PYTHON": sys.executable}
    started = time.perf_counter()
    subprocess.run([str(source / "run_autograder")], env=env, check=True, capture_output=True, timeout=1800)
    seconds = time.perf_counter() - started
    results = json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))
    return archive.stat().st_size / 1e6, seconds, f"{results['score']:.2f}", sum(t["max_score"] for t in
                                                                              results["tests"])


def main() -> None:
    """Time every assignment and write the table."""
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-gradescope-") as scratch:
        for assignment in ASSIGNMENTS:
            size, seconds, score, possible = time_assignment(assignment, Path(scratch))
            rows.append(f"| {assignment} | {size:.2f} | {seconds:.1f} | {score} / {possible:g} | "
                        f"{seconds / GRADESCOPE_DEFAULT_TIMEOUT_S:.0%} |")
            print(rows[-1], flush=True)
    load = os.getloadavg()[0]
    table = "\n".join([
        f"# gradescope_times ({time.strftime('%Y-%m-%d')})", "",
        f"Machine: {os.cpu_count()} cores, Python {platform.python_version()}; load average (1 min) at the end "
        f"{load:.1f}. Command: `.venv/bin/python bench/gradescope_times.py`", "",
        "| assignment | zip MB | run_autograder s (reference) | score | share of Gradescope's 10 min default |",
        "|---|---|---|---|---|", *rows, "",
        "run_autograder is timed end to end in a fresh process, as Gradescope starts it for each submission.",
        "Gradescope's default container has half a virtual CPU and 768 MB of memory: expect slower runs there,",
        "and raise the memory (Autograder Settings): a grading worker's peak is in bench/results/grade_course.md.", ""])
    RESULTS.write_text(table, encoding="utf-8")
    print(f"written to {RESULTS}")


if __name__ == "__main__":
    main()
