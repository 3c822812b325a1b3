"""Benchmark: the Gradescope zip's setup.sh for real, then run_autograder on what it installed.

Builds one assignment's zip, unpacks it as Gradescope does into a temporary root
(``ROOT/source``), runs ``setup.sh`` there (it makes ``ROOT/source/.venv``), then copies
``run_autograder`` to ``ROOT/run_autograder`` and grades the assignment's reference notebook with
the installed environment alone (no ``GRADER_PYTHON``). Prints and writes to
bench/results/gradescope_setup.md: setup's wall time, what pip downloaded (its "Downloading"
lines) and took from this machine's disk, the size of the environment, and run_autograder's
score and time.

``--torch-index`` sets setup.sh's ``TORCH_INDEX_URL``. Gradescope's default is PyTorch's CPU
index (download.pytorch.org); this build machine cannot reach it, so here it points at the
package registry pip is configured with, which serves torch's default build from this disk.
Usage: ``.venv/bin/python bench/gradescope_setup.py [--assignment cnn_quiz] [--torch-index URL]``
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import nbformat  # noqa: E402

from bench.measure import write_bench_results  # noqa: E402
from grader.course.examples import Variant, build  # noqa: E402
from grader.release.gradescope import build_autograder, unpack_autograder  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "gradescope_setup.md"
SIZE = re.compile(r"Downloading (\S+) \(([\d.]+) (kB|MB|GB)\)")
UNITS = {"kB": 1e-3, "MB": 1.0, "GB": 1e3}


def folder_size(path: Path) -> int:
    """Bytes of the files under ``path`` (links not followed)."""
    return sum(entry.stat(follow_symlinks=False).st_size for entry in path.rglob("*") if entry.is_file())


def downloads(log: str) -> tuple[int, float, int, float]:
    """(files downloaded, their MB, wheels taken from this machine's disk, their MB) from pip's output."""
    sizes = [float(number) * UNITS[unit] for _, number, unit in SIZE.findall(log)]
    local = [Path(path) for path in re.findall(r"^Processing (/\S+\.whl)", log, flags=re.M)]
    return len(sizes), sum(sizes), len(local), sum(path.stat().st_size for path in local if path.is_file()) / 1e6


def run_setup(source: Path, torch_index: str) -> tuple[float, str]:
    """Run setup.sh in ``source``; (seconds, its output). Raises when it fails."""
    env = {**os.environ, "TORCH_INDEX_URL": torch_index, "PIP_PROGRESS_BAR": "off"}
    env.pop("VIRTUAL_ENV", None)
    env["PATH"] = os.pathsep.join(part for part in env["PATH"].split(os.pathsep) if not part.startswith(str(ROOT)))
    started = time.perf_counter()
    run = subprocess.run(["bash", str(source / "setup.sh")], env=env, capture_output=True, text=True, cwd=source)
    seconds = time.perf_counter() - started
    if run.returncode != 0:
        raise RuntimeError(f"setup.sh failed ({run.returncode}): {run.stdout[-3000:]}{run.stderr[-3000:]}")
    return seconds, run.stdout + run.stderr


def grade_reference(root: Path, source: Path, assignment: str) -> tuple[float, dict]:
    """run_autograder from where Gradescope puts it, on the reference, with setup.sh's environment only."""
    (root / "submission").mkdir(exist_ok=True)
    (root / "submission" / f"{assignment}.ipynb").write_text(nbformat.writes(build(ROOT, Variant("reference",
                                                                                                assignment, {}))))
    shutil.copy(source / "run_autograder", root / "run_autograder")
    env = {key: value for key, value in os.environ.items() if key not in ("GRADER_PYTHON", "VIRTUAL_ENV")}
    env.update(GRADESCOPE_ROOT=str(root), PYTHONPATH="")
    started = time.perf_counter()
    run = subprocess.run([str(root / "run_autograder")], env=env, capture_output=True, text=True, cwd=root)
    seconds = time.perf_counter() - started
    if run.returncode != 0:
        raise RuntimeError(f"run_autograder failed ({run.returncode}): {run.stderr[-3000:]}")
    return seconds, json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))


def main(argv: list[str] | None = None) -> int:
    """Build, set up, grade, print and write the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignment", default="cnn_quiz")
    parser.add_argument("--torch-index", default="https://pypi.org/simple", help="setup.sh's TORCH_INDEX_URL")
    args = parser.parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="gradescope-setup-"))
    try:
        archive = build_autograder(ROOT, args.assignment, root / "autograder.zip")
        zip_mb = archive.stat().st_size / 1e6
        source = unpack_autograder(archive, root)
        seconds, log = run_setup(source, args.torch_index)
        count, megabytes, local, local_megabytes = downloads(log)
        venv_gib = folder_size(source / ".venv") / 2**30
        grading, results = grade_reference(root, source, args.assignment)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    text = "\n".join([
        f"Machine: {os.cpu_count()} cores, Python {platform.python_version()}; {time.strftime('%Y-%m-%d %H:%M')}; "
        f"load average (1 min) {os.getloadavg()[0]:.1f} after.",
        f"Command: `{'PIP_NO_CACHE_DIR=1 ' if os.environ.get('PIP_NO_CACHE_DIR') else ''}"
        f".venv/bin/python bench/gradescope_setup.py --assignment {args.assignment} "
        f"--torch-index {args.torch_index}`", "",
        "| what | measured |", "|---|---|",
        f"| zip | {zip_mb:.2f} MB |",
        f"| setup.sh, wall | {seconds / 60:.1f} min |",
        f"| downloaded by pip | {count} files, {megabytes:,.0f} MB |",
        f"| wheels taken from this machine's disk (torch's among them) | {local} files, {local_megabytes:,.0f} MB |",
        f"| the environment (.venv) | {venv_gib:.2f} GiB |",
        f"| run_autograder on the reference, with that environment | {grading:.1f} s, score {results['score']} of "
        f"{sum(test['max_score'] for test in results['tests'])}, status {results['status']} |",
    ])
    print(text)
    write_bench_results(RESULTS, "Gradescope's setup.sh", text, __doc__)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
