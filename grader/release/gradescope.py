"""``grader gradescope``: one assignment's autograder for Gradescope, as the zip Gradescope's docs describe.

Gradescope unpacks the zip into ``/autograder/source``, runs ``setup.sh`` once to build its image
(here: a virtual environment in ``source/.venv`` on Python 3.11-3.13), copies ``run_autograder`` to
``/autograder/run_autograder`` and runs it for each submission, which must write
``/autograder/results/results.json``. ``run_autograder`` therefore finds the grader's files from
``$GRADESCOPE_ROOT`` (default ``/autograder``), never from where it lies.
The zip holds ``setup.sh`` and ``run_autograder`` at its root, the grader package with no
assignment folder, and a one-assignment course (``course/``): the course's ``nbgrader_config.py``
pointed at its own ``assignments/`` folder, the source and release notebooks, and the assignment's
folder. No other assignment's checks travel with it.
"""

from __future__ import annotations

import re
import shutil
import stat
import tempfile
import tomllib
import zipfile
from pathlib import Path

from grader.course.catalog import course_catalog
from grader.course.layout import CourseError, release_notebook, source_notebook

PACKAGE = Path(__file__).resolve().parent.parent
PROJECT = PACKAGE.parent
CPU_WHEELS = "https://download.pytorch.org/whl/cpu"
SKIPPED = shutil.ignore_patterns("__py*__", "*.pyc")  # bytecode caches
SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once, as root, to build the autograder's image. It leaves Gradescope's own python3
# alone: the grader gets a virtual environment (.venv beside this file) on a Python from 3.11 to 3.13 (the
# default Ubuntu 22.04 image has 3.10: then python3.11 comes from apt), then a CPU build of torch, the
# grader's dependencies at the lock's versions, and the grader itself (from this folder).
set -euo pipefail
cd "$(dirname "$0")"
supported() {{ "$1" -c 'import sys; sys.exit(not (3, 11) <= sys.version_info[:2] < (3, 14))' 2>/dev/null; }}
python=""
for candidate in python3.13 python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null && supported "$candidate"; then python="$candidate"; break; fi
done
if [ -z "$python" ]; then
    apt-get update && apt-get install -y python3.11 python3.11-venv
    python=python3.11
fi
if ! "$python" -m venv .venv; then  # Debian and Ubuntu keep venv's pip in a package of its own
    rm -rf .venv
    apt-get update && apt-get install -y "$python-venv"
    "$python" -m venv .venv
fi
# TORCH_INDEX_URL: where the CPU wheels come from (PyTorch's own index unless set, e.g. to a mirror)
.venv/bin/python -m pip install --index-url "${{TORCH_INDEX_URL:-{cpu_wheels}}}" {torch_pins}
.venv/bin/python -m pip install -r requirements.txt
.venv/bin/python -m pip install --no-deps .
"""
RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope copies this to /autograder/run_autograder and runs it for each submission: grade the notebook in
# $GRADESCOPE_ROOT/submission (default /autograder) with the grader's sandbox and hidden checks, and write
# $GRADESCOPE_ROOT/results/results.json. The grader and its course are in $GRADESCOPE_ROOT/source.
set -uo pipefail
here="${{GRADESCOPE_ROOT:-/autograder}}/source"
exec "${{GRADER_PYTHON:-$here/.venv/bin/python}}" -m grader.release.gradescope_run --assignment {assignment} \\
    --course "$here/course"
"""


