"""Grids of pictures with their titles, drawn straight into one PNG with OpenCV.

The feedback page's image grids (filter outputs, kernels, feature maps) need no axes: a
matplotlib figure with titles and colour bars costs a hundred times more (bench/results/fixed_costs.md),
and the grader draws them for every submission.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

SCALES = ("gray", "auto", "signed", "magnitude")  # 0..255 as is; own range; blue-white-red around 0; dark to bright
CELL = 140  # height of a picture in the grid, pixels
MAX_PANEL_WIDTH = 4 * CELL  # pixels: a student's 1 x 100,000 array is squeezed, never drawn 16 million wide
MAX_WEIGHTS_WRITTEN = 7  # a kernel up to this many weights a side has each weight written on it
FONT_SCALE, TITLE_HEIGHT, LABEL_WIDTH, GAP = 0.42, 22, 78, 10


@dataclass(frozen=True)
class Panel:
    """One picture of a grid: a title, a 2-D array and how its values become colours (one of SCALES)."""

    title: str
    picture: np.ndarray
    scale: str = "auto"
    kernel: bool = False  # drawn as big square pixels, its weights written on it when small enough


@functools.lru_cache(maxsize=4)
def _lut(name: str) -> np.ndarray:
    import matplotlib

    return (matplotlib.colormaps[name](np.linspace(0, 1, 256))[:, :3] * 255).astype(np.uint8)


def coloured(picture: np.ndarray, scale: str) -> np.ndarray:
    """``picture`` as RGB ``uint8``, its values mapped to colours by ``scale``."""
    values = np.nan_to_num(np.asarray(picture, dtype=np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    if scale == "gray":
        grey = np.clip(values, 0, 255).astype(np.uint8)
        return np.repeat(grey[..., None], 3, axis=2)
    if scale == "signed":
        limit = max(float(np.abs(values).max()), 1e-12)
        return _lut("coolwarm")[np.round((values / limit + 1) * 127.5).astype(int).clip(0, 255)]
    low, span = float(values.min()), float(np.ptp(values))
    levels = np.round((values - low) / span * 255).astype(int) if span > 0 else np.full(values.shape, 128)
    return _lut("magma")[levels] if scale == "magnitude" else np.repeat(levels.astype(np.uint8)[..., None], 3, axis=2)


def text(canvas: np.ndarray, words: str, left: int, baseline: int, colour: tuple[int, int, int] = (0, 0, 0),
         scale: float = FONT_SCALE) -> None:
    """Write ``words`` on ``canvas`` (RGB) in OpenCV's plain font, anti-aliased."""
    import cv2

    cv2.putText(canvas, words, (left, baseline), cv2.FONT_HERSHEY_SIMPLEX, scale, colour, 1, cv2.LINE_AA)


def text_width(words: str, scale: float = FONT_SCALE) -> int:
    """The width in pixels of ``words`` written by :func:`text` at ``scale``."""
    import cv2

    return cv2.getTextSize(words, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)[0][0]


def _weights_written(image: np.ndarray, weights: np.ndarray, block: int) -> None:
    texts = [f"{value + 0.0:.2g}" for value in weights.ravel()]
    scale = min(0.5, 0.85 * block / max(text_width(written, 1.0) for written in texts))
    for (row, column), written in zip(np.ndindex(weights.shape), texts, strict=True):
        left = int((column + 0.5) * block - text_width(written, scale) / 2)
        text(image, written, left, int((row + 0.5) * block + 4), scale=scale)


