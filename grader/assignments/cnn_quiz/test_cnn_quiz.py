"""Hidden checks of cnn_quiz: the formulas against real ``nn.Conv2d``, and the quiz answers.

"Returns whole numbers" is a property (grader.checks.registry): a constant -1 has it too, so it
counts only beside the value check of the same grade id.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest
import torch
from torch import nn

from grader.checks.registry import grade, grade_property
from grader.pipeline.artifacts import Artifacts
from grader.pipeline.shown import shown


@pytest.fixture
def configs(artifacts: Artifacts) -> np.ndarray:
    """The random layer configurations the probe called the formulas on."""
    return artifacts.inputs["configs"]


def conv_for(c_in: int, c_out: int, k: int, stride: int, padding: int, bias: bool) -> nn.Conv2d:
    """A real nn.Conv2d on PyTorch's meta device: true shapes and parameters, no arithmetic."""
    return nn.Conv2d(c_in, c_out, k, stride=stride, padding=padding, bias=bias, device="meta")


def warm_up() -> None:
    """Pay PyTorch's first use of the meta device (a one-off cost) before any submission does."""
    with torch.no_grad():
        conv_for(1, 1, 3, 1, 0, False)(torch.zeros(1, 1, 8, 8, device="meta"))


def first_mismatch(configs: np.ndarray, got: np.ndarray, truth: list[int], labels: tuple[str, ...]) -> str:
    for row, value, expected in zip(configs, got, truth, strict=True):
        if value != expected:
            case = ", ".join(f"{label}={int(v)}" for label, v in zip(labels, row, strict=False))
            return f"for {case} expected {expected}, got {value:g}"
    return ""


@functools.lru_cache(maxsize=4)
def true_sizes(configs: tuple[tuple[int, ...], ...]) -> list[int]:
    """Output widths of real nn.Conv2d layers (computed once per set of configurations)."""
    with torch.no_grad():
        return [int(conv_for(1, 1, k, stride, padding, False)(torch.zeros(1, 1, w_in, w_in, device="meta")).shape[-1])
                for w_in, k, stride, padding, *_ in configs]


@functools.lru_cache(maxsize=4)
def true_counts(configs: tuple[tuple[int, ...], ...]) -> list[int]:
    """Parameter counts of real nn.Conv2d layers (computed once per set of configurations)."""
    return [sum(p.numel() for p in conv_for(c_in, c_out, k, 1, 0, bool(bias)).parameters())
            for _, k, _, _, c_in, c_out, bias in configs]


@grade("conv_output_size", weight=3)
def test_output_size_matches_conv2d(artifacts: Artifacts, configs: np.ndarray) -> None:
    """conv_output_size equals nn.Conv2d's output width on random layers"""
    sizes = artifacts.probe("conv_output_size").arrays["sizes"]
    truth = true_sizes(tuple(map(tuple, configs.tolist())))
    mismatch = first_mismatch(configs, sizes, truth, ("w_in", "kernel_size", "stride", "padding"))
    assert not mismatch, f"conv_output_size: {mismatch} (PyTorch rounds down: floor)"


@grade_property("conv_output_size", weight=1)
def test_output_size_returns_whole_numbers(artifacts: Artifacts) -> None:
    """conv_output_size returns whole numbers"""
    sizes = artifacts.probe("conv_output_size").arrays["sizes"]
    fractions = sizes[sizes != np.floor(sizes)]
    assert not fractions.size, f"expected whole numbers from conv_output_size, got {shown(fractions[0])} (use //)"


@grade("conv_param_count", weight=3)
def test_param_count_matches_conv2d(artifacts: Artifacts, configs: np.ndarray) -> None:
    """conv_param_count equals the parameters of nn.Conv2d on random layers, with and without bias"""
    counts = artifacts.probe("conv_param_count").arrays["counts"]
    truth = true_counts(tuple(map(tuple, configs.tolist())))
    reordered = configs[:, [4, 5, 1, 6]]
    mismatch = first_mismatch(reordered, counts, truth, ("in_channels", "out_channels", "kernel_size", "bias"))
    assert not mismatch, f"conv_param_count: {mismatch} (weights: out*in*k*k, plus one bias per filter)"


ANSWERS = {
    "q1_shape": (16, 100, 100), "q1_params": 80, "q2_shape": (32, 100, 100), "q2_params": 4640,
    "q3_depth": 20, "q3_size": 16, "q3_flat": 5120, "q4_padding": 3,
}


def reference_answers() -> dict[str, object]:
    """The quiz answers measured on real layers (they must equal ANSWERS)."""
    conv1, conv2 = nn.Conv2d(1, 16, 2, stride=2), nn.Conv2d(16, 32, 3, padding=1)
    stack = nn.Sequential(nn.Conv2d(3, 10, 3), nn.MaxPool2d(4, 4), nn.Conv2d(10, 20, 5, padding=2),
                          nn.MaxPool2d(2, 2))
    with torch.no_grad():
        after1 = conv1(torch.zeros(1, 1, 200, 200))
        after2 = conv2(after1)
        after3 = stack(torch.zeros(1, 3, 130, 130))
    count = lambda layer: sum(p.numel() for p in layer.parameters())  # noqa: E731
    same = next(p for p in range(8) if nn.Conv2d(1, 1, 7, padding=p)(torch.zeros(1, 1, 9, 9)).shape[-1] == 9)
    return {"q1_shape": tuple(after1.shape[1:]), "q1_params": count(conv1), "q2_shape": tuple(after2.shape[1:]),
            "q2_params": count(conv2), "q3_depth": after3.shape[1], "q3_size": after3.shape[2],
            "q3_flat": after3[0].numel(), "q4_padding": same}


@pytest.mark.parametrize("name", [pytest.param(name, marks=grade("quiz_answers")) for name in ANSWERS])
def test_quiz_answer(artifacts: Artifacts, name: str) -> None:
    """each quiz answer is exact"""
    expected = ANSWERS[name]
    got = artifacts.integers(name) if isinstance(expected, tuple) else artifacts.number(name)
    hint = " (shapes are (channels, height, width))" if isinstance(expected, tuple) else ""
    assert got == expected, f"`{name}` is {shown(got)}; expected {expected}{hint}"
