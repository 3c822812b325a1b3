"""Probes of pooling_layers: the student's ``max_pool2d`` and ``avg_pool2d`` on maps they never saw.

``make_inputs`` (in the grader) draws the cases: float and integer-valued stacks of maps of odd
and non-square sizes, with the default stride, a stride equal to the window, and strides
smaller and larger than the window. It also makes the feature maps of one unseen road (the
lesson's four 4x4 edge filters, then ReLU), which the feedback picture shows pooled.
The probes (in the sandboxed probe process) call the student's functions on copies of them,
then once more with only NumPy importable: PyTorch, OpenCV and SciPy switched off.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

ASSIGNMENT = "pooling_layers"
CELLS = ("imports", "max_pool2d", "avg_pool2d")
SOLUTION_CELLS = ("max_pool2d", "avg_pool2d")
DEFAULT_STRIDE = 0  # a case's stride 0 in ``cases``: the function is called without a stride
# (channels, height, width), kernel_size, stride, integer-valued
CASES = (
    ((3, 9, 13), 2, DEFAULT_STRIDE, False), ((2, 16, 11), 3, DEFAULT_STRIDE, False),
    ((1, 7, 7), 2, DEFAULT_STRIDE, False), ((4, 21, 15), 4, 4, False), ((2, 10, 12), 2, 2, False),
    ((2, 11, 14), 3, 2, False), ((3, 17, 10), 2, 3, False), ((1, 12, 9), 3, 1, False), ((2, 15, 19), 2, 1, False),
    ((3, 9, 10), 2, DEFAULT_STRIDE, True), ((2, 13, 8), 3, 3, True), ((1, 10, 7), 2, DEFAULT_STRIDE, True),
)
ALONE_CASES = (0, 1)  # two default-stride cases, re-run with NumPy alone (a stride mistake loses its own check only)
BLOCKED_MODULES = ("torch", "cv2", "scipy", "skimage", "tensorflow", "jax")
ROAD_SEED, ROAD_SHAPE, ROAD_WINDOW = 505, (72, 97), 2  # not the notebook's picture, nor any other assignment's road
MAX_ERROR_CHARS = 300


def lesson_filters() -> np.ndarray:
    """The lesson's four 4x4 edge filters, ``(4, 4, 4)``."""
    first = np.array([[-1, -1, 1, 1]] * 4, dtype=np.float64)
    return np.array([first, -first, first.T, -first.T])


def road_feature_maps(seed: int) -> np.ndarray:
    """An unseen road through the lesson's filters (cross-correlation, no padding) and ReLU: ``(4, 69, 94)``."""
    from grader.images import road_scene, scaled_float

    road = scaled_float(road_scene(seed=seed, height=ROAD_SHAPE[0], width=ROAD_SHAPE[1])).astype(np.float64)
    windows = np.lib.stride_tricks.sliding_window_view(road, (4, 4))
    return np.maximum(np.einsum("hwij,cij->chw", windows, lesson_filters()), 0.0)


