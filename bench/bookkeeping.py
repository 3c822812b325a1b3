"""The coordinator's time per new result (issue 18, item 2): results.json, gradebook, feedback, stamp,
grades.csv, batched (grader.batch.bookkeeping) against one result at a time with nbgrader's calls.

Usage: ``python bench/bookkeeping.py GRADED_COURSE [--copies 20] [--postgres]``

The graded course's results are recorded again under new student names (bench/finished_class.py:
its autograded/ folders hard-linked, so each feedback page gets its pictures) in a gradebook that
holds only the source cells. ``--postgres`` also times a throwaway PostgreSQL server
(tests/postgres_server.py). Grading itself is not timed: only what the coordinator does with
each result that comes back.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import nbformat  # noqa: E402

from bench.finished_class import finished_class  # noqa: E402
from grader.batch.bookkeeping import Bookkeeper  # noqa: E402
from grader.course.catalog import course_assignments  # noqa: E402
from grader.course.layout import source_notebook, submitted_folder  # noqa: E402
from grader.feedback.page import write_feedback  # noqa: E402
from grader.results.gradebook import (  # noqa: E402
    put_tools_on_path,
    record_in_gradebook,
    record_source_cells,
)
from grader.results.gradebook_batch import GradebookSession  # noqa: E402
from grader.results.records import GradesCsv, SubmissionResult, all_results, write_results_json  # noqa: E402


@contextmanager
def course_copy(graded: Path, copies: int, db_url: str | None) -> Iterator[tuple[Path, str]]:
    """A class of ``copies`` copies of ``graded``'s students (no feedback pages yet) and a gradebook
    holding the source cells only (SQLite in the course, or ``db_url``)."""
    with tempfile.TemporaryDirectory(prefix="bookkeeping-") as scratch:
        course = finished_class(graded, Path(scratch) / "course", copies, ("submitted", "autograded"))
        if db_url is not None:
            config = course / "nbgrader_config.py"
            config.write_text(config.read_text() + f"\nc.CourseDirectory.db_url = {db_url!r}\n")
        put_tools_on_path()
        for assignment in course_assignments(course):
            record_source_cells(course, assignment)
        yield course, db_url or f"sqlite:///{course / 'gradebook.db'}"


def timed(course: Path, db_url: str, batched: bool) -> tuple[int, float]:
    """How many results were recorded and the seconds it took."""
    assignments = course_assignments(course)
    sources = {a: nbformat.read(source_notebook(course, a), as_version=4) for a in assignments}
    results = [r for r in all_results(course, assignments)]
    started = time.perf_counter()
    grades = GradesCsv(course / "grades.csv", [])
    with GradebookSession(db_url, sources) if batched else nullcontext() as gradebook:
        book = Bookkeeper(course, gradebook, grades) if batched else None
        for result in results:
            record_one(course, db_url, result, sources, book)
        if book is not None:
            book.close()
        grades.close()
    return len(results), time.perf_counter() - started


def record_one(course: Path, db_url: str, result: SubmissionResult, sources: dict, book: Bookkeeper | None) -> None:
    """What the coordinator does with one result that came back, batched or as before this change."""
    submitted = submitted_folder(course, result.student, result.assignment) / f"{result.assignment}.ipynb"
    if book is not None:
        book.add(result, submitted)
        return
    write_results_json(course / "autograded" / result.student / result.assignment / "results.json", result)
    record_in_gradebook(db_url, result, sources[result.assignment])
    write_feedback(course, result)


def main() -> None:
    """Time both ways on SQLite, and on PostgreSQL when asked; print a line each."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("graded", type=Path)
    parser.add_argument("--copies", type=int, default=20)
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()
    servers: list[tuple[str, object]] = [("SQLite", None)]
    if args.postgres:
        from tests.postgres_server import postgres_server

        servers.append(("PostgreSQL", postgres_server))
    for name, server in servers:
        for batched in (True, False):
            with (server() if server else nullcontext(None)) as url, course_copy(args.graded, args.copies,
                                                                               url) as (course, db_url):
                n, seconds = timed(course, db_url, batched)
                report(name, "batched, new" if batched else "one at a time (before)", n, seconds)
                if batched:  # the same results again: every submission is in the gradebook (--force)
                    report(name, "batched, regraded", *timed(course, db_url, batched))


def report(database: str, way: str, n: int, seconds: float) -> None:
    """One line of the table."""
    print(f"{database:<10} {way:<23} {n:>5} results {seconds:7.2f} s  {seconds / n * 1000:6.1f} ms a result",
          flush=True)


if __name__ == "__main__":
    main()
