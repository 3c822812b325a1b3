"""Benchmark: how re-runs and the report grow with the class, at 100, 1,000, 4,000 and 10,000 submissions.

Each size is a finished class made without grading (tests/finished_class.py: the bundled
notebooks hard-linked in rotation, a results.json per submission with its notebook's SHA-256).
Timed, each a ``grader`` command end to end (start-up included):

- ``first re-run``: ``grader autograde`` with nothing to grade, on an empty gradebook (it records
  every finished result; untimed in the table's growth, shown for what it costs);
- ``re-run, nothing new``: ``grader autograde`` again;
- ``re-run, 10 new``: 10 new students' notebooks added (the bundled class's notebooks of the
  assignments without training, the same 10 at every size), then ``grader autograde``;
- ``report``: ``grader report``.

Re-runs can be skipped above ``--rerun-cap`` submissions; the report is then timed on a gradebook
that was never filled (its grades CSV has no submission to read).
Prints a table (seconds, milliseconds per submission, growth exponent between sizes) and writes it
to bench/results/grow.md. Usage:
``.venv/bin/python bench/grow.py [--sizes 100,1000,4000,10000] [--rerun-cap 10000] [--workers 2] [--keep]``
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.measure import write_bench_results  # noqa: E402
from tests.finished_class import first_notebooks, make_finished_class  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "grow.md"
NEW = 10
NEW_ASSIGNMENTS = ("cnn_quiz", "conv_layers", "custom_filters", "pooling_layers")  # no training: seconds each
STEPS = ("first re-run", "re-run, nothing new", "re-run, 10 new", "report")
TODAY = "Before issue 18, measured on a class of 4,000 (1,000 students x 4 assignments): re-run with nothing new " \
        "498 s (125 ms a submission), `grader report` 83 s (21 ms a submission)."


def timed(command: list[str]) -> float:
    """Run a ``grader`` command; its wall seconds (raises when it fails)."""
    started = time.perf_counter()
    run = subprocess.run([sys.executable, "-m", "grader", *command], capture_output=True, text=True, cwd=ROOT)
    seconds = time.perf_counter() - started
    if run.returncode != 0:
        raise RuntimeError(f"grader {' '.join(command)} failed ({run.returncode}): {run.stderr[-2000:]}")
    return seconds


def add_new_submissions(course: Path) -> None:
    """Ten new students, one notebook each, hard-linked to the class's own notebooks (no results.json yet)."""
    sources = sorted((key, path) for key, path in first_notebooks(course).items() if key[1] in NEW_ASSIGNMENTS)
    for index in range(NEW):
        (_, assignment), source = sources[index % len(sources)]
        target = course / "submitted" / f"new-{index:02d}" / assignment / f"{assignment}.ipynb"
        target.parent.mkdir(parents=True)
        target.hardlink_to(source)


def measure(size: int, rerun: bool, workers: int, keep: bool) -> dict[str, float]:
    """The seconds of each step for a finished class of ``size`` (re-runs only when ``rerun``)."""
    root = Path(tempfile.mkdtemp(prefix=f"grow-{size}-"))
    try:
        started = time.perf_counter()
        course = make_finished_class(ROOT, root, size)
        seconds = {"build": time.perf_counter() - started}
        autograde = ["autograde", "--course", str(course), "--workers", str(workers)]
        if rerun:
            seconds["first re-run"] = timed(autograde)
            seconds["re-run, nothing new"] = timed(autograde)
            add_new_submissions(course)
            seconds["re-run, 10 new"] = timed(autograde)
        seconds["report"] = timed(["report", "--course", str(course)])
        pages = [page.stat().st_size for page in (course / "report").glob("*.html")]
        seconds["largest page MB"] = max(pages) / 1e6
        return seconds
    finally:
        if keep:
            print(f"kept {root}", file=sys.stderr)
        else:
            shutil.rmtree(root, ignore_errors=True)


def exponent(small: tuple[int, float], large: tuple[int, float]) -> str:
    """The growth exponent k of seconds ~ size^k between two sizes."""
    (n1, t1), (n2, t2) = small, large
    return f"{math.log(t2 / t1) / math.log(n2 / n1):.2f}"


def table(sizes: list[int], figures: dict[int, dict[str, float]]) -> str:
    """Markdown: per step, seconds and ms per submission at each size, then the exponent between sizes."""
    head = "| step | " + " | ".join(f"{n:,} s | ms/sub" for n in sizes)
    pairs = list(zip(sizes, sizes[1:], strict=False))
    head += "".join(f" | k {a:,}->{b:,}" for a, b in pairs) + " |"
    lines = [head, "|" + "---|" * (1 + 2 * len(sizes) + len(pairs))]
    for step in STEPS:
        cells = []
        for n in sizes:
            value = figures[n].get(step)
            cells += [f"{value:.1f}", f"{1000 * value / n:.1f}"] if value is not None else ["skipped", ""]
        for a, b in pairs:
            both = step in figures[a] and step in figures[b]
            cells.append(exponent((a, figures[a][step]), (b, figures[b][step])) if both else "")
        lines.append(f"| {step} | " + " | ".join(cells) + " |")
    pages = " / ".join(f"{figures[n]['largest page MB']:.2f}" for n in sizes)
    builds = " / ".join(f"{figures[n]['build']:.0f}" for n in sizes)
    return "\n".join(lines) + f"\n\nLargest report page (MB): {pages}. Building each class (s): {builds}."


def main(argv: list[str] | None = None) -> int:
    """Build, time, print and write the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000,4000,10000", help="class sizes in submissions")
    parser.add_argument("--rerun-cap", type=int, default=10_000, help="time re-runs only up to this size")
    parser.add_argument("--workers", type=int, default=2, help="grader autograde --workers")
    parser.add_argument("--keep", action="store_true", help="keep the classes (paths on stderr)")
    args = parser.parse_args(argv)
    sizes = sorted(int(size) for size in args.sizes.split(","))
    load_before = os.getloadavg()[0]
    figures = {}
    for size in sizes:
        figures[size] = measure(size, size <= args.rerun_cap, args.workers, args.keep)
        print(f"{size}: " + ", ".join(f"{k} {v:.1f}" for k, v in figures[size].items()), file=sys.stderr, flush=True)
    skipped = [size for size in sizes if size > args.rerun_cap]
    notes = [f"Machine: {os.cpu_count()} cores, Python {platform.python_version()}; {time.strftime('%Y-%m-%d %H:%M')}; "
             f"load average (1 min) {load_before:.1f} before, {os.getloadavg()[0]:.1f} after.",
             f"Command: `.venv/bin/python bench/grow.py --sizes {args.sizes} --rerun-cap {args.rerun_cap} "
             f"--workers {args.workers}`", "", table(sizes, figures), "", TODAY]
    if skipped:
        notes.append(f"Re-runs skipped at {', '.join(f'{n:,}' for n in skipped)} (above --rerun-cap): "
                     "there the report ran on a gradebook never filled.")
    text = "\n".join(notes)
    print(text)
    write_bench_results(RESULTS, "grow", text, __doc__)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
