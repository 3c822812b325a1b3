"""Generated grayscale scenes for the filter notebooks: a road with lane markings.

Nothing is downloaded: every picture is drawn from a seed, so the grader can make as many
unseen images as it likes while the notebook shows the student one of them.
"""

from __future__ import annotations

import numpy as np


def _road_mask(rows: np.ndarray, cols: np.ndarray, horizon: int, vanish_x: float,
               half_width: float, offset: float = 0.0) -> np.ndarray:
    """Pixels between two lines that meet at the vanishing point, ``offset`` shifting both."""
    depth = np.clip((rows - horizon) / max(1, rows.max() - horizon), 0, None)
    centre = vanish_x + offset * depth
    return (rows > horizon) & (np.abs(cols - centre) <= half_width * depth)


def road_scene(seed: int = 0, height: int = 240, width: int = 320) -> np.ndarray:
    """A ``uint8`` road picture: sky, horizon, a building, a road, lane lines and a stop line."""
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[0:height, 0:width].astype(np.float64)
    horizon = int(height * rng.uniform(0.35, 0.45))
    vanish_x = width * rng.uniform(0.4, 0.6)
    image = 200.0 - 60.0 * rows / height                        # sky, darker towards the horizon
    image[rows > horizon] = 95.0 + rng.normal(0, 6, size=(rows > horizon).sum())  # grass
    left = int(width * rng.uniform(0.05, 0.25))
    top = int(horizon * rng.uniform(0.3, 0.6))
    image[top:horizon, left:left + width // 6] = 60.0           # a building: sharp corners
    image[top + 8:top + 20, left + 6:left + 18] = 230.0          # its lit window
    road = _road_mask(rows, cols, horizon, vanish_x, width * 0.55)
    image[road] = 70.0 + rng.normal(0, 3, size=road.sum())
    for offset in (-0.45, 0.45):                                 # solid edge lines
        image[_road_mask(rows, cols, horizon, vanish_x, width * 0.02, width * offset)] = 235.0
    dashes = np.sin(np.clip(rows - horizon, 0, None) ** 0.7 * 1.3) > 0.2  # dashed centre line
    image[_road_mask(rows, cols, horizon, vanish_x, width * 0.015) & dashes] = 235.0
    stop = int(horizon + (height - horizon) * rng.uniform(0.6, 0.8))
    image[stop:stop + 6][road[stop:stop + 6]] = 225.0            # stop line: a horizontal edge
    return np.clip(image, 0, 255).astype(np.uint8)


def scaled_float(image: np.ndarray) -> np.ndarray:
    """A ``uint8`` image as ``float32`` in [0, 1]."""
    return (np.asarray(image, dtype=np.float32) / 255.0).astype(np.float32)
