"""The pooling_layers feedback picture: the student's pooling of an unseen road's feature maps beside PyTorch's.

The feature maps are the grader's (``road_maps``: a road through the lesson's four edge filters
and ReLU); the student's pooled maps come from the probe, the expected ones from
``F.max_pool2d`` / ``F.avg_pool2d`` here. Nothing the notebook drew or printed is shown.
"""

from __future__ import annotations

import numpy as np

from grader.assignments.pooling_layers.probe import ROAD_WINDOW
from grader.feedback.mosaic import Panel, grid_png
from grader.pipeline.artifacts import ArtifactError, Artifacts

Figure = tuple[str, str, bytes]  # (name, caption, PNG)
SHOWN_MAPS = 2  # the vertical-edge and its negative's feature maps
POOLINGS = (("max_pool2d", "max"), ("avg_pool2d", "avg"))


def expected_road(name: str, road_maps: np.ndarray) -> np.ndarray:
    """PyTorch's pooling ``name`` of the road's maps with a ROAD_WINDOW x ROAD_WINDOW window."""
    import torch
    import torch.nn.functional as F

    pooling = F.max_pool2d if name == "max_pool2d" else F.avg_pool2d
    return pooling(torch.from_numpy(np.array(road_maps, dtype=np.float64)), ROAD_WINDOW).numpy()  # a copy


def student_road(artifacts: Artifacts, name: str) -> np.ndarray | None:
    """The student's pooled road maps (3-D, at least SHOWN_MAPS channels), or None when there are none to draw."""
    try:
        pooled = artifacts.probe(name).arrays.get("road")
    except ArtifactError:
        return None
    if pooled is None:
        return None
    pooled = np.asarray(pooled, dtype=np.float64)
    return pooled if pooled.ndim == 3 and pooled.shape[0] >= SHOWN_MAPS and min(pooled.shape) > 0 else None


def pooled_road_rows(artifacts: Artifacts) -> list[tuple[str, list[Panel]]]:
    """The road's first maps, then per pooling a "yours" row (when drawable) and an "expected" row."""
    road_maps = artifacts.inputs["road_maps"]
    rows = [("maps", [Panel(f"feature map {c + 1} {road_maps.shape[1:]}", road_maps[c]) for c in range(SHOWN_MAPS)])]
    drawn = 0
    for name, word in POOLINGS:
        yours = student_road(artifacts, name)
        if yours is None:
            continue
        expected = expected_road(name, road_maps)
        rows.append((f"your {word}", [Panel(f"{name}, map {c + 1} {yours.shape[1:]}", yours[c])
                                          for c in range(SHOWN_MAPS)]))
        rows.append(("expected", [Panel(f"F.{name}, map {c + 1} {expected.shape[1:]}", expected[c])
                                  for c in range(SHOWN_MAPS)]))
        drawn += 1
    if not drawn:
        raise ValueError("neither pooling gave maps to draw")
    return rows


def pooled_road(artifacts: Artifacts) -> Figure:
    """The student's max and average pooling (2x2) of an unseen road's feature maps beside PyTorch's."""
    caption = ("Your max_pool2d and avg_pool2d (2x2 window) on the feature maps of a road you never saw, "
               "each above PyTorch's result")
    return "pooled-road", caption, grid_png(pooled_road_rows(artifacts))


FIGURES = (pooled_road,)
