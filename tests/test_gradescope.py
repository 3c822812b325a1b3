"""`grader gradescope`: the autograder zip holds one assignment, and its run_autograder grades as `grader autograde`.

The zip's layout is checked in the default tier; the slow tier unpacks it into a temporary
Gradescope root (``GRADESCOPE_ROOT``) and runs ``run_autograder`` on a reference, an untouched
and a broken notebook, as Gradescope would after ``setup.sh`` (here the grader and its
dependencies are already installed: ``GRADER_PYTHON`` is this environment's Python).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import nbformat
import pytest

from grader.course.examples import Variant, build
from grader.release.gradescope import build_autograder, unpack_autograder
from tests.submissions import ASSIGNMENTS, GRADE_IDS

ID = "cnn_quiz"


@pytest.fixture(scope="module")
def autograder_zip(repo: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_autograder(repo, ID, tmp_path_factory.mktemp("gradescope") / "autograder.zip")


def test_the_zip_has_gradescope_s_layout_and_only_its_assignment(autograder_zip: Path) -> None:
    with zipfile.ZipFile(autograder_zip) as archive:
        infos = {info.filename: info for info in archive.infolist()}
        names = set(infos)
        setup = archive.read("setup.sh").decode()
    assert {"setup.sh", "run_autograder", "requirements.txt", "pyproject.toml"} <= names
    for script in ("setup.sh", "run_autograder"):
        assert (infos[script].external_attr >> 16) & 0o111, f"{script} must be executable"
    assert {f"course/source/{ID}/{ID}.ipynb", f"course/release/{ID}/{ID}.ipynb", "course/nbgrader_config.py",
            f"course/assignments/{ID}/test_{ID}.py", f"course/assignments/{ID}/probe.py"} <= names
    others = [a for a in ASSIGNMENTS if a != ID]
    assert not [name for name in names if any(other in name for other in others)], "another assignment travelled"
    assert not [name for name in names if name.startswith("grader/assignments/") and name.count("/") > 2]
    assert "grader/pipeline/autograde.py" in names and "grader/release/gradescope_run.py" in names
    assert "torch==" in setup and "download.pytorch.org/whl/cpu" in setup
    run = subprocess.run(["bash", "-n", "-c", setup], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr


def run_autograder(root: Path, source: Path, notebook: bytes | None) -> tuple[dict, float]:
    """Put ``notebook`` in the submission folder, run ``run_autograder``; (results.json, seconds)."""
    submission = root / "submission"
    for old in submission.glob("*"):
        old.unlink()
    submission.mkdir(parents=True, exist_ok=True)
    if notebook is not None:
        (submission / f"{ID}.ipynb").write_bytes(notebook)
    env = {**os.environ, "GRADESCOPE_ROOT": str(root), "GRADER_PYTHON": sys.executable}
    shutil.copy(source / "run_autograder", root / "run_autograder")  # where Gradescope runs it from
    started = time.perf_counter()
    run = subprocess.run([str(root / "run_autograder")], env=env, capture_output=True, text=True, timeout=900,
                         cwd=root)
    seconds = time.perf_counter() - started
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads((root / "results" / "results.json").read_text(encoding="utf-8")), seconds


@pytest.mark.slow
def test_run_autograder_grades_reference_untouched_and_broken(repo: Path, autograder_zip: Path,
                                                              tmp_path: Path) -> None:
    root = tmp_path / "autograder"
    source = unpack_autograder(autograder_zip, root)
    reference = nbformat.writes(build(repo, Variant("reference", ID, {}))).encode()
    untouched = (repo / "release" / ID / f"{ID}.ipynb").read_bytes()
    cases = {"reference": (reference, 14.0, "OK"), "untouched": (untouched, 0.0, "OK"),
             "broken": (b"{not a notebook", 0.0, "INVALID_NOTEBOOK"), "missing": (None, 0.0, "INVALID_NOTEBOOK")}
    for case, (notebook, score, status) in cases.items():
        results, seconds = run_autograder(root, source, notebook)
        print(f"run_autograder {ID} {case}: {seconds:.1f} s")
        assert results["status"] == status, (case, results["output"])
        assert results["score"] == pytest.approx(score), (case, results)
        assert [test["name"] for test in results["tests"]] == list(GRADE_IDS[ID]), case
        assert sum(test["max_score"] for test in results["tests"]) == pytest.approx(14.0)
    assert "expected one notebook named" in results["output"]
