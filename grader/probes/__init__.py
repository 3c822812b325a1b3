"""Probe specs: which notebook cells to run in the probe process, and what to call per grade id.

A probe runs in the sandboxed probe process, next to student code, and returns only
``(values, arrays)``: JSON-able values and NumPy arrays. ``make_inputs`` runs in the grader
and makes the data the probes are called on (images the student never saw, random cases);
arrays named ``*_labels`` stay in the grader and never reach the probe process.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from grader.probes import cnn_quiz, conv_layers, custom_filters, mnist_mlp

ProbeOutput = tuple[dict[str, Any], dict[str, np.ndarray]]
Probe = Callable[[dict, Mapping[str, np.ndarray]], ProbeOutput]


@dataclass(frozen=True)
class ProbeSpec:
    """The cells a probe process executes and the probe of each grade id."""

    cells: tuple[str, ...]
    probes: Mapping[str, Probe]
    make_inputs: Callable[[Mapping[str, Any]], dict[str, np.ndarray]]


PROBES: dict[str, ProbeSpec] = {
    module.ASSIGNMENT: ProbeSpec(module.CELLS, module.PROBES, module.make_inputs)
    for module in (mnist_mlp, custom_filters, conv_layers, cnn_quiz)
}
