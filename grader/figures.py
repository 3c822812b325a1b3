"""Pictures for the feedback page, drawn by the grader from validated artifacts (never from student HTML).

One function per assignment (a small registry): ``mnist_mlp`` gets its learning curves and its
confusion matrix on the held-out digits, ``conv_layers`` its feature maps on an unseen road,
``custom_filters`` its filters' outputs beside the expected ones. Each picture is a PNG named
``figure-<name>.png`` in the submission's ``autograded/`` folder; one that cannot be drawn
(the student's names are missing or malformed) is simply left out.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import numpy as np

from grader.artifacts import ArtifactError, Artifacts

FIGURE_PREFIX = "figure-"
Figure = tuple[str, str, bytes]  # (name, caption, PNG)


def _png(figure: object) -> bytes:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=80)  # type: ignore[attr-defined]
    plt.close(figure)  # type: ignore[arg-type]
    return buffer.getvalue()


def _pyplot():  # noqa: ANN202 - matplotlib's module
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def warm_up() -> None:
    """Import matplotlib and draw once, so that a submission's first picture costs no more than the next."""
    plt = _pyplot()
    figure, axis = plt.subplots(figsize=(1, 1))
    axis.imshow(np.zeros((2, 2)), cmap="gray")
    axis.plot([0, 1], [0, 1])
    _png(figure)


def learning_curves(artifacts: Artifacts) -> Figure:
    """Training and validation loss per epoch, the saved epoch marked."""
    plt = _pyplot()
    train, valid = artifacts.array("train_losses", ndim=1), artifacts.array("valid_losses", ndim=1)
    if not len(train):
        raise ValueError("no epoch recorded")
    figure, axis = plt.subplots(figsize=(5, 3))
    axis.plot(range(1, len(train) + 1), train, label="training")
    axis.plot(range(1, len(valid) + 1), valid, label="validation")
    if len(valid):
        best = int(np.argmin(valid))
        axis.scatter([best + 1], [valid[best]], color="black", zorder=3, label="lowest validation")
    axis.set_xlabel("epoch")
    axis.set_ylabel("loss")
    axis.legend()
    figure.tight_layout()
    return "learning-curves", "Your learning curves: loss per epoch", _png(figure)


def confusion_matrix(artifacts: Artifacts) -> Figure:
    """The saved model's confusion matrix on the grader's held-out digits."""
    plt = _pyplot()
    scores, labels = artifacts.probe("mlp_train").arrays["heldout"], artifacts.inputs["heldout_labels"]
    predicted = np.asarray(scores).argmax(axis=1)
    matrix = np.zeros((10, 10), dtype=int)
    np.add.at(matrix, (np.asarray(labels, dtype=int), predicted), 1)
    figure, axis = plt.subplots(figsize=(4.2, 3.8))
    axis.imshow(matrix, cmap="Blues")
    for (row, column), count in np.ndenumerate(matrix):
        if count:
            axis.text(column, row, str(count), ha="center", va="center", fontsize=6,
                      color="white" if count > matrix.max() / 2 else "black")
    axis.set_xlabel("predicted digit")
    axis.set_ylabel("true digit")
    axis.set_xticks(range(10))
    axis.set_yticks(range(10))
    accuracy = np.trace(matrix) / max(matrix.sum(), 1)
    axis.set_title(f"held-out digits: {accuracy:.1%} right", fontsize=9)
    figure.tight_layout()
    return "confusion-matrix", "Your saved model on 1,000 digits it never saw", _png(figure)


def feature_maps(artifacts: Artifacts) -> Figure:
    """The conv net's stages on the first unseen road: each filter after conv, ReLU and pooling."""
    plt = _pyplot()
    arrays = artifacts.probe("conv_net").arrays
    stages = [("conv", arrays["conv_x"]), ("ReLU", arrays["activated_x"]), ("pool", arrays["pooled_x"])]
    n_filters = min(4, stages[0][1].shape[1])
    figure, axes = plt.subplots(3, n_filters, figsize=(2.2 * n_filters, 5.6), squeeze=False)
    for row, (stage, maps) in enumerate(stages):
        for column in range(n_filters):
            axes[row][column].imshow(maps[0, column], cmap="gray")
            axes[row][column].set_title(f"filter {column + 1}: {stage}", fontsize=8)
            axes[row][column].axis("off")
    figure.tight_layout()
    return "feature-maps", "Your network's feature maps on a road it never saw", _png(figure)


def filter_outputs(artifacts: Artifacts) -> Figure:
    """``convolve2d``'s output on an unseen image beside what cv2.filter2D gives."""
    import cv2

    plt = _pyplot()
    image, kernel = artifacts.inputs["image_0"], artifacts.inputs["kernel_0"]
    expected = cv2.filter2D(image.astype(np.float64), cv2.CV_64F, kernel.astype(np.float64),
                            borderType=cv2.BORDER_CONSTANT)
    yours = artifacts.probe("convolve2d").arrays["out_0"]
    figure, axes = plt.subplots(1, 3, figsize=(9, 3))
    for axis, (title, picture) in zip(axes, (("unseen image", image), ("your convolve2d", yours),
                                             ("expected (cv2.filter2D)", expected)), strict=True):
        axis.imshow(picture, cmap="gray")
        axis.set_title(title, fontsize=9)
        axis.axis("off")
    figure.tight_layout()
    return "convolve2d", "Your convolve2d beside the expected output", _png(figure)


FIGURES: dict[str, tuple[Callable[[Artifacts], Figure], ...]] = {
    "mnist_mlp": (learning_curves, confusion_matrix),
    "conv_layers": (feature_maps,),
    "custom_filters": (filter_outputs,),
    "cnn_quiz": (),
}


def write_figures(artifacts: Artifacts, out_dir: Path) -> list[Path]:
    """Draw every picture of the assignment that the artifacts allow; the paths written."""
    for stale in out_dir.glob(f"{FIGURE_PREFIX}*"):
        stale.unlink()
    written = []
    for draw in FIGURES.get(artifacts.assignment, ()):
        try:
            name, caption, png = draw(artifacts)
        except (ArtifactError, KeyError, IndexError, ValueError, TypeError):
            continue  # the check's own message says what is missing
        path = out_dir / f"{FIGURE_PREFIX}{name}.png"
        path.write_bytes(png)
        path.with_suffix(".txt").write_text(caption, encoding="utf-8")
        written.append(path)
    return written


def read_figures(folder: Path) -> list[tuple[str, bytes]]:
    """(caption, PNG) of the pictures :func:`write_figures` left in ``folder``, in name order."""
    figures = []
    for path in sorted(folder.glob(f"{FIGURE_PREFIX}*.png")):
        caption = path.with_suffix(".txt")
        figures.append((caption.read_text(encoding="utf-8") if caption.is_file() else path.stem, path.read_bytes()))
    return figures
