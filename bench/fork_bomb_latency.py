"""Benchmark: does the machine stay responsive while a submission runs a fork bomb in the sandbox?

Starts ``/bin/true`` every 0.1 s and records how long each start takes: first on an idle
machine, then while the grader grades one fork-bomb submission (it runs until its cell time
limit). Prints both and their ratio and writes bench/results/fork_bomb_latency.md.
Usage: .venv/bin/python bench/fork_bomb_latency.py
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader.batch.run import autograde_course  # noqa: E402
from tests.redteam import QUIZ, before  # noqa: E402

BOMB = "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass"


def sample(stop: threading.Event, samples: list[float]) -> None:
    """Time process starts until ``stop`` is set."""
    while not stop.wait(0.1):
        started = time.perf_counter()
        subprocess.run(["/bin/true"], check=True)
        samples.append(1000 * (time.perf_counter() - started))


def summary(samples: list[float]) -> tuple[float, float, float]:
    """Median, 99th percentile and maximum, in milliseconds."""
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[int(0.99 * (len(ordered) - 1))], ordered[-1]


def measure(seconds: float | None, course: Path | None) -> list[float]:
    """Samples for ``seconds`` of idle time, or while ``course`` is graded."""
    stop, samples = threading.Event(), []
    thread = threading.Thread(target=sample, args=(stop, samples))
    thread.start()
    if course is None:
        time.sleep(seconds or 0)
    else:
        autograde_course(course, workers=1)
    stop.set()
    thread.join()
    return samples


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="bench-forkbomb-") as scratch:
        course = Path(scratch) / "course"
        for folder in ("source", "release"):
            shutil.copytree(ROOT / folder, course / folder)
        (course / "nbgrader_config.py").write_text((ROOT / "nbgrader_config.py").read_text()
                                                   + "\nc.GraderSettings.cell_timeout = 20\n")
        target = course / "submitted" / "fork-bomb" / QUIZ / f"{QUIZ}.ipynb"
        target.parent.mkdir(parents=True)
        before(QUIZ, "quiz_answers", BOMB)(course, target)
        idle = measure(10, None)
        started = time.perf_counter()
        busy = measure(None, course)
        seconds = time.perf_counter() - started
        status = (course / "grades.csv").read_text().splitlines()[1].rsplit(",", 1)[1]
    rows = [("idle machine", summary(idle), len(idle)), ("during the fork bomb", summary(busy), len(busy))]
    lines = ["| when | starts | median ms | p99 ms | max ms |", "|---|---|---|---|---|"]
    lines += [f"| {name} | {count} | {m:.1f} | {p:.1f} | {x:.1f} |" for name, (m, p, x), count in rows]
    lines.append(f"\nFork-bomb submission graded in {seconds:.1f} s, status {status}; median start latency "
                 f"{rows[1][1][0] / rows[0][1][0]:.1f}x the idle machine's.")
    report = "\n".join(lines)
    print(report)
    out = ROOT / "bench" / "results" / "fork_bomb_latency.md"
    out.write_text(report + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
