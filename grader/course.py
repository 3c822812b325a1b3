"""The course contract in code: assignment ids, grade ids and the course folder layout."""

from __future__ import annotations

from pathlib import Path
from typing import Any

GRADE_IDS: dict[str, tuple[str, ...]] = {
    "mnist_mlp": ("mlp_model", "mlp_loss_optimizer", "mlp_train", "mlp_test"),
    "custom_filters": ("sobel_x", "blur_then_edges", "high_pass_5x5", "convolve2d"),
    "conv_layers": ("conv_net", "lesson_layers", "cnn_classifier"),
    "cnn_quiz": ("conv_output_size", "conv_param_count", "quiz_answers"),
}
ASSIGNMENTS: tuple[str, ...] = tuple(GRADE_IDS)


class CourseError(ValueError):
    """A course folder, assignment or notebook that does not match the contract."""

    def __init__(self, message: str, *, path: str = "", assignment: str = "") -> None:
        super().__init__(message)
        self.path = path
        self.assignment = assignment


def check_assignment(assignment: str) -> str:
    """Return ``assignment`` if the contract knows it, else raise :class:`CourseError`."""
    if assignment not in GRADE_IDS:
        known = ", ".join(ASSIGNMENTS)
        raise CourseError(f"unknown assignment {assignment!r}; the course has {known}", assignment=assignment)
    return assignment


def source_notebook(course_root: Path, assignment: str) -> Path:
    """Where the instructor notebook of ``assignment`` lives."""
    return Path(course_root) / "source" / assignment / f"{assignment}.ipynb"


def release_notebook(course_root: Path, assignment: str) -> Path:
    """Where the student version of ``assignment`` lives."""
    return Path(course_root) / "release" / assignment / f"{assignment}.ipynb"


EXPORTED_NAMES: dict[str, tuple[str, ...]] = {
    "mnist_mlp": ("train_losses", "valid_losses", "test_accuracy"),
    "custom_filters": ("gray", "sobel_x", "filtered_x", "blur_kernel", "blurred_edges", "high_pass_5x5"),
    "conv_layers": (),
    "cnn_quiz": ("q1_shape", "q1_params", "q2_shape", "q2_params", "q3_depth", "q3_size", "q3_flat",
                 "q4_padding"),
}


def grade_points(source: Any) -> dict[str, float]:
    """Points per grade id: the graded test cells between its solution cell and the next one."""
    points: dict[str, float] = {}
    current = ""
    for cell in source.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("solution"):
            current = meta.get("grade_id", "")
            points.setdefault(current, 0.0)
        elif meta.get("grade") and current:
            points[current] += float(meta.get("points", 0) or 0)
    return points
