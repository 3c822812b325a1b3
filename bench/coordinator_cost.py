"""Benchmark: what the coordinating process spends on each result it receives, on SQLite and PostgreSQL.

The steps ``grader autograde`` runs in its own process for every result (grader/batch/run.py),
timed one by one over ``--results`` made-up results of a finished class (tests/finished_class.py,
no grading): ``ensure_student``, ``write_results_json``, ``record_in_gradebook`` and
``write_feedback``. PostgreSQL is a throwaway server (tests/postgres_server.py); it is skipped
when the server's binaries are missing. Writes bench/results/coordinator_cost.md. Usage:
``.venv/bin/python bench/coordinator_cost.py [--results 200]``
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import nbformat  # noqa: E402

from bench.measure import write_bench_results  # noqa: E402
from grader.course.layout import autograded_folder, source_notebook  # noqa: E402
from grader.feedback.page import write_feedback  # noqa: E402
from grader.results.gradebook import (  # noqa: E402
    ensure_student,
    gradebook_url,
    put_tools_on_path,
    record_in_gradebook,
    record_source_cells,
)
from grader.results.records import all_results, write_results_json  # noqa: E402
from tests.finished_class import make_finished_class  # noqa: E402
from tests.submissions import ASSIGNMENTS  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "coordinator_cost.md"
STEPS = ("ensure_student", "write_results_json", "record_in_gradebook", "write_feedback")


def step_costs(course: Path, count: int) -> dict[str, float]:
    """Mean milliseconds of each step over ``count`` results of ``course`` (its gradebook filled as they go)."""
    put_tools_on_path()
    db_url = gradebook_url(course)
    for assignment in ASSIGNMENTS:
        record_source_cells(course, assignment)
    sources = {a: nbformat.read(source_notebook(course, a), as_version=4) for a in ASSIGNMENTS}
    results = all_results(course, ASSIGNMENTS)[:count]
    steps: dict[str, Callable] = {
        "ensure_student": lambda r: ensure_student(db_url, r.student),
        "write_results_json": lambda r: write_results_json(
            autograded_folder(course, r.student, r.assignment) / "results.json", r),
        "record_in_gradebook": lambda r: record_in_gradebook(db_url, r, sources[r.assignment]),
        "write_feedback": lambda r: write_feedback(course, r),
    }
    spent: dict[str, list[float]] = {step: [] for step in STEPS}
    for result in results:
        for step in STEPS:
            started = time.perf_counter()
            steps[step](result)
            spent[step].append(time.perf_counter() - started)
    return {step: 1000 * statistics.fmean(values) for step, values in spent.items()}


def main(argv: list[str] | None = None) -> int:
    """Time both gradebooks, print and write the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=int, default=200, help="results per gradebook (default 200)")
    args = parser.parse_args(argv)
    figures, load_before = {}, os.getloadavg()[0]
    with ExitStack() as stack:
        root = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="coordinator-")))
        figures["SQLite"] = step_costs(make_finished_class(ROOT, root / "sqlite", args.results), args.results)
        try:
            from tests.postgres_server import postgres_server

            url = stack.enter_context(postgres_server())
        except Exception as error:  # noqa: BLE001 - no server binaries: SQLite only
            print(f"PostgreSQL skipped: {error}", file=sys.stderr)
        else:
            course = make_finished_class(ROOT, root / "postgres", args.results)
            with (course / "nbgrader_config.py").open("a") as config:
                config.write(f"\nc.CourseDirectory.db_url = {url!r}\n")
            figures["PostgreSQL"] = step_costs(course, args.results)
    lines = ["| gradebook | " + " | ".join(f"{step} ms" for step in STEPS) + " | total ms |",
             "|---|" + "---|" * (len(STEPS) + 1)]
    for name, costs in figures.items():
        lines.append(f"| {name} | " + " | ".join(f"{costs[s]:.1f}" for s in STEPS) + f" | {sum(costs.values()):.1f} |")
    text = (f"Machine: {os.cpu_count()} cores; {time.strftime('%Y-%m-%d %H:%M')}; load average (1 min) "
            f"{load_before:.1f} before, {os.getloadavg()[0]:.1f} after. Command: "
            f"`.venv/bin/python bench/coordinator_cost.py --results {args.results}`\n\n" + "\n".join(lines))
    print(text)
    write_bench_results(RESULTS, "coordinator_cost", text, __doc__)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
