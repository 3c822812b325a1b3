"""What a run has left to do for each submission: nothing, the bookkeeping only, or the grading.

A submission is finished when its ``results.json`` was written for the very file now submitted
(same SHA-256) and its bookkeeping is done: the gradebook holds it, its feedback page exists, and
the stamp written last (``.recorded.json`` beside results.json: the submitted file's size, mtime
and SHA-256) names the same file. The stamp makes the test cheap: a file whose size and mtime
are those stamped is not read again; only one whose size or mtime moved is hashed.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from grader.course.layout import autograded_folder, feedback_page
from grader.pipeline.autograde import Submission
from grader.pipeline.ingest import InvalidNotebook, open_submitted
from grader.results.records import Status, SubmissionResult, write_atomically

STAMP = ".recorded.json"


def file_sha256(path: Path) -> str:
    """The SHA-256 of a submitted file, read as grading reads it ("" when there is none or it is refused)."""
    try:
        fd = open_submitted(path)
    except InvalidNotebook:
        return ""
    digest = hashlib.sha256()
    with os.fdopen(fd, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_stat(path: Path) -> tuple[int, int] | None:
    """Size and mtime (ns) of a plain file, never through a link; None for anything else."""
    try:
        found = os.lstat(path)
    except OSError:
        return None
    return (found.st_size, found.st_mtime_ns) if stat.S_ISREG(found.st_mode) else None


def stamp_path(course: Path, student: str, assignment: str) -> Path:
    """Where the stamp of a submission's finished bookkeeping lives."""
    return autograded_folder(course, student, assignment) / STAMP


def read_stamp(path: Path) -> tuple[int, int, str] | None:
    """(size, mtime_ns, sha256) of a stamp, None when there is none or it is unreadable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return int(data["size"]), int(data["mtime_ns"]), str(data["sha256"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_stamp(course: Path, submission_path: Path, result: SubmissionResult) -> None:
    """Stamp ``result``'s bookkeeping as done, for the file it was graded from if it is still that file.

    The file's size and mtime are taken before it is hashed: a file changed in between is
    stamped with a size or mtime of its old self, so the next run hashes it again.
    """
    found = file_stat(submission_path)
    if found is None or not result.submission_sha256 or file_sha256(submission_path) != result.submission_sha256:
        return
    write_atomically(stamp_path(course, result.student, result.assignment),
                     json.dumps({"size": found[0], "mtime_ns": found[1], "sha256": result.submission_sha256}))


def clear_stamp(course: Path, student: str, assignment: str) -> None:
    """Remove a submission's stamp before its results change: its bookkeeping is to be done again."""
    stamp_path(course, student, assignment).unlink(missing_ok=True)


@dataclass
class Plan:
    """Each submission of a run, by what is left to do."""

    done: list[SubmissionResult] = field(default_factory=list)  # nothing: reported as they are
    to_record: list[tuple[Submission, SubmissionResult]] = field(default_factory=list)  # gradebook, feedback
    to_grade: list[Submission] = field(default_factory=list)


def current_sha256(submission: Submission, stamp: tuple[int, int, str] | None) -> str:
    """The submitted file's SHA-256: the stamp's when size and mtime are as stamped, else read."""
    if stamp is not None and file_stat(submission.path) == stamp[:2]:
        return stamp[2]
    return file_sha256(submission.path)


def triage(course: Path, submission: Submission, earlier: SubmissionResult | None, in_gradebook: bool,
           plan: Plan) -> None:
    """Put ``submission`` in ``plan``'s list of what is left to do for it."""
    if earlier is None or not earlier.submission_sha256 or earlier.status is Status.GRADER_ERROR:
        plan.to_grade.append(submission)
        return
    stamp_file = stamp_path(course, submission.student, submission.assignment)
    stamp = read_stamp(stamp_file)
    sha = current_sha256(submission, stamp)
    if sha != earlier.submission_sha256:
        plan.to_grade.append(submission)
    elif (stamp is None or stamp[2] != sha or not in_gradebook
          or not feedback_page(course, submission.student, submission.assignment).is_file()):
        plan.to_record.append((submission, earlier))
    else:
        if file_stat(submission.path) != stamp[:2]:  # the same content touched: hashed once, not again
            write_stamp(course, submission.path, earlier)
        plan.done.append(earlier)


def plan_run(course: Path, submissions: Iterable[Submission], earlier: dict[tuple[str, str], SubmissionResult],
             in_gradebook: set[tuple[str, str]], force: bool) -> Plan:
    """What is left to do for each submission (``force``: grade them all)."""
    plan = Plan()
    for submission in submissions:
        key = (submission.student, submission.assignment)
        if force:
            plan.to_grade.append(submission)
        else:
            triage(course, submission, earlier.get(key), key in in_gradebook, plan)
    return plan
