"""Hidden checks of custom_filters, on images the student never saw.

Expected values come from the grader's own inputs: ``filtered_x`` and ``blurred_edges`` are
checked on the grader's copy of the locked road ``gray`` (:func:`locked_gray`), never on the
``gray`` the notebook exported, which a student could overwrite. Checks marked with
``grade_property`` (a size, a sum, an answer consistent with the student's own kernel) count
only beside a passing value check of the same grade id (grader.checks.registry).
"""

from __future__ import annotations

import functools

import cv2
import numpy as np
import pytest

from grader.checks.registry import grade, grade_property
from grader.images import road_scene
from grader.pipeline.artifacts import Artifacts
from grader.pipeline.shown import MAX_VALUE_CHARS, capped, shown

SOBEL_X = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=np.float64)
LOCKED_GRAY_SEED = 0  # the notebook's locked cell: gray = road_scene(seed=0)


@functools.lru_cache(maxsize=1)
def locked_gray() -> np.ndarray:
    """The grader's own copy of the locked input ``gray`` (read-only)."""
    gray = road_scene(seed=LOCKED_GRAY_SEED)
    gray.setflags(write=False)
    return gray


def gray_note(artifacts: Artifacts) -> str:
    """A note for a student whose exported ``gray`` is not the locked road image, else ""."""
    try:
        theirs = artifacts.raw_array("gray")
    except Exception:  # noqa: BLE001 - a missing or unreadable gray is a differing gray
        theirs = None
    if theirs is not None and theirs.shape == locked_gray().shape and np.array_equal(theirs, locked_gray()):
        return ""
    return (" (your `gray` is not the locked road image: it was changed after the locked cell; "
            "expected values are computed from the locked image)")


