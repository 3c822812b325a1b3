"""A wall-clock limit for a whole notebook: kill the kernel's process group when it is reached."""

from __future__ import annotations

import os
import signal
import threading

from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import run_sync


class NotebookTimeout(RuntimeError):
    """The notebook ran past its wall-clock limit and its kernel was killed."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"the notebook ran longer than {seconds:g} s")
        self.seconds = seconds


def kill_kernel(manager: AsyncKernelManager) -> None:
    """SIGKILL the kernel and everything in its process group (when it has one of its own)."""
    provisioner = getattr(manager, "provisioner", None)
    pid, pgid = getattr(provisioner, "pid", None), getattr(provisioner, "pgid", None)
    if pgid and pgid != os.getpgid(0):
        try:
            os.killpg(pgid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    if pid:
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def stop_kernel(manager: AsyncKernelManager) -> None:
    """Kill the kernel's process group (daemons it left included) and remove its connection file."""
    if not manager.has_kernel:
        return
    kill_kernel(manager)
    try:
        run_sync(manager.shutdown_kernel)(now=True)
    except Exception:  # noqa: BLE001 - already dead is fine; the files are what we want gone
        manager.cleanup_resources()


class Watchdog:
    """Kills ``manager``'s kernel after ``seconds`` unless cancelled; use as a context manager."""

    def __init__(self, manager: AsyncKernelManager, seconds: float | None) -> None:
        self.manager = manager
        self.seconds = seconds
        self.expired = threading.Event()
        self._timer = threading.Timer(seconds, self._expire) if seconds else None

    def _expire(self) -> None:
        self.expired.set()
        kill_kernel(self.manager)

    def __enter__(self) -> Watchdog:
        if self._timer is not None:
            self._timer.daemon = True
            self._timer.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._timer is not None:
            self._timer.cancel()
