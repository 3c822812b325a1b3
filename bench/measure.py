"""Measuring helpers for the benchmarks: peak memory (PSS) of worker process trees, free ports, result files."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path

import psutil

WorkerRoots = Callable[[], list[psutil.Process]]


def tree_pss(root: psutil.Process) -> int:
    """Proportional set size of ``root`` and all its descendants, in bytes (0 once it is gone)."""
    try:
        processes = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0
    total = 0
    for process in processes:
        try:
            total += process.memory_full_info().pss
        except psutil.Error:  # ended meanwhile, or a zombie
            continue
    return total


def pool_children(root_pid: int) -> list[psutil.Process]:
    """The worker processes of a ``ProcessPoolExecutor`` (spawn) started by ``root_pid``."""
    try:
        children = psutil.Process(root_pid).children()
    except psutil.Error:
        return []
    workers = []
    for child in children:
        try:
            if "spawn_main" in " ".join(child.cmdline()):
                workers.append(child)
        except psutil.Error:
            continue
    return workers


def processes(pids: list[int]) -> WorkerRoots:
    """Worker roots that are fixed processes (e.g. the grader itself, or Dask workers)."""
    def roots() -> list[psutil.Process]:
        alive = []
        for pid in pids:
            try:
                alive.append(psutil.Process(pid))
            except psutil.Error:
                continue
        return alive
    return roots


class PeakMemory:
    """Samples, every ``interval`` seconds in a thread, the PSS of each worker's process tree; keeps the peaks."""

    def __init__(self, worker_roots: WorkerRoots, interval: float = 0.5) -> None:
        self._worker_roots = worker_roots
        self._interval = interval
        self._peaks: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            for root in self._worker_roots():
                pss = tree_pss(root)
                self._peaks[root.pid] = max(self._peaks.get(root.pid, 0), pss)
            self._stop.wait(self._interval)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def peaks(self) -> dict[int, int]:
        """Peak bytes per worker (by root pid)."""
        return dict(self._peaks)

    @property
    def peak(self) -> int:
        """The largest peak over the workers, in bytes (0 when none was seen)."""
        return max(self._peaks.values(), default=0)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def human_bytes(count: int) -> str:
    """``812 MiB`` or ``1.42 GiB``."""
    if count >= 1024 ** 3:
        return f"{count / 1024 ** 3:.2f} GiB"
    return f"{count / 1024 ** 2:.0f} MiB"


def write_bench_results(path: Path, title: str, text: str, how: str) -> None:
    """Write a benchmark's figures to ``path`` (bench/results/): a dated heading, ``text``, then how it is measured."""
    path.write_text(f"# {title} ({time.strftime('%Y-%m-%d')})\n\n{text}\n\n## How it is measured\n\n{how}")
