"""What ``grader autograde`` shows while it works: a line per result, a progress bar, a summary."""

from __future__ import annotations

import sys
import time
from collections import Counter
from typing import TextIO

from tqdm import tqdm

from grader.pipeline.shown import points
from grader.results.records import SubmissionResult


def format_seconds(seconds: float) -> str:
    """``42s``, ``3m05s`` or ``1h02m``."""
    seconds = max(0, int(round(seconds)))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


class GradingProgress:
    """A score line per submission, a live bar (done/total, rate, ETA) on a terminal, and a summary.

    Lines go to ``out``. The bar goes to stderr and only when it is a terminal; in a log each
    line carries the count done and the estimated time left instead.
    """

    def __init__(self, out: TextIO = sys.stdout) -> None:
        self.out = out
        self.total = 0
        self.results: list[SubmissionResult] = []
        self.started = time.perf_counter()
        self.bar: tqdm | None = None

    def start(self, total: int) -> None:
        """Print the header; ``total`` results are on their way."""
        self.total, self.started = total, time.perf_counter()
        print(f"{'done':>9}  {'student':<20} {'assignment':<16} {'score':>13} {'status':<16} {'time':>7}",
              file=self.out, flush=True)
        if total and sys.stderr.isatty():
            self.bar = tqdm(total=total, unit="notebook", desc="grading", file=sys.stderr, leave=False,
                            dynamic_ncols=True)

    def eta(self) -> str:
        """The time left at the rate so far."""
        done = len(self.results)
        if not done or done >= self.total:
            return "0s"
        return format_seconds((time.perf_counter() - self.started) / done * (self.total - done))

    def add(self, result: SubmissionResult) -> None:
        """One graded submission."""
        self.results.append(result)
        count = f"{len(self.results)}/{self.total}"
        line = (f"{count:>9}  {result.student:<20} {result.assignment:<16} {points(result.score):>6} / "
                f"{points(result.max_score):<6} {result.status.value:<16} {result.execution_time:>6.1f}s")
        if self.bar is not None:
            self.bar.write(line, file=self.out)
            self.bar.update(1)
        else:
            print(f"{line}  ETA {self.eta()}", file=self.out, flush=True)

    def summary(self) -> str:
        """Counts, rate and scores of the whole run."""
        if self.bar is not None:
            self.bar.close()
        elapsed = time.perf_counter() - self.started
        n = len(self.results)
        statuses = Counter(result.status.value for result in self.results)
        earned = sum(result.score for result in self.results)
        possible = sum(result.max_score for result in self.results) or 1.0
        rate = n / elapsed * 60 if elapsed > 0 else 0.0
        counts = ", ".join(f"{count} {status}" for status, count in statuses.most_common())
        return (f"graded {n} submission(s) in {format_seconds(elapsed)} ({rate:.1f} per minute): {counts or 'none'}; "
                f"{points(earned)} of {points(possible)} points ({earned / possible:.0%})")
