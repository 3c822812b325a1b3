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
from grader.pipeline.shown import MAX_VALUE_CHARS, capped, shown


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
    """Net(weight) has one bias-free Conv2d whose weights are the given filters"""
    probe = artifacts.probe("conv_net")
    assert probe.values["n_convs"] == 1, f"expected one nn.Conv2d, found {shown(probe.values['n_convs'])}"
    assert probe.values["has_bias"] == [False], (
        f"expected a conv layer without bias (bias=False), got bias={shown(probe.values['has_bias'])}")
    expected = artifacts.inputs["filters"][:, None].astype(np.float64)
    got = probe.arrays["weight_0"]
    assert got.shape == expected.shape and np.allclose(got, expected), (
        f"the conv weights (shape {shown(got.shape)}) are not the given filters {expected.shape}")


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


def assert_conv(name: str, layer: dict, expected: dict) -> None:
    assert layer["kind"] == "Conv2d", f"{name}: expected an nn.Conv2d, got {capped(layer['kind'], MAX_VALUE_CHARS)}"
    for key, want in expected.items():
        assert layer[key] == want, f"{name}: {key} is {shown(layer[key])}, expected {want}"


@grade("lesson_layers", weight=1)
def test_conv1(artifacts: Artifacts) -> None:
    """conv1: 1 -> 16 channels, 2x2 kernel, stride 2, no padding: 200x200 -> 100x100"""
    probe = artifacts.probe("lesson_layers").values
    assert_conv("conv1", probe["conv1"], {"in": 1, "out": 16, "kernel": [2, 2], "stride": [2, 2]})
    assert probe["conv1_shape"] == [1, 16, 100, 100], (
        f"conv1 maps a 200x200 image to {shown(probe['conv1_shape'])}, expected [1, 16, 100, 100] (no padding)")


@grade("lesson_layers", weight=1)
def test_conv2(artifacts: Artifacts) -> None:
    """conv2: 16 -> 32 channels, 3x3 kernel, stride 1, same size out"""
    probe = artifacts.probe("lesson_layers").values
    assert_conv("conv2", probe["conv2"], {"in": 16, "out": 32, "kernel": [3, 3], "stride": [1, 1]})
    assert probe["conv2_shape"] == [1, 32, 100, 100], (
        f"conv2 maps (16, 100, 100) to {shown(probe['conv2_shape'][1:])}, expected [32, 100, 100] (padding 1)")


@grade("lesson_layers", weight=1)
def test_features(artifacts: Artifacts) -> None:
    """features: conv1, max-pool 2, ReLU, conv2, max-pool 2, ReLU: 200x200 -> (32, 25, 25)"""
    probe = artifacts.probe("lesson_layers").values
    kinds = [layer["kind"] for layer in probe["features"]]
    expected = ["Conv2d", "MaxPool2d", "ReLU", "Conv2d", "MaxPool2d", "ReLU"]
    assert sorted(kinds[:3]) == sorted(expected[:3]) and sorted(kinds[3:]) == sorted(expected[3:]), (
        f"features holds {shown(kinds)}, expected {expected}")
    assert probe["features_shape"] == [1, 32, 25, 25], (
        f"features maps a 200x200 image to {shown(probe['features_shape'])}, expected [1, 32, 25, 25]")


@grade("cnn_classifier", weight=1)
def test_cnn_maps_rgb_130_to_ten_scores(artifacts: Artifacts) -> None:
    """CNN() maps (N, 3, 130, 130) to (N, 10) scores computed from the images, and cnn is a CNN"""
    probe = artifacts.probe("cnn_classifier")
    assert probe.values["out_shape"] == [2, 10], (
        f"CNN() maps (2, 3, 130, 130) to {shown(probe.values['out_shape'])}, expected [2, 10]")
    scores, again, other = (probe.arrays[name] for name in ("scores", "again", "other"))
    assert np.isfinite(scores).all() and np.allclose(scores, again, atol=1e-5), (
        "two passes over the same images gave different scores: expected scores computed from the images")
    spread = max(np.abs(scores - other).max(), np.abs(scores[0] - scores[1]).max())
    assert spread > 1e-6, "CNN() gave the same scores for different images: expected forward to use its input"
    assert probe.values["cnn_is_module"], "expected `cnn = CNN()`, but `cnn` is not an nn.Module"


@grade_property("cnn_classifier", weight=1)
def test_cnn_flatten_size(artifacts: Artifacts) -> None:
    """the linear layer after flattening has 20 * 16 * 16 = 5,120 inputs and 10 outputs"""
    probe = artifacts.probe("cnn_classifier").values
    first_in, last_out = probe["linear_in"][:1], probe["linear_out"][-1:]
    assert first_in == [5120], f"the first linear layer has {shown(first_in)} inputs, expected 5120"
    assert last_out == [10], f"the last linear layer has {shown(last_out)} outputs, expected 10"
