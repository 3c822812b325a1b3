"""Kernels forked from a warm server: torch and ipykernel already imported, each kernel still a fresh process.

Starting ``python -m ipykernel_launcher`` and importing torch, OpenCV and matplotlib costs a
few seconds of every notebook. The grader's forkserver (:mod:`grader.probing.probe_launcher`) has
them imported once; a kernel is a child forked from it, which enters the sandbox exactly as
``python -m grader.sandbox.jail`` would and then runs ipykernel's application. The child shares no
state with other submissions: it is a new process with its own copy of the server's memory,
and the server holds no grading data (no checks, no held-out digits).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import shutil
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from grader.kernels.kernel import SandboxedKernelManager, sandboxed_manager
from grader.probing.probe_launcher import WaitingProbe
from grader.sandbox.jail_spec import SandboxRun
from grader.sandbox.watchdog import kill_kernel, stop_kernel

START_TIMEOUT = 60  # seconds a kernel may take to start


@dataclass(frozen=True)
class ReadyKernel:
    """A sandboxed kernel started for the next submission: its scratch, its manager, its start, its probe process."""

    run: SandboxRun
    manager: SandboxedKernelManager
    probe: WaitingProbe

    def kill(self) -> None:
        """SIGKILL the probe process and the kernel's process group now, without waiting for them to end."""
        self.probe.cancel()
        kill_kernel(self.manager)

    def stop(self) -> None:
        """Stop the kernel and the probe process, and remove the scratch folder."""
        self.kill()
        stop_kernel(self.manager)
        shutil.rmtree(self.run.scratch, ignore_errors=True)


class KernelReserve:
    """Keeps one sandboxed kernel starting ahead, so that the next submission does not wait for it.

    The next kernel starts (on a thread of its own) once the previous notebook has finished
    executing, while the grader probes and checks that submission; the probe process of the
    next submission starts beside it and waits in the sandbox. Each kernel and each probe
    process still serves one submission only, in a new scratch folder.
    """

    def __init__(self, make_run: Callable[[Path], SandboxRun]) -> None:
        self._make_run = make_run
        self._loop = asyncio.new_event_loop()
        threading.Thread(target=self._loop.run_forever, daemon=True, name="grader-kernels").start()
        self._starter = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="grader-kernel-start")
        self._cleaner = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="grader-kernel-stop")
        self._ahead: concurrent.futures.Future[ReadyKernel] | None = None

    def _start(self) -> ReadyKernel:
        """Runs on the starter thread: the scratch folder, the waiting probe process, the kernel."""
        scratch = Path(tempfile.mkdtemp(prefix="grader-work-"))
        run = self._make_run(scratch)
        manager = sandboxed_manager(run.spec, scratch)
        starting = asyncio.run_coroutine_threadsafe(manager.start_kernel(), self._loop)
        probe = None
        try:
            probe = WaitingProbe(run.spec)  # forked while the kernel, the long pole, starts up
            starting.result(timeout=START_TIMEOUT)
        except BaseException:
            with contextlib.suppress(BaseException):
                starting.result(timeout=START_TIMEOUT)  # never stop a kernel halfway through its start
            if probe is not None:
                probe.cancel()
            stop_kernel(manager)
            shutil.rmtree(scratch, ignore_errors=True)
            raise
        return ReadyKernel(run, manager, probe)

    def start_next(self) -> None:
        """Start the kernel of the next submission now (in the background), unless one is already on its way."""
        if self._ahead is None:
            self._ahead = self._starter.submit(self._start)

    def take(self) -> ReadyKernel:
        """The kernel started ahead (started now when there is none), once it runs."""
        self.start_next()
        ahead, self._ahead = self._ahead, None
        return ahead.result(timeout=2 * START_TIMEOUT)

    def retire(self, ready: ReadyKernel) -> None:
        """Kill a used kernel and its probe process now; wait for their end and remove the scratch in the background.

        A torch-sized kernel takes a while to end and its scratch folder as long to remove:
        the next submission need not wait for either.
        """
        ready.kill()
        self._cleaner.submit(ready.stop)

    def close(self) -> None:
        """Stop the kernel started ahead, if any, and finish retiring the used ones."""
        ahead, self._ahead = self._ahead, None
        if ahead is not None:
            with contextlib.suppress(Exception):
                ahead.result(timeout=2 * START_TIMEOUT).stop()
        self._starter.shutdown(wait=False)
        self._cleaner.shutdown(wait=True)
