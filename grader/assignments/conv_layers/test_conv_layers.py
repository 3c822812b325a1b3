"""Hidden checks of conv_layers: outputs on unseen images, layer hyperparameters and shapes.

Checks marked ``grade_property`` (weights stored as given, layer sizes) count only beside a
passing value check of the same grade id (grader.checks.registry).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from grader.checks.registry import grade, grade_property
from grader.pipeline.artifacts import Artifacts
from grader.pipeline.shown import capped, shown


def reference_stages(artifacts: Artifacts) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    images = torch.from_numpy(artifacts.inputs["images"].astype(np.float32))
    weight = torch.from_numpy(artifacts.inputs["filters"].astype(np.float32)).unsqueeze(1)
    conv = F.conv2d(images, weight)
    activated = F.relu(conv)
    return conv.numpy(), activated.numpy(), F.max_pool2d(activated, 2, 2).numpy()


def assert_stage(name: str, got: np.ndarray, expected: np.ndarray) -> None:
    assert got.shape == expected.shape, f"{name} has shape {shown(got.shape)}, expected {expected.shape}"
    assert np.allclose(got, expected, atol=1e-4), (
        f"{name} differs from the expected output by up to {np.abs(got - expected).max():.3g}")


@grade_property("conv_net", weight=1)
def test_conv_layer_holds_the_filters_without_bias(artifacts: Artifacts) -> None:
    """Net(weight) has one bias-free conv layer computing with the given filters, and uses any weight it is given"""
    probe = artifacts.probe("conv_net")
    convs = probe.values["convs"]
    assert convs, "expected a conv layer (nn.Conv2d) in Net, found no layer computing a convolution with its weights"
    assert not convs[0]["bias"], "expected a conv layer without bias (bias=False), but it adds a bias"
    assert (convs[0]["stride"], convs[0]["padding"]) == ([1, 1], [0, 0]), (
        f"expected stride 1 and no padding, the conv layer computes with stride {shown(convs[0]['stride'])} "
        f"and padding {shown(convs[0]['padding'])}")
    expected = artifacts.inputs["filters"][:, None].astype(np.float64)
    got = probe.arrays["weight_0"]
    assert got.shape == expected.shape and np.allclose(got, expected), (
        f"expected the conv weights to be the given filters {expected.shape}, got others of shape {shown(got.shape)}")
    shapes = probe.values["parameter_shapes"]
    assert shapes == [[4, 1, 4, 4]], (
        f"expected the conv's (4, 1, 4, 4) weights as Net's only parameters, got {shown(shapes)}")
    other = torch.from_numpy(artifacts.inputs["other_filters"][:, None].astype(np.float32))
    expected_x = F.conv2d(torch.from_numpy(artifacts.inputs["images"].astype(np.float32)), other).numpy()
    got_x = probe.arrays.get("other_conv_x", np.zeros(0))
    assert got_x.shape == expected_x.shape and np.allclose(got_x, expected_x, atol=1e-4), (
        "expected Net(weight) to use the weight it is given, but with other weights its conv_x is not theirs")


@grade("conv_net", weight=0)
def test_locked_inputs_are_unchanged(artifacts: Artifacts) -> None:
    """the locked cells' filters, weight and gray_img are as given (no points: the grader uses its own copies)"""
    changed = artifacts.probe("conv_net").values["changed_locked"]
    assert not changed, (
        f"your notebook changed the locked {', '.join(f'`{name}`' for name in changed[:3])}: expected them as the "
        "locked cells make them; the grader checked your code with its own copies, so this costs no points")


@grade("conv_net", weight=1)
def test_conv_output_on_unseen_images(artifacts: Artifacts) -> None:
    """conv_x equals the filters' cross-correlation with images you never saw"""
    assert_stage("conv_x", artifacts.probe("conv_net").arrays["conv_x"], reference_stages(artifacts)[0])


@grade("conv_net", weight=1)
def test_activated_output_on_unseen_images(artifacts: Artifacts) -> None:
    """activated_x equals ReLU of conv_x"""
    assert_stage("activated_x", artifacts.probe("conv_net").arrays["activated_x"], reference_stages(artifacts)[1])


@grade("conv_net", weight=1)
def test_pooled_output_on_unseen_images(artifacts: Artifacts) -> None:
    """pooled_x equals 2x2 max-pooling (stride 2) of activated_x"""
    assert_stage("pooled_x", artifacts.probe("conv_net").arrays["pooled_x"], reference_stages(artifacts)[2])


CONV1 = {"kind": "Conv2d", "in": 1, "out": 16, "kernel": [2, 2], "stride": [2, 2], "padding": [0, 0]}
CONV2 = {"kind": "Conv2d", "in": 16, "out": 32, "kernel": [3, 3], "stride": [1, 1], "padding": [1, 1]}
SETTINGS = ("in", "out", "kernel", "stride", "padding")  # of a conv layer, as measured


def assert_conv(name: str, layer: dict, expected: dict) -> None:
    """``layer`` (as measured on the grader's inputs) is a convolution with the ``expected`` settings."""
    computed = f"a {layer['kind']}" if layer["kind"] != "other" else "something else"
    assert layer["kind"] == "Conv2d", (
        f"{name}: expected a layer that computes a convolution with its weights (nn.Conv2d), "
        f"but on the grader's inputs it computes {computed}")
    for key, want in expected.items():
        assert layer[key] == want, f"{name}: its {key} is {shown(layer[key])} (measured), expected {want}"


