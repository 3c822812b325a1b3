"""Example submissions of the repo's course: each assignment folder's ``examples.py``, built by grader.course.examples.

Each variant names what it must do: ``correct-*`` earns full marks, ``mistake-*`` loses the
points of the checks it breaks (``expected``: grade id -> fraction of its points that remains).
Solution cells a variant does not mention get the reference solution.
"""

from __future__ import annotations

from pathlib import Path

from grader.course.catalog import course_catalog
from grader.course.examples import Variant, build, course_examples, reference_cells

REPO = Path(__file__).resolve().parent.parent
CATALOG = course_catalog(REPO)
ASSIGNMENTS = CATALOG.assignments  # the repo course's, sorted
GRADE_IDS = CATALOG.grade_ids  # per assignment, from its source notebook
VARIANTS = list(course_examples(REPO))
# Graded in the default test tier; the rest of VARIANTS only in the slow tier.
QUICK = {"correct-reference-mnist_mlp", "correct-reference-custom_filters", "correct-reference-conv_layers",
         "correct-reference-cnn_quiz", "mistake-softmax-before-cross-entropy", "mistake-convolve2d-flips-kernel",
         "mistake-wrong-flatten-size", "mistake-quiz-shapes-hwc", "correct-convolve2d-pad-and-windows",
         "correct-reference-pooling_layers", "mistake-pooling-stride-ignored"}

__all__ = ["ASSIGNMENTS", "GRADE_IDS", "QUICK", "VARIANTS", "Variant", "build", "reference_cells"]
