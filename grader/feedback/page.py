"""Feedback pages for students, made only from the grader's own results (never student HTML)."""

from __future__ import annotations

import base64
import html
from pathlib import Path

from grader.course.layout import autograded_folder, feedback_page
from grader.pipeline.shown import (
    MAX_FEEDBACK_BYTES,
    MAX_NAME_CHARS,
    MAX_SUMMARY_CHARS,
    capped,
    capped_output,
    output_limit,
    points,
)
from grader.results.records import SubmissionResult, write_atomically

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 52rem; margin: 2rem auto; color: #222; }
h1 { font-size: 1.4rem; } table { border-collapse: collapse; width: 100%; }
td, th { border-bottom: 1px solid #ddd; padding: .4rem .6rem; text-align: left; vertical-align: top; }
.pass { color: #1a7f37; } .fail { color: #b42318; } .score { white-space: nowrap; font-weight: 600; }
pre { white-space: pre-wrap; margin: 0; font-family: inherit; }
figure { margin: 1.2rem 0; }
figure img { max-width: 100%; height: auto; box-sizing: border-box; border: 1px solid #eee; }
figcaption, .note { color: #555; font-size: .9rem; }
"""
PICTURES_HEADING = "<h2>Pictures</h2>"


def _message_html(output: str, limit: int) -> str:
    lines = []
    for line in capped_output(output, limit).split("\n"):  # the grader's lines: never split inside one
        css = "pass" if line.startswith("PASS:") else "fail" if line.startswith("FAIL:") else ""
        lines.append(f'<div class="{css}">{html.escape(line)}</div>')
    return "\n".join(lines)


def _figure_html(caption: str, png: bytes) -> str:
    return (f'<figure><img alt="{caption}" src="data:image/png;base64,{base64.b64encode(png).decode("ascii")}">'
            f"<figcaption>{caption}</figcaption></figure>")


def _left_out(caption: str, png: bytes) -> str:
    return (f'<p class="note">{caption}: this picture ({len(png) / 1e6:.1f} MB) was left out; it would make '
            f"this page larger than {MAX_FEEDBACK_BYTES / 1e6:g} MB.</p>")


def _figures_html(figures: list[tuple[str, bytes]], room: int) -> str:
    """The pictures in ``room`` bytes: one that does not fit is left out, with a note saying so."""
    if not figures:
        return ""
    captions = [html.escape(capped(caption)) for caption, _ in figures]
    notes = [_left_out(caption, png) for caption, (_, png) in zip(captions, figures, strict=True)]
    room -= len(PICTURES_HEADING) + sum(len(note.encode()) + 1 for note in notes)  # every note kept in reserve
    items = []
    for caption, (_, png), note in zip(captions, figures, notes, strict=True):
        room += len(note.encode()) + 1
        size = 4 * -(-len(png) // 3) + 2 * len(caption.encode()) + len(_figure_html("", b""))  # exact
        items.append(_figure_html(caption, png) if size <= room else note)
        room -= len(items[-1].encode()) + 1
    return "\n".join([PICTURES_HEADING, *items])


def feedback_html(result: SubmissionResult, figures: list[tuple[str, bytes]] | None = None) -> str:
    """A self-contained HTML page: per grade id, the score and what the checks found, then the pictures.

    Every text on it is capped (grader.pipeline.shown) and pictures that do not fit are left out with a
    note: the page stays under :data:`~grader.pipeline.shown.MAX_FEEDBACK_BYTES`.
    """
    text_only = _page(result, "")
    return _page(result, _figures_html(figures or [], MAX_FEEDBACK_BYTES - len(text_only.encode()) - 1))


def _page(result: SubmissionResult, figures_html: str) -> str:
    limit = output_limit(len(result.tests))
    rows = "\n".join(
        f"<tr><td><code>{html.escape(capped(test.grade_id, MAX_NAME_CHARS))}</code></td>"
        f'<td class="score">{points(test.score)} / {points(test.max_score)}</td>'
        f"<td>{_message_html(test.student_output or test.output, limit)}</td></tr>"
        for test in result.tests
    )
    title = (f"{html.escape(capped(result.assignment, MAX_NAME_CHARS))}: feedback for "
             f"{html.escape(capped(result.student, MAX_NAME_CHARS))}")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title><style>{STYLE}</style></head>
<body><h1>{title}</h1>
<p>Score: <strong>{points(result.score)} / {points(result.max_score)}</strong> &middot; status
<code>{html.escape(result.status.value)}</code> &middot; graded in {result.execution_time:.1f} s</p>
<p>{html.escape(capped(result.output, MAX_SUMMARY_CHARS))}</p>
<table><thead><tr><th>part</th><th>score</th><th>what the grader checked</th></tr></thead>
<tbody>
{rows}
</tbody></table>
{figures_html}
</body></html>
"""


def write_feedback(course: Path, result: SubmissionResult) -> Path:
    """Write ``feedback/<student>/<assignment>/<assignment>.html``."""
    from grader.feedback.figures import read_figures

    path = feedback_page(course, result.student, result.assignment)
    figures = read_figures(autograded_folder(course, result.student, result.assignment))
    write_atomically(path, feedback_html(result, figures))
    return path
