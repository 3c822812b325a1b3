"""What a student's layer computes, measured on probe inputs; never read from its attributes or its type.

A layer counts as a convolution when its output equals ``F.conv2d`` of the input with its own
4-D weight (and bias, if it has one) for one stride and padding, on inputs of several sizes; as
a max-pooling layer when it equals ``F.max_pool2d`` for one window and stride; as a ReLU when it
equals ``F.relu``. The settings reported are those that reproduce the output, whatever the
layer's ``kernel_size``, ``stride`` or ``__class__`` say. Runs in the probe process (torch is
imported there when a function is called).
"""

from __future__ import annotations

import itertools
from typing import Any

SIZES = ((19, 23), (24, 24), (31, 28))  # input heights and widths: odd, even, non-square
STRIDES, PADDINGS, WINDOWS = range(1, 5), range(0, 4), range(1, 6)
POOL_CHANNELS = 3  # channels of the inputs a pooling layer or a ReLU is measured on
MAX_LAYERS = 32  # layers of one network measured; more are left out


def called(module: Any, x: Any) -> Any:
    """``module`` on a copy of ``x`` (an in-place layer may change its input), without gradients; None if it raises."""
    import torch

    try:
        with torch.no_grad():
            out = module(x.clone())
    except Exception:  # noqa: BLE001 - a student's layer may raise anything
        return None
    return out if isinstance(out, torch.Tensor) else None


def same(got: Any, expected: Any) -> bool:
    """Whether ``got`` is a tensor of ``expected``'s shape and values."""
    import torch

    return (got is not None and tuple(got.shape) == tuple(expected.shape)
            and bool(torch.allclose(got.detach().float().cpu(), expected, atol=1e-4, rtol=1e-4)))


def conv_weights(module: Any) -> tuple[Any, Any] | None:
    """(weight, bias or None) among the module's parameters: its one 4-D tensor, and a 1-D one of its length."""
    try:
        parameters = [p.detach().float().cpu() for p in module.parameters()]
    except Exception:  # noqa: BLE001
        return None
    four = [p for p in parameters if p.dim() == 4]
    if len(four) != 1 or 0 in four[0].shape:
        return None
    biases = [p for p in parameters if p.dim() == 1 and p.shape[0] == four[0].shape[0]]
    return four[0], (biases[0] if len(biases) == 1 else None)


def axis_candidates(sizes: list[int], outputs: list[int], kernel: int) -> list[tuple[int, int]]:
    """(stride, padding) pairs that give these output lengths along one axis."""
    return [(s, p) for s in STRIDES for p in PADDINGS
            if all((n + 2 * p - kernel) // s + 1 == m for n, m in zip(sizes, outputs, strict=True))]


def measure_conv(module: Any, generator: Any) -> dict[str, Any] | None:
    """The convolution ``module`` computes with its own weights: channels, kernel, stride, padding, bias; or None."""
    import torch
    import torch.nn.functional as F

    found = conv_weights(module)
    if found is None:
        return None
    weight, bias = found
    xs = [torch.randn(2, weight.shape[1], h, w, generator=generator) for h, w in SIZES]
    outs = [called(module, x) for x in xs]
    if any(out is None or out.dim() != 4 for out in outs):
        return None
    heights = axis_candidates([h for h, _ in SIZES], [out.shape[2] for out in outs], weight.shape[2])
    widths = axis_candidates([w for _, w in SIZES], [out.shape[3] for out in outs], weight.shape[3])
    pairs = list(zip(xs, outs, strict=True))
    for (sh, ph), (sw, pw), b in itertools.product(heights, widths, (bias, None) if bias is not None else (None,)):
        if all(same(out, F.conv2d(x, weight, b, stride=(sh, sw), padding=(ph, pw))) for x, out in pairs):
            return {"kind": "Conv2d", "in": weight.shape[1], "out": weight.shape[0], "kernel": list(weight.shape[2:]),
                    "stride": [sh, sw], "padding": [ph, pw], "bias": b is not None}
    return None


def measure_pool(module: Any, generator: Any) -> dict[str, Any] | None:
    """The max pooling ``module`` computes (window, stride), or None."""
    import torch
    import torch.nn.functional as F

    xs = [torch.randn(2, POOL_CHANNELS, h, w, generator=generator) for h, w in SIZES]
    outs = [called(module, x) for x in xs]
    for window, stride in itertools.product(WINDOWS, STRIDES):
        if all(same(out, F.max_pool2d(x, window, stride)) for x, out in zip(xs, outs, strict=True)):
            return {"kind": "MaxPool2d", "kernel": window, "stride": stride}
    return None


def measure_relu(module: Any, generator: Any) -> dict[str, Any] | None:
    """``{"kind": "ReLU"}`` when ``module`` computes a ReLU, else None."""
    import torch
    import torch.nn.functional as F

    x = torch.randn(2, POOL_CHANNELS, *SIZES[0], generator=generator)
    return {"kind": "ReLU"} if same(called(module, x), F.relu(x)) else None


def measure(module: Any, generator: Any) -> dict[str, Any]:
    """What ``module`` computes: a ReLU, a max pooling or a convolution with its settings, else ``other``."""
    for measured in (measure_relu, measure_pool, measure_conv):
        found = measured(module, generator)
        if found is not None:
            return found
    return {"kind": "other"}


def reference(layer: dict[str, Any], module: Any, x: Any) -> Any:
    """What the measured ``layer`` computes on ``x``, by the grader's own functions (with ``module``'s weights)."""
    import torch.nn.functional as F

    if layer["kind"] == "ReLU":
        return F.relu(x)
    if layer["kind"] == "MaxPool2d":
        return F.max_pool2d(x, layer["kernel"], layer["stride"])
    weight, bias = conv_weights(module)
    return F.conv2d(x, weight, bias if layer["bias"] else None, stride=layer["stride"], padding=layer["padding"])
