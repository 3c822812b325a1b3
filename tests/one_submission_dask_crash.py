"""A Dask worker preload for tests: grading a student named ``zz-crash*`` kills the worker's process.

``dask worker --preload tests/one_submission_dask_crash.py``: the task (grader.cluster.grade_remote)
looks up grader.batch.grade_in_worker when it runs, so it gets this wrapper. Not for production.
"""

from __future__ import annotations

import os

import grader.batch

_grade_in_worker = grader.batch.grade_in_worker


def grade_or_die(submission, context):
    """Kill this worker process for a ``zz-crash*`` student; grade the others as usual."""
    if submission.student.startswith("zz-crash"):
        os._exit(70)
    return _grade_in_worker(submission, context)


grader.batch.grade_in_worker = grade_or_die
