"""Feedback pages for students, made only from the grader's own results (never student HTML)."""

from __future__ import annotations

import base64
import html
from pathlib import Path

from grader.results import SubmissionResult, write_atomically

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 52rem; margin: 2rem auto; color: #222; }
h1 { font-size: 1.4rem; } table { border-collapse: collapse; width: 100%; }
td, th { border-bottom: 1px solid #ddd; padding: .4rem .6rem; text-align: left; vertical-align: top; }
.pass { color: #1a7f37; } .fail { color: #b42318; } .score { white-space: nowrap; font-weight: 600; }
pre { white-space: pre-wrap; margin: 0; font-family: inherit; }
figure { margin: 1.2rem 0; }
figure img { max-width: 100%; height: auto; box-sizing: border-box; border: 1px solid #eee; }
figcaption { color: #555; font-size: .9rem; }
"""


def _message_html(output: str) -> str:
    lines = []
    for line in output.splitlines():
        css = "pass" if line.startswith("PASS:") else "fail" if line.startswith("FAIL:") else ""
        lines.append(f'<div class="{css}">{html.escape(line)}</div>')
    return "\n".join(lines)


def _figures_html(figures: list[tuple[str, bytes]]) -> str:
    if not figures:
        return ""
    items = "\n".join(f'<figure><img alt="{html.escape(caption)}" src="data:image/png;base64,'
                      f'{base64.b64encode(png).decode("ascii")}"><figcaption>{html.escape(caption)}</figcaption></figure>'
                      for caption, png in figures)
    return f"<h2>Pictures</h2>\n{items}"


def feedback_html(result: SubmissionResult, figures: list[tuple[str, bytes]] | None = None) -> str:
    """A self-contained HTML page: per grade id, the score and what the checks found, then the pictures."""
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
</tbody></table>
{_figures_html(figures or [])}
</body></html>
"""


def write_feedback(course: Path, result: SubmissionResult) -> Path:
    """Write ``feedback/<student>/<assignment>/<assignment>.html``."""
    from grader.figures import read_figures

    path = course / "feedback" / result.student / result.assignment / f"{result.assignment}.html"
    figures = read_figures(course / "autograded" / result.student / result.assignment)
    write_atomically(path, feedback_html(result, figures))
    return path
