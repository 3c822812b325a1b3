"""Start probe processes fast: forked from a server that has already imported torch.

Python's ``forkserver`` start method keeps one clean server process per grader process; with
the heavy modules preloaded there, each probe is a fresh forked child (its own memory, its own
session, killed whole at the deadline) that starts in milliseconds instead of seconds.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import multiprocessing.connection
import os
import signal
import sys
import threading
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from grader.assignments import BUILT_IN, folders_in, import_probes, registered
from grader.sandbox.clean_forkserver import CleanForkServerContext, clean_context
from grader.sandbox.jail import NAMESPACES, JailSpec, enter_jail, set_session_nice

# what kernels and probes import anyway; nothing that holds grading data (checks, held-out digits)
PRELOAD = ["numpy", "torch", "torch.nn", "torch.utils.data", "torchvision", "cv2", "matplotlib",
           "matplotlib.pyplot", "mlxtend", "tqdm", "IPython", "ipykernel.kernelapp", "ipykernel.ipkernel",
           "matplotlib_inline.backend_inline", "ipykernel.debugger", "ipykernel.zmqshell", "IPython.core.debugger",
           "IPython.core.completerlib", "sqlite3", "grader.kernels.torch_warmup", "grader.sandbox.jail",
           "grader.probing.probe", "grader.assignments", "grader.data", "grader.pipeline.export",
           "grader.kernels.kernel_child", "grader.sandbox.clean_forkserver"]
MAX_JOB_BYTES = 1 << 16
# One thread: a probe is a few forward passes, and it runs while the next kernel starts on the other
# cores; with two OpenMP threads, one of them starved, the mnist and conv probes took 2 to 3 times longer.
PROBE_THREADS = 1
DONE = b"done"  # the waiting probe's word that its results are written
_context = None
_main_lock = threading.Lock()


def probe_context() -> CleanForkServerContext:
    """The forkserver context, its server preloading :data:`PRELOAD` (started on first use).

    The server is exec'd with the allow-listed environment of :mod:`grader.sandbox.environment`, not
    the grader's: kernels and probes forked from it hold none of the grader's variables.
    """
    global _context
    if _context is None:
        _context = clean_context()
        built_in = [f"grader.assignments.{assignment}.probe" for assignment in folders_in([BUILT_IN])]
        _context.set_forkserver_preload([*PRELOAD, *built_in])
    return _context


def start_probe_server() -> None:
    """Start the forkserver now (it imports :data:`PRELOAD`), rather than at the first kernel or probe."""
    probe_context().ensure_running()


def _probe_in_jail(assignment: str, notebook: str, inputs: str, out: str, threads: int, done: Any = None) -> None:
    """Runs in the sandboxed child: the probes of ``assignment``, then the process ends (exit code 0 on success).

    ``done``, when given, hears one byte once every result is written: the grader need not wait
    for this process (torch and all) to be torn down before it reads them.
    """
    code = 1
    try:
        import torch

        from grader.probing.probe import run_probes

        torch.set_num_threads(threads)
        torch.manual_seed(0)  # the same submission probes the same way every time
        run_probes(assignment, Path(notebook), Path(inputs), Path(out))
        code = 0
        if done is not None:
            done.send_bytes(DONE)
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)  # the sandboxed process ends here, whatever the student's code left running


def detach_resource_tracker() -> None:
    """In a child of the forkserver: swap the grader's resource tracker pipe for one that records nothing.

    The child inherits the pipe to the grader's ``multiprocessing`` resource tracker, which runs
    outside the sandbox and unlinks what it was told of when the grader ends. Student code must
    not reach it; the semaphores it makes (tqdm's lock) live in the sandbox's own /dev/shm and
    go with it, where the grader's tracker only reported them as leaked and missing.
    """
    from multiprocessing import resource_tracker

    tracker = resource_tracker._resource_tracker  # where the forkserver itself puts the inherited pipe
    if tracker._fd is not None:
        os.close(tracker._fd)
    tracker._fd = os.open(os.devnull, os.O_WRONLY)


def _enter(log_path: str, spec_json: str) -> None:
    spec = JailSpec.from_json(spec_json)
    os.setsid()
    detach_resource_tracker()
    set_session_nice(spec.limits.nice)  # the probe runs student code: its new session runs below the grader
    log = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(log)
    enter_jail(spec, lifeline=parent_sentinel())


def _child(assignment: str, notebook: str, inputs: str, out: str, spec_json: str, threads: int,
           folders: tuple[str, ...] = ()) -> None:
    """Runs in the forked child: the probe modules of ``folders`` imported, a session of its own, then the
    sandbox, then the probes."""
    import_probes(folders)
    _enter(os.path.join(out, "probe.log"), spec_json)
    _probe_in_jail(assignment, notebook, inputs, out, threads)


def _waiting_child(spec_json: str, jobs: Any, done: Any, threads: int, folders: tuple[str, ...] = ()) -> None:
    """Runs in the forked child: imports the probe modules of ``folders`` (a course's own assignment folders, which
    the sandbox hides), enters the sandbox at once, then waits for the grader's job (plain JSON)."""
    import_probes(folders)
    spec = JailSpec.from_json(spec_json)
    _enter(os.path.join(spec.scratch, "probe.log"), spec_json)
    try:
        job = json.loads(jobs.recv_bytes(MAX_JOB_BYTES))
    except (EOFError, OSError, ValueError):
        os._exit(3)  # cancelled: the notebook never got this far
    jobs.close()
    _probe_in_jail(job["assignment"], job["notebook"], job["inputs"], job["out"], threads, done)


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


def _kill(process: Any) -> None:
    for kill in (lambda: os.killpg(process.pid, signal.SIGKILL), lambda: os.kill(process.pid, signal.SIGKILL)):
        try:
            kill()
        except (ProcessLookupError, PermissionError):
            pass


def _finish(process: Any, timeout: float) -> int | None:
    """Wait up to ``timeout`` for the probe process; kill its whole session past it. Its exit code (None: killed)."""
    process.join(timeout)
    if process.is_alive():
        _kill(process)
        process.join()
        return None
    sys.stdout.flush()
    return process.exitcode


def run_probe_process(assignment: str, notebook: Path, inputs: Path, out: Path, spec: JailSpec,
                      timeout: float) -> int | None:
    """Run the probes of ``assignment`` in a forked child inside the sandbox ``spec``; its exit code (None: killed).

    ``notebook``, ``inputs`` and ``out`` lie in the sandbox's scratch folder.
    """
    out.mkdir(parents=True, exist_ok=True)
    process = probe_context().Process(
        target=_child, args=(assignment, str(notebook), str(inputs), str(out), spec.to_json(), PROBE_THREADS,
                             tuple(str(folder) for folder in registered())))
    with bare_main():
        process.start()
    return _finish(process, timeout)


class WaitingProbe:
    """A probe process started ahead, already in its sandbox, waiting for the files it is to probe.

    It starts beside the submission's kernel (same scratch folder, same jail), so that forking
    and entering the sandbox are off the grading path; :meth:`run` hands it its job.
    """

    def __init__(self, spec: JailSpec) -> None:
        self._spec = spec
        receiver, self._jobs = probe_context().Pipe(duplex=False)
        self._done, sender = probe_context().Pipe(duplex=False)
        self._process = probe_context().Process(target=_waiting_child,
                                                args=(spec.to_json(), receiver, sender, PROBE_THREADS,
                                                      tuple(str(folder) for folder in registered())))
        with bare_main():
            self._process.start()
        receiver.close()
        sender.close()
        try:
            self._pidfd = os.pidfd_open(self._process.pid)  # signals reach this process, never a reused pid
        except OSError:
            self._pidfd = -1  # it has ended already

    def _kill(self) -> None:
        """SIGKILL the probe process (its sandboxed child dies with it: parent-death signal, PID namespace)."""
        if self._pidfd >= 0:
            if self._spec.isolation != NAMESPACES and self._process.exitcode is None:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(self._process.pid, signal.SIGKILL)  # no PID namespace: what the student started too
            with contextlib.suppress(ProcessLookupError, OSError):
                signal.pidfd_send_signal(self._pidfd, signal.SIGKILL)
            os.close(self._pidfd)
            self._pidfd = -1

    def run(self, assignment: str, notebook: Path, inputs: Path, out: Path, timeout: float) -> int | None:
        """Probe ``notebook`` with ``inputs`` into ``out`` (all in the scratch folder); the exit code (None: killed).

        Once the probe process says its results are written it is killed rather than waited for (0).
        """
        for path in (out, inputs):
            if self._spec.uid is not None:
                os.chown(path, self._spec.uid, self._spec.uid)  # made by the grader after the sandbox took the scratch
        job = {"assignment": assignment, "notebook": str(notebook), "inputs": str(inputs), "out": str(out)}
        try:
            self._jobs.send_bytes(json.dumps(job).encode())
        except OSError:
            pass  # the waiting process is gone; its exit code says so
        finally:
            self._jobs.close()
        if self._results_written(timeout):
            self._kill()
            return 0
        self._kill()  # ended early or ran past its time
        self._process.join()
        return self._process.exitcode if self._process.exitcode != -signal.SIGKILL else None

    def _results_written(self, timeout: float) -> bool:
        ready = multiprocessing.connection.wait([self._done, self._process.sentinel], timeout)
        if self._done not in ready:
            return False
        try:
            return self._done.recv_bytes(len(DONE)) == DONE
        except (EOFError, OSError):
            return False

    def cancel(self) -> None:
        """Stop the waiting process (the notebook never got to probing)."""
        self._jobs.close()
        self._done.close()
        self._kill()
