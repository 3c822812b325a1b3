"""The custom_filters pictures: the student's kernels on an unseen road, beside the expected ones."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from grader.assignments.custom_filters.figures import HIGH_PASS_5X5, SOBEL_X, blur_rows, high_pass_rows, sobel_rows
from grader.assignments.custom_filters.probe import make_inputs
from grader.feedback.figures import read_figures, write_figures
from grader.pipeline.artifacts import Artifacts

REFERENCE = {"sobel_x": SOBEL_X, "blur_kernel": np.full((3, 3), 1 / 9), "high_pass_5x5": HIGH_PASS_5X5}
KERNEL_PICTURES = ["figure-1-sobel_x.png", "figure-2-blur_then_edges.png", "figure-3-high_pass_5x5.png"]


def filter_artifacts(kernels: dict[str, object]) -> Artifacts:
    """custom_filters artifacts as the export cell would describe ``kernels`` (None: not defined); no probe ran."""
    values, arrays = {}, {}
    for name in REFERENCE:
        value = kernels.get(name)
        if value is None:
            values[name] = {"kind": "missing"}
        elif isinstance(value, np.ndarray):
            values[name] = {"kind": "array", "dtype": str(value.dtype), "shape": list(value.shape)}
            arrays[name] = value
        else:
            values[name] = {"kind": "object", "type": type(value).__name__}
    return Artifacts("custom_filters", Path("."), {}, values, arrays, {}, make_inputs({"seed": 0}))


def pictures(row: list) -> list[np.ndarray]:
    return [picture for _title, picture, _how in row[1]]


def test_the_reference_kernels_draw_a_picture_each(tmp_path: Path) -> None:
    written = write_figures(filter_artifacts(REFERENCE), tmp_path)
    assert [path.name for path in written] == KERNEL_PICTURES  # convolve2d's needs its probe
    figures = read_figures(tmp_path)
    assert [caption.split()[0] for caption, _ in figures] == ["sobel_x", "blur_then_edges", "high_pass_5x5"]
    assert all(png.startswith(b"\x89PNG") and len(png) > 5_000 for _, png in figures)


@pytest.mark.parametrize("rows_of", [sobel_rows, blur_rows, high_pass_rows])
def test_the_reference_row_equals_the_expected_row(rows_of) -> None:
    yours, expected = rows_of(filter_artifacts(REFERENCE))
    assert (yours[0], expected[0]) == ("yours", "expected")
    assert len(pictures(yours)) == len(pictures(expected)) >= 2
    for mine, wanted in zip(pictures(yours), pictures(expected), strict=True):
        np.testing.assert_allclose(mine, wanted, atol=1e-9)
    road = filter_artifacts(REFERENCE).inputs["road"]
    assert pictures(yours)[-1].shape == road.shape and np.abs(pictures(yours)[-1]).max() > 10


def test_a_negated_sobel_is_compared_with_a_negated_expected_one() -> None:
    yours, expected = sobel_rows(filter_artifacts({**REFERENCE, "sobel_x": -SOBEL_X}))
    np.testing.assert_array_equal(pictures(expected)[0], -SOBEL_X)
    np.testing.assert_allclose(pictures(yours)[1], pictures(expected)[1], atol=1e-9)


def test_a_wrong_kernel_shows_a_different_picture_from_the_expected_one() -> None:
    artifacts = filter_artifacts({**REFERENCE, "sobel_x": SOBEL_X.T, "blur_kernel": np.ones((3, 3))})
    (_, mine), (_, wanted) = sobel_rows(artifacts)
    assert np.abs(mine[1][1] - wanted[1][1]).max() > 100  # Sobel y lights up the horizontal edges
    (_, mine), (_, wanted) = blur_rows(artifacts)
    assert mine[1][1].mean() > 2 * wanted[1][1].mean()  # weights summing to 9 brighten the road


@pytest.mark.parametrize(("kernels", "left"), [
    ({"sobel_x": None}, ["figure-3-high_pass_5x5.png"]),  # blurred_edges needs sobel_x too
    ({"blur_kernel": "box"}, ["figure-1-sobel_x.png", "figure-3-high_pass_5x5.png"]),
    ({"high_pass_5x5": np.full((5, 5), np.nan)}, KERNEL_PICTURES[:2]),
    ({"high_pass_5x5": np.ones((5, 5, 2))}, KERNEL_PICTURES[:2]),
    ({"sobel_x": np.ones((40, 40))}, ["figure-3-high_pass_5x5.png"]),
    ({"sobel_x": np.full((3, 3), 1e306)}, ["figure-3-high_pass_5x5.png"]),  # the filtered road overflows
    ({"blur_kernel": np.ones((0, 3))}, ["figure-1-sobel_x.png", "figure-3-high_pass_5x5.png"]),
])
def test_a_missing_or_malformed_kernel_leaves_its_picture_out(tmp_path: Path, kernels: dict, left: list) -> None:
    written = write_figures(filter_artifacts({**REFERENCE, **kernels}), tmp_path)
    assert [path.name for path in written] == left
    assert sorted(path.name for path in tmp_path.glob("*.png")) == left


def test_an_untouched_notebook_gets_no_picture_and_stale_ones_go(tmp_path: Path) -> None:
    write_figures(filter_artifacts(REFERENCE), tmp_path)
    assert write_figures(filter_artifacts({name: None for name in REFERENCE}), tmp_path) == []
    assert read_figures(tmp_path) == []


def test_the_caption_names_the_worst_mix_ups_largest_first() -> None:
    from grader.assignments.mnist_mlp.figures import worst_confusions
    from grader.feedback.mosaic import matrix_png

    matrix = np.array([[5, 0, 3], [1, 4, 0], [0, 7, 2]])
    assert worst_confusions(matrix) == [(2, 1, 7), (0, 2, 3), (1, 0, 1)]
    assert worst_confusions(np.diag([3, 4, 5])) == []  # no mix-up, nothing named
    png = matrix_png(matrix, "title", "rows", "columns")
    assert png.startswith(b"\x89PNG") and len(png) > 1_000


def test_a_student_array_of_extreme_shape_is_squeezed_not_drawn_millions_wide() -> None:
    from grader.feedback.mosaic import CELL, MAX_PANEL_WIDTH, Panel, grid_png, rendered

    wide, tall = np.random.default_rng(0).random((1, 100_000)), np.random.default_rng(1).random((100_000, 1))
    assert rendered(Panel("wide", wide, "signed")).shape == (CELL, MAX_PANEL_WIDTH, 3)
    assert rendered(Panel("tall", tall, "signed")).shape[:2] == (CELL, 1)
    assert rendered(Panel("long kernel", wide[:, :5000], "signed", kernel=True)).shape[1] <= MAX_PANEL_WIDTH
    assert len(grid_png([("yours", [Panel("wide", wide, "signed")])])) < 2 * 1024 * 1024