def rendered(panel: Panel) -> np.ndarray:
    """The panel's picture as RGB, :data:`CELL` pixels high; a kernel as square blocks big enough for its weights."""
    import cv2

    rgb = coloured(panel.picture, panel.scale)
    rows, columns = rgb.shape[:2]
    if panel.kernel and max(rows, columns) * max(CELL // rows, 1) <= MAX_PANEL_WIDTH:
        written = max(rows, columns) <= MAX_WEIGHTS_WRITTEN
        block = max(CELL // rows, 46 if written else 1)
        image = cv2.resize(rgb, (block * columns, block * rows), interpolation=cv2.INTER_NEAREST)
        if written:
            _weights_written(image, np.asarray(panel.picture, dtype=np.float64), block)
        return image
    how = cv2.INTER_NEAREST if rows < 32 else cv2.INTER_AREA
    return cv2.resize(rgb, (min(max(1, round(columns * CELL / rows)), MAX_PANEL_WIDTH), CELL), interpolation=how)


def grid_png(rows: list[tuple[str, list[Panel]]]) -> bytes:
    """Rows of panels, each row labelled on its left (label may be empty) and each panel titled, as PNG."""

    images = [[rendered(panel) for panel in panels] for _, panels in rows]
    n_columns = max(len(line) for line in images)
    widths = [max((line[c].shape[1] for line in images if c < len(line)), default=0) for c in range(n_columns)]
    widths = [max(width, *(text_width(p.title) + 4 for _, ps in rows for i, p in enumerate(ps) if i == c))
              for c, width in enumerate(widths)]
    label_width = LABEL_WIDTH if any(label for label, _ in rows) else 0
    heights = [max(image.shape[0] for image in line) for line in images]
    canvas = np.full((sum(heights) + len(rows) * (TITLE_HEIGHT + GAP) + GAP,
                      label_width + sum(widths) + GAP * (n_columns + 1), 3), 255, dtype=np.uint8)
    top = GAP
    for (label, panels), line, height in zip(rows, images, heights, strict=True):
        text(canvas, label, 6, top + TITLE_HEIGHT + height // 2, scale=0.55)
        left = label_width + GAP
        for c, (panel, image) in enumerate(zip(panels, line, strict=True)):
            text(canvas, panel.title, left, top + TITLE_HEIGHT - 7)
            canvas[top + TITLE_HEIGHT:top + TITLE_HEIGHT + image.shape[0], left:left + image.shape[1]] = image
            left += widths[c] + GAP
        top += TITLE_HEIGHT + height + GAP
    return encoded_png(canvas)


def encoded_png(canvas: np.ndarray) -> bytes:
    """``canvas`` (RGB ``uint8``) as PNG bytes."""
    import cv2

    ok, png = cv2.imencode(".png", cv2.cvtColor(canvas, cv2.COLOR_RGB2BGR))
    if not ok:
        raise ValueError("OpenCV could not encode the picture")
    return png.tobytes()


def matrix_png(matrix: np.ndarray, title: str, row_name: str, column_name: str, block: int = 34) -> bytes:
    """A count matrix as a heat map with every count written on it, its rows and columns numbered, as PNG."""
    import cv2

    counts = np.asarray(matrix, dtype=np.int64)
    rows, columns = counts.shape
    levels = np.round(counts / max(int(counts.max()), 1) * 255).astype(int)
    picture = cv2.resize(_lut("Blues")[levels], (block * columns, block * rows), interpolation=cv2.INTER_NEAREST)
    left, top = 64, 54
    canvas = np.full((top + rows * block + 40, left + columns * block + GAP, 3), 255, dtype=np.uint8)
    canvas[top:top + rows * block, left:left + columns * block] = picture
    text(canvas, title, left, 18, scale=0.5)
    text(canvas, column_name, left, 38)
    for index in range(columns):
        text(canvas, str(index), left + index * block + block // 2 - 4, top - 4)
    for index in range(rows):
        text(canvas, str(index), left - 16, top + index * block + block // 2 + 5)
    dark = counts > counts.max() / 2
    for (row, column), count in np.ndenumerate(counts):
        if count:
            written = str(count)
            text(canvas, written, left + column * block + (block - text_width(written, 0.38)) // 2,
                 top + row * block + block // 2 + 5, (255, 255, 255) if dark[row, column] else (0, 0, 0), scale=0.38)
    text(canvas, row_name, 6, top + rows * block + 28)
    return encoded_png(canvas)

