"""The coordinator's work per result: results.json at once; gradebook, feedback and stamp in batches.

A new result's results.json is written as soon as it arrives (its stamp removed first), so a
run killed at any point keeps every grading it finished. The gradebook gets results in
batches, one transaction each; then each result of the batch gets its feedback page, written
once, and last its stamp (grader.batch.resume). A run killed before a batch's stamps are written
records that batch again on the next run, without grading it again.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from grader.batch.resume import clear_stamp, write_stamp
from grader.course.layout import autograded_folder
from grader.feedback.page import write_feedback
from grader.results.gradebook_batch import GradebookSession
from grader.results.records import GradesCsv, SubmissionResult, write_results_json

BATCH_RESULTS = 500  # at most this many results in one transaction
BATCH_SECONDS = 2.0  # a result waits at most this long after the last batch (checked as results arrive)


class Bookkeeper:
    """Everything the coordinator writes for each result, in the order that survives a kill."""

    def __init__(self, course: Path, gradebook: GradebookSession, grades: GradesCsv,
                 on_result: Callable[[SubmissionResult], None] | None = None) -> None:
        self.course = course
        self.gradebook = gradebook
        self.grades = grades
        self.on_result = on_result
        self.waiting: list[tuple[Path, SubmissionResult]] = []
        self.flushed = time.monotonic()
        self.results: list[SubmissionResult] = []

    def finished(self, result: SubmissionResult) -> None:
        """A result whose bookkeeping is done: reported, nothing written."""
        self._report(result)

    def add(self, result: SubmissionResult, submitted: Path, new: bool = True) -> None:
        """A result to record (``new``: just graded, so its results.json is written first)."""
        if new:
            clear_stamp(self.course, result.student, result.assignment)
            write_results_json(autograded_folder(self.course, result.student, result.assignment) / "results.json",
                               result)
        self.waiting.append((submitted, result))
        self._report(result)
        if len(self.waiting) >= BATCH_RESULTS or time.monotonic() - self.flushed >= BATCH_SECONDS:
            self.flush()

    def flush(self) -> None:
        """Write the waiting results to the gradebook in one transaction, then their feedback and stamps."""
        if self.waiting:
            self.gradebook.record(result for _, result in self.waiting)
            for submitted, result in self.waiting:
                write_feedback(self.course, result)
                write_stamp(self.course, submitted, result)
            self.waiting.clear()
        self.flushed = time.monotonic()

    def close(self) -> None:
        """Flush what waits and write grades.csv."""
        self.flush()
        self.grades.close()

    def _report(self, result: SubmissionResult) -> None:
        self.results.append(result)
        self.grades.add(result)
        if self.on_result is not None:
            self.on_result(result)
