"""What a batch shows and keeps while it runs: result lines with ETA, a summary, a current grades.csv."""

from __future__ import annotations

import csv
import io
import time
from pathlib import Path

import pytest

from grader.batch.progress import GradingProgress, format_seconds
from grader.results.records import GradeResult, GradesCsv, Status, SubmissionResult


def result(student: str, score: float, status: Status = Status.OK) -> SubmissionResult:
    tests = (GradeResult("conv_output_size", score, 4.0, ""), GradeResult("conv_param_count", 0.0, 4.0, ""),
             GradeResult("quiz_answers", 0.0, 6.0, ""))
    return SubmissionResult(student, "cnn_quiz", status, 1.5, "", tests)


def rows(path: Path) -> dict[str, str]:
    with path.open(newline="", encoding="utf-8") as stream:
        return {row["student_id"]: row["total"] for row in csv.DictReader(stream)}


def test_each_line_says_how_far_the_batch_is_and_the_summary_counts_everything() -> None:
    out = io.StringIO()
    progress = GradingProgress(out)
    progress.start(3)
    for student, score, status in (("ada", 4.0, Status.OK), ("alan", 0.0, Status.CELL_TIMEOUT),
                                   ("grace", 2.0, Status.OK)):
        progress.add(result(student, score, status))
    lines = out.getvalue().splitlines()
    assert lines[0].split()[:3] == ["done", "student", "assignment"]
    assert [line.split()[0] for line in lines[1:]] == ["1/3", "2/3", "3/3"]
    assert all("ETA" in line for line in lines[1:]) and lines[-1].endswith("ETA 0s")
    summary = progress.summary()
    assert summary.startswith("graded 3 submission(s) in ")
    assert "2 OK, 1 CELL_TIMEOUT" in summary and "6.00 of 42.00 points (14%)" in summary


def test_scores_show_with_two_decimals() -> None:
    out = io.StringIO()
    progress = GradingProgress(out)
    progress.start(1)
    progress.add(result("ada", 7.0 / 6.0))
    assert " 1.17 / 14.00 " in out.getvalue().splitlines()[-1]
    assert "1.17 of 14.00 points" in progress.summary()


def test_format_seconds_reads_like_a_clock() -> None:
    assert [format_seconds(s) for s in (0.4, 42, 185, 3720)] == ["0s", "42s", "3m05s", "1h02m"]


def test_grades_csv_follows_the_results_during_a_run(tmp_path: Path) -> None:
    path = tmp_path / "grades.csv"
    grades = GradesCsv(path, [result("earlier", 4.0)], every=0.0, most_share=float("inf"))
    grades.add(result("ada", 2.0))
    assert rows(path) == {"earlier": "4.0", "ada": "2.0"}  # written as the result came
    grades.add(result("ada", 3.0))  # graded again: one row, the new score
    assert rows(path) == {"earlier": "4.0", "ada": "3.0"}


def test_grades_csv_is_not_rewritten_more_often_than_asked(tmp_path: Path) -> None:
    path = tmp_path / "grades.csv"
    grades = GradesCsv(path, [], every=3600.0)
    grades.add(result("ada", 2.0))
    assert not path.exists()
    grades.close()
    assert rows(path) == {"ada": "2.0"}


def test_grades_csv_pauses_ten_times_as_long_as_its_last_write_took(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "grades.csv"
    writes = []
    monkeypatch.setattr("grader.results.records.write_grades_csv",
                        lambda *args: (writes.append(args), time.sleep(0.05)))
    grades = GradesCsv(path, [], every=0.0)
    grades.add(result("ada", 2.0))
    assert len(writes) == 1 and grades.pause >= 0.5
    grades.add(result("bob", 2.0))  # within 10 x 0.05 s of the last write: not written
    assert len(writes) == 1
    time.sleep(grades.pause)
    grades.add(result("cyd", 2.0))
    assert len(writes) == 2 and sorted(r.student for r in writes[-1][1]) == ["ada", "bob", "cyd"]
