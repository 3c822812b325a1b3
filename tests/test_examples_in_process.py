"""The example submissions of cnn_quiz, custom_filters and conv_layers in this process, and custom_filters' locked gray.

Each example keeps exactly the share of each grade id its ``expected`` declares, and every failing
check says what was expected (the feedback's rule), as the slow tier's end-to-end run checks;
here the probes and checks run in this process (tests.inprocess), in seconds. pooling_layers'
examples are in test_pooling_layers_content.py; mnist_mlp's train a network (slow tier only).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from grader.assignments import module
from grader.assignments.custom_filters.test_custom_filters import locked_gray
from grader.probing.probe import cell_sources, run_cells
from tests import inprocess

QUICK_ASSIGNMENTS = ("cnn_quiz", "custom_filters", "conv_layers")
EXAMPLES = [pytest.param(variant, id=variant.name) for assignment in QUICK_ASSIGNMENTS
            for variant in module(assignment, "examples").EXAMPLES]


@pytest.mark.parametrize("variant", EXAMPLES)
def test_an_example_keeps_what_it_declares(variant, tmp_path: Path) -> None:
    fractions, outcomes = inprocess.graded(variant.assignment, variant.cells, tmp_path)
    declared = {grade_id: variant.expected.get(grade_id, 1.0) for grade_id in fractions}
    assert fractions == pytest.approx(declared), [o.message for o in outcomes if not o.passed]
    failed = [o.message for o in outcomes if not o.passed and fractions[o.grade_id] < 1]
    assert all("expected" in message for message in failed), failed


def test_the_graders_gray_is_the_notebooks_locked_image() -> None:
    notebook = inprocess.submission("custom_filters", {})
    namespace: dict = {"__name__": "__main__"}
    assert not run_cells(cell_sources(notebook, ("imports", "load_image")), namespace)
    assert namespace["gray"].dtype == locked_gray().dtype and np.array_equal(namespace["gray"], locked_gray())
    assert not locked_gray().flags.writeable


REFERENCE = inprocess.reference_cells(inprocess.REPO, "custom_filters")
OVERWRITE = "gray = np.zeros_like(gray)  # overwrites the locked input\n"


def gray_outcomes(outcomes: list) -> list:
    return [o for o in outcomes if o.name == "test_gray_is_the_locked_image"]


def test_right_answers_keep_their_points_when_gray_is_overwritten_after_them(tmp_path: Path) -> None:
    """gray overwritten after every answer was computed from the locked one: full marks, and the student is told."""
    cells = {"high_pass_5x5": REFERENCE["high_pass_5x5"] + "\n" + OVERWRITE}
    fractions, outcomes = inprocess.graded("custom_filters", cells, tmp_path)
    assert fractions == dict.fromkeys(fractions, 1.0)
    (note,) = gray_outcomes(outcomes)
    assert not note.passed and "changed after the locked cell" in note.message and note.weight == 0


def test_answers_made_from_an_overwritten_gray_lose_only_their_own_points(tmp_path: Path) -> None:
    """gray zeroed before the answers: the kernels keep their points, the filtered images (all zero) lose theirs."""
    cells = {"sobel_x": OVERWRITE + REFERENCE["sobel_x"]}
    fractions, outcomes = inprocess.graded("custom_filters", cells, tmp_path)
    assert fractions == {"sobel_x": 3 / 4, "blur_then_edges": 2 / 3, "high_pass_5x5": 1.0, "convolve2d": 1.0}
    failed = {o.name: o.message for o in outcomes if not o.passed}
    assert set(failed) == {"test_filtered_x_is_gray_through_sobel_x", "test_blurred_edges_is_blur_then_sobel",
                           "test_gray_is_the_locked_image"}
    assert all("your `gray` is not the locked road image" in failed[name] for name in (
        "test_filtered_x_is_gray_through_sobel_x", "test_blurred_edges_is_blur_then_sobel"))


def test_a_moved_gray_cannot_move_the_target(tmp_path: Path) -> None:
    """A constant gray and filtered images made from it, consistent with each other, earn nothing for them."""
    cells = {"sobel_x": "gray = np.full_like(gray, 7)\n" + REFERENCE["sobel_x"],
             "blur_then_edges": REFERENCE["blur_then_edges"]}
    fractions, outcomes = inprocess.graded("custom_filters", cells, tmp_path)
    passed = {o.name for o in outcomes if o.passed}
    assert "test_filtered_x_is_gray_through_sobel_x" not in passed
    assert "test_blurred_edges_is_blur_then_sobel" not in passed
    assert fractions["sobel_x"] == 3 / 4 and fractions["blur_then_edges"] == 2 / 3
