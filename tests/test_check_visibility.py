"""A hidden check can be marked hidden, after_due_date or after_published, as Gradescope's tests can.

results.json carries the marking (the part takes its most restrictive check's), the feedback page
says that such a check exists but not what it tests, and the instructor's copy (results.json's
output, read by the class report) keeps everything.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from grader.checks.registry import CheckOutcome, grade
from grader.checks.runner import CheckCollector, pytest_arguments
from grader.feedback.page import feedback_html
from grader.pipeline.autograde import scored
from grader.results.records import Status, SubmissionResult, read_results_json, write_results_json

SECRET = "the centre weight is 4 and not 8"


def outcomes(visibility: str) -> list[CheckOutcome]:
    return [CheckOutcome("shape", "part", 1, True, "the kernel is 3x3"),
            CheckOutcome("values", "part", 2, False, SECRET, True, visibility)]


@pytest.mark.parametrize("visibility", ["hidden", "after_due_date", "after_published"])
def test_a_withheld_check_shows_that_it_exists_not_what_it_tests(visibility: str, tmp_path: Path) -> None:
    part = scored(outcomes(visibility), "part", 3.0)
    result = SubmissionResult("ada", "quiz", Status.OK, 1.0, "", (part,))
    write_results_json(tmp_path / "results.json", result)
    entry = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))["tests"][0]
    assert entry["visibility"] == visibility and SECRET in entry["output"]
    assert SECRET not in entry["extra_data"]["student_output"]
    page = feedback_html(read_results_json(tmp_path / "results.json", "ada", "quiz"))
    assert SECRET not in page and "A hidden check of this part" in page and "the kernel is 3x3" in page


def test_visible_checks_are_shown_as_they_are(tmp_path: Path) -> None:
    part = scored(outcomes("visible"), "part", 3.0)
    assert part.visibility == "visible" and part.student_output == ""
    assert SECRET in feedback_html(SubmissionResult("ada", "quiz", Status.OK, 1.0, "", (part,)))


def test_a_visibility_gradescope_does_not_know_is_refused_where_the_check_is_written() -> None:
    with pytest.raises(ValueError, match="visibility 'students_only'"):
        grade("part", 1, visibility="students_only")


def test_the_runner_reads_the_marking_from_the_check(tmp_path: Path) -> None:
    checks = tmp_path / "test_marked.py"
    checks.write_text(
        "from grader.checks.registry import grade\n\n\n"
        "@grade('part', 1, visibility='after_published')\n"
        "def test_withheld():\n    '''a withheld check'''\n    assert False, 'the secret'\n\n\n"
        "@grade('part', 1)\n"
        "def test_shown():\n    '''a shown check'''\n", encoding="utf-8")
    collector = CheckCollector(None)
    pytest.main([str(checks), *pytest_arguments()], plugins=[collector])
    assert {(o.name, o.visibility) for o in collector.outcomes_for_run()} == {("test_withheld", "after_published"),
                                                                      ("test_shown", "visible")}
