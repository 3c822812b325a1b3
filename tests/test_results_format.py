"""results.json follows Gradescope's published format (the contract's additions aside), checked at every write.

grader/results/gradescope_results.schema.json is Gradescope's "Output format" written as a JSON
Schema. Every results.json the grader writes, in this suite and anywhere else, passes through
``write_results_json``, which checks it first; here the graded class's files are checked once more
as they lie on disk, and the check is shown to refuse what Gradescope would not read.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from grader.results.records import (
    GradeResult,
    ResultsFormatError,
    Status,
    SubmissionResult,
    check_results_format,
    read_results_json,
    write_results_json,
)


def a_result(score: float = 1.5) -> SubmissionResult:
    tests = (GradeResult("part_a", score, 3.0, "half right"), GradeResult("part_b", 2.0, 2.0, "right"))
    return SubmissionResult("ada", "quiz", Status.OK, 1.25, "Graded 2 parts.", tests, "ab" * 32)


def test_every_results_json_of_the_graded_class_follows_the_format(graded_course: Path) -> None:
    files = sorted((graded_course / "autograded").glob("*/*/results.json"))
    assert len(files) >= 10
    for path in files:
        data = json.loads(path.read_text(encoding="utf-8"))
        check_results_format(data)
        assert data["extra_data"]["status"] == data["status"]
        for test in data["tests"]:
            assert test["status"] == ("passed" if test["score"] >= test["max_score"] else "failed"), path


def test_a_part_is_passed_only_at_full_marks_and_extra_data_holds_status_and_digest(tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    write_results_json(path, a_result())
    data = json.loads(path.read_text(encoding="utf-8"))
    assert [test["status"] for test in data["tests"]] == ["failed", "passed"]
    assert data["extra_data"] == {"status": "OK", "submission_sha256": "ab" * 32}
    assert "submission_sha256" not in data
    assert read_results_json(path, "ada", "quiz") == a_result()


@pytest.mark.parametrize(("change", "where"), [
    (lambda data: data["tests"][0].update(status="partial"), "tests/0/status"),
    (lambda data: data["tests"][1].update(visibility="secret"), "tests/1/visibility"),
    (lambda data: data["tests"][0].pop("max_score"), "tests/0"),
    (lambda data: data.update(submission_sha256="ab"), ""),
    (lambda data: data.update(status="PARTIAL"), "status"),
    (lambda data: data.pop("extra_data"), ""),
    (lambda data: data.update(score="44"), "score"),
])
def test_the_check_refuses_what_gradescope_would_not_read(change, where: str) -> None:
    data = copy.deepcopy(a_result().to_json())
    check_results_format(data)
    change(data)
    with pytest.raises(ResultsFormatError) as caught:
        check_results_format(data)
    assert caught.value.where == where


def test_an_unreadable_record_is_never_written(tmp_path: Path) -> None:
    wrong = GradeResult("part_a", 1.0, 3.0, "text", visibility="students only")
    with pytest.raises(ResultsFormatError, match="visibility"):
        write_results_json(tmp_path / "results.json", SubmissionResult("ada", "quiz", Status.OK, 1.0, "", (wrong,)))
    assert not (tmp_path / "results.json").exists()
