"""Hidden checks of mnist_mlp: the model, its loss, its training and its held-out accuracy.

Every check reads what the probe measured (grader/assignments/mnist_mlp/probe.py), never what
an object says it is: a model must have learned, measured on the grader's own held-out digits.

Checks marked ``grade_property`` (an output shape, a checkpoint that loads,
passes that agree) count only beside a passing value check of the same grade id
(grader.checks.registry).
"""

from __future__ import annotations

import math

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


CHANCE = math.log(10)  # the loss of a model that guesses among ten classes
LEARNED = CHANCE / 2  # a model that learned has a held-out loss at most this (the lesson's MLP: about 0.4),
LEARNED_ACCURACY = 0.5  # or a held-out accuracy at least this (five times chance: training only its last layer)
BETTER_THAN_INITIAL = 0.05  # a trained model's held-out loss is lower than Net()'s initial one by at least this


def predicted_loss(scores: np.ndarray, labels: np.ndarray) -> float:
    """Cross-entropy per image of the model's own prediction: probabilities, log-probabilities or logits."""
    if (scores >= 0).all() and np.allclose(scores.sum(axis=1), 1, atol=1e-3):
        picked = scores[np.arange(len(labels)), labels]
        return float(-np.log(np.clip(picked, 1e-12, None)).mean())
    return mean_loss(scores, labels)


def cross_entropy(scores: np.ndarray, targets: np.ndarray) -> tuple[float, float]:
    """(nn.CrossEntropyLoss, nn.NLLLoss) of ``scores`` for ``targets``, mean over the batch."""
    rows = np.arange(len(targets))
    return mean_loss(scores, targets), float(-scores[rows, targets].mean())


def passes_agree(arrays: dict[str, np.ndarray]) -> bool:
    """Whether the second eval-mode pass (over the first held-out images) repeats the first one."""
    again = arrays["heldout_again"]
    first = arrays["heldout"][:len(again)]
    return len(again) > 0 and first.shape == again.shape and bool(np.allclose(first, again, atol=1e-5))


def accuracy(scores: np.ndarray, labels: np.ndarray) -> float:
    return float((scores.argmax(axis=1) == labels).mean())


@grade_property("mlp_model", weight=2)
def test_net_maps_images_to_ten_scores(artifacts: Artifacts) -> None:
    """Net() maps (N, 1, 28, 28) to (N, 10) scores that depend on the image"""
    probe = artifacts.probe("mlp_model")
    for name, n in (("first", 4), ("single", 1)):
        shape = probe.arrays[name].shape
        assert shape == (n, 10), (
            f"for a batch of shape ({n}, 1, 28, 28) the output has shape {shown(shape)}, expected ({n}, 10)")
    first = probe.arrays["first"]
    assert not np.allclose(first[0], first[1:], atol=1e-6), (
        "expected scores that depend on the image, but Net() gives every image the same scores")


@grade("mlp_model", weight=1)
def test_net_has_a_hidden_layer_and_a_nonlinearity(artifacts: Artifacts) -> None:
    """Net has at least one hidden layer with a nonlinearity, and its scores depend on the image"""
    probe = artifacts.probe("mlp_model")
    used = probe.values["used_matrices"]
    assert len(used) >= 2, (
        f"expected at least 2 linear layers (a hidden layer) that forward uses, found {len(used)}: {shown(used)}")
    assert probe.values.get("input_gradient", 0.0) > 0, (
        "expected scores computed from the image x, but they do not change with x (forward ignores its input)")
    midpoint = (probe.arrays["first"] + probe.arrays["second"]) / 2
    assert not np.allclose(probe.arrays["midpoint"], midpoint, atol=1e-6), (
        "expected a nonlinearity (such as ReLU) between the layers, but the network is linear")


def criterion_kind(values: dict, inputs: dict) -> str:
    """``CrossEntropyLoss`` or ``NLLLoss``: the loss the criterion computed on known scores, else ``""``."""
    value = values["criterion_value"]
    if value is None:
        return ""
    ce, nll = cross_entropy(inputs["criterion_scores"].astype(np.float64), inputs["criterion_targets"])
    return "CrossEntropyLoss" if abs(value - ce) <= 1e-4 else "NLLLoss" if abs(value - nll) <= 1e-4 else ""


