"""Probes of cnn_quiz: the two formulas on random configurations."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

ASSIGNMENT = "cnn_quiz"
CELLS = ("imports", "conv_output_size", "conv_param_count")
N_CASES = 240


def make_inputs(parameters: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """Random layer configurations valid for ``nn.Conv2d``: (w_in, k, stride, padding, c_in, c_out, bias)."""
    rng = np.random.default_rng(int(parameters.get("seed", 0)) + 404)
    rows = []
    while len(rows) < N_CASES:
        w_in, k, stride, padding = rng.integers(1, 80), rng.integers(1, 10), rng.integers(1, 5), rng.integers(0, 5)
        if k <= w_in + 2 * padding:
            rows.append((w_in, k, stride, padding, rng.integers(1, 17), rng.integers(1, 65), rng.integers(0, 2)))
    return {"configs": np.array(rows, dtype=np.int64)}


def _as_float(value: Any) -> float:
    return float(value)


def probe_output_size(namespace: dict, inputs: Mapping[str, np.ndarray]):
    """The student's ``conv_output_size`` on every configuration."""
    formula = namespace["conv_output_size"]
    sizes = [_as_float(formula(int(w), int(k), stride=int(s), padding=int(p)))
             for w, k, s, p, *_ in inputs["configs"]]
    return {}, {"sizes": np.array(sizes)}


def probe_param_count(namespace: dict, inputs: Mapping[str, np.ndarray]):
    """The student's ``conv_param_count`` on every configuration."""
    formula = namespace["conv_param_count"]
    counts = [_as_float(formula(int(c_in), int(c_out), int(k), bias=bool(bias)))
              for _, k, _, _, c_in, c_out, bias in inputs["configs"]]
    return {}, {"counts": np.array(counts)}


PROBES = {"conv_output_size": probe_output_size, "conv_param_count": probe_param_count}
