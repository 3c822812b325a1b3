"""The conv_layers feedback picture: the student's feature maps on an unseen road."""

from __future__ import annotations

from grader.feedback.mosaic import Panel, grid_png
from grader.pipeline.artifacts import Artifacts

Figure = tuple[str, str, bytes]  # (name, caption, PNG)


def feature_maps(artifacts: Artifacts) -> Figure:
    """The conv net's stages on the first unseen road: each filter after conv, ReLU and pooling."""
    arrays = artifacts.probe("conv_net").arrays
    stages = [("conv", arrays["conv_x"]), ("ReLU", arrays["activated_x"]), ("pool", arrays["pooled_x"])]
    n_filters = min(4, stages[0][1].shape[1])
    rows = [(stage, [Panel(f"filter {column + 1}", maps[0, column]) for column in range(n_filters)])
            for stage, maps in stages]
    return "feature-maps", "Your network's feature maps on a road it never saw", grid_png(rows)


FIGURES = (feature_maps,)
