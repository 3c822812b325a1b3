"""A line chart drawn straight into a PNG with OpenCV: the learning curves of the feedback page.

matplotlib drew the same chart for every submission with learning curves, many times slower
(bench/results/fixed_costs.md). Axes, ticks at round numbers, one coloured line per series, a legend and an
optional marked point are all a learning curve needs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from grader.feedback.mosaic import encoded_png, text, text_width

WIDTH, HEIGHT = 480, 300
LEFT, RIGHT, TOP, BOTTOM = 62, 16, 14, 46  # margins around the plotting area, pixels
COLOURS = ((31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40))  # RGB, matplotlib's first four
GRID, AXIS, BLACK = (225, 225, 225), (90, 90, 90), (0, 0, 0)


@dataclass(frozen=True)
class Series:
    """One line of the chart: its name in the legend and its y value at x = 1, 2, ..."""

    name: str
    values: np.ndarray


def nice_ticks(low: float, high: float, count: int = 5, whole: bool = False) -> np.ndarray:
    """About ``count`` round ticks (1, 2 or 5 times a power of ten apart, whole numbers if ``whole``) over low..high."""
    span = high - low if high > low else max(abs(high), 1.0)
    raw = span / max(count - 1, 1)
    power = 10.0 ** np.floor(np.log10(raw))
    step = next(multiple * power for multiple in (1, 2, 5, 10) if multiple * power >= raw)
    step = max(step, 1.0) if whole else step
    first = np.floor(low / step) * step
    return first + step * np.arange(int(np.ceil((high - first) / step - 1e-9)) + 1)


def _label(value: float) -> str:
    return f"{value:.4g}"


class _Frame:
    """Maps data coordinates to pixels inside the plotting area."""

    def __init__(self, x_ticks: np.ndarray, y_ticks: np.ndarray) -> None:
        self.x0, self.x1 = float(x_ticks[0]), float(x_ticks[-1])
        self.y0, self.y1 = float(y_ticks[0]), float(y_ticks[-1])

    def point(self, x: float, y: float) -> tuple[int, int]:
        """The pixel of data point (x, y)."""
        across = (x - self.x0) / ((self.x1 - self.x0) or 1.0)
        up = (y - self.y0) / ((self.y1 - self.y0) or 1.0)
        return (round(LEFT + across * (WIDTH - LEFT - RIGHT)), round(HEIGHT - BOTTOM - up * (HEIGHT - TOP - BOTTOM)))


def _axes(canvas: np.ndarray, frame: _Frame, x_ticks: np.ndarray, y_ticks: np.ndarray) -> None:
    import cv2

    for y in y_ticks:
        left, row = frame.point(frame.x0, float(y))
        cv2.line(canvas, (LEFT, row), (WIDTH - RIGHT, row), GRID, 1)
        text(canvas, _label(float(y)), left - 8 - text_width(_label(float(y)), 0.38), row + 4, scale=0.38)
    for x in x_ticks:
        column, bottom = frame.point(float(x), frame.y0)
        cv2.line(canvas, (column, bottom), (column, bottom + 4), AXIS, 1)
        text(canvas, _label(float(x)), column - text_width(_label(float(x)), 0.38) // 2, bottom + 17, scale=0.38)
    cv2.rectangle(canvas, (LEFT, TOP), (WIDTH - RIGHT, HEIGHT - BOTTOM), AXIS, 1)


def _legend(canvas: np.ndarray, names: list[tuple[str, tuple[int, int, int], bool]]) -> None:
    import cv2

    width = max(text_width(name, 0.4) for name, _, _ in names) + 40
    left, top = WIDTH - RIGHT - width - 6, TOP + 6
    cv2.rectangle(canvas, (left, top), (left + width, top + 18 * len(names) + 6), (255, 255, 255), -1)
    cv2.rectangle(canvas, (left, top), (left + width, top + 18 * len(names) + 6), GRID, 1)
    for index, (name, colour, is_point) in enumerate(names):
        row = top + 15 + 18 * index
        if is_point:
            cv2.circle(canvas, (left + 17, row - 4), 5, colour, -1, cv2.LINE_AA)
        else:
            cv2.line(canvas, (left + 6, row - 4), (left + 28, row - 4), colour, 2, cv2.LINE_AA)
        text(canvas, name, left + 34, row, scale=0.4)


def line_chart_png(series: list[Series], x_label: str, y_label: str,
                   marked: tuple[str, int, int] | None = None) -> bytes:
    """``series`` against x = 1, 2, ... as PNG; ``marked`` = (legend name, series index, x) circles one point."""
    import cv2

    values = np.concatenate([np.asarray(s.values, dtype=np.float64) for s in series])
    values = values[np.isfinite(values)]
    if not len(values):
        raise ValueError("nothing to draw: no finite value")
    longest = max(len(s.values) for s in series)
    x_ticks, y_ticks = nice_ticks(1, max(longest, 2), whole=True), nice_ticks(values.min(), values.max())
    frame = _Frame(x_ticks, y_ticks)
    canvas = np.full((HEIGHT, WIDTH, 3), 255, dtype=np.uint8)
    _axes(canvas, frame, x_ticks, y_ticks)
    names = []
    for s, colour in zip(series, COLOURS, strict=False):
        points = [frame.point(x, float(y)) for x, y in enumerate(s.values, start=1) if np.isfinite(y)]
        if len(points) > 1:
            cv2.polylines(canvas, [np.array(points, dtype=np.int32)], False, colour, 2, cv2.LINE_AA)
        for point in points if len(points) < 2 else ():  # one epoch: a dot, as a line needs two
            cv2.circle(canvas, point, 3, colour, -1, cv2.LINE_AA)
        names.append((s.name, colour, False))
    if marked is not None and np.isfinite(series[marked[1]].values[marked[2] - 1]):
        name, index, x = marked
        centre = frame.point(x, float(series[index].values[x - 1]))
        cv2.circle(canvas, centre, 5, BLACK, -1, cv2.LINE_AA)
        names.append((name, BLACK, True))
    _legend(canvas, names)
    text(canvas, x_label, (LEFT + WIDTH - RIGHT - text_width(x_label)) // 2, HEIGHT - 8)
    text(canvas, y_label, 6, TOP + 12)
    return encoded_png(canvas)
