"""Grading results: frozen records, Gradescope's results.json, and the course's grades.csv."""

from __future__ import annotations

import csv
import functools
import json
import os
import tempfile
import time
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import jsonschema

from grader.course.layout import AUTOGRADED
from grader.pipeline.shown import (
    MAX_NAME_CHARS,
    MAX_OUTPUT_CHARS,
    MAX_SUMMARY_CHARS,
    capped,
    capped_output,
    output_limit,
)

RESULTS_SCHEMA = Path(__file__).resolve().parent / "gradescope_results.schema.json"


class Status(StrEnum):
    """Why grading of a submission ran normally (``OK``) or not."""

    OK = "OK"
    CELL_TIMEOUT = "CELL_TIMEOUT"
    NOTEBOOK_TIMEOUT = "NOTEBOOK_TIMEOUT"
    KERNEL_DIED = "KERNEL_DIED"
    MEMORY_LIMIT = "MEMORY_LIMIT"
    RESOURCE_LIMIT = "RESOURCE_LIMIT"
    INVALID_NOTEBOOK = "INVALID_NOTEBOOK"
    ARTIFACT_INVALID = "ARTIFACT_INVALID"
    GRADER_ERROR = "GRADER_ERROR"


@dataclass(frozen=True)
class GradeResult:
    """The score of one grade id and what the student is told about it."""

    grade_id: str
    score: float
    max_score: float
    output: str
    visibility: str = "visible"
    student_output: str = ""  # what the feedback page shows when a check is withheld (else ``output``)

    def to_json(self, limit: int = MAX_OUTPUT_CHARS) -> dict:
        """This grade id as one entry of results.json's ``tests``, its output capped at ``limit`` characters."""
        entry = {"name": capped(self.grade_id, MAX_NAME_CHARS), "score": round(self.score, 4),
                 "max_score": self.max_score, "status": "passed" if self.passed else "failed",
                 "output": capped_output(self.output, limit), "visibility": capped(self.visibility, MAX_NAME_CHARS)}
        if self.student_output:
            entry["extra_data"] = {"student_output": capped_output(self.student_output, limit)}
        return entry

    @property
    def passed(self) -> bool:
        """Full marks: Gradescope shows a part as passed only then (a partial score is a failed part)."""
        return round(self.score, 4) >= self.max_score


@dataclass(frozen=True)
class SubmissionResult:
    """The outcome of grading one student's notebook of one assignment."""

    student: str
    assignment: str
    status: Status
    execution_time: float
    output: str
    tests: tuple[GradeResult, ...]
    submission_sha256: str = ""

    @property
    def score(self) -> float:
        """The sum of the grade ids' scores."""
        return round(sum(test.score for test in self.tests), 4)

    @property
    def max_score(self) -> float:
        """The points available."""
        return sum(test.max_score for test in self.tests)

    def to_json(self) -> dict:
        """Gradescope's results format, with the contract's ``status`` (also in ``extra_data``, beside the submitted
        file's SHA-256); every text capped (grader.pipeline.shown).

        The outputs of all grade ids share :data:`~grader.pipeline.shown.OUTPUTS_BUDGET_CHARS`: results.json
        stays under :data:`~grader.pipeline.shown.MAX_RESULTS_BYTES` whatever the checks or the notebook said.
        """
        limit = output_limit(len(self.tests))
        return {"score": self.score, "execution_time": round(self.execution_time, 3),
                "output": capped(self.output, MAX_SUMMARY_CHARS), "status": self.status.value,
                "tests": [test.to_json(limit) for test in self.tests],
                "extra_data": {"status": self.status.value,
                               "submission_sha256": capped(self.submission_sha256, MAX_NAME_CHARS)}}


def zero_result(student: str, assignment: str, status: Status, reason: str,
                points: dict[str, float], execution_time: float = 0.0) -> SubmissionResult:
    """Every grade id of ``points`` (the source notebook's, in order) at 0 with ``reason``: for a notebook that
    could not be graded normally."""
    tests = tuple(GradeResult(gid, 0.0, points[gid], f"Not graded: {reason}") for gid in points)
    return SubmissionResult(student, assignment, status, execution_time, reason, tests)


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that readers see the old file or the new one, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class ResultsFormatError(ValueError):
    """A results.json that Gradescope's format (and the contract's additions) does not allow."""

    def __init__(self, message: str, *, where: str) -> None:
        super().__init__(f"results.json at {where or 'its top'}: {message}")
        self.where = where


