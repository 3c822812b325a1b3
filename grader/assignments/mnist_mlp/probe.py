"""Probes of mnist_mlp: the student's ``Net``, loss, optimizer and saved checkpoint.

What the checks read is measured, never believed: the layers forward uses (its output changes
with their weights), what ``criterion`` computes on known scores, which parameters one step of
``optimizer`` moves, and how the saved weights compare with the ones ``Net()`` starts from.
"""

from __future__ import annotations

from collections.abc import Mapping
from itertools import islice
from typing import Any

import numpy as np

ASSIGNMENT = "mnist_mlp"
CELLS = ("imports", "mlp_model", "model_to_device", "mlp_loss_optimizer")
CHECKPOINT = "model.pt"
MAX_PARAMETERS = 64  # parameters of one model perturbed to see whether forward uses them
SECOND_PASS = 100  # held-out images scored twice: dropout left on changes nearly every score of every image


def make_inputs(parameters: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """Random probes, the notebook's validation and test splits, and the grader's held-out digits."""
    from grader.data import heldout_digits, to_tensors
    from grader.loaders import split_validation, student_data

    dataset, seed = parameters.get("dataset", "mnist5k"), int(parameters.get("seed", 0))
    trainable, test = student_data(dataset, parameters.get("data_root", "data"))
    _, valid_index = split_validation(len(trainable), float(parameters.get("valid_size", 0.2)), seed)
    heldout = heldout_digits() if dataset == "mnist5k" else test
    rng = np.random.default_rng(seed)
    inputs = {"probe": rng.uniform(0, 1, size=(8, 1, 28, 28)).astype(np.float32),
              "criterion_scores": rng.normal(0, 2, size=(8, 10)).astype(np.float32),
              "criterion_targets": rng.integers(0, 10, size=8), "init_seed": np.array(seed)}
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


def used_matrices(model: Any, images: np.ndarray) -> list[list[int]]:
    """The shapes of the 2-D weights whose change changes ``model``'s scores on ``images`` (forward uses them)."""
    import torch

    base, used = _scores(model, images), []
    generator = torch.Generator().manual_seed(7)
    for parameter in islice(model.parameters(), MAX_PARAMETERS):
        if parameter.dim() != 2:
            continue
        saved = parameter.detach().clone()
        with torch.no_grad():
            parameter.add_(torch.randn(parameter.shape, generator=generator).to(parameter.dtype))
            changed = _scores(model, images)
            parameter.copy_(saved)
        if changed.shape != base.shape or not np.allclose(changed, base, atol=1e-6):
            used.append(list(parameter.shape))
    return used


def probe_model(namespace: dict, inputs: Mapping[str, np.ndarray]):
    """A fresh ``Net()`` in eval mode on random images and their midpoints (is it nonlinear?); the weights it uses."""
    model = namespace["Net"]()
    model.eval()
    first, second = inputs["probe"][:4], inputs["probe"][4:]
    return {"used_matrices": used_matrices(model, first), "input_gradient": _input_gradient(model, first)}, {
        "first": _scores(model, first), "second": _scores(model, second),
        "midpoint": _scores(model, (first + second) / 2), "single": _scores(model, first[:1]),
    }


def stepped(model: Any, optimizer: Any) -> tuple[list[bool], str]:
    """Which of ``model``'s parameters one step of ``optimizer`` moves, every gradient set to one; and its error."""
    import torch

    parameters = list(islice(model.parameters(), MAX_PARAMETERS))
    before = [parameter.detach().clone() for parameter in parameters]

    def closure() -> Any:
        optimizer.zero_grad()
        loss = sum(parameter.sum() for parameter in parameters)
        loss.backward()
        return loss

    try:
        with torch.enable_grad():
            optimizer.step(closure)
    except Exception as error:  # noqa: BLE001 - whatever `optimizer` is
        return [False] * len(parameters), f"{type(error).__name__}: {error}"[:300]
    return [not torch.equal(old, parameter.detach()) for old, parameter in zip(before, parameters, strict=True)], ""


def probe_loss_optimizer(namespace: dict, inputs: Mapping[str, np.ndarray]):
    """What ``criterion`` gives for known scores, which parameters a step of ``optimizer`` moves, the model's output."""
    import torch

    model, criterion, optimizer = namespace["model"], namespace["criterion"], namespace["optimizer"]
    model.eval()
    scores = _scores(model.cpu(), inputs["probe"])
    try:
        with torch.no_grad():
            loss = criterion(torch.from_numpy(inputs["criterion_scores"]),
                             torch.from_numpy(inputs["criterion_targets"]).long())
        value, criterion_error = float(loss), ""
    except Exception as error:  # noqa: BLE001 - whatever `criterion` is
        value, criterion_error = None, f"{type(error).__name__}: {error}"[:300]
    moved, optimizer_error = stepped(model, optimizer)
    return {"criterion_value": value, "criterion_error": criterion_error,
            "criterion_type": type(criterion).__name__, "optimizer_type": type(optimizer).__name__,
            "moved": moved, "optimizer_error": optimizer_error}, {"scores": scores}


def probe_checkpoint(namespace: dict, inputs: Mapping[str, np.ndarray]):
    """``model.pt`` (weights only) in a fresh ``Net()``: scores on every split, the first held-out ones twice;
    and whether it holds the weights ``Net()`` starts from under the notebook's seed, and their held-out scores."""
    import torch

    model = namespace["Net"]()
    state = torch.load(CHECKPOINT, map_location="cpu", weights_only=True)
    model.load_state_dict(state)
    model.eval()
    torch.manual_seed(int(inputs["init_seed"]))  # as the notebook's locked cell seeds before `model = Net()`
    np.random.seed(int(inputs["init_seed"]))
    initial = namespace["Net"]()
    initial.eval()
    start = initial.state_dict()
    unchanged = set(start) == set(state) and all(torch.equal(start[key], state[key].cpu()) for key in start)
    return {"initial_weights": unchanged}, {"heldout_initial": _scores(initial, inputs["heldout_images"]),
        "valid": _scores(model, inputs["valid_images"]), "test": _scores(model, inputs["test_images"]),
        "heldout": _scores(model, inputs["heldout_images"]),
        "heldout_again": _scores(model, inputs["heldout_images"][:SECOND_PASS]),
    }


PROBES = {"mlp_model": probe_model, "mlp_loss_optimizer": probe_loss_optimizer,
          "mlp_train": probe_checkpoint}
