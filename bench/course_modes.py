"""The grading modes of bench/grade_course.py: each grades a fresh copy of the class and is measured."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from bench.measure import PeakMemory, WorkerRoots, free_port, pool_children, processes
from bench.nbgrader_anchor import (
    anchor_scores,
    autograde_command,
    make_anchor_course,
    student_cell_seconds,
    tool_environment,
)
from bench.synthetic_class import ROOT, copy_class

VENV_BIN = ROOT / ".venv" / "bin"
GRADER = VENV_BIN / "grader"
DASK = VENV_BIN / "dask"
DASK_WORKERS = 2


@dataclass
class ModeResult:
    """What one mode measured, or why it could not run."""

    mode: str
    notebooks: int = 0
    wall: float = 0.0
    overhead: float | None = None
    peak: int = 0
    scores: dict[tuple[str, str], float] = field(default_factory=dict)
    unavailable: str = ""
    load: tuple[float, float] = (0.0, 0.0)  # the machine's 1-minute load average before and after
    statuses: dict[str, int] = field(default_factory=dict)  # grader modes: results.json statuses, counted


@dataclass(frozen=True)
class Mode:
    """A mode's label in the table and how it grades ``(class template, work folder)``."""

    label: str
    run: Callable[[Path, Path], ModeResult]


def timed_run(command: list[str], cwd: Path, log: Path,
              worker_roots: Callable[[int], WorkerRoots]) -> tuple[float, int]:
    """Run ``command`` to its end: (wall seconds, peak PSS of its largest worker); raises on failure."""
    with log.open("a") as stream:
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, stdout=stream, stderr=subprocess.STDOUT, env=tool_environment(),
                                   start_new_session=True)
        with PeakMemory(worker_roots(process.pid)) as memory:
            try:
                code = process.wait()
            except BaseException:  # interrupted: don't leave the grading command running
                stop_process(process)
                raise
        wall = time.perf_counter() - started
    if code != 0:
        raise RuntimeError(f"{Path(command[0]).name} exited {code}; see {log}")
    return wall, memory.peak


def grader_cell_seconds(executed: Path) -> float:
    """Seconds inside the notebook's own cells (papermill's durations; the grader's export cell excluded)."""
    notebook = nbformat.read(executed, as_version=4)
    return sum(float(cell.metadata.get("papermill", {}).get("duration") or 0.0) for cell in notebook.cells
               if "grader-export" not in cell.metadata.get("tags", []))


