"""The learning-curve chart drawn with OpenCV: round ticks, both lines, the lowest validation loss marked."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from grader.feedback.chart import BLACK, COLOURS, Series, _Frame, line_chart_png, nice_ticks

TRAIN = np.array([0.9, 0.5, 0.38, 0.31, 0.27, 0.24, 0.22, 0.2])
VALID = np.array([0.6, 0.45, 0.39, 0.36, 0.355, 0.36, 0.37, 0.38])


def decoded(png: bytes) -> np.ndarray:
    """The PNG as an RGB array."""
    assert png.startswith(b"\x89PNG")
    return cv2.cvtColor(cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


def count_of(image: np.ndarray, colour: tuple[int, int, int]) -> int:
    return int(np.all(image == colour, axis=2).sum())


@pytest.mark.parametrize(("low", "high", "whole"), [(0.2, 0.9, False), (1, 8, True), (1, 2, True), (5, 5, False),
                                                    (1, 1000, True), (-3e-4, 2e-4, False), (2.2, 2.3, False)])
def test_ticks_are_round_and_cover_the_values(low: float, high: float, whole: bool) -> None:
    ticks = nice_ticks(low, high, whole=whole)
    steps = np.diff(ticks)
    assert 2 <= len(ticks) <= 8 and ticks[0] <= low and ticks[-1] >= high
    assert np.allclose(steps, steps[0])
    mantissa = steps[0] / 10 ** np.floor(np.log10(steps[0]))
    assert min(abs(mantissa - m) for m in (1, 2, 5, 10)) < 1e-9
    if whole:
        assert np.allclose(ticks, np.round(ticks)) and steps[0] >= 1


def test_both_curves_are_drawn_and_the_lowest_validation_loss_is_marked() -> None:
    best = int(np.argmin(VALID)) + 1
    image = decoded(line_chart_png([Series("training", TRAIN), Series("validation", VALID)], "epoch", "loss",
                                   ("lowest validation", 1, best)))
    assert count_of(image, COLOURS[0]) > 100 and count_of(image, COLOURS[1]) > 100
    frame = _Frame(nice_ticks(1, len(TRAIN), whole=True), nice_ticks(TRAIN.min(), TRAIN.max()))
    column, row = frame.point(best, VALID[best - 1])
    assert tuple(image[row, column]) == BLACK, "the marked point should sit on the lowest validation loss"
    elsewhere = frame.point(1, VALID[0])
    assert tuple(image[elsewhere[1], elsewhere[0]]) != BLACK


def test_one_epoch_is_drawn_as_dots() -> None:
    image = decoded(line_chart_png([Series("training", np.array([2.3])), Series("validation", np.array([2.2]))],
                                   "epoch", "loss"))
    assert count_of(image, COLOURS[0]) > 5 and count_of(image, COLOURS[1]) > 5


def test_no_finite_value_is_refused() -> None:
    with pytest.raises(ValueError, match="no finite value"):
        line_chart_png([Series("training", np.array([np.nan, np.inf]))], "epoch", "loss")
