"""Hidden checks of pooling_layers: the student's pooling against PyTorch's on unseen maps, and the answers.

Expected outputs are computed here, with ``F.max_pool2d`` / ``F.avg_pool2d`` on the grader's own
inputs (``artifacts.inputs``), never from anything the submission exported. A shape check is part
of each value check: a right shape alone earns nothing.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from grader.assignments.pooling_layers.probe import ALONE_CASES, DEFAULT_STRIDE
from grader.checks.registry import grade
from grader.pipeline.artifacts import ArtifactError, Artifacts
from grader.pipeline.shown import MAX_VALUE_CHARS, capped, shown

REFERENCES = {"max_pool2d": F.max_pool2d, "avg_pool2d": F.avg_pool2d}
TOLERANCE = {"rtol": 1e-6, "atol": 1e-6}


def expected_pooling(name: str, maps: np.ndarray, kernel: int, stride: int) -> np.ndarray:
    """PyTorch's pooling ``name`` of ``maps`` (as float64), no padding, rounding down."""
    tensor = torch.from_numpy(np.array(maps, dtype=np.float64))  # a copy: the inputs are read-only
    return REFERENCES[name](tensor, kernel, stride=None if stride == DEFAULT_STRIDE else stride).numpy()


def window(inputs: Mapping[str, np.ndarray], case: int) -> tuple[int, int]:
    """(kernel_size, stride) of a case; stride DEFAULT_STRIDE when the function was called without one."""
    kernel, stride = (int(v) for v in inputs["cases"][case])
    return kernel, stride


def cases_of(inputs: Mapping[str, np.ndarray], kind: str) -> tuple[int, ...]:
    """The cases of one kind: "default" (float, stride None or the window), "strided" (float), "integer"."""
    chosen = []
    for case in range(len(inputs["cases"])):
        kernel, stride = window(inputs, case)
        integer = inputs[f"maps_{case}"].dtype.kind in "iu"
        of_kind = ("integer" if integer else "default" if stride in (DEFAULT_STRIDE, kernel) else "strided")
        chosen += [case] if of_kind == kind else []
    return tuple(chosen)


def case_errors(values: Any, key: str, count: int) -> list[str]:
    """The probe's error per case (``""`` when the call returned); ArtifactError when the report is malformed."""
    errors = values.get(key) if isinstance(values, Mapping) else None
    if not isinstance(errors, list) or len(errors) != count or not all(isinstance(e, str) for e in errors):
        raise ArtifactError("expected the grader's probe to report on every case; its report is malformed")
    return errors


def call_text(name: str, maps: np.ndarray, kernel: int, stride: int) -> str:
    """How the probe called the function, in words."""
    kind = "integer" if maps.dtype.kind in "iu" else "float"
    stride_text = "" if stride == DEFAULT_STRIDE else f", stride={stride}"
    return f"{name}(maps of shape {maps.shape} ({kind}), {kernel}{stride_text})"