def read_grader_results(course: Path, result: ModeResult) -> ModeResult:
    """Scores and overhead per notebook from ``autograded/*/*/results.json`` and the executed notebooks."""
    overheads = []
    for path in sorted((course / "autograded").glob("*/*/results.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        student, assignment = path.parent.parent.name, path.parent.name
        result.scores[(student, assignment)] = float(data["score"])
        result.statuses[data["status"]] = result.statuses.get(data["status"], 0) + 1
        executed = path.parent / f"{assignment}.ipynb"
        if executed.exists():
            overheads.append(float(data["execution_time"]) - grader_cell_seconds(executed))
    result.notebooks = len(result.scores)
    result.overhead = sum(overheads) / len(overheads) if overheads else None
    return result


def grader_mode(mode: str, template: Path, folder: Path, arguments: list[str],
                worker_roots: Callable[[int], WorkerRoots]) -> ModeResult:
    """``grader autograde --course <fresh copy> <arguments> --force``, timed and sampled."""
    course = copy_class(template, folder / "course")
    command = [str(GRADER), "autograde", "--course", str(course), *arguments, "--force"]
    wall, peak = timed_run(command, course, folder / "grader.log", worker_roots)
    return read_grader_results(course, ModeResult(mode, wall=wall, peak=peak))


def run_anchor(template: Path, folder: Path) -> ModeResult:
    """Plain ``nbgrader autograde`` of the anchor course (its set-up untimed)."""
    folder.mkdir(parents=True)
    log = folder / "nbgrader.log"
    anchor = make_anchor_course(copy_class(template, folder / "class"), folder / "anchor", log)
    wall, peak = timed_run(autograde_command(), anchor, log, lambda pid: processes([pid]))
    result = ModeResult("anchor", wall=wall, peak=peak, scores=anchor_scores(anchor))
    result.notebooks = len(result.scores)
    executed = sorted((anchor / "autograded").glob("*/*/*.ipynb"))
    if executed and result.notebooks:
        cells = sum(student_cell_seconds(path) for path in executed) / len(executed)
        result.overhead = wall / result.notebooks - cells
    return result


def run_workers(count: int) -> Callable[[Path, Path], ModeResult]:
    """The ``--workers <count>`` mode: one worker is the grader process, more are its pool processes."""
    def run(template: Path, folder: Path) -> ModeResult:
        folder.mkdir(parents=True)
        roots = (lambda pid: processes([pid])) if count == 1 else (lambda pid: lambda: pool_children(pid))
        return grader_mode(f"workers{count}", template, folder, ["--workers", str(count)], roots)
    return run


def dask_unavailable() -> str:
    """Why the Dask mode cannot run here ("" when it can)."""
    if not DASK.exists():
        return "dask is not installed in .venv (pip install 'dask[distributed]')"
    usage = subprocess.run([str(GRADER), "autograde", "--help"], capture_output=True, text=True).stdout
    if "--scheduler" not in usage:
        return "`grader autograde --help` lists no --scheduler option yet"
    return ""


def stop_process(process: subprocess.Popen, grace: float = 15.0) -> None:
    """SIGTERM, then SIGKILL to the process group it was started in (its own session)."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def wait_for_workers(address: str, count: int, timeout: float = 120.0) -> None:
    """Block until ``count`` workers are registered with the scheduler at ``address``."""
    from distributed import Client

    with Client(address, timeout=timeout) as client:
        client.wait_for_workers(count, timeout=timeout)


@contextlib.contextmanager
def dask_cluster(folder: Path, workers: int) -> Iterator[tuple[str, list[int]]]:
    """A scheduler on a free loopback port and ``workers`` one-thread workers (no nanny, the grader's preload)."""
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    started: list[subprocess.Popen] = []
    log = (folder / "dask.log").open("a")
    try:
        started.append(subprocess.Popen([str(DASK), "scheduler", "--host", "127.0.0.1", "--port", str(port),
                                         "--no-dashboard"], stdout=log, stderr=subprocess.STDOUT,
                                        start_new_session=True, env=tool_environment()))
        for index in range(workers):
            started.append(subprocess.Popen(
                [str(DASK), "worker", address, "--host", "127.0.0.1", "--nthreads", "1", "--nworkers", "1",
                 "--no-nanny", "--no-dashboard", "--memory-limit", "0", "--preload", "grader.dask_worker",
                 "--name", f"bench-worker-{index}",
                 "--local-directory", str(folder / f"worker-{index}")],
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env=tool_environment()))
        wait_for_workers(address, workers)
        yield address, [process.pid for process in started[1:]]
    finally:
        for process in reversed(started):
            stop_process(process)
        log.close()


def run_dask(template: Path, folder: Path) -> ModeResult:
    """``grader autograde --scheduler`` on a local cluster of :data:`DASK_WORKERS` workers."""
    reason = dask_unavailable()
    if reason:
        return ModeResult("dask", unavailable=reason)
    folder.mkdir(parents=True)
    with dask_cluster(folder, DASK_WORKERS) as (address, worker_pids):
        return grader_mode("dask", template, folder, ["--scheduler", address],
                           lambda pid: processes(worker_pids))


MODES: dict[str, Mode] = {
    "anchor": Mode("plain nbgrader (anchor)", run_anchor),
    "workers1": Mode("grader --workers 1", run_workers(1)),
    "workers2": Mode("grader --workers 2", run_workers(2)),
    "dask": Mode(f"grader --scheduler (Dask, {DASK_WORKERS} workers)", run_dask),
}


def run_mode(mode: str, template: Path, folder: Path) -> ModeResult:
    """Run one mode; a failure becomes a row that says why instead of ending the benchmark."""
    before = os.getloadavg()[0]
    try:
        result = MODES[mode].run(template, folder)
    except Exception as error:  # noqa: BLE001 - report and go on with the other modes
        result = ModeResult(mode, unavailable=f"failed: {type(error).__name__}: {str(error)[:300]}")
    result.load = (before, os.getloadavg()[0])
    return result
