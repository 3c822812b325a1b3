"""`grader report`: the class at a glance, from the grader's own results, safe to open."""

from __future__ import annotations

import base64
import re
import shutil
import subprocess
import sys
from pathlib import Path

from grader.feedback.report import class_report_html, pass_rates
from grader.results.records import GradeResult, Status, SubmissionResult, write_results_json

HOSTILE = "<img src=x onerror=alert(1)>"


def quiz(student: str, sizes: float, counts: float, answers: float, status: Status = Status.OK,
         seconds: float = 2.0) -> SubmissionResult:
    tests = (GradeResult("conv_output_size", sizes, 4.0, "FAIL: <b>bold</b>"),
             GradeResult("conv_param_count", counts, 4.0, ""), GradeResult("quiz_answers", answers, 6.0, ""))
    return SubmissionResult(student, "cnn_quiz", status, seconds, "", tests)


CLASS = [quiz("ada", 4, 4, 6), quiz("alan", 4, 0, 6, seconds=9.0), quiz(HOSTILE, 0, 0, 0, Status.CELL_TIMEOUT, 31.0),
         quiz("émilie", 4, 0, 3)]


def test_the_parts_students_fail_most_come_first() -> None:
    rates = pass_rates(CLASS)
    assert [row[1] for row in rates] == ["conv_param_count", "quiz_answers", "conv_output_size"]
    assert rates[0][2] == 0.25 and rates[-1][2] == 0.75


def test_the_page_escapes_names_and_messages_and_embeds_its_chart() -> None:
    page = class_report_html(CLASS, "cnn <lesson>")
    assert HOSTILE not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "<b>bold</b>" not in page and "cnn &lt;lesson&gt;" in page
    assert "4 student(s), 4 graded notebook(s)" in page
    assert re.search(r"<td><code>CELL_TIMEOUT</code></td><td>1</td>", page)
    image = re.search(r'src="data:image/png;base64,([^"]+)"', page).group(1)
    assert base64.b64decode(image).startswith(b"\x89PNG")
    assert 'href="../feedback/%3Cimg%20src%3Dx%20onerror%3Dalert%281%29%3E/cnn_quiz/cnn_quiz.html"' in page
    assert 'href="../feedback/%C3%A9milie/cnn_quiz/cnn_quiz.html"' in page
    slowest = page.split("Slowest submissions")[1]
    assert slowest.index("31.0 s") < slowest.index("9.0 s") < slowest.index("2.0 s")


def test_an_empty_class_says_so() -> None:
    assert "Nothing graded yet" in class_report_html([], "course")


def test_grader_report_writes_the_report_grades_and_nbgraders_export(repo: Path, tmp_path: Path) -> None:
    course = tmp_path / "course"
    shutil.copytree(repo / "source", course / "source")
    shutil.copy(repo / "nbgrader_config.py", course / "nbgrader_config.py")
    for result in CLASS:
        write_results_json(course / "autograded" / result.student / result.assignment / "results.json", result)
    run = subprocess.run([sys.executable, "-m", "grader", "report", "--course", str(course)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "4 graded notebook(s)" in run.stdout
    assert "&lt;img src=x" in (course / "report" / "index.html").read_text()
    grades = (course / "grades.csv").read_text().splitlines()
    assert len(grades) == 5 and grades[0].startswith("student_id,assignment")
    assert (course / "report" / "nbgrader_grades.csv").read_text().startswith("assignment,duedate,timestamp")
