"""``grader report``: the class at a glance, in HTML pages made from the grader's own results.

``report/index.html`` holds the summaries: score distribution per assignment, pass rate per
grade id (the parts students fail most come first), status counts, the slowest submissions and
one line per assignment. Each assignment's page (grader.feedback.roster) lists its submissions,
linked to their feedback pages. Every name and message is escaped; the chart is an SVG embedded
in the page and the pages need no network, so the report works offline.
"""

from __future__ import annotations

import base64
import html
import statistics
from collections import Counter
from pathlib import Path
from urllib.parse import quote

from grader.feedback.histogram import score_histograms_svg
from grader.feedback.page import STYLE
from grader.feedback.roster import assignment_page_html, assignment_page_name, feedback_link
from grader.pipeline.shown import points
from grader.results.records import SubmissionResult, write_atomically

SLOWEST = 10
REPORT_STYLE = STYLE + """
body { max-width: 64rem; } h2 { font-size: 1.15rem; margin-top: 2rem; }
.bar { background: #d0d7de; height: .7rem; display: inline-block; vertical-align: middle; }
.charts img { max-width: 100%; height: auto; box-sizing: border-box; border: 1px solid #eee; }
"""


def pass_rates(results: list[SubmissionResult]) -> list[tuple[str, str, float, float, int]]:
    """(assignment, grade id, full-marks share, mean share of points, submissions), lowest full-marks share first."""
    shares: dict[tuple[str, str], list[float]] = {}
    for result in results:
        for test in result.tests:
            share = test.score / test.max_score if test.max_score else 0.0
            shares.setdefault((result.assignment, test.grade_id), []).append(share)
    rows = [(a, g, sum(s >= 0.9999 for s in values) / len(values), statistics.fmean(values), len(values))
            for (a, g), values in shares.items()]
    return sorted(rows, key=lambda row: (row[2], row[3], row[0], row[1]))


def _bar(share: float) -> str:
    return f'<span class="bar" style="width:{share * 8:.2f}rem"></span> {share:.0%}'


def _sections(results: list[SubmissionResult]) -> list[str]:
    chart = base64.b64encode(score_histograms_svg(results).encode("utf-8")).decode("ascii")
    rates = "\n".join(f"<tr><td><code>{html.escape(a)}</code></td><td><code>{html.escape(g)}</code></td>"
                      f"<td>{_bar(full)}</td><td>{mean:.0%}</td><td>{n}</td></tr>"
                      for a, g, full, mean, n in pass_rates(results))
    statuses = "\n".join(f"<tr><td><code>{html.escape(status)}</code></td><td>{count}</td></tr>"
                         for status, count in Counter(r.status.value for r in results).most_common())
    slowest = "\n".join(_submission_row(r) for r in sorted(results, key=lambda r: -r.execution_time)[:SLOWEST])
    assignments = "\n".join(_assignment_row(a, rows) for a, rows in sorted(by_assignment(results).items()))
    head = "<tr><th>student</th><th>assignment</th><th>score</th><th>status</th><th>time</th></tr>"
    return [
        f'<h2>Scores</h2><div class="charts"><img alt="score distribution per assignment" '
        f'src="data:image/svg+xml;base64,{chart}"></div>',
        "<h2>Parts students fail most</h2><table><thead><tr><th>assignment</th><th>grade id</th>"
        f"<th>full marks</th><th>mean</th><th>submissions</th></tr></thead><tbody>{rates}</tbody></table>",
        f"<h2>Statuses</h2><table><thead><tr><th>status</th><th>submissions</th></tr></thead><tbody>{statuses}"
        "</tbody></table>",
        f"<h2>Slowest submissions</h2><table><thead>{head}</thead><tbody>{slowest}</tbody></table>",
        "<h2>Every submission, by assignment</h2><table><thead><tr><th>assignment</th><th>submissions</th>"
        f"<th>mean score</th><th>not OK</th></tr></thead><tbody>{assignments}</tbody></table>",
    ]


def by_assignment(results: list[SubmissionResult]) -> dict[str, list[SubmissionResult]]:
    """``results`` grouped by assignment."""
    groups: dict[str, list[SubmissionResult]] = {}
    for result in results:
        groups.setdefault(result.assignment, []).append(result)
    return groups


def _assignment_row(assignment: str, results: list[SubmissionResult]) -> str:
    earned, possible = sum(r.score for r in results), sum(r.max_score for r in results) or 1.0
    failed = sum(r.status.value != "OK" for r in results)
    link = html.escape(quote(assignment_page_name(assignment)))
    return (f'<tr><td><a href="{link}"><code>{html.escape(assignment)}</code></a></td><td>{len(results)}</td>'
            f"<td>{earned / possible:.0%}</td><td>{failed}</td></tr>")


def _submission_row(result: SubmissionResult) -> str:
    return (f'<tr><td><a href="{html.escape(feedback_link(result))}">{html.escape(result.student)}</a></td>'
            f"<td><code>{html.escape(result.assignment)}</code></td>"
            f'<td class="score">{points(result.score)} / {points(result.max_score)}</td>'
            f"<td><code>{html.escape(result.status.value)}</code></td><td>{result.execution_time:.1f} s</td></tr>")


def class_report_html(results: list[SubmissionResult], course_name: str) -> str:
    """The whole report page for ``results``."""
    title = f"Class report: {html.escape(course_name)}"
    students = len({r.student for r in results})
    earned, possible = sum(r.score for r in results), sum(r.max_score for r in results) or 1.0
    summary = (f"<p>{students} student(s), {len(results)} graded notebook(s); {points(earned)} of {points(possible)} "
               f"points ({earned / possible:.0%}).</p>")
    body = summary + "\n".join(_sections(results)) if results else "<p>Nothing graded yet: run grader autograde.</p>"
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
            f"<style>{REPORT_STYLE}</style></head>\n<body><h1>{title}</h1>\n{body}\n</body></html>\n")


def write_class_report(course: Path, results: list[SubmissionResult]) -> Path:
    """Write ``report/index.html`` and one page per assignment in the course folder; returns the index."""
    folder = course / "report"
    for assignment, rows in by_assignment(results).items():
        page = assignment_page_html(assignment, rows, course.name, REPORT_STYLE)
        write_atomically(folder / assignment_page_name(assignment), page)
    path = folder / "index.html"
    write_atomically(path, class_report_html(results, course.name))
    return path
