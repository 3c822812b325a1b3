"""Install pyproject's lower bounds into a second venv and grade the bundled class with it.

Every dependency of pyproject.toml is pinned at its lower bound (``>=X`` becomes ``===X``: a plain
``==2.13.0`` also takes a local ``2.13.0+cpu`` wheel from a find-links folder, whose torchvision
operators then fail to load beside PyPI's torchvision 0.28.0, built for PyPI's torch), the
project is installed into ``--venv`` beside them, and the bundled class (``submitted/``) is
graded twice, on copies of the course: with the lower bounds and with the project's own
``.venv`` (requirements.lock). The grades must be the same. Writes bench/results/lower_bounds.md.
Usage: ``.venv/bin/python bench/lower_bounds.py [--venv /tmp/cnn-grader-lower] [--python PYTHON] [--results FILE]``
(tests/test_lower_bounds.py runs it in the slow tier).
"""

from __future__ import annotations

import argparse
import csv
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "lower_bounds.md"
COURSE_FILES = ("source", "release", "submitted", "nbgrader_config.py")
SHOWN = ("torch", "torchvision", "numpy", "nbgrader", "notebook", "jupyterlab", "opencv-python-headless")


def lower_bounds(pyproject: Path = ROOT / "pyproject.toml") -> dict[str, str]:
    """Each dependency's lower bound (its ``>=`` version), by name; a dependency without one is an error."""
    bounds = {}
    for requirement in tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["dependencies"]:
        match = re.fullmatch(r"([A-Za-z0-9_.-]+)\s*>=\s*([^,;\s]+).*", requirement)
        if match is None:
            raise ValueError(f"no lower bound in {requirement!r}")
        bounds[match[1]] = match[2]
    return bounds


def install_lower_bounds(venv: Path, python: str) -> float:
    """Create ``venv`` (if needed) and install the project at its lower bounds; the seconds it took."""
    started = time.monotonic()
    if not (venv / "bin" / "python").exists():
        subprocess.run([python, "-m", "venv", str(venv)], check=True)
    constraints = venv / "lower-bounds.txt"
    constraints.write_text("".join(f"{name}==={version}\n" for name, version in lower_bounds().items()))
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "-c", str(constraints),
                    "-e", str(ROOT)], check=True)
    return time.monotonic() - started


def installed_versions(venv: Path) -> dict[str, str]:
    """What ``pip list`` says ``venv`` holds, by lower-case name."""
    listing = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "list", "--format=freeze"],
                             capture_output=True, text=True, check=True).stdout
    return {name.lower(): version for name, _, version in (line.partition("==") for line in listing.split())}


def grade_class(venv: Path, scratch: Path) -> tuple[list[dict[str, str]], float]:
    """Grade a copy of the bundled class with ``venv``'s grader: grades.csv's rows and the seconds taken."""
    course = scratch / "course"
    for name in COURSE_FILES:
        (shutil.copytree if (ROOT / name).is_dir() else shutil.copy)(ROOT / name, course / name)
    started = time.monotonic()
    subprocess.run([str(venv / "bin" / "grader"), "autograde", "--course", str(course)], check=True,
                   stdout=subprocess.DEVNULL)
    elapsed = time.monotonic() - started
    with (course / "grades.csv").open(encoding="utf-8", newline="") as table:
        rows = sorted(csv.DictReader(table), key=lambda row: (row["student_id"], row["assignment"]))
    return rows, elapsed


def report(versions: dict[str, str], seconds: dict[str, float], same: bool, rows: int) -> str:
    """The Markdown written to bench/results/lower_bounds.md."""
    shown = ", ".join(f"{name} {versions.get(name, '?')}" for name in SHOWN)
    return (f"# Lower bounds of pyproject.toml, graded\n\nMeasured by `bench/lower_bounds.py` on "
            f"{time.strftime('%Y-%m-%d')}, Python {versions.get('python', '?')}, 2 shared cores.\n\n"
            f"- Installed at the lower bounds: {shown}.\n"
            f"- Install (venv and pip, warm pip cache): {seconds['install']:.0f} s.\n"
            f"- Bundled class ({rows} notebooks) graded with the lower bounds in {seconds['lower']:.0f} s, "
            f"with requirements.lock's .venv in {seconds['locked']:.0f} s.\n"
            f"- grades.csv identical (every grade id, total, status): {'yes' if same else 'NO'}.\n")


def main() -> int:
    """Install, grade twice, compare, write the results; exit 1 when the grades differ."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--venv", type=Path, default=Path(tempfile.gettempdir()) / "cnn-grader-lower")
    parser.add_argument("--python", default=sys.executable, help="the venv's Python (default: this one)")
    parser.add_argument("--results", type=Path, default=RESULTS, help=f"where to write (default: {RESULTS})")
    arguments = parser.parse_args()
    seconds = {"install": install_lower_bounds(arguments.venv, arguments.python)}
    versions = installed_versions(arguments.venv)
    versions["python"] = subprocess.run([str(arguments.venv / "bin" / "python"), "-c",
                                         "import platform; print(platform.python_version())"],
                                        capture_output=True, text=True, check=True).stdout.strip()
    with tempfile.TemporaryDirectory() as lower, tempfile.TemporaryDirectory() as locked:
        lower_rows, seconds["lower"] = grade_class(arguments.venv, Path(lower))
        locked_rows, seconds["locked"] = grade_class(ROOT / ".venv", Path(locked))
    same = lower_rows == locked_rows
    for ours, theirs in zip(lower_rows, locked_rows, strict=False):
        if ours != theirs:
            print(f"differs:\n  lower:  {ours}\n  locked: {theirs}", file=sys.stderr)
    arguments.results.write_text(report(versions, seconds, same, len(lower_rows)), encoding="utf-8")
    print(arguments.results.read_text(encoding="utf-8"))
    return 0 if same and len(lower_rows) == len(locked_rows) > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
