"""Hidden checks of mnist_mlp: the model, its loss, its training and its held-out accuracy.

Checks marked ``grade_property`` (an output shape, a falling history, a checkpoint that loads,
passes that agree) count only beside a passing value check of the same grade id
(grader.checks.registry).
"""

from __future__ import annotations

import numpy as np

from grader.checks.registry import grade, grade_property
from grader.pipeline.artifacts import ArtifactError, Artifacts
from grader.pipeline.shown import MAX_VALUE_CHARS, capped, shown


def log_softmax(scores: np.ndarray) -> np.ndarray:
    shifted = scores - scores.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def mean_loss(scores: np.ndarray, labels: np.ndarray) -> float:
    """Cross-entropy per image of logits (or log-probabilities: log_softmax leaves them as they are)."""
    return float(-log_softmax(scores)[np.arange(len(labels)), labels].mean())


def passes_agree(arrays: dict[str, np.ndarray]) -> bool:
    """Whether the second eval-mode pass (over the first held-out images) repeats the first one."""
    again = arrays["heldout_again"]
    first = arrays["heldout"][:len(again)]
    return len(again) > 0 and first.shape == again.shape and bool(np.allclose(first, again, atol=1e-5))


def accuracy(scores: np.ndarray, labels: np.ndarray) -> float:
    return float((scores.argmax(axis=1) == labels).mean())


@grade_property("mlp_model", weight=2)
def test_net_maps_images_to_ten_scores(artifacts: Artifacts) -> None:
    """Net() maps (N, 1, 28, 28) to (N, 10)"""
    probe = artifacts.probe("mlp_model")
    assert probe.values["is_module"], "expected Net() to be an nn.Module"
    for name, n in (("first", 4), ("single", 1)):
        shape = probe.arrays[name].shape
        assert shape == (n, 10), (
            f"for a batch of shape ({n}, 1, 28, 28) the output has shape {shown(shape)}, expected ({n}, 10)")


@grade("mlp_model", weight=1)
def test_net_has_a_hidden_layer_and_a_nonlinearity(artifacts: Artifacts) -> None:
    """Net has at least one hidden layer with a nonlinearity, and its scores depend on the image"""
    probe = artifacts.probe("mlp_model")
    assert probe.values["n_linear"] >= 2, (
        f"expected at least 2 nn.Linear layers (a hidden layer), found {shown(probe.values['n_linear'])}")
    assert probe.values.get("input_gradient", 0.0) > 0, (
        "expected scores computed from the image x, but they do not change with x (forward ignores its input)")
    midpoint = (probe.arrays["first"] + probe.arrays["second"]) / 2
    assert not np.allclose(probe.arrays["midpoint"], midpoint, atol=1e-6), (
        "expected a nonlinearity (such as ReLU) between the layers, but the network is linear")


@grade("mlp_loss_optimizer", weight=2)
def test_criterion_fits_the_output(artifacts: Artifacts) -> None:
    """the criterion fits the model's output (CrossEntropyLoss on logits, NLLLoss on log-probabilities)"""
    probe = artifacts.probe("mlp_loss_optimizer")
    kind, scores = probe.values["criterion"], probe.arrays["scores"]
    criterion = capped(probe.values.get("criterion_type", "something else"), MAX_VALUE_CHARS)
    assert kind, f"expected nn.CrossEntropyLoss or nn.NLLLoss, got {criterion}"
    is_probability = np.allclose(scores.sum(axis=1), 1, atol=1e-3) and (scores >= 0).all()
    is_log_probability = np.allclose(np.exp(scores).sum(axis=1), 1, atol=1e-3)
    if kind == "NLLLoss":
        assert is_log_probability, (
            "NLLLoss expected log-probabilities, but the model's outputs are not: end forward() with F.log_softmax")
    else:
        assert not is_probability, (
            "CrossEntropyLoss expected logits, but the model outputs probabilities (softmax): remove the softmax")


