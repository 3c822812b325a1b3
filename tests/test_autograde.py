"""`grader autograde` on a class of example submissions: every mistake loses exactly its points."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import nbformat
import pytest

from grader.batch.run import autograde_course
from tests.graded_class import FIGURES, QUICK_VARIANTS, SLOW_VARIANTS, UNTOUCHED, make_course
from tests.submissions import ASSIGNMENTS, GRADE_IDS, Variant


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
