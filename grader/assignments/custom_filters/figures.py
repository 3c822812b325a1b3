"""The custom_filters pictures: the student's kernels at work on an unseen road, beside the expected ones.

Each picture has a "yours" row and an "expected" row: the kernel first (its weights written
on it), then what it makes of the road. The kernels come from the validated artifacts; the
grader applies them itself (cv2.filter2D), so nothing the notebook drew or printed is shown.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from grader.feedback.mosaic import Panel, grid_png
from grader.pipeline.artifacts import Artifacts

Figure = tuple[str, str, bytes]  # (name, caption, PNG)

SOBEL_X = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=np.float64)
BOX_BLUR = np.full((3, 3), 1 / 9)
HIGH_PASS_5X5 = np.full((5, 5), -1 / 24)
HIGH_PASS_5X5[2, 2] = 1.0  # the lesson's: the centre pixel minus the mean of its 24 neighbours
MAX_KERNEL = 15  # a side; a larger "kernel" is not drawn
Shown = tuple[str, np.ndarray, str]  # (title, picture, how: "kernel", "signed", "gray" or "magnitude")
Rows = list[tuple[str, list[Shown]]]  # ("yours" or "expected", that row's panels)


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


def as_panel(shown: Shown) -> Panel:
    """A row entry as the mosaic draws it: kernels as signed blocks with their weights."""
    title, picture, how = shown
    return Panel(title, picture, "signed" if how == "kernel" else how, kernel=how == "kernel")


def kernel_picture(name: str, caption: str, rows_of: Callable[[Artifacts], Rows]) -> Callable[[Artifacts], Figure]:
    """A FIGURES entry: the picture ``name`` of the rows ``rows_of`` makes, with ``caption``."""
    def draw(artifacts: Artifacts) -> Figure:
        rows = [(label, [as_panel(shown) for shown in row]) for label, row in rows_of(artifacts)]
        return name, caption, grid_png(rows)

    draw.__name__ = draw.__qualname__ = f"draw_{rows_of.__name__}"
    draw.__doc__ = rows_of.__doc__
    return draw


UNSEEN = "on a road you never saw: yours above, "
KERNEL_FIGURES = (
    kernel_picture("1-sobel_x", f"sobel_x {UNSEEN}Sobel x below, with your sign (either sign is right)", sobel_rows),
    kernel_picture("2-blur_then_edges", f"blur_then_edges {UNSEEN}a 3x3 box blur then Sobel x below (any "
                   "averaging kernel whose weights sum to 1 is right; a wider one blurs more)", blur_rows),
    kernel_picture("3-high_pass_5x5", f"high_pass_5x5 {UNSEEN}the lesson's kernel below (other decimal "
                   "weights that sum to 0 are right too)", high_pass_rows),
)


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


FIGURES = (*KERNEL_FIGURES, filter_outputs)
