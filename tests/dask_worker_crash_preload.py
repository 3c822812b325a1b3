"""A Dask worker preload for tests: grading a student named ``zz-crash*`` kills the worker's process.

``dask worker --preload tests/dask_worker_crash_preload.py`` with ``GRADER_TEST_ATTEMPTS`` naming a
folder: each grading attempt appends a line (this process's id) to ``<student>.attempts`` there,
before grading or dying. grader.batch.cluster.grade_remote looks up grader.batch.run.grade_in_worker when it
runs, so it gets this wrapper. Not for production.
"""

from __future__ import annotations

import os
from pathlib import Path

import grader.batch.run


def grade_or_die(submission, context):  # noqa: ANN001, ANN201 - grader.batch.run.grade_in_worker's signature
    """Note the attempt; kill this worker process for a ``zz-crash*`` student, grade the others as usual."""
    with (Path(os.environ["GRADER_TEST_ATTEMPTS"]) / f"{submission.student}.attempts").open("a") as attempts:
        attempts.write(f"{os.getpid()}\n")
    if submission.student.startswith("zz-crash"):
        os._exit(70)
    return _grade_in_worker(submission, context)


# Dask may run a preload file twice in one process (in the same module namespace): wrap the grader once.
if grader.batch.run.grade_in_worker.__name__ != "grade_or_die":
    _grade_in_worker = grader.batch.run.grade_in_worker
    grader.batch.run.grade_in_worker = grade_or_die
