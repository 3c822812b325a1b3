"""A kernel forked from the warm server: jupyter's provisioner, its process a child of the forkserver.

The child (:func:`grader.kernels.kernel_child.run_kernel`) enters the sandbox exactly as ``python -m
grader.sandbox.jail`` would and then runs ipykernel's application; :mod:`grader.kernels.warm_kernel` starts
such kernels ahead of the notebooks they will run.
"""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path
from typing import Any

from jupyter_client.connect import KernelConnectionInfo
from jupyter_client.provisioning import LocalProvisioner

from grader.kernels.kernel_child import run_kernel
from grader.probing.probe_launcher import bare_main, probe_context
from grader.sandbox.jail import KERNEL_VARIABLES


class ForkedProcess:
    """The little of :class:`subprocess.Popen` that jupyter's provisioner uses, for a forked kernel."""

    stdin = stdout = stderr = None

    def __init__(self, process: Any) -> None:
        self._process = process
        self.pid: int = process.pid

    def poll(self) -> int | None:
        """The exit code, or None while the kernel runs (negative: killed by that signal)."""
        return self._process.exitcode

    def wait(self, timeout: float | None = None) -> int | None:
        """Wait for the kernel to end and return its exit code."""
        self._process.join(timeout)
        return self._process.exitcode

    def send_signal(self, signum: int) -> None:
        """Signal the kernel process."""
        if self._process.exitcode is None:
            os.kill(self.pid, signum)

    def kill(self) -> None:
        """SIGKILL the kernel process."""
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        """SIGTERM the kernel process."""
        self.send_signal(signal.SIGTERM)


class ForkedKernelProvisioner(LocalProvisioner):
    """jupyter's local provisioner, starting the kernel as a child of the warm forkserver."""

    async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> KernelConnectionInfo:
        """Fork the sandboxed kernel; ``cmd`` is ignored but for its connection file."""
        manager = self.parent
        spec_json = Path(manager.jail_spec_file).read_text(encoding="utf-8")
        env = kwargs.get("env") or {}
        passed_on = {name: env[name] for name in KERNEL_VARIABLES if name in env}
        process = probe_context().Process(target=run_kernel,
                                          args=(spec_json, manager.connection_file, passed_on))
        with bare_main():
            process.start()
        self.process = ForkedProcess(process)
        self.pid = self.pgid = process.pid  # the child starts its own session at once
        self.cwd = kwargs.get("cwd")
        return self.connection_info

    async def wait(self) -> int | None:
        """Wait for the kernel to end, polling every 5 ms (jupyter's own wait sleeps 100 ms between polls)."""
        if self.process is None:
            return 0
        while (code := self.process.poll()) is None:
            await asyncio.sleep(0.005)
        self.process = None
        return code