@grade("mlp_loss_optimizer", weight=1)
def test_optimizer_holds_every_parameter(artifacts: Artifacts) -> None:
    """the optimizer updates all of the model's parameters"""
    probe = artifacts.probe("mlp_loss_optimizer")
    optimizer = capped(probe.values.get("optimizer_type", "something else"), MAX_VALUE_CHARS)
    assert probe.values["is_optimizer"], f"expected an optimizer from torch.optim, got {optimizer}"
    assert probe.values["all_parameters"], (
        "expected the optimizer to hold all of model.parameters(), but some are missing")


def losses(artifacts: Artifacts) -> tuple[np.ndarray, np.ndarray]:
    train, valid = artifacts.array("train_losses", ndim=1), artifacts.array("valid_losses", ndim=1)
    epochs = int(artifacts.parameters.get("n_epochs", 0))
    if not 1 <= len(train) <= max(epochs, 1) or len(valid) != len(train):
        raise ArtifactError(f"expected one training and one validation loss per epoch (at most {epochs}), "
                            f"got {len(train)} and {len(valid)}")
    return train, valid


@grade_property("mlp_train", weight=1)
def test_losses_fall(artifacts: Artifacts) -> None:
    """train_losses and valid_losses hold one number per epoch, and the training loss falls"""
    train, _ = losses(artifacts)
    assert len(train) < 2 or train[-1] < train[0], (
        f"the training loss went from {train[0]:.4f} to {train[-1]:.4f}; expected it to fall")


@grade_property("mlp_train", weight=1)
def test_checkpoint_loads_into_net(artifacts: Artifacts) -> None:
    """model.pt holds a state_dict that loads into Net()"""
    artifacts.probe("mlp_train")


@grade("mlp_train", weight=1)
def test_checkpoint_is_the_best_epoch(artifacts: Artifacts) -> None:
    """model.pt holds the weights of the epoch with the lowest validation loss"""
    _, valid = losses(artifacts)
    probe = artifacts.probe("mlp_train")
    assert passes_agree(probe.arrays), (
        "expected a validation loss that eval mode reproduces, but two passes of the saved model differ "
        "(dropout still active in eval mode), so the best epoch cannot be confirmed")
    scores = probe.arrays["valid"]
    measured = mean_loss(scores, artifacts.inputs["valid_labels"])
    best, closest = float(valid.min()), int(np.argmin(np.abs(valid - measured)))
    assert abs(measured - best) <= 1e-3 + 0.01 * best, (
        f"model.pt has a validation loss of {measured:.4f}, expected the lowest recorded, {best:.4f} "
        f"(epoch {int(np.argmin(valid)) + 1}); it matches epoch {closest + 1}")


@grade("mlp_test", weight=2)
def test_heldout_accuracy(artifacts: Artifacts) -> None:
    """the saved model, in eval mode, classifies digits it never saw accurately enough"""
    scores = artifacts.probe("mlp_train").arrays["heldout"]
    measured = accuracy(scores, artifacts.inputs["heldout_labels"])
    threshold = float(artifacts.parameters["threshold"])
    assert measured >= threshold, f"held-out accuracy {measured:.3f}, expected at least {threshold:.2f}"


@grade_property("mlp_test", weight=1)
def test_eval_mode_is_deterministic(artifacts: Artifacts) -> None:
    """in eval mode two forward passes agree (dropout off)"""
    probe = artifacts.probe("mlp_train")
    assert passes_agree(probe.arrays), (
        "expected two forward passes in eval mode to agree, they differ: does your dropout follow self.training?")


@grade("mlp_test", weight=1)
def test_test_accuracy_matches_the_model(artifacts: Artifacts) -> None:
    """test_accuracy is what the saved model scores on the notebook's test images"""
    claimed = artifacts.number("test_accuracy")
    assert 0.0 <= claimed <= 1.0, f"expected test_accuracy as a fraction in [0, 1], got {shown(claimed)}"
    measured = accuracy(artifacts.probe("mlp_train").arrays["test"], artifacts.inputs["test_labels"])
    assert abs(claimed - measured) <= 0.02, (
        f"expected test_accuracy within 0.02 of {measured:.3f} (the saved model in eval mode on the test "
        f"images), got {claimed:.3f}")
