"""Start probe processes fast: forked from a server that has already imported torch.

Python's ``forkserver`` start method keeps one clean server process per grader process; with
the heavy modules preloaded there, each probe is a fresh forked child (its own memory, its own
session, killed whole at the deadline) that starts in milliseconds instead of seconds.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import sys
import threading
import types
from collections.abc import Iterator
from pathlib import Path

from grader.jail import JailSpec, enter_jail

# what kernels and probes import anyway; nothing that holds grading data (checks, held-out digits)
PRELOAD = ["numpy", "torch", "torch.nn", "torch.utils.data", "torchvision", "cv2", "matplotlib",
           "matplotlib.pyplot", "mlxtend", "tqdm", "IPython", "ipykernel.kernelapp", "ipykernel.ipkernel",
           "matplotlib_inline.backend_inline", "grader.jail", "grader.probe", "grader.probes", "grader.data",
           "grader.export", "grader.kernel_child"]
_context = None
_main_lock = threading.Lock()


def probe_context() -> multiprocessing.context.BaseContext:
    """The forkserver context, its server preloading :data:`PRELOAD` (started on first use)."""
    global _context
    if _context is None:
        os.environ.setdefault("MPLBACKEND", "Agg")  # inherited by the server before it imports pyplot
        _context = multiprocessing.get_context("forkserver")
        _context.set_forkserver_preload(PRELOAD)
    return _context


def _child(assignment: str, notebook: str, inputs: str, out: str, spec_json: str, threads: int) -> None:
    """Runs in the forked child: a session of its own, then the sandbox, then the probes."""
    os.setsid()
    log = os.open(os.path.join(out, "probe.log"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(log, 1)
    os.dup2(log, 2)
    enter_jail(JailSpec.from_json(spec_json), lifeline=parent_sentinel())
    code = 1
    try:
        import torch

        from grader.probe import run_probes

        torch.set_num_threads(threads)
        torch.manual_seed(0)  # the same submission probes the same way every time
        run_probes(assignment, Path(notebook), Path(inputs), Path(out))
        code = 0
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)  # the sandboxed process ends here, whatever the student's code left running


def parent_sentinel() -> int | None:
    """In a forked child: a pipe end that reads end-of-file once the grader process that asked for it is gone."""
    parent = multiprocessing.parent_process()
    return parent.sentinel if parent is not None else None


@contextlib.contextmanager
def bare_main() -> Iterator[None]:
    """Hide ``__main__`` while a child starts, so it does not re-run the grader's main script.

    multiprocessing re-imports the parent's main module in every child (a script, pytest, or
    ``<stdin>``, which fails); the probe child needs nothing from it.
    """
    with _main_lock:  # kernels start from another thread while probes start from this one
        real_main = sys.modules["__main__"]
        sys.modules["__main__"] = types.ModuleType("__main__")
        try:
            yield
        finally:
            sys.modules["__main__"] = real_main


def run_probe_process(assignment: str, notebook: Path, inputs: Path, out: Path, spec: JailSpec,
                      timeout: float) -> int | None:
    """Run the probes of ``assignment`` in a forked child inside the sandbox ``spec``; its exit code (None: killed).

    ``notebook``, ``inputs`` and ``out`` lie in the sandbox's scratch folder.
    """
    threads = int(os.environ.get("OMP_NUM_THREADS", "0") or 0) or max(1, os.cpu_count() or 1)
    out.mkdir(parents=True, exist_ok=True)
    process = probe_context().Process(
        target=_child, args=(assignment, str(notebook), str(inputs), str(out), spec.to_json(), threads))
    with bare_main():
        process.start()
    process.join(timeout)
    if process.is_alive():
        for kill in (lambda: os.killpg(process.pid, signal.SIGKILL), lambda: os.kill(process.pid, signal.SIGKILL)):
            try:
                kill()
            except (ProcessLookupError, PermissionError):
                pass
        process.join()
        return None
    sys.stdout.flush()
    return process.exitcode