@functools.cache
def _results_validator() -> jsonschema.protocols.Validator:
    schema = json.loads(RESULTS_SCHEMA.read_text(encoding="utf-8"))
    return jsonschema.Draft7Validator(schema)


def check_results_format(data: dict) -> None:
    """Raise :class:`ResultsFormatError` unless ``data`` follows grader/results/gradescope_results.schema.json."""
    error = jsonschema.exceptions.best_match(_results_validator().iter_errors(data))
    if error is not None:
        raise ResultsFormatError(error.message, where="/".join(str(part) for part in error.absolute_path))


def write_results_json(path: Path, result: SubmissionResult) -> None:
    """Write ``results.json`` for one submission, checked against Gradescope's format first."""
    data = result.to_json()
    check_results_format(data)
    write_atomically(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def read_results_json(path: Path, student: str, assignment: str) -> SubmissionResult:
    """Read back a ``results.json`` written by :func:`write_results_json`."""
    data = json.loads(path.read_text(encoding="utf-8"))
    tests = tuple(GradeResult(t["name"], float(t["score"]), float(t["max_score"]), t["output"],
                              t.get("visibility", "visible"), t.get("extra_data", {}).get("student_output", ""))
                  for t in data["tests"])
    digest = data.get("extra_data", {}).get("submission_sha256", data.get("submission_sha256", ""))
    return SubmissionResult(student, assignment, Status(data["status"]), float(data["execution_time"]),
                            data["output"], tests, str(digest))


def grades_csv_columns(results: list[SubmissionResult]) -> list[str]:
    """student_id, assignment, one column per grade id of the graded assignments (by assignment id, then in the
    notebook's order), total, status."""
    grade_ids: dict[str, None] = {}
    for result in sorted(results, key=lambda r: r.assignment):
        grade_ids.update(dict.fromkeys(test.grade_id for test in result.tests))
    return ["student_id", "assignment", *grade_ids, "total", "status"]


def write_grades_csv(path: Path, results: list[SubmissionResult]) -> None:
    """One row per student and assignment; grade ids of other assignments stay empty."""
    columns = grades_csv_columns(results)
    rows = []
    for result in sorted(results, key=lambda r: (r.student, r.assignment)):
        row = {"student_id": result.student, "assignment": result.assignment,
               "total": result.score, "status": result.status.value}
        row.update({test.grade_id: test.score for test in result.tests})
        rows.append(row)
    with tempfile.TemporaryFile("w+", newline="", encoding="utf-8") as buffer:
        writer = csv.DictWriter(buffer, fieldnames=columns, restval="")
        writer.writeheader()
        writer.writerows(rows)
        buffer.seek(0)
        write_atomically(path, buffer.read())


def all_results(course: Path, assignments: tuple[str, ...]) -> list[SubmissionResult]:
    """Every results.json of ``assignments`` under ``autograded/``, for the course's grades.csv."""
    results = []
    try:
        with os.scandir(course / AUTOGRADED) as entries:  # a folder per student; no globbing of every file
            students = sorted(entry.name for entry in entries if entry.is_dir() and not entry.name.startswith("."))
    except FileNotFoundError:
        return results
    for student in students:
        for assignment in sorted(assignments):
            path = course / AUTOGRADED / student / assignment / "results.json"
            try:
                results.append(read_results_json(path, student, assignment))
            except FileNotFoundError:
                continue
    return results


class GradesCsv:
    """``grades.csv`` kept current during a run: rewritten at most every ``every`` seconds, and on :meth:`close`.

    The pause between writes is also never under what the last write took divided by ``most_share``, so a
    large class spends at most that share (a tenth) of the coordinator's time rewriting a file read at the end.
    """

    def __init__(self, path: Path, results: list[SubmissionResult], every: float = 5.0,
                 most_share: float = 0.1) -> None:
        self.path = path
        self.every = every
        self.most_share = most_share
        self.pause = every
        self._rows = {(result.student, result.assignment): result for result in results}
        self._written = time.monotonic()

    def add(self, result: SubmissionResult) -> None:
        """Record a result; the file follows when it was last written ``pause`` seconds ago."""
        self._rows[(result.student, result.assignment)] = result
        if time.monotonic() - self._written >= self.pause:
            self.close()

    def close(self) -> None:
        """Write the file now."""
        started = time.monotonic()
        write_grades_csv(self.path, list(self._rows.values()))
        self._written = time.monotonic()
        self.pause = max(self.every, (self._written - started) / self.most_share)
