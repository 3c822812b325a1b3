"""Pictures for the feedback page, drawn by the grader from validated artifacts (never from student HTML).

Each assignment folder's ``figures.py`` lists its pictures (``FIGURES``); the shared drawing
helpers are :mod:`grader.feedback.mosaic` and :mod:`grader.feedback.chart`. Each picture is a PNG named
``figure-<name>.png`` in the submission's ``autograded/`` folder; one that cannot be drawn
(the student's names are missing or malformed) is simply left out.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from grader.assignments import figures
from grader.feedback.chart import Series, line_chart_png
from grader.feedback.mosaic import Panel, grid_png, matrix_png
from grader.pipeline.artifacts import ArtifactError, Artifacts

FIGURE_PREFIX = "figure-"


def warm_up() -> None:
    """Draw each kind of picture once, so that a submission's first picture costs no more than the next."""
    grid_png([("warm-up", [Panel("signed", np.eye(3), "signed", kernel=True),
                           Panel("magnitude", np.eye(3), "magnitude")])])
    matrix_png(np.eye(2, dtype=int), "warm-up", "rows", "columns")
    line_chart_png([Series("warm-up", np.arange(3.0))], "x", "y", ("lowest", 0, 1))


def write_figures(artifacts: Artifacts, out_dir: Path) -> list[Path]:
    """Draw every picture of the assignment that the artifacts allow; the paths written."""
    for stale in out_dir.glob(f"{FIGURE_PREFIX}*"):
        stale.unlink()
    written = []
    for draw in figures(artifacts.assignment):
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
