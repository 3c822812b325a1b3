"""`grader autograde` on a class of example submissions: every mistake loses exactly its points."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import nbformat
import pytest

from grader.batch import autograde_course
from grader.course import ASSIGNMENTS, GRADE_IDS
from tests.submissions import QUICK, VARIANTS, Variant, build

# Fewer epochs than the course's own grading settings keep this suite fast; the threshold
# follows (the reference reaches about 0.88 after 12 epochs).
TEST_SETTINGS = '''
c.GraderSettings.parameters = {"mnist_mlp": {"n_epochs": 12, "seed": 0, "dataset": "mnist5k"}}
c.GraderSettings.accuracy_thresholds = {"mnist5k": 0.85, "mnist": 0.97}
'''
UNTOUCHED = "untouched-release"


def make_course(repo: Path, root: Path, variants: list[Variant], untouched: bool) -> Path:
    """A course folder with the repo's notebooks and one submitted/ folder per example."""
    course = root / "course"
    for folder in ("source", "release"):
        shutil.copytree(repo / folder, course / folder)
    config = (repo / "nbgrader_config.py").read_text() + TEST_SETTINGS
    (course / "nbgrader_config.py").write_text(config)
    for variant in variants:
        target = course / "submitted" / variant.name / variant.assignment / f"{variant.assignment}.ipynb"
        target.parent.mkdir(parents=True)
        nbformat.write(build(course, variant), target)
    for assignment in ASSIGNMENTS if untouched else ():
        target = course / "submitted" / UNTOUCHED / assignment / f"{assignment}.ipynb"
        target.parent.mkdir(parents=True)
        shutil.copy(repo / "release" / assignment / f"{assignment}.ipynb", target)
    return course


QUICK_VARIANTS = [variant for variant in VARIANTS if variant.name in QUICK]
SLOW_VARIANTS = [variant for variant in VARIANTS if variant.name not in QUICK]


@pytest.fixture(scope="session")
def graded_course(repo: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default tier's class: references, a few mistakes, the untouched release."""
    course = make_course(repo, tmp_path_factory.mktemp("class"), QUICK_VARIANTS, untouched=True)
    autograde_course(course, workers=2)
    return course


@pytest.fixture(scope="session")
def graded_slow_course(repo: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every other example submission, graded as one batch."""
    course = make_course(repo, tmp_path_factory.mktemp("slow-class"), SLOW_VARIANTS, untouched=False)
    autograde_course(course, workers=2)
    return course


def results(course: Path, student: str, assignment: str) -> dict:
    return json.loads((course / "autograded" / student / assignment / "results.json").read_text())


def assert_scores(course: Path, variant: Variant) -> None:
    graded = results(course, variant.name, variant.assignment)
    assert graded["status"] == "OK"
    scores = {test["name"]: test for test in graded["tests"]}
    assert list(scores) == list(GRADE_IDS[variant.assignment])
    for grade_id, test in scores.items():
        expected = round(test["max_score"] * variant.expected.get(grade_id, 1.0), 4)
        assert test["score"] == pytest.approx(expected, abs=1e-3), f"{grade_id}: {test['output']}"
        if test["score"] < test["max_score"]:
            failures = [line for line in test["output"].splitlines() if line.startswith("FAIL: ")]
            assert failures and all("expected" in line for line in failures), test["output"]


@pytest.mark.parametrize("variant", QUICK_VARIANTS, ids=lambda v: v.name)
def test_example_submission_scores_exactly_as_expected(graded_course: Path, variant: Variant) -> None:
    assert_scores(graded_course, variant)


@pytest.mark.slow
@pytest.mark.parametrize("variant", SLOW_VARIANTS, ids=lambda v: v.name)
def test_every_other_example_scores_exactly_as_expected(graded_slow_course: Path, variant: Variant) -> None:
    assert_scores(graded_slow_course, variant)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_untouched_release_scores_zero_with_a_reason(graded_course: Path, assignment: str) -> None:
    graded = results(graded_course, UNTOUCHED, assignment)
    assert graded["score"] == 0
    for test in graded["tests"]:
        assert test["score"] == 0 and test["max_score"] >= 1
        assert "FAIL: " in test["output"], test["output"]


def test_grades_csv_has_a_row_per_submission(graded_course: Path) -> None:
    with (graded_course / "grades.csv").open(newline="", encoding="utf-8") as stream:
        rows = list(csv.DictReader(stream))
    assert len(rows) == len(QUICK_VARIANTS) + len(ASSIGNMENTS)
    reference = next(row for row in rows if row["student_id"] == "correct-reference-cnn_quiz")
    assert reference["status"] == "OK" and float(reference["total"]) == 14.0
    assert reference["mlp_model"] == ""


def test_gradebook_holds_the_same_totals(graded_course: Path) -> None:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{graded_course / 'gradebook.db'}") as gradebook:
        for variant in QUICK_VARIANTS:
            submission = gradebook.find_submission(variant.assignment, variant.name)
            expected = results(graded_course, variant.name, variant.assignment)["score"]
            assert submission.score == pytest.approx(expected, abs=1e-3)


def test_executed_notebook_and_checkpoint_are_kept(graded_course: Path) -> None:
    folder = graded_course / "autograded" / "correct-reference-mnist_mlp" / "mnist_mlp"
    executed = nbformat.read(folder / "mnist_mlp.ipynb", as_version=4)
    injected = [c for c in executed.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert injected and "n_epochs = 12" in injected[0].source
    assert (folder / "model.pt").stat().st_size > 1000


FIGURES = {"mnist_mlp": 2, "custom_filters": 4, "conv_layers": 1, "cnn_quiz": 0}


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_feedback_pages_show_the_pictures_the_grader_drew(graded_course: Path, assignment: str) -> None:
    import base64
    import re

    def images(student: str) -> list[bytes]:
        page = (graded_course / "feedback" / student / assignment / f"{assignment}.html").read_text()
        return [base64.b64decode(data) for data in re.findall(r'src="data:image/png;base64,([^"]+)"', page)]

    reference = images(f"correct-reference-{assignment}")
    assert len(reference) == FIGURES[assignment]
    assert all(png.startswith(b"\x89PNG") and len(png) > 5_000 for png in reference)
    assert images(UNTOUCHED) == []  # nothing to draw from a notebook that defines nothing
