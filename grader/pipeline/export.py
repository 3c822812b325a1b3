"""Runs inside the student's kernel, last: writes the contract's names as inert data.

Arrays and tensors go to ``arrays.npz``; numbers, strings and sequences of numbers to
``values.json``; anything else is recorded by its type name only. Nothing is pickled, so
the grader never rebuilds a student object.
"""

from __future__ import annotations

import json
import numbers
from pathlib import Path
from typing import Any

import numpy as np

MAX_SEQUENCE = 100_000


def _as_array(value: Any) -> np.ndarray | None:
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is part of the grading environment
        torch = None
    if torch is not None and isinstance(value, torch.Tensor):
        return np.array(value.detach().cpu().numpy())
    if isinstance(value, np.ndarray):
        return np.array(value)
    return None


def _as_number(value: Any) -> int | float | bool | None:
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    return None


def describe(value: Any) -> tuple[dict, np.ndarray | None]:
    """(a JSON description of ``value``, its array when it is an array or tensor)."""
    array = _as_array(value)
    if array is not None:
        return {"kind": "array", "dtype": str(array.dtype), "shape": list(array.shape)}, array
    number = _as_number(value)
    if number is not None:
        return {"kind": "number", "value": number}, None
    if isinstance(value, str):
        return {"kind": "string", "value": value[:10_000]}, None
    if isinstance(value, (tuple, list)) and len(value) <= MAX_SEQUENCE:
        items = [_as_number(item) for item in value]
        if all(item is not None for item in items):
            return {"kind": "sequence", "value": items}, None
    return {"kind": "object", "type": f"{type(value).__module__}.{type(value).__qualname__}"}, None


def export_artifacts(namespace: dict, names: list[str], out_dir: str) -> None:
    """Write ``names`` from ``namespace`` into ``out_dir``/values.json and arrays.npz."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    values: dict[str, dict] = {}
    arrays: dict[str, np.ndarray] = {}
    for name in names:
        if name not in namespace:
            values[name] = {"kind": "missing"}
            continue
        try:
            values[name], array = describe(namespace[name])
        except Exception as error:  # a student object that refuses to convert
            values[name] = {"kind": "object", "type": "unconvertible", "error": str(error)[:500]}
            array = None
        if array is not None and array.dtype != object:
            arrays[name] = array
    np.savez(out / "arrays.npz", **arrays)
    (out / "values.json").write_text(json.dumps(values), encoding="utf-8")
