"""`grader report`: the class at a glance, from the grader's own results, safe to open."""

from __future__ import annotations

import base64
import re
import shutil
import subprocess
import sys
from pathlib import Path

from grader.feedback.report import REPORT_STYLE, class_report_html, pass_rates, write_class_report
from grader.feedback.roster import assignment_page_html
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
    image = base64.b64decode(re.search(r'src="data:image/svg\+xml;base64,([^"]+)"', page).group(1)).decode()
    assert image.startswith("<svg") and ">cnn_quiz</text>" in image
    slowest = page.split("Slowest submissions")[1]
    assert slowest.index("31.0 s") < slowest.index("9.0 s") < slowest.index("2.0 s")
    everyone = page.split("Every submission, by assignment")[1]
    assert '<a href="cnn_quiz.html"><code>cnn_quiz</code></a></td><td>4</td><td>55%</td><td>1</td>' in everyone


def test_an_assignment_page_links_every_submission_escaped_and_sorted_by_student() -> None:
    page = assignment_page_html("cnn_quiz", CLASS, "cnn <lesson>", REPORT_STYLE)
    assert HOSTILE not in page and "<b>bold</b>" not in page and "cnn &lt;lesson&gt;" in page
    links = re.findall(r'<tr><td><a href="([^"]+)">', page)
    assert links == ["../feedback/%3Cimg%20src%3Dx%20onerror%3Dalert%281%29%3E/cnn_quiz/cnn_quiz.html",
                     "../feedback/ada/cnn_quiz/cnn_quiz.html", "../feedback/alan/cnn_quiz/cnn_quiz.html",
                     "../feedback/%C3%A9milie/cnn_quiz/cnn_quiz.html"]
    assert "<td data-v=10>10.00 / 14.00<td>OK<td data-v=9.0>9.0" in page  # alan: sorted by points and seconds
    assert "<option>CELL_TIMEOUT</option><option>OK</option>" in page
    assert "<script>" in page and "src=" not in page.split("<script>")[1]  # inline, nothing fetched


def test_ten_thousand_submissions_of_one_assignment_stay_under_two_megabytes() -> None:
    many = [quiz(f"student-{index:05d}-{'x' * 20}", 4, index % 5, 3, seconds=index % 613 / 7)
            for index in range(10_000)]
    page = assignment_page_html("cnn_quiz", many, "course", REPORT_STYLE)
    assert page.count("<tr><td><a href=") == 10_000
    assert len(page.encode("utf-8")) < 2_000_000
    assert len(class_report_html(many, "course").encode("utf-8")) < 200_000  # the summaries only


def test_the_report_writes_one_page_per_assignment(tmp_path: Path) -> None:
    other = SubmissionResult("ada", "conv_layers", Status.OK, 1.0, "", (GradeResult("conv_shape", 2.0, 2.0, ""),))
    index = write_class_report(tmp_path, [*CLASS, other])
    assert index == tmp_path / "report" / "index.html"
    assert sorted(path.name for path in index.parent.iterdir()) == ["cnn_quiz.html", "conv_layers.html", "index.html"]
    assert (index.parent / "conv_layers.html").read_text().count("<tr><td><a href=") == 1


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
    assert "&lt;img src=x" in (course / "report" / "cnn_quiz.html").read_text()
    grades = (course / "grades.csv").read_text().splitlines()
    assert len(grades) == 5 and grades[0].startswith("student_id,assignment")
    assert (course / "report" / "nbgrader_grades.csv").read_text().startswith("assignment,duedate,timestamp")


def test_a_finished_class_is_taken_as_finished_by_the_grader(repo: Path, tmp_path: Path) -> None:
    """Its results stand: a run records them (gradebook, feedback), it grades none of them again."""
    from grader.batch.resume import plan_run
    from grader.batch.run import find_submissions
    from grader.course.layout import autograded_folder
    from grader.results.records import read_results_json
    from tests.finished_class import make_finished_class
    from tests.submissions import ASSIGNMENTS

    course = make_finished_class(repo, tmp_path, 45)
    submissions = list(find_submissions(course, ASSIGNMENTS))
    assert len(submissions) == 45 and len({s.path.stat().st_ino for s in submissions}) == 20  # hard links
    earlier = {(s.student, s.assignment): read_results_json(
        autograded_folder(course, s.student, s.assignment) / "results.json", s.student, s.assignment)
        for s in submissions}
    plan = plan_run(course, submissions, earlier, set(), force=False)
    assert plan.to_grade == [] and len(plan.to_record) == 45
    statuses = {result.status.value for _, result in plan.to_record}
    assert {"OK", "CELL_TIMEOUT"} <= statuses


def test_the_histogram_counts_each_tenth_of_the_points() -> None:
    from grader.feedback.histogram import score_bins, score_histograms_svg

    assert score_bins(CLASS, "cnn_quiz") == [1, 0, 0, 0, 0, 1, 0, 1, 0, 1]  # 0, 7, 10 and 14 of 14 points
    svg = score_histograms_svg([*CLASS, quiz("grace", 0, 0, 0)])  # two in the first bin: the tallest
    assert svg.count("<rect x=") == 10 and "<title>90-100 %: 1</title>" in svg and ">2</text>" in svg
