"""Pictures for the feedback page, drawn by the grader from validated artifacts (never from student HTML).

Functions per assignment (a small registry): ``mnist_mlp`` gets its learning curves and its
confusion matrix on the held-out digits, ``conv_layers`` its feature maps on an unseen road,
``custom_filters`` its kernels (``sobel_x``, ``blur_then_edges``, ``high_pass_5x5``) at work on
an unseen road and its ``convolve2d``, each beside the expected result. Each picture is a PNG named
``figure-<name>.png`` in the submission's ``autograded/`` folder; one that cannot be drawn
(the student's names are missing or malformed) is simply left out.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from grader.artifacts import ArtifactError, Artifacts
from grader.chart import Series, line_chart_png
from grader.filter_figures import KERNEL_FIGURES, Figure
from grader.mosaic import Panel, grid_png, matrix_png

FIGURE_PREFIX = "figure-"


def warm_up() -> None:
    """Draw each kind of picture once, so that a submission's first picture costs no more than the next."""
    grid_png([("warm-up", [Panel("signed", np.eye(3), "signed", kernel=True),
                           Panel("magnitude", np.eye(3), "magnitude")])])
    matrix_png(np.eye(2, dtype=int), "warm-up", "rows", "columns")
    line_chart_png([Series("warm-up", np.arange(3.0))], "x", "y", ("lowest", 0, 1))


def learning_curves(artifacts: Artifacts) -> Figure:
    """Training and validation loss per epoch, the saved epoch marked."""
    train, valid = artifacts.array("train_losses", ndim=1), artifacts.array("valid_losses", ndim=1)
    if not len(train):
        raise ValueError("no epoch recorded")
    marked = ("lowest validation", 1, int(np.argmin(valid)) + 1) if len(valid) else None
    png = line_chart_png([Series("training", train), Series("validation", valid)], "epoch", "loss", marked)
    return "learning-curves", "Your learning curves: loss per epoch", png


def worst_confusions(matrix: np.ndarray, count: int = 3) -> list[tuple[int, int, int]]:
    """(true digit, predicted digit, times) of the largest off-diagonal cells, largest first."""
    off_diagonal = matrix * (1 - np.eye(len(matrix), dtype=matrix.dtype))
    largest = np.argsort(off_diagonal, axis=None)[::-1][:count]
    trues, guesses = np.unravel_index(largest, matrix.shape)
    return [(int(true), int(guess), int(off_diagonal[true, guess])) for true, guess in zip(trues, guesses, strict=True)
            if off_diagonal[true, guess] > 0]


def confusion_matrix(artifacts: Artifacts) -> Figure:
    """The saved model's confusion matrix on the grader's held-out digits, every count written on it."""
    scores, labels = artifacts.probe("mlp_train").arrays["heldout"], artifacts.inputs["heldout_labels"]
    predicted = np.asarray(scores).argmax(axis=1)
    matrix = np.zeros((10, 10), dtype=int)
    np.add.at(matrix, (np.asarray(labels, dtype=int), predicted), 1)
    accuracy = np.trace(matrix) / max(matrix.sum(), 1)
    png = matrix_png(matrix, f"held-out digits: {accuracy:.1%} right", "rows: the true digit",
                     "columns: the digit your model predicted")
    mixed = "; ".join(f"{true} read as {guess} {times} times" for true, guess, times in worst_confusions(matrix))
    caption = f"Your saved model on {matrix.sum():,} digits it never saw"
    caption += f" (most mixed up: {mixed})" if mixed else ""
    return "confusion-matrix", caption, png


def feature_maps(artifacts: Artifacts) -> Figure:
    """The conv net's stages on the first unseen road: each filter after conv, ReLU and pooling."""
    arrays = artifacts.probe("conv_net").arrays
    stages = [("conv", arrays["conv_x"]), ("ReLU", arrays["activated_x"]), ("pool", arrays["pooled_x"])]
    n_filters = min(4, stages[0][1].shape[1])
    rows = [(stage, [Panel(f"filter {column + 1}", maps[0, column]) for column in range(n_filters)])
            for stage, maps in stages]
    return "feature-maps", "Your network's feature maps on a road it never saw", grid_png(rows)


def filter_outputs(artifacts: Artifacts) -> Figure:
    """``convolve2d``'s output on an unseen image beside what cv2.filter2D gives."""
    import cv2

    image, kernel = artifacts.inputs["image_0"], artifacts.inputs["kernel_0"]
    expected = cv2.filter2D(image.astype(np.float64), cv2.CV_64F, kernel.astype(np.float64),
                            borderType=cv2.BORDER_CONSTANT)
    yours = artifacts.probe("convolve2d").arrays["out_0"]
    if yours.ndim != 2 or not yours.size:
        raise ValueError("convolve2d's output is not a picture")
    panels = [Panel("unseen image", image), Panel("your convolve2d", yours), Panel("expected (cv2.filter2D)", expected)]
    return "convolve2d", "Your convolve2d beside the expected output", grid_png([("", panels)])


FIGURES: dict[str, tuple[Callable[[Artifacts], Figure], ...]] = {
    "mnist_mlp": (learning_curves, confusion_matrix),
    "conv_layers": (feature_maps,),
    "custom_filters": (*KERNEL_FIGURES, filter_outputs),
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
