"""The mnist_mlp feedback pictures: the learning curves and the saved model's confusion matrix on held-out digits."""

from __future__ import annotations

import numpy as np

from grader.feedback.chart import Series, line_chart_png
from grader.feedback.mosaic import matrix_png
from grader.pipeline.artifacts import Artifacts

Figure = tuple[str, str, bytes]  # (name, caption, PNG)


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


FIGURES = (learning_curves, confusion_matrix)
