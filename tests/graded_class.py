"""The default tier's graded class: how it is made, shared by tests/conftest.py's ``graded_course``.

The references of every assignment, a few mistakes and the untouched release, graded once per
session (tests/test_autograde.py checks the scores, tests/test_browser.py renders the pages).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat

from tests.submissions import ASSIGNMENTS, QUICK, VARIANTS, Variant, build

# Fewer epochs than the course's own grading settings keep this suite fast; the threshold
# follows (the reference reaches about 0.88 after 12 epochs).
TEST_SETTINGS = '''
c.GraderSettings.parameters = {"mnist_mlp": {"n_epochs": 12, "seed": 0, "dataset": "mnist5k"}}
c.GraderSettings.accuracy_thresholds = {"mnist5k": 0.85, "mnist": 0.97}
'''
UNTOUCHED = "untouched-release"
# Pictures on a reference submission's feedback page, per assignment.
FIGURES = {"mnist_mlp": 2, "custom_filters": 4, "conv_layers": 1, "cnn_quiz": 0, "pooling_layers": 1}

QUICK_VARIANTS = [variant for variant in VARIANTS if variant.name in QUICK]
SLOW_VARIANTS = [variant for variant in VARIANTS if variant.name not in QUICK]


def make_course(repo: Path, root: Path, variants: list[Variant], untouched: bool) -> Path:
    """A course folder with the repo's notebooks and one submitted/ folder per example."""
    course = root / "course"
    for folder in ("source", "release"):
        shutil.copytree(repo / folder, course / folder)
    config = (repo / "nbgrader_config.py").read_text() + TEST_SETTINGS
    (course / "nbgrader_config.py").write_text(config)
    for variant in variants:
        target = course / "submitted" / variant.name / variant.assignment / f"{variant.assignment}.ipynb"
        target.parent.mkdir(parents=True)
        nbformat.write(build(course, variant), target)
    for assignment in ASSIGNMENTS if untouched else ():
        target = course / "submitted" / UNTOUCHED / assignment / f"{assignment}.ipynb"
        target.parent.mkdir(parents=True)
        shutil.copy(repo / "release" / assignment / f"{assignment}.ipynb", target)
    return course
