"""``grader kit``: what a student receives: the release notebooks and what ``grader check`` needs.

The kit holds the student notebooks, the few ``grader`` modules the notebooks import and the
self-check runs on, and the data the assignments' ``prepare_scratch`` hooks write for their
notebooks (under ``data/``). It holds no assignment folder: no hidden check, no probe, no
solution and no held-out data; ``tests/test_student_kit.py`` proves it.
"""

from __future__ import annotations

import re
import shutil
import tomllib
from importlib import metadata
from pathlib import Path

from grader.course.catalog import course_catalog
from grader.course.layout import release_notebook
from grader.sandbox.module_closure import module_closure
from grader.sandbox.policy import SECRET_PACKAGES

PACKAGE = Path(__file__).resolve().parent.parent
KIT_ROOTS = ("grader.data", "grader.loaders", "grader.images", "grader.release.selfcheck")  # with their imports
# never in the kit: the secrets, and the warm server's forked kernels and probes (the self-check starts plain kernels)
KIT_EXCLUDED = (*SECRET_PACKAGES, "grader.probing", "grader.kernels.forked_kernel")
DATA = Path("data")
NAME = r"[A-Za-z0-9._-]+"
KIT_PACKAGES = ("torch", "torchvision", "opencv-python-headless", "numpy", "matplotlib", "tqdm", "papermill",
                "nbformat", "nbclient", "ipykernel", "jupyter_client", "traitlets")
KIT_MAIN = '''"""``python -m grader check NOTEBOOK``: the student kit's command."""

import os
import sys
from pathlib import Path

from grader.release.selfcheck import main

KIT = Path(__file__).resolve().parent.parent
for variable, name in {data!r}.items():  # the data the notebooks may load
    os.environ.setdefault(variable, str(KIT / "data" / name))
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(KIT), os.environ.get("PYTHONPATH")]))
arguments = sys.argv[1:]
if arguments[:1] != ["check"]:
    print("usage: python -m grader check NOTEBOOK [--timeout SECONDS]", file=sys.stderr)
    sys.exit(2)
sys.exit(main(arguments[1:]))
'''
KIT_README = """# Student kit: {course}

Open a notebook under `release/`, fill in every cell that says `YOUR CODE HERE`, then check it
from this folder:

    python -m grader check release/<assignment>/<assignment>.ipynb

Each visible test gets a line: `ok` or `FAIL`, its points and what happened. The command exits
0 when every visible test passes. The grader runs hidden tests too, on data you have not seen,
so passing here is necessary, not sufficient. The data the notebooks load is in `data/`. Add
`--results results.json` to keep the table as JSON.

You need Python 3.11, 3.12 or 3.13 and the course's packages, in a virtual environment:
`pip install -r requirements.txt` installs PyTorch, torchvision, OpenCV, NumPy, Matplotlib, tqdm
and what runs a notebook (papermill, nbclient, ipykernel), about 70 packages. On macOS (Apple
silicon) or Windows that is about 220 MiB to download. On Linux pip picks PyTorch's CUDA build,
which brings NVIDIA's libraries: about 2.9 GiB to download and 5.7 GiB installed (the course
needs no GPU).
"""


def build_kit(course: Path, out: Path) -> Path:
    """Write the student kit of ``course`` into ``out`` (replaced if it exists)."""
    if out.exists():
        shutil.rmtree(out)
    (out / "grader").mkdir(parents=True)
    catalog = course_catalog(course)
    for assignment in catalog.assignments:
        notebook = release_notebook(course, assignment)
        if notebook.exists():
            (out / "release" / assignment).mkdir(parents=True)
            shutil.copy(notebook, out / "release" / assignment / notebook.name)
    for module in module_closure(PACKAGE, KIT_ROOTS, KIT_EXCLUDED):
        (out / "grader" / module.relative_to(PACKAGE)).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(module, out / "grader" / module.relative_to(PACKAGE))
    (out / DATA).mkdir()
    data = {}
    for declaration in catalog.declarations.values():
        if declaration.prepare_scratch is not None:
            written = declaration.prepare_scratch(out / DATA)
            data.update({variable: Path(path).name for variable, path in written.items()})
    (out / "grader" / "__main__.py").write_text(KIT_MAIN.format(data=data), encoding="utf-8")
    (out / "README.md").write_text(KIT_README.format(course=course.name), encoding="utf-8")
    (out / "requirements.txt").write_text("\n".join(kit_requirements()) + "\n", encoding="utf-8")
    return out


def kit_requirements() -> list[str]:
    """What a student installs: the kit's packages, with the ranges this project declares and tests.

    A package the project does not declare (one the notebooks' kernel needs through another) gets
    the lock's version as its lower bound, below its next major version.
    """
    declared = {_normalized(re.match(NAME, spec)[0]): spec.replace(" ", "") for spec in declared_dependencies()}
    locked = {}
    lock = PACKAGE.parent / "requirements.lock"
    for line in lock.read_text(encoding="utf-8").splitlines() if lock.is_file() else ():
        name, _, version = line.strip().partition("==")
        locked[_normalized(name)] = f"{name}>={version},<{int(version.split('.')[0]) + 1}" if version else name
    return [declared.get(_normalized(name)) or locked.get(_normalized(name)) or name for name in KIT_PACKAGES]


def declared_dependencies() -> list[str]:
    """The project's dependencies as pyproject.toml declares them (the installed metadata's outside a checkout)."""
    pyproject = PACKAGE.parent / "pyproject.toml"
    if pyproject.is_file():
        return tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["dependencies"]
    try:
        return [spec for spec in metadata.requires("cnn-grader") or [] if "extra ==" not in spec]
    except metadata.PackageNotFoundError:
        return []


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()
