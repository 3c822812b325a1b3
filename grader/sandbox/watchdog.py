"""Limits a kernel cannot enforce on itself: wall-clock time and the size of its scratch folder.

At the limit the kernel's process group is interrupted, then killed whole.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import run_sync

GRACE_SECONDS = 1.0
POLL_SECONDS = 0.25
MAX_ENTRIES = 100_000


class NotebookTimeout(RuntimeError):
    """The notebook ran past its wall-clock limit and its kernel was killed."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"the notebook ran longer than {seconds:g} s")
        self.seconds = seconds


class ScratchFull(RuntimeError):
    """Student code wrote more than the scratch folder may hold, and its kernel was killed."""

    def __init__(self, limit_bytes: int) -> None:
        super().__init__(f"the notebook wrote more than {limit_bytes // (1024 * 1024)} MiB of files")
        self.limit_bytes = limit_bytes


def signal_kernel(manager: AsyncKernelManager, signum: int) -> None:
    """Send ``signum`` to the kernel's process group (when it has one of its own) and to the kernel."""
    provisioner = getattr(manager, "provisioner", None)
    pid, pgid = getattr(provisioner, "pid", None), getattr(provisioner, "pgid", None)
    targets = []
    if pgid and pgid != os.getpgid(0):
        targets.append(lambda: os.killpg(pgid, signum))
    if pid:
        targets.append(lambda: os.kill(pid, signum))
    for send in targets:
        try:
            send()
        except (ProcessLookupError, PermissionError):
            pass


def kill_kernel(manager: AsyncKernelManager) -> None:
    """SIGKILL the kernel and everything in its process group."""
    signal_kernel(manager, signal.SIGKILL)


def stop_kernel(manager: AsyncKernelManager) -> None:
    """Kill the kernel's process group (daemons it left included) and remove its connection file."""
    if not manager.has_kernel:
        return
    kill_kernel(manager)
    try:
        run_sync(manager.shutdown_kernel)(now=True)
    except Exception:  # noqa: BLE001 - already dead is fine; the files are what we want gone
        manager.cleanup_resources()


def folder_bytes(folder: Path, limit: int) -> int:
    """Bytes in ``folder``, counting stops once past ``limit`` (too many entries count as past it)."""
    total, entries = 0, 0
    for root, _, files in os.walk(folder):
        for name in files:
            entries += 1
            try:
                total += os.lstat(os.path.join(root, name)).st_blocks * 512
            except OSError:
                continue
            if total > limit or entries > MAX_ENTRIES:
                return limit + 1
    return total


class Watchdog:
    """Stops ``manager``'s kernel after ``seconds`` or when ``scratch`` outgrows ``scratch_bytes``.

    Use as a context manager; ``reason`` is then None, a :class:`NotebookTimeout` or a
    :class:`ScratchFull`.
    """

    def __init__(self, manager: AsyncKernelManager, seconds: float | None, scratch: Path | None = None,
                 scratch_bytes: int = 0) -> None:
        self.manager = manager
        self.seconds = seconds
        self.scratch = scratch
        self.scratch_bytes = scratch_bytes
        self.reason: RuntimeError | None = None
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True, name="grader-watchdog")

    @property
    def expired(self) -> bool:
        """True once the watchdog has stopped the kernel."""
        return self.reason is not None

    def _over_limit(self, started: float) -> RuntimeError | None:
        if self.seconds and time.monotonic() - started > self.seconds:
            return NotebookTimeout(self.seconds)
        if self.scratch is not None and self.scratch_bytes:
            if folder_bytes(self.scratch, self.scratch_bytes) > self.scratch_bytes:
                return ScratchFull(self.scratch_bytes)
        return None

    def _watch(self) -> None:
        started = time.monotonic()
        while not self._done.wait(POLL_SECONDS):
            reason = self._over_limit(started)
            if reason is not None:
                self.reason = reason
                signal_kernel(self.manager, signal.SIGINT)
                self._done.wait(GRACE_SECONDS)
                kill_kernel(self.manager)
                return

    def __enter__(self) -> Watchdog:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._done.set()
        self._thread.join()
