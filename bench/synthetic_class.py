"""A synthetic class for the benchmarks: N students x the course's assignments, deterministic.

Each student hands in, per assignment, one of three kinds in rotation: the reference solution,
a mistaken variant of ``tests/submissions.py`` (one that executes but loses points; the
variants rotate too), or the untouched release notebook.
"""

from __future__ import annotations

import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from grader.course.layout import release_notebook  # noqa: E402
from tests.submissions import (  # noqa: E402
    ASSIGNMENTS,  # noqa: E402
    VARIANTS,
    Variant,
    build,
)

KINDS = ("reference", "mistake", "untouched")
# Mistakes that run to the end of the notebook and lose part of the points; an assignment not named
# here (one added later) takes every mistake its folder's examples declare.
MISTAKES: dict[str, tuple[str, ...]] = {
    "mnist_mlp": ("mistake-softmax-before-cross-entropy", "mistake-last-epoch-weights",
                  "mistake-eval-mode-missing-in-validation", "mistake-optimizer-misses-layers",
                  "mistake-hard-coded-test-accuracy", "mistake-dropout-always-on"),
    "custom_filters": ("mistake-sobel-wrong-direction", "mistake-convolve2d-flips-kernel",
                       "mistake-blur-not-normalised", "mistake-convolve2d-calls-opencv",
                       "mistake-high-pass-integer-weights", "mistake-convolve2d-reflect-padding"),
    "conv_layers": ("mistake-conv-with-bias", "mistake-conv1-stride-1", "mistake-relu-missing",
                    "mistake-conv2-no-padding"),
    "cnn_quiz": ("mistake-size-without-floor", "mistake-params-without-bias", "mistake-quiz-shapes-hwc"),
}
VARIANTS_BY_NAME = {variant.name: variant for variant in VARIANTS}


@dataclass(frozen=True)
class ClassSubmission:
    """One notebook of the synthetic class and what it holds (``reference``, a variant name, ``untouched``)."""

    student: str
    assignment: str
    content: str


def student_id(index: int) -> str:
    """The id of the ``index``-th student (``student-01``, ...)."""
    return f"student-{index + 1:02d}"


def mistakes_of(assignment: str) -> tuple[str, ...]:
    """The mistaken example submissions of ``assignment``, by name."""
    return tuple(v.name for v in VARIANTS if v.assignment == assignment and v.name.startswith("mistake-"))


def plan_class(n_students: int) -> list[ClassSubmission]:
    """Who hands in what: the kind rotates over students and assignments, the mistakes over students."""
    plan = []
    for index in range(n_students):
        for position, assignment in enumerate(ASSIGNMENTS):
            kind = KINDS[(index + position) % len(KINDS)]
            if kind == "mistake":
                mistakes = MISTAKES.get(assignment) or mistakes_of(assignment)
                kind = mistakes[(index // len(KINDS)) % len(mistakes)]
            plan.append(ClassSubmission(student_id(index), assignment, kind))
    return plan


def submission_notebook(course: Path, item: ClassSubmission) -> nbformat.NotebookNode:
    """The notebook ``item`` describes, built from the course's release and source."""
    if item.content == "untouched":
        return nbformat.read(release_notebook(course, item.assignment), as_version=4)
    if item.content == "reference":
        return build(course, Variant(f"correct-reference-{item.assignment}", item.assignment))
    return build(course, VARIANTS_BY_NAME[item.content])


def build_class(course: Path, n_students: int) -> list[ClassSubmission]:
    """A course folder (source/, release/, nbgrader_config.py of the repo) with the class in submitted/."""
    course.mkdir(parents=True, exist_ok=True)
    for folder in ("source", "release"):
        shutil.copytree(ROOT / folder, course / folder)
    shutil.copy(ROOT / "nbgrader_config.py", course / "nbgrader_config.py")
    plan = plan_class(n_students)
    for item in plan:
        target = course / "submitted" / item.student / item.assignment / f"{item.assignment}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(submission_notebook(course, item), target)
    return plan


def copy_class(template: Path, target: Path) -> Path:
    """A fresh copy of the class (course files and submissions only) for one grading mode."""
    target.mkdir(parents=True)
    for folder in ("source", "release", "submitted"):
        shutil.copytree(template / folder, target / folder)
    shutil.copy(template / "nbgrader_config.py", target / "nbgrader_config.py")
    return target
