"""Benchmark: grade a synthetic class in several modes and compare with plain nbgrader.

Builds a class (``--students`` x the course's assignments: reference, mistaken and untouched
notebooks, see bench/synthetic_class.py) and grades a fresh copy of it per mode:

- ``anchor``: plain ``nbgrader autograde`` with hidden tests equal to the grader's checks,
  run in the student's kernel (bench/nbgrader_anchor.py);
- ``workers1``, ``workers2``: ``grader autograde --workers 1`` / ``--workers 2``;
- ``dask``: ``grader autograde --scheduler`` on a local Dask cluster of 2 one-thread workers.

Prints one table and writes it to bench/results/grade_course.md. Usage:
``.venv/bin/python bench/grade_course.py [--students 24] [--modes anchor,workers1,workers2,dask] [--keep]``
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.course_modes import MODES, ModeResult, run_mode  # noqa: E402
from bench.measure import human_bytes  # noqa: E402
from bench.synthetic_class import ClassSubmission, build_class  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "grade_course.md"
SCORE_TOLERANCE = 0.005  # the grader rounds each grade id to 4 decimals, the anchor each test cell
NOTES = """Notes:
- A submission is one notebook (one student, one assignment). Wall time is the grading command, end to end
  (start-up and worker warm-up included); the class, the anchor's instructor notebooks and its
  `nbgrader generate_assignment` (release time for plain nbgrader) and the Dask cluster's start are not timed.
- Overhead per notebook = grading time of the notebook minus the time inside the notebook's own cells.
  Grader modes: `execution_time` of results.json minus papermill's per-cell durations (the grader's export
  cell excluded). Anchor: nbgrader records no time per notebook, so its grading time is wall / notebooks,
  minus nbclient's per-cell timestamps (`iopub.execute_input` to `shell.execute_reply`); the appended
  hidden-test cells (export, probes and checks in the kernel) count as grading, not as the student's cells.
- Peak memory per worker: PSS summed over a worker's process tree (kernels and probes included), sampled
  every 0.5 s; the largest worker. Anchor and `--workers 1`: the whole command's tree; `--workers 2`: each
  pool process; Dask: each worker process (the scheduler and the coordinating `grader` process excluded).
- Grades identical: every (student, assignment) total equals the baseline's within {tolerance}.
- The anchor's hidden test cells run bench/anchor_kernel.py in the student's kernel: the grader's own
  export, probes (`grader.probing.probe.run_probes`, fresh namespace) and pytest checks, once per notebook, after
  the student's cells (its graded cells are appended at the end; the visible tests stay in place, unscored).
  Each graded cell outputs its partial credit, which nbgrader 0.9 records. Unlike the grader, the anchor
  runs student code unsandboxed and does not hide the held-out digits."""


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=24, help="students in the class (default 24)")
    parser.add_argument("--modes", default=",".join(MODES), help=f"comma-separated subset of {','.join(MODES)}")
    parser.add_argument("--keep", action="store_true", help="keep the temporary courses and print where")
    args = parser.parse_args(argv)
    args.modes = [mode.strip() for mode in args.modes.split(",") if mode.strip()]
    unknown = [mode for mode in args.modes if mode not in MODES]
    if unknown or args.students < 1:
        parser.error(f"unknown mode(s) {unknown}; choose from {list(MODES)}" if unknown else "--students >= 1")
    return args


def torch_threads() -> str:
    """Torch's default intra-op threads in a fresh interpreter of the virtualenv."""
    done = subprocess.run([sys.executable, "-c", "import torch; print(torch.get_num_threads())"],
                          capture_output=True, text=True)
    return done.stdout.strip() or "?"


def baseline_of(results: list[ModeResult]) -> ModeResult | None:
    """``workers1`` when it ran, else the first grader mode that ran."""
    ran = [result for result in results if not result.unavailable and result.mode != "anchor"]
    preferred = [result for result in ran if result.mode == "workers1"]
    return (preferred or ran or [None])[0]


def differences(result: ModeResult, baseline: ModeResult) -> list[str]:
    """One line per (student, assignment) whose score differs from the baseline's."""
    lines = []
    for key in sorted(set(result.scores) | set(baseline.scores)):
        mine, theirs = result.scores.get(key), baseline.scores.get(key)
        if mine is None or theirs is None or abs(mine - theirs) > SCORE_TOLERANCE:
            shown = [value if value is None else round(value, 4) for value in (mine, theirs)]
            lines.append(f"- {result.mode}: {key[0]} / {key[1]}: {shown[0]} (baseline {baseline.mode}: {shown[1]})")
    return lines