def make_inputs(parameters: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """Random maps per case (``maps_<i>``), their windows and strides (``cases``), and ``road_maps``."""
    seed = int(parameters.get("seed", 0))
    rng = np.random.default_rng(seed + 1616)
    inputs = {"cases": np.array([(kernel, stride) for _, kernel, stride, _ in CASES], dtype=np.int64),
              "road_maps": road_feature_maps(seed + ROAD_SEED)}
    for case, (shape, _, _, integer) in enumerate(CASES):
        inputs[f"maps_{case}"] = rng.integers(-20, 256, size=shape) if integer else rng.normal(0.0, 10.0, size=shape)
    return inputs


def described(error: BaseException) -> str:
    """``Type: message``, cut to MAX_ERROR_CHARS (the type alone when the message cannot be written)."""
    try:
        return f"{type(error).__name__}: {error}"[:MAX_ERROR_CHARS]
    except Exception:  # noqa: BLE001 - a student's exception whose str() raises
        return str(type(error).__name__)[:MAX_ERROR_CHARS]


def call_pooling(function: Callable, maps: np.ndarray, kernel: int, stride: int) -> np.ndarray:
    """``function`` on a copy of ``maps`` (without a stride for DEFAULT_STRIDE), as a float64 array of bounded size."""
    copy = np.array(maps)
    result = function(copy, kernel) if stride == DEFAULT_STRIDE else function(copy, kernel, stride=stride)
    array = np.asarray(result, dtype=np.float64)
    if array.size > maps.size:
        raise ValueError(f"it returned {array.size:,} values for an input of {maps.size:,}")
    return array


def run_cases(function: Callable, inputs: Mapping[str, np.ndarray], cases: tuple[int, ...], prefix: str):
    """(error per case, "" when none; outputs named ``<prefix>_<case>``)."""
    errors, arrays = [], {}
    for case in cases:
        kernel, stride = (int(v) for v in inputs["cases"][case])
        try:
            arrays[f"{prefix}_{case}"] = call_pooling(function, inputs[f"maps_{case}"], kernel, stride)
            errors.append("")
        except Exception as error:  # noqa: BLE001 - a student's function may raise anything
            errors.append(described(error))
    return errors, arrays


def numpy_alone(sources: Mapping[str, str], name: str) -> tuple[str, Callable | None]:
    """The solution cells re-run with only NumPy importable: (why ``name`` is not there, or the function)."""
    namespace: dict[str, Any] = {"np": np, "numpy": np, "__name__": "__main__"}
    for cell in SOLUTION_CELLS:
        try:
            exec(compile(sources.get(cell, ""), f"<cell {cell}, NumPy only>", "exec"), namespace)
        except Exception as error:  # noqa: BLE001 - the other cell may fail; only ``name`` matters
            if cell == name:
                return described(error), None
    function = namespace.get(name)
    return ("", function) if callable(function) else (f"`{name}` is not defined by its cell", None)


def blocked_modules() -> dict[str, Any]:
    """Make ``import torch`` (cv2, scipy, ...) raise ImportError; the modules taken out, to put back."""
    saved = {name: module for name, module in sys.modules.items() if name.split(".")[0] in BLOCKED_MODULES}
    for name in (*saved, *BLOCKED_MODULES):
        sys.modules[name] = None  # type: ignore[assignment]
    return saved


def restored_modules(saved: dict[str, Any]) -> None:
    """Undo :func:`blocked_modules`."""
    for name in [name for name in sys.modules if name.split(".")[0] in BLOCKED_MODULES]:
        del sys.modules[name]
    sys.modules.update(saved)


def alone_run(namespace: dict, name: str, inputs: Mapping[str, np.ndarray]):
    """(why it failed with NumPy alone, or ""; errors per ALONE_CASES; their outputs ``alone_<case>``)."""
    saved = blocked_modules()
    try:
        error, function = numpy_alone(namespace.get("__cells__", {}), name)
        if function is None:
            return error, [], {}
        errors, arrays = run_cases(function, inputs, ALONE_CASES, "alone")
        return "", errors, arrays
    finally:
        restored_modules(saved)


def road_run(function: Callable, road_maps: np.ndarray) -> tuple[str, dict[str, np.ndarray]]:
    """(error or ""; ``road``: ``function`` on the road's feature maps with a ROAD_WINDOW window)."""
    try:
        return "", {"road": call_pooling(function, road_maps, ROAD_WINDOW, DEFAULT_STRIDE)}
    except Exception as error:  # noqa: BLE001 - a student's function may raise anything
        return described(error), {}


def pooling_probe(name: str) -> Callable[[dict, Mapping[str, np.ndarray]], tuple[dict, dict]]:
    """The probe of ``name``: every case, the road's maps, then the NumPy-alone run."""
    def probe(namespace: dict, inputs: Mapping[str, np.ndarray]) -> tuple[dict, dict]:
        function = namespace[name]
        errors, arrays = run_cases(function, inputs, tuple(range(len(inputs["cases"]))), "out")
        road_error, road = road_run(function, inputs["road_maps"])
        alone_error, alone_errors, alone = alone_run(namespace, name, inputs)
        values = {"errors": errors, "road_error": road_error, "alone_error": alone_error,
                  "alone_errors": alone_errors}
        return values, {**arrays, **road, **alone}

    probe.__name__ = probe.__qualname__ = f"probe_{name}"
    probe.__doc__ = f"Outputs of ``{name}`` per case and on the road's maps, and its NumPy-alone run."
    return probe


PROBES = {"max_pool2d": pooling_probe("max_pool2d"), "avg_pool2d": pooling_probe("avg_pool2d")}
