"""Probes of conv_layers: the fixed-filter network, the lesson's layers and the small CNN.

Every layer is measured by what it computes on the grader's inputs (grader.assignments.conv_layers.layers),
never by its type or attributes; a network's forward must use its layers: its output changes with
its input, and with each of its weights.
"""

from __future__ import annotations

from collections.abc import Mapping
from itertools import islice
from typing import Any

import numpy as np

from grader.assignments.conv_layers.layers import MAX_LAYERS, called, measure, measure_conv, reference, same

ASSIGNMENT = "conv_layers"
CELLS = ("imports", "define_filters", "make_weight", "conv_net", "lesson_layers", "cnn_classifier")
LOCKED = ("filters", "weight", "gray_img")  # the locked cells' names a student may overwrite later
MEASURE_SEED = 17


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
    other = np.random.default_rng(seed + 303).normal(size=(4, 4, 4)).astype(np.float32)
    return {"images": np.stack(images)[:, None], "filters": lesson_filters(), "other_filters": other}


def locked_gray_img() -> np.ndarray:
    """The grader's own copy of the notebook's locked ``gray_img``."""
    from grader.images import road_scene, scaled_float

    return scaled_float(road_scene(seed=0))


def locked_values() -> dict[str, np.ndarray]:
    """The grader's own copies of the locked cells' ``filters``, ``weight`` and ``gray_img``."""
    return {"filters": lesson_filters(), "weight": lesson_filters()[:, None], "gray_img": locked_gray_img()}


def changed_locked(namespace: dict) -> list[str]:
    """The locked names whose value in ``namespace`` differs from the grader's copy."""
    changed = []
    for name, expected in locked_values().items():
        value = namespace.get(name)
        try:
            value = value.detach().cpu().numpy() if hasattr(value, "detach") else value
            got = np.asarray(value, dtype=np.float64)
            if got.shape != expected.shape or not np.array_equal(got, expected):
                changed.append(name)
        except Exception:  # noqa: BLE001 - whatever the student put there
            changed.append(name)
    return changed


def _numpy(tensor: Any) -> np.ndarray:
    return np.asarray(tensor.detach().cpu().numpy(), dtype=np.float64)


def stages(net: Any, images: Any) -> tuple[Any, Any, Any]:
    """``net(images)`` without gradients: its three stages."""
    import torch

    with torch.no_grad():
        conv_x, activated_x, pooled_x = net(images)
    return conv_x, activated_x, pooled_x


def probe_conv_net(namespace: dict, inputs: Mapping[str, np.ndarray]):
    """Stages of ``Net(weight)`` on unseen images, its measured conv layers, and ``Net`` with other weights."""
    import torch

    images = torch.from_numpy(inputs["images"].astype(np.float32))
    weight = torch.from_numpy(inputs["filters"].astype(np.float32)).unsqueeze(1)
    model = namespace["Net"](weight)
    conv_x, activated_x, pooled_x = stages(model, images)
    generator = torch.Generator().manual_seed(MEASURE_SEED)
    layers = [module for module in islice(model.modules(), MAX_LAYERS) if module is not model]
    convs = [(module, found) for module in layers if (found := measure_conv(module, generator)) is not None]
    arrays = {"conv_x": _numpy(conv_x), "activated_x": _numpy(activated_x), "pooled_x": _numpy(pooled_x)}
    arrays.update({f"weight_{i}": _numpy(next(p for p in module.parameters() if p.dim() == 4))
                   for i, (module, _) in enumerate(convs)})
    other = torch.from_numpy(inputs["other_filters"].astype(np.float32)).unsqueeze(1)
    try:
        arrays["other_conv_x"] = _numpy(stages(namespace["Net"](other.clone()), images)[0])
    except Exception:  # noqa: BLE001 - the check says that Net(weight) must work with any weight
        pass
    return {"convs": [found for _, found in convs], "changed_locked": changed_locked(namespace),
            "parameter_shapes": [list(p.shape) for p in islice(model.parameters(), MAX_LAYERS)]}, arrays


def follows_its_layers(features: Any, children: list[Any], found: list[dict], generator: Any) -> bool:
    """Whether ``features`` computes its measured layers in order, on inputs of two sizes."""
    import torch

    for shape in ((2, 1, 64, 72), (1, 1, 70, 90)):
        x = expected = torch.randn(*shape, generator=generator)
        try:
            for module, layer in zip(children, found, strict=True):
                expected = reference(layer, module, expected)
        except Exception:  # noqa: BLE001 - layers that do not chain
            return False
        if not same(called(features, x), expected):
            return False
    return True


