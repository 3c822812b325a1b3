"""Probes of conv_layers: the fixed-filter network, the lesson's layers and the small CNN."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

ASSIGNMENT = "conv_layers"
CELLS = ("imports", "define_filters", "make_weight", "conv_net", "lesson_layers", "cnn_classifier")


def lesson_filters() -> np.ndarray:
    """The lesson's four 4x4 filters, ``(4, 4, 4)``."""
    first = np.array([[-1, -1, 1, 1]] * 4, dtype=np.float32)
    return np.array([first, -first, first.T, -first.T])


def make_inputs(parameters: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """Unseen images for the conv net: two generated roads and a random texture."""
    from grader.images import road_scene, scaled_float

    seed = int(parameters.get("seed", 0))
    images = [scaled_float(road_scene(seed=seed + 101, height=60, width=80)),
              scaled_float(road_scene(seed=seed + 202, height=60, width=80)),
              np.random.default_rng(seed).uniform(0, 1, size=(60, 80)).astype(np.float32)]
    return {"images": np.stack(images)[:, None], "filters": lesson_filters()}


def _numpy(tensor: Any) -> np.ndarray:
    return np.asarray(tensor.detach().cpu().numpy(), dtype=np.float64)


def probe_conv_net(namespace: dict, inputs: Mapping[str, np.ndarray]):
    """Stage outputs of ``Net(weight)`` on unseen images, and the conv layers' weights and biases."""
    import torch
    from torch import nn

    weight = torch.from_numpy(inputs["filters"].astype(np.float32)).unsqueeze(1)
    model = namespace["Net"](weight)
    convs = [module for module in model.modules() if isinstance(module, nn.Conv2d)]
    with torch.no_grad():
        stages = model(torch.from_numpy(inputs["images"].astype(np.float32)))
    conv_x, activated_x, pooled_x = stages
    arrays = {"conv_x": _numpy(conv_x), "activated_x": _numpy(activated_x), "pooled_x": _numpy(pooled_x)}
    arrays.update({f"weight_{i}": _numpy(conv.weight) for i, conv in enumerate(convs)})
    return {"n_convs": len(convs), "has_bias": [conv.bias is not None for conv in convs],
            "model_is_net": type(namespace.get("model")).__name__ == "Net"}, arrays


def _layer(module: Any) -> dict[str, Any]:
    from torch import nn

    if not isinstance(module, nn.Conv2d):
        return {"kind": type(module).__name__}
    return {"kind": "Conv2d", "in": module.in_channels, "out": module.out_channels,
            "kernel": list(module.kernel_size), "stride": list(module.stride), "bias": module.bias is not None}


def probe_lesson_layers(namespace: dict, inputs: Mapping[str, np.ndarray]):
    """Hyperparameters and output shapes of ``conv1``, ``conv2`` and ``features``."""
    import torch

    conv1, conv2, features = namespace["conv1"], namespace["conv2"], namespace["features"]
    with torch.no_grad():
        after1 = conv1(torch.zeros(1, 1, 200, 200))
        after2 = conv2(torch.zeros(1, 16, 100, 100))
        after_features = features(torch.zeros(1, 1, 200, 200))
    return {"conv1": _layer(conv1), "conv2": _layer(conv2),
            "features": [_layer(module) for module in features.children()],
            "conv1_shape": list(after1.shape), "conv2_shape": list(after2.shape),
            "features_shape": list(after_features.shape)}, {}


def probe_cnn_classifier(namespace: dict, inputs: Mapping[str, np.ndarray]):
    """``CNN()``'s scores on two 130x130 RGB batches (the first one twice) and its linear layers' sizes."""
    import torch
    from torch import nn

    cnn = namespace["CNN"]()
    cnn.eval()
    linears = [module for module in cnn.modules() if isinstance(module, nn.Linear)]
    generator = torch.Generator().manual_seed(130)
    first, second = (torch.rand(2, 3, 130, 130, generator=generator) for _ in range(2))
    with torch.no_grad():
        out, again, other = cnn(first), cnn(first), cnn(second)
    return {"out_shape": list(out.shape), "linear_in": [layer.in_features for layer in linears],
            "linear_out": [layer.out_features for layer in linears],
            "cnn_is_module": isinstance(namespace.get("cnn"), nn.Module)}, {
        "scores": _numpy(out), "again": _numpy(again), "other": _numpy(other)}


PROBES = {"conv_net": probe_conv_net, "lesson_layers": probe_lesson_layers,
          "cnn_classifier": probe_cnn_classifier}
