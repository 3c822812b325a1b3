"""The student kit holds no hidden check, no solution and no held-out digit, and `grader check` works from it."""

from __future__ import annotations

import ast
import hashlib
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest

import grader
from grader.data import heldout_digits, student_digits
from grader.release.kit import build_kit
from tests.submissions import ASSIGNMENTS, Variant, build

SECRETS = (b"BEGIN SOLUTION", b"END SOLUTION", b"BEGIN HIDDEN TESTS", b"heldout_labels", b"@grade(")


@pytest.fixture(scope="module")
def kit(repo: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_kit(repo, tmp_path_factory.mktemp("kit") / "student-kit")


def kit_python(kit: Path, *arguments: str) -> subprocess.CompletedProcess:
    """Python in the kit folder with only the kit's `grader` importable first."""
    env = {**os.environ, "PYTHONPATH": str(kit)}
    env.pop("CNN_LESSON_POOL", None)
    return subprocess.run([sys.executable, *arguments], cwd=kit, env=env, capture_output=True, text=True,
                          timeout=600)


def test_every_grader_module_the_kit_imports_is_in_the_kit(kit: Path) -> None:
    """A student has no grader installed: a module-level import the kit cannot satisfy fails on their machine (here
    the editable install would hide it)."""
    package = Path(grader.__file__).resolve().parent
    shipped = {path.relative_to(kit).as_posix() for path in (kit / "grader").rglob("*.py")}
    missing = {f"{path.relative_to(kit)} imports {name}" for path in (kit / "grader").rglob("*.py")
               for name in module_level_grader_imports(path)
               if any((package / candidate).is_file() and f"grader/{candidate.as_posix()}" not in shipped
                      for candidate in module_candidates(name))}
    assert not missing, sorted(missing)
    assert "grader/sandbox/environment.py" in shipped  # imported by the kernel launcher; once missing from the kit


def module_level_grader_imports(path: Path) -> set[str]:
    """The grader modules (and names imported from them) a file imports at its top level."""
    names = set()
    for node in ast.parse(path.read_bytes()).body:
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names |= {node.module, *(f"{node.module}.{alias.name}" for alias in node.names)}
    return {name for name in names if name.startswith("grader.")}


def module_candidates(name: str) -> tuple[Path, Path]:
    relative = Path(*name.split(".")[1:])
    return relative.with_suffix(".py"), relative / "__init__.py"


def test_the_kit_has_the_notebooks_and_nothing_of_the_grader_s_secrets(kit: Path) -> None:
    files = [path for path in kit.rglob("*") if path.is_file()]
    names = {path.relative_to(kit).as_posix() for path in files}
    assert {f"release/{a}/{a}.ipynb" for a in ASSIGNMENTS} <= names
    assert not any(part in ("checks", "probes", "assignments", "source", "submitted", "autograded") for name in names
                   for part in name.split("/"))
    assert not {"grader/pipeline/autograde.py", "grader/probing/probe.py", "grader/pipeline/artifacts.py",
                "grader/batch/run.py"} & names
    for path in files:
        content = path.read_bytes()
        assert not [secret for secret in SECRETS if secret in content], path


def image_digests(images: np.ndarray) -> set[str]:
    return {hashlib.sha256(np.ascontiguousarray(image).tobytes()).hexdigest() for image in images}


def test_the_kit_holds_the_student_digits_and_no_held_out_one(kit: Path) -> None:
    heldout = image_digests(heldout_digits().images)
    train, test = student_digits()
    kit_images = []
    for path in kit.rglob("*.npz"):
        with np.load(path, allow_pickle=False) as arrays:
            kit_images += [arrays[name] for name in arrays.files if arrays[name].ndim == 3]
    found = set().union(*(image_digests(images) for images in kit_images))
    assert found == image_digests(train.images) | image_digests(test.images)
    assert not found & heldout


def test_the_kit_requirements_install_every_package_the_notebooks_import(kit: Path) -> None:
    import importlib.metadata
    import re

    lines = (kit / "requirements.txt").read_text().split()
    required = {re.match(r"[A-Za-z0-9._-]+", line)[0].lower() for line in lines}
    distributions = importlib.metadata.packages_distributions()
    imported = set()
    for path in kit.glob("release/*/*.ipynb"):
        code = "\n".join(cell.source for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "code")
        imported |= set(re.findall(r"^\s*(?:from|import)\s+(\w+)", code, re.MULTILINE))
    third_party = imported - set(sys.stdlib_module_names) - {"grader"}
    assert {"tqdm", "cv2", "torch"} <= third_party
    missing = {name for name in third_party if not {d.lower() for d in distributions.get(name, [name])} & required}
    assert not missing, f"requirements.txt lacks what the notebooks import: {sorted(missing)}"


def test_the_kit_imports_its_own_grader(kit: Path) -> None:
    run = kit_python(kit, "-c", "import grader; print(grader.__file__)")
    assert run.stdout.strip() == str(kit / "grader" / "__init__.py")


def test_check_says_which_part_is_unfinished_and_fails(kit: Path) -> None:
    run = kit_python(kit, "-m", "grader", "check", "release/cnn_quiz/cnn_quiz.ipynb")
    assert run.returncode == 1, run.stderr
    lines = run.stdout.splitlines()
    assert any(line.startswith("FAIL") and "not written yet: your `conv_output_size` cell" in line for line in lines)
    assert "visible test(s) fail: 0 of" in run.stdout


def test_check_passes_a_finished_notebook(repo: Path, kit: Path) -> None:
    notebook = build(repo, Variant("reference", "cnn_quiz"))
    nbformat.write(notebook, kit / "release" / "cnn_quiz" / "mine.ipynb")
    run = kit_python(kit, "-m", "grader", "check", "release/cnn_quiz/mine.ipynb")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "all visible tests pass" in run.stdout and "FAIL" not in run.stdout


def test_check_refuses_what_is_not_a_notebook(kit: Path) -> None:
    (kit / "notes.ipynb").write_text("not json")
    run = kit_python(kit, "-m", "grader", "check", "notes.ipynb")
    assert run.returncode == 2 and "not a readable notebook" in run.stderr and "Traceback" not in run.stderr