@grade("mlp_loss_optimizer", weight=2)
def test_criterion_fits_the_output(artifacts: Artifacts) -> None:
    """the criterion fits the model's output (CrossEntropyLoss on logits, NLLLoss on log-probabilities)"""
    probe = artifacts.probe("mlp_loss_optimizer")
    kind, scores = criterion_kind(probe.values, artifacts.inputs), probe.arrays["scores"]
    criterion = capped(probe.values.get("criterion_type", "something else"), MAX_VALUE_CHARS)
    raised = capped(probe.values["criterion_error"], MAX_VALUE_CHARS)
    assert kind, (f"expected a criterion that computes nn.CrossEntropyLoss or nn.NLLLoss (mean over the batch), "
                  f"but {criterion} " + (f"raised {raised}" if raised else "computes another loss"))
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
    error = capped(probe.values["optimizer_error"], MAX_VALUE_CHARS)
    assert not error, f"expected an optimizer from torch.optim whose step() works, {optimizer} raised {error}"
    moved = probe.values["moved"]
    assert moved and all(moved), (
        f"expected one step of the optimizer to update all of model.parameters(), but {moved.count(False)} of "
        f"{len(moved)} did not move")


def losses(artifacts: Artifacts) -> tuple[np.ndarray, np.ndarray]:
    train, valid = artifacts.array("train_losses", ndim=1), artifacts.array("valid_losses", ndim=1)
    epochs = int(artifacts.parameters.get("n_epochs", 0))
    if not 1 <= len(train) <= max(epochs, 1) or len(valid) != len(train):
        raise ArtifactError(f"expected one training and one validation loss per epoch (at most {epochs}), "
                            f"got {len(train)} and {len(valid)}")
    return train, valid


def assert_trained(artifacts: Artifacts) -> None:
    """model.pt holds weights that training moved: not Net()'s initial ones, and better than them on held-out digits."""
    probe = artifacts.probe("mlp_train")
    assert not probe.values["initial_weights"], (
        "model.pt holds the weights Net() starts from (with the notebook's seed): expected the trained weights")
    labels = artifacts.inputs["heldout_labels"]
    trained = predicted_loss(probe.arrays["heldout"], labels)
    initial = predicted_loss(probe.arrays["heldout_initial"], labels)
    assert trained <= initial - BETTER_THAN_INITIAL, (
        f"model.pt has a held-out loss of {trained:.3f}, no better than an untrained Net() ({initial:.3f}): "
        f"expected trained weights, at least {BETTER_THAN_INITIAL} lower")


@grade("mlp_train", weight=1)
def test_losses_fall(artifacts: Artifacts) -> None:
    """the training loss falls, and the saved model learned: on digits it never saw it does far better than chance"""
    train, _ = losses(artifacts)
    assert len(train) < 2 or train[-1] < train[0], (
        f"the training loss went from {train[0]:.4f} to {train[-1]:.4f}; expected it to fall")
    scores, labels = artifacts.probe("mlp_train").arrays["heldout"], artifacts.inputs["heldout_labels"]
    loss, right = predicted_loss(scores, labels), accuracy(scores, labels)
    assert loss <= LEARNED or right >= LEARNED_ACCURACY, (
        f"the saved model's loss on digits it never saw is {loss:.3f} and its accuracy {right:.3f}: expected a "
        f"loss well below chance (ln 10 = {CHANCE:.3f}), at most {LEARNED:.3f}, or an accuracy of at least "
        f"{LEARNED_ACCURACY}")


@grade_property("mlp_train", weight=1)
def test_checkpoint_loads_into_net(artifacts: Artifacts) -> None:
    """model.pt holds trained weights that load into Net()"""
    assert_trained(artifacts)


@grade("mlp_train", weight=1)
def test_checkpoint_is_the_best_epoch(artifacts: Artifacts) -> None:
    """model.pt holds the weights of the epoch with the lowest validation loss"""
    _, valid = losses(artifacts)
    assert_trained(artifacts)
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
