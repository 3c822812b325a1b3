"""Feedback pages for students, made only from the grader's own results (never student HTML)."""

from __future__ import annotations

import html
from pathlib import Path

from grader.results import SubmissionResult, write_atomically

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 52rem; margin: 2rem auto; color: #222; }
h1 { font-size: 1.4rem; } table { border-collapse: collapse; width: 100%; }
td, th { border-bottom: 1px solid #ddd; padding: .4rem .6rem; text-align: left; vertical-align: top; }
.pass { color: #1a7f37; } .fail { color: #b42318; } .score { white-space: nowrap; font-weight: 600; }
pre { white-space: pre-wrap; margin: 0; font-family: inherit; }
"""


def _message_html(output: str) -> str:
    lines = []
    for line in output.splitlines():
        css = "pass" if line.startswith("PASS:") else "fail" if line.startswith("FAIL:") else ""
        lines.append(f'<div class="{css}">{html.escape(line)}</div>')
    return "\n".join(lines)


def feedback_html(result: SubmissionResult) -> str:
    """A self-contained HTML page: per grade id, the score and what the checks found."""
    rows = "\n".join(
        f"<tr><td><code>{html.escape(test.grade_id)}</code></td>"
        f'<td class="score">{test.score:g} / {test.max_score:g}</td><td>{_message_html(test.output)}</td></tr>'
        for test in result.tests
    )
    title = f"{html.escape(result.assignment)}: feedback for {html.escape(result.student)}"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title><style>{STYLE}</style></head>
<body><h1>{title}</h1>
<p>Score: <strong>{result.score:g} / {result.max_score:g}</strong> &middot; status
<code>{html.escape(result.status.value)}</code> &middot; graded in {result.execution_time:.1f} s</p>
<p>{html.escape(result.output)}</p>
<table><thead><tr><th>part</th><th>score</th><th>what the grader checked</th></tr></thead>
<tbody>
{rows}
</tbody></table></body></html>
"""


def write_feedback(course: Path, result: SubmissionResult) -> Path:
    """Write ``feedback/<student>/<assignment>/<assignment>.html``."""
    path = course / "feedback" / result.student / result.assignment / f"{result.assignment}.html"
    write_atomically(path, feedback_html(result))
    return path