def shape_hint(got: tuple[int, ...], maps: np.ndarray, kernel: int, stride: int) -> str:
    """A likely reason for a wrong output shape, or ""."""
    step = kernel if stride == DEFAULT_STRIDE else stride
    sides = maps.shape[1:]
    if got == (maps.shape[0], *(-(-(side - kernel) // step) + 1 for side in sides)):
        return " (round down: a window that would stick out past the edge is dropped)"
    if stride == DEFAULT_STRIDE and got == (maps.shape[0], *(side - kernel + 1 for side in sides)):
        return " (stride=None means stride = kernel_size)"
    if step != kernel and got == (maps.shape[0], *((side - kernel) // kernel + 1 for side in sides)):
        return f" (use the stride: the window moves {step} pixels, not {kernel})"
    if len(got) == 3 and got[0] != maps.shape[0]:
        return " (maps are (channels, height, width): keep the channels, pool over the last two axes)"
    return ""


def value_hint(name: str, got: np.ndarray, expected: np.ndarray) -> str:
    """A likely reason for wrong values, or ""."""
    if name == "avg_pool2d" and (np.array_equal(got, np.floor(expected)) or np.array_equal(got, np.trunc(expected))):
        return " (integer maps: return floats; the mean of 1 and 2 is 1.5)"
    return ""


def mismatch(artifacts: Artifacts, name: str, cases: tuple[int, ...], alone: bool = False) -> str:
    """What is wrong with ``name``'s outputs on ``cases`` (its NumPy-alone run's with ``alone``), or ""."""
    probe, inputs = artifacts.probe(name), artifacts.inputs
    prefix, key, reported = ("alone", "alone_errors", ALONE_CASES) if alone else ("out", "errors", None)
    reported = reported or tuple(range(len(inputs["cases"])))
    errors = dict(zip(reported, case_errors(probe.values, key, len(reported)), strict=True))
    for case in cases:
        maps, (kernel, stride) = inputs[f"maps_{case}"], window(inputs, case)
        call, expected = call_text(name, maps, kernel, stride), expected_pooling(name, maps, kernel, stride)
        if errors[case]:
            return f"expected {call} to return the pooled maps; it raised {capped(errors[case], MAX_VALUE_CHARS)}"
        if f"{prefix}_{case}" not in probe.arrays:
            return f"expected {call} to return an array; it returned nothing the grader could read"
        got = np.asarray(probe.arrays[f"{prefix}_{case}"], dtype=np.float64)
        if got.shape != expected.shape:
            hint = shape_hint(tuple(got.shape), maps, kernel, stride)
            return f"{call} has shape {shown(tuple(got.shape))}, expected {expected.shape}{hint}"
        if not np.allclose(got, expected, **TOLERANCE):
            return (f"{call} differs from F.{name} by up to {np.nanmax(np.abs(got - expected)):.3g}: expected "
                    f"F.{name}'s values"
                    f"{value_hint(name, got, expected)}")
    return ""


def both(weight: float) -> list:
    """The two functions as parameters, each counting ``weight`` shares of its own grade id."""
    return [pytest.param(name, marks=grade(name, weight=weight), id=name) for name in REFERENCES]


@pytest.mark.parametrize("name", both(2))
def test_pooling_with_the_default_stride(artifacts: Artifacts, name: str) -> None:
    """equals PyTorch on float maps of odd and non-square sizes, stride None or equal to the window"""
    problem = mismatch(artifacts, name, cases_of(artifacts.inputs, "default"))
    assert not problem, problem


@pytest.mark.parametrize("name", both(1))
def test_pooling_with_other_strides(artifacts: Artifacts, name: str) -> None:
    """equals PyTorch with strides smaller and larger than the window"""
    problem = mismatch(artifacts, name, cases_of(artifacts.inputs, "strided"))
    assert not problem, problem


@pytest.mark.parametrize("name", both(1))
def test_pooling_of_integer_maps(artifacts: Artifacts, name: str) -> None:
    """equals PyTorch (on the maps as floats) for integer-valued maps"""
    problem = mismatch(artifacts, name, cases_of(artifacts.inputs, "integer"))
    assert not problem, problem


@pytest.mark.parametrize("name", both(1))
def test_pooling_uses_numpy_alone(artifacts: Artifacts, name: str) -> None:
    """gives the same right results with NumPy alone (PyTorch, OpenCV and SciPy switched off)"""
    values = artifacts.probe(name).values
    error = values.get("alone_error") if isinstance(values, Mapping) else None
    assert isinstance(error, str), "expected the grader's probe to report the NumPy-alone run; its report is malformed"
    assert not error, (f"expected {name} to work with NumPy alone; without PyTorch its cell gives "
                       f"{capped(error, MAX_VALUE_CHARS)}")
    problem = mismatch(artifacts, name, ALONE_CASES, alone=True)
    assert not problem, f"with NumPy alone (PyTorch switched off; write {name} with NumPy only): {problem}"


@functools.lru_cache(maxsize=1)
def reference_answers() -> dict[str, Any]:
    """The four answers measured on real PyTorch layers."""
    with torch.no_grad():
        example_1 = nn.Conv2d(1, 16, kernel_size=2, stride=2)(torch.zeros(1, 200, 200))
        p1 = tuple(nn.MaxPool2d(2, 2)(example_1).shape)
        p2 = tuple(nn.AvgPool2d(3, stride=2)(torch.zeros(8, 31, 31)).shape)
        feature_map = torch.randn(1, 1, 64, 48, generator=torch.Generator().manual_seed(3))
        _, kept = F.max_pool2d(feature_map, 2, stride=2, return_indices=True)
    p3 = sum(parameter.numel() for parameter in nn.MaxPool2d(2, 2).parameters())
    return {"p1_shape": p1, "p2_shape": p2, "p3_params": p3, "p4_kept": kept.unique().numel() / feature_map.numel()}


def warm_up() -> None:
    """Pay the reference answers and PyTorch's first pooling calls before any submission does."""
    reference_answers()
    expected_pooling("max_pool2d", np.zeros((1, 4, 4)), 2, DEFAULT_STRIDE)
    expected_pooling("avg_pool2d", np.zeros((1, 4, 4)), 2, DEFAULT_STRIDE)


HINTS = {("p1_shape", (16, 100, 100)): " (that is the input: 2x2 pooling with stride 2 halves height and width)",
         ("p1_shape", (50, 50, 16)): " (shapes are (channels, height, width))",
         ("p2_shape", (8, 16, 16)): " (round down: (31 - 3) // 2 + 1)",
         ("p2_shape", (8, 10, 10)): " (the stride is 2, not the window's 3)",
         ("p4_kept", 0.75): " (that is the fraction thrown away)"}


@pytest.mark.parametrize("answer", [pytest.param(name, marks=grade("pooling_answers"), id=name)
                                    for name in ("p1_shape", "p2_shape", "p3_params", "p4_kept")])
def test_pooling_answer(artifacts: Artifacts, answer: str) -> None:
    """each answer equals what PyTorch's layers give"""
    expected = reference_answers()[answer]
    if isinstance(expected, tuple):
        got: Any = artifacts.integers(answer)
        right = got == expected
    else:
        got = artifacts.number(answer)
        right = abs(float(got) - expected) <= 1e-6
    hint = HINTS.get((answer, got), "") if isinstance(got, (tuple, float, int)) else ""
    assert right, f"`{answer}` is {shown(got)}; expected {shown(expected)}{hint}"
