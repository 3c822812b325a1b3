"""The class report's page per assignment: one row per submission, sortable and filterable offline.

Rows are plain HTML, readable without JavaScript; a short inline script (no library, no
network) sorts them when a column's heading is clicked and filters them by student name and
status. Rows leave out closing tags that HTML makes optional, and link to the feedback pages by
relative paths: about 130 bytes a row, so an assignment of 10,000 submissions stays near 1.3 MB.
"""

from __future__ import annotations

import html
from urllib.parse import quote

from grader.course.layout import FEEDBACK
from grader.pipeline.shown import points
from grader.results.records import SubmissionResult

ROSTER_STYLE = """
th[data-sort] { cursor: pointer; user-select: none; } th[aria-sort=ascending]::after { content: " \\25B2"; }
th[aria-sort=descending]::after { content: " \\25BC"; } .controls { margin: 1rem 0; display: flex; gap: 1rem; }
"""
# Sorting keys: a cell's data-v (a number) when it has one, else its text. Ties keep the current order.
ROSTER_SCRIPT = """(function () {
  var table = document.getElementById("rows"), body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows);
  var text = document.getElementById("filter"), status = document.getElementById("status");
  var count = document.getElementById("count"), heads = table.tHead.rows[0].cells, column = -1, direction = 1;
  function key(row, col) {
    var cell = row.cells[col], value = cell.getAttribute("data-v");
    return value === null ? cell.textContent.toLowerCase() : parseFloat(value);
  }
  function filter() {
    var wanted = text.value.trim().toLowerCase(), state = status.value, shown = 0;
    rows.forEach(function (row) {
      var keep = (!wanted || row.cells[0].textContent.toLowerCase().indexOf(wanted) >= 0) &&
                 (!state || row.cells[2].textContent === state);
      row.hidden = !keep; shown += keep ? 1 : 0;
    });
    count.textContent = shown + " of " + rows.length + " shown";
  }
  function sort(col) {
    direction = col === column ? -direction : 1; column = col;
    var keyed = rows.map(function (row, index) { return [key(row, col), index, row]; });
    keyed.sort(function (a, b) { return a[0] < b[0] ? -direction : a[0] > b[0] ? direction : a[1] - b[1]; });
    rows = keyed.map(function (entry) { return entry[2]; });
    var fragment = document.createDocumentFragment();
    rows.forEach(function (row) { fragment.appendChild(row); });
    body.appendChild(fragment);
    Array.prototype.forEach.call(heads, function (head, index) {
      if (index === col) head.setAttribute("aria-sort", direction > 0 ? "ascending" : "descending");
      else head.removeAttribute("aria-sort");
    });
  }
  Array.prototype.forEach.call(heads, function (head, index) {
    head.addEventListener("click", function () { sort(index); });
  });
  text.addEventListener("input", filter); status.addEventListener("change", filter); filter();
})();"""
COLUMNS = ("student", "score", "status", "seconds")


def assignment_page_name(assignment: str) -> str:
    """The file name of ``assignment``'s page inside ``report/``."""
    return f"{assignment}.html"


def feedback_link(result: SubmissionResult) -> str:
    """The relative link from ``report/`` to this submission's feedback page."""
    parts = ("..", FEEDBACK, result.student, result.assignment, f"{result.assignment}.html")
    return "/".join(quote(part) for part in parts)


def roster_row(result: SubmissionResult) -> str:
    """One submission's row: linked student, score (sorted by points), status, seconds."""
    return (f'<tr><td><a href="{html.escape(feedback_link(result))}">{html.escape(result.student)}</a>'
            f"<td data-v={result.score:g}>{points(result.score)} / {points(result.max_score)}"
            f"<td>{html.escape(result.status.value)}<td data-v={result.execution_time:.1f}>"
            f"{result.execution_time:.1f}\n")


def assignment_page_html(assignment: str, results: list[SubmissionResult], course_name: str, style: str) -> str:
    """The page of ``assignment``: its submissions (``results``), sorted by student, with sort and filter."""
    title = f"{html.escape(assignment)}: every submission ({html.escape(course_name)})"
    statuses = sorted({result.status.value for result in results})
    options = "".join(f"<option>{html.escape(status)}</option>" for status in statuses)
    heads = "".join(f'<th data-sort scope="col">{name}</th>' for name in COLUMNS)
    rows = "".join(roster_row(result) for result in sorted(results, key=lambda r: r.student))
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
            f"<style>{style}{ROSTER_STYLE}</style></head>\n<body><h1>{title}</h1>\n"
            f'<p><a href="index.html">Back to the class report</a>. Click a column\'s heading to sort by it.</p>\n'
            f'<div class="controls"><label>Student <input id="filter" type="search"></label>'
            f'<label>Status <select id="status"><option value="">any</option>{options}</select></label>'
            f'<span id="count">{len(results)} submission(s)</span></div>\n'
            f'<table id="rows"><thead><tr>{heads}</tr></thead><tbody>\n{rows}</tbody></table>\n'
            f"<script>{ROSTER_SCRIPT}</script>\n</body></html>\n")