def build_autograder(course: Path, assignment: str, out: Path) -> Path:
    """Write the Gradescope autograder zip of ``assignment`` of ``course`` to ``out``; returns ``out``."""
    course = Path(course).resolve()
    declaration = course_catalog(course).declarations[course_catalog(course).check(assignment)]
    released = release_notebook(course, assignment)
    if not released.is_file():
        raise CourseError(f"{released}: missing; run `grader release --assignment {assignment}` first",
                          path=str(released), assignment=assignment)
    with tempfile.TemporaryDirectory(prefix="grader-gradescope-") as staging:
        root = Path(staging)
        _stage_package(root)
        _stage_course(course, assignment, declaration.folder, root / "course")
        torch_pins, requirements = runtime_requirements()
        _write(root / "setup.sh", SETUP_SH.format(cpu_wheels=CPU_WHEELS, torch_pins=" ".join(torch_pins)), True)
        _write(root / "run_autograder", RUN_AUTOGRADER.format(assignment=assignment), True)
        _write(root / "requirements.txt", "\n".join(requirements) + "\n")
        out.parent.mkdir(parents=True, exist_ok=True)
        _zip_folder(root, out)
    return out


def _stage_package(root: Path) -> None:
    """The grader package without any assignment folder, and what pip needs to install it."""
    shutil.copytree(PACKAGE, root / "grader", ignore=SKIPPED)
    for folder in (root / "grader" / "assignments").iterdir():
        if folder.is_dir():
            shutil.rmtree(folder)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(PROJECT / name, root / name)


def _stage_course(course: Path, assignment: str, folder: Path, staged: Path) -> None:
    """A course of one assignment whose folder is the course's own ``assignments/<id>/``."""
    for notebook in (source_notebook(course, assignment), release_notebook(course, assignment)):
        target = staged / notebook.relative_to(course)
        target.parent.mkdir(parents=True)
        shutil.copy(notebook, target)
    shutil.copytree(folder, staged / "assignments" / assignment, ignore=SKIPPED)
    config = (course / "nbgrader_config.py").read_text(encoding="utf-8") if (course / "nbgrader_config.py").is_file() \
        else "c = get_config()  # noqa: F821\n"
    config += "\n# grader gradescope: this course's only assignment folder travels with it\n" \
              'c.GraderSettings.assignment_folders = ["assignments"]\n'
    _write(staged / "nbgrader_config.py", config)


def runtime_requirements() -> tuple[list[str], list[str]]:
    """(torch pins, every other dependency pinned): the project's dependencies at the lock's versions."""
    project = tomllib.loads((PROJECT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    lock = {}
    if (PROJECT / "requirements.lock").is_file():
        for line in (PROJECT / "requirements.lock").read_text(encoding="utf-8").splitlines():
            name, _, version = line.strip().partition("==")
            if version:
                lock[_normalized(name)] = f"{name.strip()}=={version.strip()}"
    pins = [lock.get(_normalized(_project_name(spec)), spec) for spec in project["dependencies"]]
    torch = [pin for pin in pins if _normalized(_project_name(pin)) in ("torch", "torchvision")]
    return torch, [pin for pin in pins if pin not in torch]


def _project_name(spec: str) -> str:
    return re.match(r"[A-Za-z0-9._-]+", spec.strip()).group(0)


def _normalized(name: str) -> str:
    return name.strip().lower().replace("_", "-")


def _write(path: Path, text: str, executable: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    if executable:
        path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


def _zip_folder(root: Path, out: Path) -> None:
    """Zip ``root``'s contents (not ``root`` itself), keeping the executable bits Gradescope needs."""
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(root.rglob("*")):
            if path.is_file():
                info = zipfile.ZipInfo.from_file(path, path.relative_to(root).as_posix())
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, path.read_bytes())


def unpack_autograder(archive_path: Path, root: Path) -> Path:
    """Unpack the zip as Gradescope does, into ``root/source`` with its executable bits; returns that folder.

    With ``GRADESCOPE_ROOT=root``, ``root/source/run_autograder`` then grades ``root/submission`` locally.
    """
    source = Path(root) / "source"
    with zipfile.ZipFile(archive_path) as archive:
        for info in archive.infolist():
            archive.extract(info, source)
            if mode := (info.external_attr >> 16) & 0o777:
                (source / info.filename).chmod(mode)
    return source
