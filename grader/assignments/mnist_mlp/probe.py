"""Probes of mnist_mlp: the student's ``Net``, loss, optimizer and saved checkpoint."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

ASSIGNMENT = "mnist_mlp"
CELLS = ("imports", "mlp_model", "model_to_device", "mlp_loss_optimizer")
CHECKPOINT = "model.pt"
SECOND_PASS = 100  # held-out images scored twice: dropout left on changes nearly every score of every image


def make_inputs(parameters: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """Random probes, the notebook's validation and test splits, and the grader's held-out digits."""
    from grader.data import heldout_digits, to_tensors
    from grader.loaders import split_validation, student_data

    dataset, seed = parameters.get("dataset", "mnist5k"), int(parameters.get("seed", 0))
    trainable, test = student_data(dataset, parameters.get("data_root", "data"))
    _, valid_index = split_validation(len(trainable), float(parameters.get("valid_size", 0.2)), seed)
    heldout = heldout_digits() if dataset == "mnist5k" else test
    inputs = {"probe": np.random.default_rng(seed).uniform(0, 1, size=(8, 1, 28, 28)).astype(np.float32)}
    for name, digits in (("valid", trainable.subset(valid_index)), ("test", test), ("heldout", heldout)):
        images, labels = to_tensors(digits)
        inputs[f"{name}_images"], inputs[f"{name}_labels"] = images.numpy(), labels.numpy()
    return inputs


def _scores(model: Any, images: np.ndarray) -> np.ndarray:
    import torch

    with torch.no_grad():
        out = model(torch.from_numpy(images))
    return np.asarray(out.detach().cpu().numpy(), dtype=np.float64)


def _input_gradient(model: Any, images: np.ndarray) -> float:
    """How much the scores change with the input: the size of d(sum of squared scores)/d(images), 0 for none."""
    import torch

    x = torch.from_numpy(images.copy()).requires_grad_(True)
    out = model(x)
    if not isinstance(out, torch.Tensor) or not out.requires_grad:
        return 0.0
    (grad,) = torch.autograd.grad(out.double().square().sum(), x, allow_unused=True)
    return 0.0 if grad is None else float(grad.abs().sum())


def probe_model(namespace: dict, inputs: Mapping[str, np.ndarray]):
    """A fresh ``Net()`` in eval mode on random images, on their midpoints (is it nonlinear?), and its gradient."""
    from torch import nn

    model = namespace["Net"]()
    model.eval()
    first, second = inputs["probe"][:4], inputs["probe"][4:]
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    return {"is_module": isinstance(model, nn.Module), "n_linear": len(linears),
            "input_gradient": _input_gradient(model, first)}, {
        "first": _scores(model, first), "second": _scores(model, second),
        "midpoint": _scores(model, (first + second) / 2), "single": _scores(model, first[:1]),
    }


def probe_loss_optimizer(namespace: dict, inputs: Mapping[str, np.ndarray]):
    """The kind of ``criterion``, whether ``optimizer`` holds every parameter, and the model's output."""
    from torch import nn, optim

    model, criterion, optimizer = namespace["model"], namespace["criterion"], namespace["optimizer"]
    kinds = {nn.CrossEntropyLoss: "CrossEntropyLoss", nn.NLLLoss: "NLLLoss"}
    held = {id(p) for group in optimizer.param_groups for p in group["params"]}
    model.eval()
    return {
        "criterion": next((name for cls, name in kinds.items() if isinstance(criterion, cls)), ""),
        "criterion_type": type(criterion).__name__,
        "is_optimizer": isinstance(optimizer, optim.Optimizer),
        "optimizer_type": type(optimizer).__name__,
        "all_parameters": all(id(p) in held for p in model.parameters()),
        "n_parameters": sum(1 for _ in model.parameters()),
    }, {"scores": _scores(model.cpu(), inputs["probe"])}


def probe_checkpoint(namespace: dict, inputs: Mapping[str, np.ndarray]):
    """Load ``model.pt`` (weights only) into a fresh ``Net()``; scores on every split, the first held-out ones twice."""
    import torch

    model = namespace["Net"]()
    state = torch.load(CHECKPOINT, map_location="cpu", weights_only=True)
    model.load_state_dict(state)
    model.eval()
    return {}, {
        "valid": _scores(model, inputs["valid_images"]), "test": _scores(model, inputs["test_images"]),
        "heldout": _scores(model, inputs["heldout_images"]),
        "heldout_again": _scores(model, inputs["heldout_images"][:SECOND_PASS]),
    }


PROBES = {"mlp_model": probe_model, "mlp_loss_optimizer": probe_loss_optimizer,
          "mlp_train": probe_checkpoint}
