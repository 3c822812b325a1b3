"""Time ``grader autograde`` on a finished class with nothing new (issue 18, item 1).

Usage: ``python bench/rerun.py GRADED_COURSE [--copies 200] [--keep DIR]``

GRADED_COURSE is a course graded once (e.g. a copy of the bundled class after ``grader autograde``).
Its students are hard-linked ``--copies`` times (bench/finished_class.py); the first run records
the copies in a new gradebook (their results.json are trusted: no grading), the next runs have
nothing new. Prints one line per run; a run must start no worker (``--workers 1`` would start
one in this process before this change).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.finished_class import finished_class  # noqa: E402


def timed_run(course: Path, *extra: str) -> tuple[float, str]:
    """Wall seconds of one ``grader autograde --workers 1`` in a new process (start-up included), and its last
    line but one (the summary)."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "grader", "autograde", "--course", str(course), "--workers", "1",
                           *extra], capture_output=True, text=True, check=True)
    return time.perf_counter() - started, done.stdout.strip().splitlines()[-2]


def main() -> None:
    """Build the class, run three times, print the times."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("graded", type=Path)
    parser.add_argument("--copies", type=int, default=200)
    parser.add_argument("--keep", type=Path, help="build the class here and keep it")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="rerun-") as scratch:
        course = finished_class(args.graded.resolve(), (args.keep or Path(scratch)) / "course", args.copies)
        n = sum(1 for _ in (course / "submitted").glob("*/*/"))
        for label in ("first run (records the copies)", "nothing new", "nothing new, again"):
            seconds, summary = timed_run(course)
            print(f"{n} submissions, {label}: {seconds:.2f} s ({seconds / n * 1000:.2f} ms each) | {summary}",
                  flush=True)


if __name__ == "__main__":
    main()
