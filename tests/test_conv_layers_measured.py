"""conv_layers' checks measure what the student's layers compute, never what they say (issue 17, items 2 and 4).

Each fake below passed a check that believed an attribute, a type, or a network's list of layers;
each test runs the probes and the hidden checks in this process (tests/measuring.py).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from grader.assignments.conv_layers import examples
from tests.measuring import REPO, artifacts_of, read_only_inputs, run_checks, shares
from tests.submissions import QUICK, reference_cells

ASSIGNMENT = "conv_layers"
FULL = {"conv_net": 1.0, "lesson_layers": 1.0, "cnn_classifier": 1.0}


@pytest.fixture(scope="module")
def inputs() -> dict[str, np.ndarray]:
    return read_only_inputs(ASSIGNMENT, {"seed": 0})


def graded(cells: dict[str, str], inputs: dict, tmp_path: Path) -> tuple[dict[str, float], dict[str, str]]:
    """(fraction per grade id, message per failed check)."""
    outcomes = run_checks(artifacts_of(ASSIGNMENT, cells, inputs, tmp_path))
    return shares(ASSIGNMENT, outcomes), {o.name: o.message for o in outcomes if not o.passed}


@pytest.mark.parametrize("variant", [variant for variant in examples.EXAMPLES if variant.name not in QUICK],
                         ids=lambda variant: variant.name)
def test_the_examples_keep_their_scores(variant, inputs, tmp_path: Path) -> None:
    """The examples the default tier does not grade end to end (tests/submissions.py's QUICK), graded here."""
    fractions, failed = graded(variant.cells, inputs, tmp_path)
    assert fractions == pytest.approx({**FULL, **variant.expected}), failed
    assert all("expected" in message for message in failed.values()), failed


KERNEL_SIZE_SET_AFTERWARDS = '''
conv1 = nn.Conv2d(1, 16, 3, stride=2, padding=1)
conv1.kernel_size = (2, 2)
conv2 = nn.Conv2d(16, 32, 3, padding=1)
features = nn.Sequential(conv1, nn.MaxPool2d(2, 2), nn.ReLU(), conv2, nn.MaxPool2d(2, 2), nn.ReLU())
'''


def test_a_kernel_size_set_after_construction_is_not_believed(inputs, tmp_path: Path) -> None:
    fractions, failed = graded({"lesson_layers": KERNEL_SIZE_SET_AFTERWARDS}, inputs, tmp_path)
    assert fractions["lesson_layers"] == pytest.approx(1 / 3)  # conv2 is right
    assert "kernel is [3, 3] (measured), expected [2, 2]" in failed["test_conv1"]
    assert "features: its first conv layer" in failed["test_features"]


def test_a_stride_set_after_construction_is_what_the_layer_computes(inputs, tmp_path: Path) -> None:
    """The attribute a layer's forward reads is its behaviour: measured, a stride set later is a stride."""
    cell = examples.LESSON_LAYERS.format(stride=1, padding=1).replace("\nconv2", "\nconv1.stride = (2, 2)\nconv2")
    fractions, failed = graded({"lesson_layers": cell}, inputs, tmp_path)
    assert fractions["lesson_layers"] == 1.0, failed


CLAIMS_TO_BE_CONV2D = '''
class Claimed(nn.Module):
    def __init__(self, weight):
        super().__init__()
        self.weight = nn.Parameter(weight)
        self.bias = None
        self.kernel_size, self.stride = (4, 4), (1, 1)

    @property
    def __class__(self):
        return nn.Conv2d

    def forward(self, x):
        return F.conv2d(x, self.weight.flip(-1))

class Net(nn.Module):
    def __init__(self, weight):
        super().__init__()
        self.conv = Claimed(weight)
        self.pool = nn.MaxPool2d(2, 2)

    def forward(self, x):
        conv_x = self.conv(x)
        activated_x = F.relu(conv_x)
        return conv_x, activated_x, self.pool(activated_x)

model = Net(weight)
'''


def test_a_module_claiming_to_be_conv2d_is_judged_by_what_it_computes(inputs, tmp_path: Path) -> None:
    fractions, failed = graded({"conv_net": CLAIMS_TO_BE_CONV2D}, inputs, tmp_path)
    assert fractions["conv_net"] == 0.0
    assert "found no layer computing a convolution" in failed["test_conv_layer_holds_the_filters_without_bias"]


def test_a_net_that_ignores_the_weight_it_is_given_loses_that_check(inputs, tmp_path: Path) -> None:
    cell = examples.CONV_NET_WITH_BIAS.replace("kernel_size=(4, 4))", "kernel_size=(4, 4), bias=False)").replace(
        "nn.Parameter(weight)", "nn.Parameter(torch.from_numpy(filters).unsqueeze(1).float())")
    fractions, failed = graded({"conv_net": cell}, inputs, tmp_path)
    assert fractions["conv_net"] == pytest.approx(3 / 4)
    assert "use the weight it is given" in failed["test_conv_layer_holds_the_filters_without_bias"]


FORWARD_IGNORES_ITS_LAYERS = '''
class CNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 10, 3)
        self.conv2 = nn.Conv2d(10, 20, 5, padding=2)
        self.pool4, self.pool2 = nn.MaxPool2d(4, 4), nn.MaxPool2d(2, 2)
        self.fc = nn.Linear(5120, 10)

    def forward(self, x):
        return self.fc(torch.zeros(x.shape[0], 5120))

cnn = CNN()
'''


def test_a_forward_that_ignores_its_layers_scores_zero(inputs, tmp_path: Path) -> None:
    fractions, failed = graded({"cnn_classifier": FORWARD_IGNORES_ITS_LAYERS}, inputs, tmp_path)
    assert fractions["cnn_classifier"] == 0.0
    assert "depend on its input" in failed["test_cnn_maps_rgb_130_to_ten_scores"]
    assert "change nothing" in failed["test_cnn_flatten_size"]


def test_pooling_in_the_wrong_order_is_seen_by_the_second_conv(inputs, tmp_path: Path) -> None:
    """2x2 then 4x4 pooling gives the same 5,120 inputs; the second conv then sees 64x64 maps."""
    cell = examples.CNN.format(flat="20 * 16 * 16").replace("self.pool4(F.relu", "self.pool2(F.relu").replace(
        "self.pool2(F.relu(self.conv2", "self.pool4(F.relu(self.conv2")
    fractions, failed = graded({"cnn_classifier": cell}, inputs, tmp_path)
    assert fractions["cnn_classifier"] == 0.5
    assert "[2, 10, 64, 64]" in failed["test_cnn_flatten_size"]


SEQUENTIAL_THAT_SKIPS_ITS_LAYERS = '''
class Listed(nn.Sequential):
    def forward(self, x):
        return F.max_pool2d(F.relu(self[3](F.max_pool2d(x.repeat(1, 16, 1, 1)[:, :, ::2, ::2], 2))), 2)

conv1 = nn.Conv2d(1, 16, 2, stride=2)
conv2 = nn.Conv2d(16, 32, 3, padding=1)
features = Listed(conv1, nn.MaxPool2d(2, 2), nn.ReLU(), conv2, nn.MaxPool2d(2, 2), nn.ReLU())
'''


def test_a_sequential_whose_forward_skips_its_layers_loses_features(inputs, tmp_path: Path) -> None:
    fractions, failed = graded({"lesson_layers": SEQUENTIAL_THAT_SKIPS_ITS_LAYERS}, inputs, tmp_path)
    assert fractions["lesson_layers"] == pytest.approx(2 / 3)
    assert "apply its layers in order" in failed["test_features"]


OVERWRITES_LOCKED = "\nfilters = np.ones((2, 3, 3))\nweight = torch.zeros(1)\ngray_img = gray_img[::2, ::2] * 0.5\n"


@pytest.mark.parametrize(("cell", "expected"), [
    (None, 1.0),
    (examples.CONV_NET_WITH_BIAS.replace("kernel_size=(4, 4))", "kernel_size=(4, 4), bias=False)").replace(
        "activated_x = F.relu(conv_x)", "activated_x = conv_x"), 2 / 4),
], ids=["otherwise-right", "otherwise-wrong-relu-missing"])
def test_overwritten_locked_inputs_move_no_target_and_are_told(cell, expected, inputs, tmp_path: Path) -> None:
    """The same answers score as without the overwrite (the reference, and the example mistake-relu-missing)."""
    base = cell if cell is not None else reference_cells(REPO, ASSIGNMENT)["conv_net"]
    fractions, failed = graded({"conv_net": base + OVERWRITES_LOCKED}, inputs, tmp_path)
    assert fractions == pytest.approx({**FULL, "conv_net": expected})
    told = failed["test_locked_inputs_are_unchanged"]
    assert all(f"`{name}`" in told for name in ("filters", "weight", "gray_img")) and "costs no points" in told


def test_the_reference_leaves_the_locked_inputs_alone(inputs, tmp_path: Path) -> None:
    artifacts = artifacts_of(ASSIGNMENT, {}, inputs, tmp_path)
    assert artifacts.probes["conv_net"].values["changed_locked"] == []
    measured = artifacts.probes["lesson_layers"].values
    assert measured["conv1"] == {"kind": "Conv2d", "in": 1, "out": 16, "kernel": [2, 2], "stride": [2, 2],
                                 "padding": [0, 0], "bias": True}
    assert [layer["kind"] for layer in measured["features"]] == ["Conv2d", "MaxPool2d", "ReLU"] * 2


@pytest.mark.parametrize(("layer", "settings"), [
    ("nn.Conv2d(3, 5, (3, 2), stride=(2, 1), padding=(1, 0), bias=False)",
     {"in": 3, "out": 5, "kernel": [3, 2], "stride": [2, 1], "padding": [1, 0], "bias": False}),
    ('nn.Conv2d(4, 6, 5, padding="same")', {"kernel": [5, 5], "stride": [1, 1], "padding": [2, 2], "bias": True}),
    ("nn.Sequential(nn.Conv2d(2, 2, 3, stride=3))", {"in": 2, "kernel": [3, 3], "stride": [3, 3], "padding": [0, 0]}),
    ("nn.MaxPool2d(3, 2)", {"kind": "MaxPool2d", "kernel": 3, "stride": 2}),
    ("nn.MaxPool2d(2)", {"kind": "MaxPool2d", "kernel": 2, "stride": 2}),
    ("nn.ReLU(inplace=True)", {"kind": "ReLU"}),
    ("nn.AvgPool2d(2)", {"kind": "other"}),
    ("nn.Conv2d(1, 1, 3, dilation=2)", {"kind": "other"}),
])
def test_a_layer_is_measured_by_what_it_computes(layer: str, settings: dict) -> None:
    import torch
    from torch import nn  # noqa: F401 - the layers above are written with it

    from grader.assignments.conv_layers.layers import measure

    module = eval(layer)  # noqa: S307 - the test's own layers
    if "Pool" not in layer:  # a pooling layer's forward reads its kernel_size: that one is behaviour
        module.kernel_size, module.in_channels = (7, 7), 99  # attributes that lie change nothing measured
    measured = measure(module, torch.Generator().manual_seed(0))
    assert {key: measured.get(key) for key in settings} == settings
