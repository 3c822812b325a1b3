"""The class report's score distributions, one histogram per assignment, as a small SVG written as text.

matplotlib drew the same chart as a PNG; importing it and laying the figure out took 3 to 8 s of
``grader report`` on a loaded machine, whatever the class's size. The SVG costs milliseconds,
stays a few kB and is shown as a picture (``<img>``) without any network.
"""

from __future__ import annotations

import html

from grader.results.records import SubmissionResult

BINS = 10  # 0-10 %, ..., 90-100 % of the assignment's points
PANEL, HEIGHT = 260, 190  # pixels per assignment
LEFT, BOTTOM, TOP = 40, 40, 24
BAR, AXIS = "#4c78a8", "#5a5a5a"


def score_bins(results: list[SubmissionResult], assignment: str) -> list[int]:
    """Submissions of ``assignment`` per tenth of its points (full marks count in the last bin)."""
    counts = [0] * BINS
    for result in results:
        if result.assignment == assignment and result.max_score:
            counts[min(int(BINS * result.score / result.max_score), BINS - 1)] += 1
    return counts


def _panel(assignment: str, counts: list[int], left: int) -> str:
    top = max(counts) or 1
    width = (PANEL - LEFT - 12) / BINS
    plot = HEIGHT - BOTTOM - TOP
    parts = [f'<text x="{left + PANEL / 2:.0f}" y="16" text-anchor="middle" font-size="13">'
             f"{html.escape(assignment)}</text>"]
    for index, count in enumerate(counts):
        tall = plot * count / top
        parts.append(f'<rect x="{left + LEFT + index * width:.1f}" y="{HEIGHT - BOTTOM - tall:.1f}" '
                     f'width="{width - 1:.1f}" height="{tall:.1f}" fill="{BAR}"><title>{10 * index}-{10 * index + 10}'
                     f" %: {count}</title></rect>")
    x0, x1, y0 = left + LEFT, left + PANEL - 12, HEIGHT - BOTTOM
    parts.append(f'<path d="M{x0} {TOP} V{y0} H{x1}" stroke="{AXIS}" fill="none"/>')
    for value, x in ((0, x0), (50, (x0 + x1) / 2), (100, x1)):
        parts.append(f'<text x="{x:.0f}" y="{y0 + 14}" text-anchor="middle" font-size="10">{value}</text>')
    parts.append(f'<text x="{x0 - 4}" y="{TOP + 4}" text-anchor="end" font-size="10">{top}</text>'
                 f'<text x="{x0 - 4}" y="{y0}" text-anchor="end" font-size="10">0</text>'
                 f'<text x="{(x0 + x1) / 2:.0f}" y="{HEIGHT - 8}" text-anchor="middle" font-size="10">'
                 "score (% of points)</text>")
    return "".join(parts)


def score_histograms_svg(results: list[SubmissionResult]) -> str:
    """An SVG with each assignment's score histogram, side by side (the y axis: submissions, to the tallest bar)."""
    assignments = sorted({result.assignment for result in results}) or ["(none graded)"]
    width = PANEL * len(assignments)
    panels = "".join(_panel(a, score_bins(results, a), i * PANEL) for i, a in enumerate(assignments))
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{HEIGHT}" '
            f'viewBox="0 0 {width} {HEIGHT}" font-family="sans-serif"><rect width="100%" height="100%" fill="white"/>'
            f"{panels}</svg>")
