"""Pictures for the feedback page, drawn by the grader from validated artifacts (never from student HTML).

Functions per assignment (a small registry): ``mnist_mlp`` gets its learning curves and its
confusion matrix on the held-out digits, ``conv_layers`` its feature maps on an unseen road,
``custom_filters`` its kernels (``sobel_x``, ``blur_then_edges``, ``high_pass_5x5``) at work on
an unseen road and its ``convolve2d``, each beside the expected result. Each picture is a PNG named
``figure-<name>.png`` in the submission's ``autograded/`` folder; one that cannot be drawn
(the student's names are missing or malformed) is simply left out.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

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


SOBEL_X = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=np.float64)
BOX_BLUR = np.full((3, 3), 1 / 9)
HIGH_PASS_5X5 = np.full((5, 5), -1 / 24)
HIGH_PASS_5X5[2, 2] = 1.0  # the lesson's: the centre pixel minus the mean of its 24 neighbours
MAX_KERNEL = 15  # a side; a larger "kernel" is not drawn
Panel = tuple[str, np.ndarray, str]  # (title, picture, how: "kernel", "signed", "gray" or "magnitude")
Rows = list[tuple[str, list[Panel]]]  # ("yours" or "expected", that row's panels)


def student_kernel(artifacts: Artifacts, name: str) -> np.ndarray:
    """The validated 2-D kernel ``name``; ValueError when it is empty or larger than MAX_KERNEL a side."""
    kernel = artifacts.array(name, ndim=2)
    if not 0 < min(kernel.shape) <= max(kernel.shape) <= MAX_KERNEL:
        raise ValueError(f"`{name}` of shape {kernel.shape} is not a kernel to draw")
    return kernel


def filtered(image: np.ndarray, *kernels: np.ndarray) -> np.ndarray:
    """``image`` through each kernel in turn, as cv2.filter2D does it, in float64 (signs kept)."""
    import cv2

    out = np.asarray(image, dtype=np.float64)
    for kernel in kernels:
        out = cv2.filter2D(out, cv2.CV_64F, kernel)
    if not np.isfinite(out).all():
        raise ValueError("the filtered picture overflows")
    return out


def sobel_like(kernel: np.ndarray) -> np.ndarray:
    """Sobel x with the sign of ``kernel`` (either sign is right), so both rows can be compared."""
    negated = kernel.shape == SOBEL_X.shape and float(np.sum(kernel * SOBEL_X)) < 0
    return -SOBEL_X if negated else SOBEL_X


def sobel_rows(artifacts: Artifacts) -> Rows:
    """``sobel_x`` and its signed response on the unseen road; the expected Sobel x below."""
    road, mine = artifacts.inputs["road"], student_kernel(artifacts, "sobel_x")
    return [("yours", [("sobel_x", mine, "kernel"), ("on an unseen road", filtered(road, mine), "signed")]),
            ("expected", [("Sobel x", sobel_like(mine), "kernel"),
                          ("on the same road", filtered(road, sobel_like(mine)), "signed")])]


def blur_rows(artifacts: Artifacts) -> Rows:
    """``blur_kernel``, the road it blurs, then ``sobel_x`` on that; a 3x3 box blur and Sobel x below."""
    road = artifacts.inputs["road"]
    blur, sobel = student_kernel(artifacts, "blur_kernel"), student_kernel(artifacts, "sobel_x")
    rows = []
    for label, (blur_, sobel_) in (("yours", (blur, sobel)), ("expected", (BOX_BLUR, sobel_like(sobel)))):
        rows.append((label, [("blur_kernel" if label == "yours" else "3x3 box blur", blur_, "kernel"),
                             ("blurred road", filtered(road, blur_), "gray"),
                             ("blurred, then sobel_x", filtered(road, blur_, sobel_), "signed")]))
    return rows


def high_pass_rows(artifacts: Artifacts) -> Rows:
    """``high_pass_5x5`` and the size of its response on the unseen road; the lesson's kernel below."""
    road, mine = artifacts.inputs["road"], student_kernel(artifacts, "high_pass_5x5")
    rows = []
    for label, title, kernel in (("yours", "high_pass_5x5", mine), ("expected", "centre minus mean", HIGH_PASS_5X5)):
        rows.append((label, [(title, kernel, "kernel"),
                             ("|response| on an unseen road", np.abs(filtered(road, kernel)), "magnitude")]))
    return rows


def _panel(figure: Any, axis: Any, panel: Panel) -> None:
    title, picture, how = panel
    limit = max(float(np.abs(picture).max()), 1e-12)
    options = {"kernel": {"cmap": "coolwarm", "vmin": -limit, "vmax": limit},
               "signed": {"cmap": "coolwarm", "vmin": -limit, "vmax": limit},
               "gray": {"cmap": "gray", "vmin": 0, "vmax": 255}, "magnitude": {"cmap": "magma"}}[how]
    shown = axis.imshow(picture, **options)
    axis.set_title(title, fontsize=9)
    axis.set_xticks([])
    axis.set_yticks([])
    if how != "kernel":
        figure.colorbar(shown, ax=axis, fraction=0.035)
    elif max(picture.shape) <= 7:  # small enough to read each weight
        size = min(9.0, 33 / max(picture.shape))
        for (row, column), value in np.ndenumerate(picture):
            axis.text(column, row, f"{value + 0.0:.2g}", ha="center", va="center", fontsize=size)


def yours_beside_expected(rows: Rows) -> Any:
    """A grid of pictures, a row for "yours" and one for "expected", kernels first."""
    plt = _pyplot()
    columns = len(rows[0][1])
    figure, axes = plt.subplots(len(rows), columns, figsize=(2.4 + 3.4 * (columns - 1), 2.7 * len(rows)),
                                squeeze=False, gridspec_kw={"width_ratios": [0.7] + [1] * (columns - 1)})
    for row, (label, panels) in enumerate(rows):
        for column, panel in enumerate(panels):
            _panel(figure, axes[row][column], panel)
        axes[row][0].set_ylabel(label, fontsize=11, fontweight="bold")
    figure.tight_layout()
    return figure


def _kernel_picture(name: str, caption: str, rows_of: Callable[[Artifacts], Rows]) -> Callable[[Artifacts], Figure]:
    def draw(artifacts: Artifacts) -> Figure:
        return name, caption, _png(yours_beside_expected(rows_of(artifacts)))

    draw.__name__ = draw.__qualname__ = f"draw_{rows_of.__name__}"
    draw.__doc__ = rows_of.__doc__
    return draw


UNSEEN = "on a road you never saw: yours above, "
FIGURES: dict[str, tuple[Callable[[Artifacts], Figure], ...]] = {
    "mnist_mlp": (learning_curves, confusion_matrix),
    "conv_layers": (feature_maps,),
    "custom_filters": (
        _kernel_picture("1-sobel_x", f"sobel_x {UNSEEN}Sobel x below, with your sign (either sign is right)",
                        sobel_rows),
        _kernel_picture("2-blur_then_edges", f"blur_then_edges {UNSEEN}a 3x3 box blur then Sobel x below (any "
                        "averaging kernel whose weights sum to 1 is right; a wider one blurs more)", blur_rows),
        _kernel_picture("3-high_pass_5x5", f"high_pass_5x5 {UNSEEN}the lesson's kernel below (other decimal "
                        "weights that sum to 0 are right too)", high_pass_rows),
        filter_outputs),
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