def describe_features(features: Any, generator: Any, measured: dict[int, dict]) -> dict[str, Any]:
    """The measured layers of ``features``, whether its output is theirs in order, and its output shape.

    ``measured`` holds the layers measured already, by ``id`` (``conv1`` and ``conv2`` are measured once)."""
    import torch

    children = list(islice(features.children(), MAX_LAYERS))
    found = [measured.get(id(module)) or measure(module, generator) for module in children]
    known = all(layer["kind"] != "other" for layer in found)
    out = called(features, torch.zeros(1, 1, 200, 200))
    return {"features": found, "features_follow": known and follows_its_layers(features, children, found, generator),
            "features_shape": None if out is None else list(out.shape)}


def probe_lesson_layers(namespace: dict, inputs: Mapping[str, np.ndarray]):
    """What ``conv1``, ``conv2`` and the layers of ``features`` compute, and the shapes they give."""
    import torch

    generator = torch.Generator().manual_seed(MEASURE_SEED)
    values: dict[str, Any] = {}
    measured: dict[int, dict] = {}
    for name, shape in (("conv1", (1, 1, 200, 200)), ("conv2", (1, 16, 100, 100))):
        layer = namespace.get(name)
        out = called(layer, torch.zeros(*shape)) if layer is not None else None
        values[name] = measured[id(layer)] = measure(layer, generator) if layer is not None else {"kind": "missing"}
        values[f"{name}_shape"] = None if out is None else list(out.shape)
    try:
        values.update(describe_features(namespace["features"], generator, measured))
    except Exception as error:  # noqa: BLE001 - conv1 and conv2 keep their checks
        values["features_error"] = f"{type(error).__name__}: {error}"[:300]
    return values, {}


def used_parameters(net: Any, x: Any, generator: Any) -> list[dict[str, Any]]:
    """Each parameter's shape, and whether changing it changes ``net(x)`` (forward uses it)."""
    import torch

    base = called(net, x)
    found = []
    for parameter in islice(net.parameters(), MAX_LAYERS):
        saved = parameter.detach().clone()
        with torch.no_grad():
            parameter.add_(torch.randn(parameter.shape, generator=generator).to(parameter.dtype))
            out = called(net, x)
            parameter.copy_(saved)
        changed = base is not None and out is not None and not same(out, base.detach().float().cpu())
        found.append({"shape": list(parameter.shape), "used": changed})
    return found


def conv_calls(net: Any, x: Any, generator: Any) -> list[dict[str, Any]]:
    """The layers holding a 4-D weight, measured, with the input shape forward gives each, in the order called."""
    layers = [module for module in islice(net.modules(), MAX_LAYERS)
              if any(p.dim() == 4 for p in module.parameters(recurse=False))]
    calls: list[tuple[Any, list[int]]] = []
    hooks = [module.register_forward_hook(lambda module, args, out: calls.append((module, list(args[0].shape))))
             for module in layers]
    try:
        called(net, x)
    finally:
        for hook in hooks:
            hook.remove()
    return [{**(measure_conv(module, generator) or {"kind": "other"}), "input": shape} for module, shape in calls]


def probe_cnn_classifier(namespace: dict, inputs: Mapping[str, np.ndarray]):
    """``CNN()`` on two RGB 130x130 batches (the first one twice): output shapes and scores, its convs as called,
    and which weights it uses."""
    import torch

    generator = torch.Generator().manual_seed(MEASURE_SEED)
    x, x2 = (torch.rand(2, 3, 130, 130, generator=generator) for _ in range(2))
    cnn = namespace["CNN"]()
    cnn.eval()
    with torch.no_grad():
        out = cnn(x)  # an error here is the probe's error, told to the student
    again, out2, given = called(cnn, x), called(cnn, x2), called(namespace.get("cnn"), x)
    scores = {name: _numpy(value) for name, value in (("scores", out), ("again", again), ("other", out2))
              if isinstance(value, torch.Tensor)}
    return {"out_shape": list(out.shape),
            "depends_on_input": out is not None and out2 is not None and not same(out2, out.float().cpu()),
            "cnn_shape": None if given is None else list(given.shape),
            "convs": conv_calls(cnn, x, generator), "parameters": used_parameters(cnn, x[:1], generator)}, scores


PROBES = {"conv_net": probe_conv_net, "lesson_layers": probe_lesson_layers,
          "cnn_classifier": probe_cnn_classifier}
