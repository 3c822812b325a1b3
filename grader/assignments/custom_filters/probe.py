"""Probes of custom_filters: the student's ``convolve2d``, with and without OpenCV and SciPy.

``make_inputs`` also draws one small unseen road (``road``) on which the feedback page shows the
student's kernels at work (:mod:`grader.feedback.figures`); no probe needs it.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

import numpy as np

ASSIGNMENT = "custom_filters"
CELLS = ("imports", "convolve2d")
SHAPES = ((9, 9), (12, 17), (31, 24), (40, 40), (7, 11), (25, 33))
KERNEL_SIZES = (3, 5, 3, 7, 5, 3)
ROAD_SEED, ROAD_SHAPE = 303, (120, 160)  # not the notebook's road (seed 0), nor any check's


def make_inputs(parameters: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """Random images and random asymmetric odd kernels, one pair per case, and an unseen ``uint8`` road."""
    from grader.images import road_scene

    seed = int(parameters.get("seed", 0))
    rng = np.random.default_rng(seed + 2024)
    inputs = {"road": road_scene(seed=seed + ROAD_SEED, height=ROAD_SHAPE[0], width=ROAD_SHAPE[1])}
    for case, (shape, size) in enumerate(zip(SHAPES, KERNEL_SIZES, strict=True)):
        inputs[f"image_{case}"] = rng.uniform(0, 255, size=shape).round()
        inputs[f"kernel_{case}"] = rng.normal(size=(size, size)).round(2)
    return inputs


def _cases(inputs: Mapping[str, np.ndarray]) -> list[tuple[int, np.ndarray, np.ndarray]]:
    count = len([name for name in inputs if name.startswith("image_")])
    return [(case, inputs[f"image_{case}"].copy(), inputs[f"kernel_{case}"].copy()) for case in range(count)]


def _alone(source: str, cases: list) -> tuple[str, dict[str, np.ndarray]]:
    """Re-run the convolve2d cell with only NumPy importable; (error, outputs of two cases)."""
    blocked = ("cv2", "scipy")
    saved = {name: module for name, module in sys.modules.items() if name.split(".")[0] in blocked}
    for name in list(saved) + list(blocked):
        sys.modules[name] = None  # `import cv2` now raises ImportError
    arrays = {}
    try:
        namespace = {"np": np, "numpy": np, "__name__": "__main__"}
        exec(compile(source, "<cell convolve2d, NumPy only>", "exec"), namespace)
        for case, image, kernel in cases[:2]:
            arrays[f"alone_{case}"] = np.asarray(namespace["convolve2d"](image, kernel), dtype=np.float64)
        return "", arrays
    except Exception as error:  # noqa: BLE001
        return f"{type(error).__name__}: {error}"[:500], {}
    finally:
        for name in blocked:
            sys.modules.pop(name, None)
        sys.modules.update(saved)


def probe_convolve2d(namespace: dict, inputs: Mapping[str, np.ndarray]):
    """Outputs of ``convolve2d`` per case, then whether its cell works with cv2 and scipy blocked."""
    convolve2d = namespace["convolve2d"]
    arrays = {}
    dtypes = []
    for case, image, kernel in _cases(inputs):
        result = convolve2d(image, kernel)
        dtypes.append(str(getattr(result, "dtype", type(result).__name__)))
        arrays[f"out_{case}"] = np.asarray(result, dtype=np.float64)
    alone_error, alone = _alone(namespace["__cells__"]["convolve2d"], _cases(inputs))
    return {"dtypes": dtypes, "alone_error": alone_error}, {**arrays, **alone}


PROBES = {"convolve2d": probe_convolve2d}
