"""Grade in a pool of processes where a submission that crashes its grading process costs only itself.

When a grading process dies (a crash in native code on what a submission produced, the
kernel's out-of-memory killer...), ``ProcessPoolExecutor`` fails every submission in flight
and refuses new ones. The results that came back are kept; the submissions that were in
flight are suspects. Each suspect is graded once more, alone in a fresh process, so that the
others in flight with it are not blamed (they share one fresh process, one after the other);
one that crashes its process again is recorded as ``GRADER_ERROR``. The rest of the class
goes on in a new pool.

At most ``workers`` submissions are handed to the pool at a time, so the ones in flight at
a crash are exactly the ones being graded.
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Callable, Generator, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from grader.results.records import Status, SubmissionResult, zero_result

if TYPE_CHECKING:
    from grader.pipeline.autograde import GradingContext, Submission

CRASHED = "its grading process died twice while grading it (once with others, once alone)"


@dataclass(frozen=True)
class GradingPool:
    """How to start a grading process (``start(*start_args)``) and what it runs for each submission."""

    workers: int
    start: Callable[..., None]
    start_args: tuple[Any, ...]
    grade: Callable[[Submission, GradingContext], SubmissionResult]
    context: GradingContext


def grader_error(submission: Submission, context: GradingContext, reason: str,
                 seconds: float = 0.0) -> SubmissionResult:
    """``GRADER_ERROR`` with no points and ``reason``: grading this submission failed, not the student."""
    points = context.points[submission.assignment]
    return zero_result(submission.student, submission.assignment, Status.GRADER_ERROR, reason, points, seconds)


def pooled_results(submissions: list[Submission], pool: GradingPool) -> Iterator[SubmissionResult]:
    """Results in the order they finish; a crashed process is replaced and only its culprit loses."""
    waiting = list(submissions)
    while waiting:
        suspects, waiting = yield from results_until_broken(waiting, pool, pool.workers)
        while suspects:  # one process grades them one after the other: one that dies again is the culprit
            culprits, suspects = yield from results_until_broken(suspects, pool, 1)
            yield from (grader_error(submission, pool.context, CRASHED) for submission in culprits)


def results_until_broken(submissions: list[Submission], pool: GradingPool, workers: int
                         ) -> Generator[SubmissionResult, None, tuple[list[Submission], list[Submission]]]:
    """Grade in one pool of ``workers`` processes until done or broken; returns (suspects, not started)."""
    waiting = deque(submissions)
    running: dict[Future, Submission] = {}
    suspects: list[Submission] = []
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=spawn, initializer=pool.start, initargs=pool.start_args) as executor:
        while (waiting or running) and not suspects:
            while waiting and len(running) < workers:
                submission = waiting.popleft()
                try:
                    running[executor.submit(pool.grade, submission, pool.context)] = submission
                except BrokenProcessPool:  # broken with none of ours in flight: this one is tried alone
                    (waiting.appendleft if running else suspects.append)(submission)
                    break
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            if any(isinstance(future.exception(), BrokenProcessPool) for future in done):
                done, _ = wait(running)  # the pool fails every submission in flight: collect them all
            for future in done:
                result = outcome(future, running.pop(future), pool.context, suspects)
                if result is not None:
                    yield result
    return sorted(suspects, key=submissions.index), list(waiting)


def outcome(future: Future, submission: Submission, context: GradingContext,
            suspects: list[Submission]) -> SubmissionResult | None:
    """The result of a finished future; None (and ``submission`` added to ``suspects``) when its process died."""
    error = future.exception()
    if isinstance(error, BrokenProcessPool):
        suspects.append(submission)
        return None
    if error is not None:
        return grader_error(submission, context, f"grading failed ({type(error).__name__}: {str(error)[:300]})")
    return future.result()
