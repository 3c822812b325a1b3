"""mnist_mlp's checks measure, never believe (issue 17, item 2): a trained model must have learned.

Each fake below passed checks that believed a type, a list of layers or a loss history written by
hand; the probes and the hidden checks run in this process (tests/measuring.py), on weights saved
here (a short training for the honest case), never by executing the notebook.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from grader.assignments import mnist_mlp
from grader.loaders import make_loaders
from grader.pipeline.export import describe
from tests.measuring import artifacts_of, probe_namespace, read_only_inputs, run_checks, shares, submission

ASSIGNMENT = "mnist_mlp"
PARAMETERS = {**mnist_mlp.PARAMETERS, "threshold": 0.85}


@pytest.fixture(scope="module")
def inputs() -> dict[str, np.ndarray]:
    return read_only_inputs(ASSIGNMENT, PARAMETERS)


@pytest.fixture(scope="module")
def net() -> type:
    """The reference solution's ``Net``."""
    namespace, errors = probe_namespace(ASSIGNMENT, submission(ASSIGNMENT, {}))
    assert not errors
    return namespace["Net"]


def valid_loss(model: torch.nn.Module, inputs: dict) -> float:
    """The mean cross-entropy of ``model`` in eval mode on the notebook's validation split."""
    model.eval()
    with torch.no_grad():
        scores = model(torch.from_numpy(np.array(inputs["valid_images"])))
    return float(F.cross_entropy(scores, torch.from_numpy(np.array(inputs["valid_labels"]))))


def graded(train_losses: list[float], valid_losses: list[float], inputs: dict, workdir: Path,
           cells: dict[str, str] | None = None) -> tuple[dict[str, float], dict[str, str]]:
    """(fraction per grade id, message per failed check) for model.pt in ``workdir`` and this history."""
    values = {name: describe(value)[0] for name, value in
              (("train_losses", train_losses), ("valid_losses", valid_losses), ("test_accuracy", 0.5))}
    artifacts = artifacts_of(ASSIGNMENT, cells or {}, inputs, workdir, json.loads(json.dumps(values)), PARAMETERS)
    outcomes = run_checks(artifacts)
    return shares(ASSIGNMENT, outcomes), {o.name: o.message for o in outcomes if not o.passed}


@pytest.mark.parametrize("seed", [0, 99], ids=["the-notebook-seed", "another-seed"])
def test_a_hand_written_history_with_untrained_weights_scores_zero(seed, net, inputs, tmp_path: Path,
                                                                   monkeypatch) -> None:
    """The issue's fake: a falling history ending at the untrained model's real loss, the untrained weights saved."""
    monkeypatch.chdir(tmp_path)
    torch.manual_seed(seed)
    np.random.seed(seed)
    model = net()
    torch.save(model.state_dict(), "model.pt")
    real = valid_loss(model, inputs)
    fractions, failed = graded([2.9, 2.6, 2.31], [real + 0.2, real + 0.1, real], inputs, tmp_path)
    assert fractions["mlp_train"] == 0.0, failed
    assert "expected a loss well below chance" in failed["test_losses_fall"]
    told = failed["test_checkpoint_loads_into_net"]
    assert ("weights Net() starts from" in told) if seed == 0 else ("no better than an untrained Net()" in told)


def test_a_model_that_learned_keeps_every_training_point(net, inputs, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    torch.manual_seed(0)
    model, loaders = net(), make_loaders(seed=0, batch_size=100)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    train_losses, valid_losses = [], []
    for _ in range(1):  # one epoch of Adam: a held-out loss near 0.5
        model.train()
        total = 0.0
        for images, labels in loaders.train:
            optimizer.zero_grad()
            loss = F.cross_entropy(model(images), labels)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(images)
        train_losses.append(total / len(loaders.train.dataset))
        valid_losses.append(valid_loss(model, inputs))
        if valid_losses[-1] == min(valid_losses):
            torch.save(model.state_dict(), "model.pt")
    fractions, failed = graded(train_losses, valid_losses, inputs, tmp_path)
    assert fractions["mlp_train"] == 1.0, failed


def test_a_layer_forward_never_uses_does_not_count(inputs, tmp_path: Path) -> None:
    cell = '''
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(784, 512)
        self.out = nn.Linear(784, 10)

    def forward(self, x):
        return F.log_softmax(self.out(x.flatten(1)), dim=1)

model = Net()
'''
    artifacts = artifacts_of(ASSIGNMENT, {"mlp_model": cell}, inputs, tmp_path, {}, PARAMETERS)
    failed = {o.name: o.message for o in run_checks(artifacts) if not o.passed}
    assert "found 1: [[10, 784]]" in failed["test_net_has_a_hidden_layer_and_a_nonlinearity"]


CLAIMED_LOSS_AND_OPTIMIZER = '''
class Claimed(nn.Module):
    @property
    def __class__(self):
        return nn.CrossEntropyLoss

    def forward(self, scores, labels):
        return scores.abs().mean()

class Idle:
    param_groups = [{"params": list(model.parameters())}]

    @property
    def __class__(self):
        return torch.optim.SGD

    def zero_grad(self):
        pass

    def step(self, closure=None):
        pass

criterion = Claimed()
optimizer = Idle()
'''


def test_a_loss_and_an_optimizer_that_claim_their_types_are_judged_by_what_they_do(inputs, tmp_path: Path) -> None:
    artifacts = artifacts_of(ASSIGNMENT, {"mlp_loss_optimizer": CLAIMED_LOSS_AND_OPTIMIZER}, inputs, tmp_path,
                             {}, PARAMETERS)
    outcomes = run_checks(artifacts)
    failed = {o.name: o.message for o in outcomes if not o.passed}
    assert shares(ASSIGNMENT, outcomes)["mlp_loss_optimizer"] == 0.0
    assert "computes another loss" in failed["test_criterion_fits_the_output"]
    assert "did not move" in failed["test_optimizer_holds_every_parameter"]


def test_a_loss_function_that_computes_cross_entropy_is_one(inputs, tmp_path: Path) -> None:
    """Judged by what it computes: ``F.cross_entropy`` is the lesson's criterion, though not an nn.Module."""
    cell = "criterion = F.cross_entropy\noptimizer = torch.optim.SGD(model.parameters(), lr=0.01)\n"
    outcomes = run_checks(artifacts_of(ASSIGNMENT, {"mlp_loss_optimizer": cell}, inputs, tmp_path, {}, PARAMETERS))
    assert shares(ASSIGNMENT, outcomes)["mlp_loss_optimizer"] == 1.0