def kind(layer: dict) -> str:
    """The measured layer as named in the lesson: ``Conv2d``, ``MaxPool2d``, ``ReLU``, or ``other``."""
    if layer["kind"] == "MaxPool2d" and (layer["kernel"], layer["stride"]) != (2, 2):
        return f"MaxPool2d({layer['kernel']}, {layer['stride']})"
    return layer["kind"]


@grade("lesson_layers", weight=1)
def test_conv1(artifacts: Artifacts) -> None:
    """conv1: 1 -> 16 channels, 2x2 kernel, stride 2, no padding: 200x200 -> 100x100"""
    probe = artifacts.probe("lesson_layers").values
    assert_conv("conv1", probe["conv1"], {key: CONV1[key] for key in SETTINGS})
    assert probe["conv1_shape"] == [1, 16, 100, 100], (
        f"conv1 maps a 200x200 image to {shown(probe['conv1_shape'])}, expected [1, 16, 100, 100] (no padding)")


@grade("lesson_layers", weight=1)
def test_conv2(artifacts: Artifacts) -> None:
    """conv2: 16 -> 32 channels, 3x3 kernel, stride 1, same size out"""
    probe = artifacts.probe("lesson_layers").values
    assert_conv("conv2", probe["conv2"], {key: CONV2[key] for key in SETTINGS})
    assert probe["conv2_shape"] == [1, 32, 100, 100], (
        f"conv2 maps (16, 100, 100) to {shown((probe['conv2_shape'] or [None])[1:])}, expected [32, 100, 100]")


@grade("lesson_layers", weight=1)
def test_features(artifacts: Artifacts) -> None:
    """features: conv1, max-pool 2, ReLU, conv2, max-pool 2, ReLU: 200x200 -> (32, 25, 25)"""
    probe = artifacts.probe("lesson_layers").values
    assert "features_error" not in probe, f"expected an nn.Sequential, got {capped(probe.get('features_error'))}"
    kinds = [kind(layer) for layer in probe["features"]]
    expected = ["Conv2d", "MaxPool2d", "ReLU", "Conv2d", "MaxPool2d", "ReLU"]
    assert sorted(kinds[:3]) == sorted(expected[:3]) and sorted(kinds[3:]) == sorted(expected[3:]), (
        f"features holds {shown(kinds)} (measured), expected {expected}")
    convs = [layer for layer in probe["features"] if layer["kind"] == "Conv2d"]
    for name, layer, want in (("its first conv layer", convs[0], CONV1), ("its second conv layer", convs[1], CONV2)):
        assert_conv(f"features: {name}", layer, {key: want[key] for key in SETTINGS})
    assert probe["features_follow"], "expected features to apply its layers in order, but its output is not theirs"
    assert probe["features_shape"] == [1, 32, 25, 25], (
        f"features maps a 200x200 image to {shown(probe['features_shape'])}, expected [1, 32, 25, 25]")


CNN_CONVS = [{"in": 3, "out": 10, "kernel": [3, 3], "stride": [1, 1], "padding": [0, 0], "input": [2, 3, 130, 130]},
             {"in": 10, "out": 20, "kernel": [5, 5], "stride": [1, 1], "padding": [2, 2], "input": [2, 10, 32, 32]}]


@grade("cnn_classifier", weight=1)
def test_cnn_maps_rgb_130_to_ten_scores(artifacts: Artifacts) -> None:
    """CNN() maps (N, 3, 130, 130) to (N, 10) scores computed from the images, and so does cnn"""
    probe = artifacts.probe("cnn_classifier")
    values = probe.values
    assert values["out_shape"] == [2, 10], (
        f"CNN() maps (2, 3, 130, 130) to {shown(values['out_shape'])}, expected [2, 10]")
    assert {"scores", "again", "other"} <= set(probe.arrays), "CNN() did not give scores for every batch it was shown"
    scores, again, other = (probe.arrays[name] for name in ("scores", "again", "other"))
    assert np.isfinite(scores).all() and np.allclose(scores, again, atol=1e-5), (
        "two passes over the same images gave different scores: expected scores computed from the images")
    spread = max(np.abs(scores - other).max(), np.abs(scores[0] - scores[1]).max())
    assert values["depends_on_input"] and spread > 1e-6, (
        "expected CNN()'s scores to depend on its input, but different images get the same scores")
    assert values["cnn_shape"] == [2, 10], (
        f"expected `cnn = CNN()` to map (2, 3, 130, 130) to [2, 10], got {shown(values['cnn_shape'])}")


@grade_property("cnn_classifier", weight=1)
def test_cnn_flatten_size(artifacts: Artifacts) -> None:
    """forward applies two conv layers, the pooling between them, and a linear layer of 20 * 16 * 16 = 5,120 inputs"""
    probe = artifacts.probe("cnn_classifier").values
    unused = [parameter["shape"] for parameter in probe["parameters"] if not parameter["used"]]
    assert not unused, f"expected forward to use every layer, but weights of shape {shown(unused[0])} change nothing"
    matrices = [parameter["shape"] for parameter in probe["parameters"] if len(parameter["shape"]) == 2]
    first_in, last_out = [shape[1] for shape in matrices[:1]], [shape[0] for shape in matrices[-1:]]
    assert first_in == [5120], f"the first linear layer has {shown(first_in)} inputs, expected 5120"
    assert last_out == [10], f"the last linear layer has {shown(last_out)} outputs, expected 10"
    convs = [{key: call.get(key) for key in CNN_CONVS[0]} for call in probe["convs"]]
    assert convs == CNN_CONVS, f"forward applies the conv layers {shown(convs)} (measured), expected {CNN_CONVS}"