def table_row(result: ModeResult, anchor: ModeResult | None, baseline: ModeResult | None, diffs: list[str]) -> str:
    """One markdown row of the table."""
    label = MODES[result.mode].label
    if result.unavailable:
        return f"| {label} | not available: {result.unavailable} | | | | | | |"
    per_minute = 60.0 * result.notebooks / result.wall if result.wall else 0.0
    anchor_rate = 60.0 * anchor.notebooks / anchor.wall if anchor and not anchor.unavailable and anchor.wall else 0.0
    speedup = f"{per_minute / anchor_rate:.2f}x" if anchor_rate else "n/a"
    identical = "baseline" if result is baseline else ("n/a" if baseline is None else ("no" if diffs else "yes"))
    overhead = "n/a" if result.overhead is None else f"{result.overhead:.2f}"
    return (f"| {label} | {result.notebooks} | {result.wall:.1f} | {per_minute:.2f} | {speedup} | {overhead} | "
            f"{human_bytes(result.peak)} | {identical} |")


def render(results: list[ModeResult], plan: list[ClassSubmission], students: int, command: str) -> str:
    """The report: machine, class, table, differences, notes."""
    anchor = next((result for result in results if result.mode == "anchor"), None)
    baseline = baseline_of(results)
    diffs = {r.mode: differences(r, baseline) if baseline and r is not baseline and not r.unavailable else []
             for r in results}
    kinds = Counter(item.content if item.content in ("reference", "untouched") else "mistaken" for item in plan)
    lines = [f"Machine: {os.cpu_count()} cores, torch threads {torch_threads()} (default), "
             f"Python {sys.version.split()[0]}; {time.strftime('%Y-%m-%d %H:%M')}",
             f"Command: `{command}`",
             f"Class: {students} students x {len({item.assignment for item in plan})} assignments = "
             f"{len(plan)} notebooks "
             f"({', '.join(f'{count} {kind}' for kind, count in kinds.items())})", "",
             "| mode | notebooks | wall s | submissions/min | speed-up vs anchor | overhead s/notebook "
             "| peak memory/worker | grades identical |", "|---|---|---|---|---|---|---|---|"]
    lines += [table_row(result, anchor, baseline, diffs[result.mode]) for result in results]
    loads = "; ".join(f"{r.mode} {r.load[0]:.1f} -> {r.load[1]:.1f}" for r in results if not r.unavailable)
    lines += ["", f"Load average (1 min) before -> after each mode, {os.cpu_count()} cores: {loads}. "
              "A load well above the mode's own workers means other processes shared the machine."]
    statuses = "; ".join(f"{r.mode}: " + ", ".join(f"{count} {status}" for status, count in sorted(r.statuses.items()))
                         for r in results if r.statuses)
    if statuses:
        lines += [f"Statuses in results.json: {statuses}."]
    all_diffs = [line for result in results for line in diffs[result.mode]]
    if all_diffs:
        lines += ["", "Differences:", *all_diffs]
    lines += ["", NOTES.format(tolerance=SCORE_TOLERANCE)]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Build the class, grade it in each mode, print and write the table."""
    args = parse_args(argv)
    scratch = Path(tempfile.mkdtemp(prefix="bench-course-"))
    try:
        plan = build_class(scratch / "class", args.students)
        results = []
        for mode in args.modes:
            result = run_mode(mode, scratch / "class", scratch / mode)
            state = result.unavailable or f"{result.notebooks} notebooks in {result.wall:.1f} s"
            print(f"[grade_course] {mode}: {state}", file=sys.stderr, flush=True)
            results.append(result)
        command = " ".join([".venv/bin/python bench/grade_course.py", *(argv if argv is not None else sys.argv[1:])])
        report = render(results, plan, args.students, command)
    finally:
        if args.keep:
            print(f"[grade_course] courses kept in {scratch}", file=sys.stderr)
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    print(report)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(f"# grade_course ({time.strftime('%Y-%m-%d')})\n\n{report}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