def correlate(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """cv2.filter2D in float64 with a zero border: the contract's definition."""
    return cv2.filter2D(image.astype(np.float64), cv2.CV_64F, kernel.astype(np.float64),
                        borderType=cv2.BORDER_CONSTANT)


@pytest.fixture(scope="module")
def steps() -> tuple[np.ndarray, np.ndarray]:
    """A vertical edge (left dark, right bright) and a horizontal one, not seen by the student."""
    vertical = np.zeros((40, 40))
    vertical[:, 23:] = 200.0
    return vertical, vertical.T.copy()


def edge_strength(image: np.ndarray, kernel: np.ndarray) -> float:
    return float(np.abs(cv2.filter2D(image, cv2.CV_64F, kernel))[3:-3, 3:-3].max())


@grade("sobel_x", weight=1)
def test_sobel_x_is_a_3x3_sobel_operator(artifacts: Artifacts) -> None:
    """sobel_x is 3x3 with Sobel's weights (either sign)"""
    kernel = artifacts.array("sobel_x", ndim=2)
    assert kernel.shape == (3, 3), f"sobel_x: expected a 3x3 kernel, got shape {shown(kernel.shape)}"
    scale = kernel[1, 2] / 2 if kernel[1, 2] else 0.0
    assert scale and np.allclose(kernel, scale * SOBEL_X), (
        f"expected Sobel's x operator [[-1,0,1],[-2,0,2],[-1,0,1]] (or its negative), got {shown(kernel)}")


@grade("sobel_x", weight=2)
def test_sobel_x_finds_vertical_not_horizontal_edges(artifacts: Artifacts, steps) -> None:
    """sobel_x responds to vertical edges and not to horizontal ones"""
    kernel = artifacts.array("sobel_x", ndim=2)
    vertical, horizontal = steps
    on_vertical, on_horizontal = edge_strength(vertical, kernel), edge_strength(horizontal, kernel)
    assert on_vertical > 0 and on_horizontal <= 1e-6 * max(on_vertical, 1.0), (
        f"on a vertical edge the response is {on_vertical:g}, on a horizontal edge {on_horizontal:g}: "
        "expected a strong response to vertical edges only")


@grade_property("sobel_x", weight=1)
def test_filtered_x_is_gray_through_sobel_x(artifacts: Artifacts) -> None:
    """filtered_x equals cv2.filter2D(gray, -1, sobel_x) on the locked road image"""
    kernel, note = artifacts.array("sobel_x", ndim=2), gray_note(artifacts)
    got = artifacts.array("filtered_x", ndim=2)
    expected = cv2.filter2D(locked_gray(), -1, kernel).astype(np.float64)
    assert got.shape == expected.shape, f"filtered_x has shape {shown(got.shape)}, expected {expected.shape}{note}"
    assert np.abs(got - expected).max() <= 1, (
        f"expected filtered_x = cv2.filter2D(gray, -1, sobel_x), differs by up to {np.abs(got - expected).max():g}"
        f"{note}")


@grade_property("sobel_x", weight=0)
def test_gray_is_the_locked_image(artifacts: Artifacts) -> None:
    """gray is still the locked road image"""
    assert not gray_note(artifacts), (
        "expected `gray` to stay the locked road image, but it was changed after the locked cell: "
        "filtered_x and blurred_edges are checked on the locked image (this note costs no points)")


@grade_property("blur_then_edges", weight=1)
def test_blur_kernel_sums_to_one(artifacts: Artifacts) -> None:
    """blur_kernel's weights sum to 1"""
    kernel = artifacts.array("blur_kernel", ndim=2)
    assert abs(kernel.sum() - 1) < 1e-6, f"blur_kernel's weights sum to {kernel.sum():g}, expected 1"


@grade("blur_then_edges", weight=1)
def test_blur_kernel_smooths(artifacts: Artifacts) -> None:
    """blur_kernel averages: non-negative weights that keep a flat image and reduce noise on an unseen one"""
    kernel = artifacts.array("blur_kernel", ndim=2)
    assert kernel.shape[0] % 2 == 1 and kernel.shape[0] == kernel.shape[1] > 1, (
        f"expected an odd square kernel larger than 1x1, got shape {shown(kernel.shape)}")
    assert (kernel >= 0).all(), f"expected non-negative weights (an average), got {shown(kernel)}"
    flat = cv2.filter2D(np.full((30, 30), 77.0), cv2.CV_64F, kernel)[4:-4, 4:-4]
    assert np.allclose(flat, 77.0, atol=1e-3), (
        f"a flat image of 77 became {flat.min():.4g} to {flat.max():.4g}: expected an average to keep it at 77")
    noise = np.random.default_rng(5).normal(128, 40, size=(64, 64))
    smoothed = cv2.filter2D(noise, cv2.CV_64F, kernel)[4:-4, 4:-4]
    ratio = smoothed.std() / noise.std()
    assert ratio < 0.8, f"blurring noise kept {ratio:.0%} of its spread; expected it to smooth (< 80%)"


@grade_property("blur_then_edges", weight=1)
def test_blurred_edges_is_blur_then_sobel(artifacts: Artifacts) -> None:
    """blurred_edges equals sobel_x applied to the blurred gray image (the locked road image)"""
    blur, sobel = artifacts.array("blur_kernel", ndim=2), artifacts.array("sobel_x", ndim=2)
    expected = cv2.filter2D(cv2.filter2D(locked_gray(), -1, blur), -1, sobel).astype(np.float64)
    got, note = artifacts.array("blurred_edges", ndim=2), gray_note(artifacts)
    assert got.shape == expected.shape, (
        f"blurred_edges has shape {shown(got.shape)}, expected {expected.shape}{note}")
    assert np.abs(got - expected).max() <= 1, (
        f"expected sobel_x applied to the blurred gray, differs by up to {np.abs(got - expected).max():g}{note}")


@grade_property("high_pass_5x5", weight=1)
def test_high_pass_is_5x5_and_sums_to_zero(artifacts: Artifacts) -> None:
    """high_pass_5x5 is 5x5 and its weights sum to 0"""
    kernel = artifacts.array("high_pass_5x5", ndim=2)
    assert kernel.shape == (5, 5), f"high_pass_5x5: expected a 5x5 kernel, got shape {shown(kernel.shape)}"
    assert abs(kernel.sum()) < 1e-6, f"expected weights that sum to 0, these sum to {kernel.sum():g}"


@grade_property("high_pass_5x5", weight=1)
def test_high_pass_has_decimal_weights(artifacts: Artifacts) -> None:
    """high_pass_5x5 has non-integer (decimal) weights"""
    kernel = artifacts.array("high_pass_5x5", ndim=2)
    assert not np.allclose(kernel, np.round(kernel)), (
        f"expected decimal weights (e.g. -0.04), got only whole numbers: {shown(kernel)}")


@grade("high_pass_5x5", weight=1)
def test_high_pass_removes_constant_keeps_detail(artifacts: Artifacts) -> None:
    """high_pass_5x5 removes a constant image and keeps edges of an unseen road"""
    kernel = artifacts.array("high_pass_5x5", ndim=2)
    flat = cv2.filter2D(np.full((30, 30), 137.0), cv2.CV_64F, kernel)
    assert np.abs(flat).max() < 1e-6, (
        f"on a constant image expected 0 everywhere, got values up to {np.abs(flat).max():g}")
    road = road_scene(seed=4242).astype(np.float64)
    assert np.abs(cv2.filter2D(road, cv2.CV_64F, kernel)).max() > 1.0, (
        "expected the edges of an unseen road to pass through, got an all-zero output")


@pytest.fixture
def cases(artifacts: Artifacts) -> dict[str, np.ndarray]:
    """The random images and kernels the probe called convolve2d on."""
    return artifacts.inputs


@grade("convolve2d", weight=3)
def test_convolve2d_equals_filter2d(artifacts: Artifacts, cases) -> None:
    """convolve2d equals cv2.filter2D (float64, zero border) on random images and asymmetric kernels"""
    arrays = artifacts.probe("convolve2d").arrays
    for case in range(len([k for k in cases if k.startswith("image_")])):
        image, kernel = cases[f"image_{case}"], cases[f"kernel_{case}"]
        expected, got = correlate(image, kernel), arrays[f"out_{case}"]
        assert got.shape == expected.shape, (
            f"on a {image.shape} image with a {kernel.shape} kernel expected shape {expected.shape}, "
            f"got {shown(got.shape)}")
        if not np.allclose(got, expected, atol=1e-6):
            flipped = np.allclose(got, correlate(image, kernel[::-1, ::-1]), atol=1e-6)
            hint = " (you flipped the kernel: that is convolution, filter2D does cross-correlation)"
            raise AssertionError(
                f"expected cv2.filter2D's output on a {image.shape} image with a {kernel.shape} kernel; yours "
                f"differs by up to {np.abs(got - expected).max():.3g}{hint if flipped else ''}")


@grade_property("convolve2d", weight=1)
def test_convolve2d_returns_float64(artifacts: Artifacts) -> None:
    """convolve2d returns a float64 array"""
    dtypes = artifacts.probe("convolve2d").values["dtypes"]
    assert set(dtypes) == {"float64"}, (
        f"expected float64 arrays from convolve2d, got {shown(sorted(set(map(str, dtypes))))}")


@grade("convolve2d", weight=1)
def test_convolve2d_uses_numpy_alone(artifacts: Artifacts, cases) -> None:
    """convolve2d works with NumPy alone (no OpenCV, no SciPy)"""
    probe = artifacts.probe("convolve2d")
    error = probe.values["alone_error"]
    assert not error, (
        f"expected convolve2d to work with NumPy alone; without OpenCV and SciPy: {capped(error, MAX_VALUE_CHARS)}")
    for case in (0, 1):
        expected = correlate(cases[f"image_{case}"], cases[f"kernel_{case}"])
        assert np.allclose(probe.arrays[f"alone_{case}"], expected, atol=1e-6), (
            "expected the same results with NumPy alone; without OpenCV and SciPy convolve2d gives other values")
