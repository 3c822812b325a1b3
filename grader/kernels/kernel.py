"""The kernel side of execution: a kernel started inside the sandbox, and a client that caps output.

The kernel talks to the grader over IPC sockets in its scratch folder, so it needs no network.
The capping client is registered as papermill's ``grader`` engine.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
import uuid
from pathlib import Path
from queue import Empty
from typing import Any

from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.manager import AsyncKernelManager
from nbformat import NotebookNode
from nbformat.v4 import new_output
from papermill.clientwrap import PapermillNotebookClient
from papermill.engines import NBClientEngine, NotebookExecutionManager, papermill_engines
from traitlets import Bool, Int, Type, Unicode

from grader.course import defaults
from grader.pipeline.cell_timeout import InterruptingClient
from grader.sandbox.environment import allowed_environment
from grader.sandbox.jail import KERNEL_VARIABLES, JailSpec, set_session_nice

ENGINE = "grader"
FLOOD_FACTOR = 2  # output past this many cell or notebook budgets interrupts the kernel
TRACEBACK_LINES = 60


class QuickReadyClient(AsyncKernelClient):
    """jupyter's async client, ready as soon as the kernel answers on shell and IOPub.

    jupyter's own wait sleeps at least 0.2 s (and often 1.2 s) per kernel; this one returns
    once a kernel_info reply and an IOPub message have arrived.
    """

    async def _async_wait_for_ready(self, timeout: float | None = None) -> None:
        deadline = time.monotonic() + (60.0 if timeout is None else timeout)
        while time.monotonic() < deadline:
            msg_id = self.kernel_info()
            if await self._replied(msg_id, min(1.0, deadline - time.monotonic())):
                try:
                    await self.iopub_channel.get_msg(timeout=0.05)  # IOPub subscribed: outputs will arrive
                    getattr(self.parent, "lower_session_priority", lambda: None)()
                    return
                except Empty:
                    pass
            if not await self._async_is_alive():
                raise RuntimeError("Kernel died before replying to kernel_info")
        raise RuntimeError(f"Kernel didn't respond in {timeout} seconds")

    wait_for_ready = _async_wait_for_ready  # jupyter's async client binds the base method by this name

    async def _replied(self, msg_id: str, seconds: float) -> bool:
        end = time.monotonic() + max(seconds, 0.0)
        while (left := end - time.monotonic()) > 0:
            try:
                msg = await self.shell_channel.get_msg(timeout=left)
            except Empty:
                return False
            if msg["msg_type"] == "kernel_info_reply" and msg["parent_header"].get("msg_id") == msg_id:
                self._handle_kernel_info_reply(msg)
                return True
        return False


class SandboxedKernelManager(AsyncKernelManager):
    """A kernel manager whose kernel command goes through ``python -m grader.sandbox.jail``."""

    client_factory = Type(klass=QuickReadyClient)  # jupyter's default is a class, so client_class alone won't do

    jail_spec_file = Unicode("", help="the JailSpec JSON the kernel is started with").tag(config=True)
    forked = Bool(True, help="fork the kernel from the warm server (False: start a new Python)").tag(config=True)
    session_nice = Int(0, help="the niceness of the kernel's session once it is ready, before any code runs")

    def lower_session_priority(self) -> None:
        """Nice the kernel's session (its Linux autogroup) once it has started: student code runs next."""
        pid = getattr(self.provisioner, "pid", None)
        if pid is not None and self.session_nice:
            set_session_nice(self.session_nice, pid)

    def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
        """The kernelspec's command, prefixed by the jail that enters the sandbox."""
        command = super().format_kernel_cmd(extra_arguments)
        return [sys.executable, "-m", "grader.sandbox.jail", self.jail_spec_file, "--", *command]

    async def _async_pre_start_kernel(self, **kw: Any) -> tuple[list[str], dict[str, Any]]:
        """Start the kernel forked from the warm server rather than from a new Python."""
        if self.provisioner is None and self.forked:
            from grader.kernels.forked_kernel import ForkedKernelProvisioner

            self.kernel_id = self.kernel_id or str(uuid.uuid4())
            self.provisioner = ForkedKernelProvisioner(kernel_id=self.kernel_id, kernel_spec=self.kernel_spec,
                                                       parent=self)
        command, launch = await super()._async_pre_start_kernel(**kw)
        return command, {**launch, "env": launcher_environment(launch.get("env") or {})}

    async def _async_wait(self, pollinterval: float = 0.005) -> None:
        """Wait for the kernel to end, polling every 5 ms rather than jupyter's 100 ms."""
        await super()._async_wait(pollinterval=pollinterval)


def launcher_environment(jupyter_env: dict[str, str]) -> dict[str, str]:
    """The environment ``python -m grader.sandbox.jail`` starts with: the allow-list and jupyter's notes to the kernel.

    jupyter would start it with a copy of the grader's whole environment; the kernel it execs
    gets the sandbox's own, but the launcher (which stays outside as the kernel's parent) must
    not hold the grader's variables either.
    """
    return {**allowed_environment(), **{name: jupyter_env[name] for name in KERNEL_VARIABLES if name in jupyter_env}}


def sandboxed_manager(spec: JailSpec, scratch: Path) -> SandboxedKernelManager:
    """A kernel manager for one submission: IPC sockets and connection file in ``scratch``."""
    spec_file = scratch / "jail.json"
    spec_file.write_text(spec.to_json(), encoding="utf-8")
    return SandboxedKernelManager(kernel_name="python3", transport="ipc", ip=str(scratch / "kernel"),
                                  connection_file=str(scratch / "kernel.json"), jail_spec_file=str(spec_file),
                                  session_nice=spec.limits.nice)


def _content_size(content: dict[str, Any]) -> int:
    try:
        return len(json.dumps(content))
    except (TypeError, ValueError):
        return 0


def _notice(text: str) -> NotebookNode:
    return new_output("stream", name="stderr", text=f"\n[grader: {text}]\n")


def truncate_output(out: NotebookNode, limit: int) -> NotebookNode:
    """``out`` cut to about ``limit`` characters: text shortened, oversized rich data dropped."""
    if out.output_type == "stream" and len(out.text) > limit:
        out.text = out.text[:limit] + f"\n[grader: output cut at {limit // 1024} KiB]\n"
    elif out.output_type in ("display_data", "execute_result"):
        too_big = [mime for mime, value in out.data.items() if len(str(value)) > limit]
        for mime in too_big:
            del out.data[mime]
        if too_big:
            out.data["text/plain"] = f"[grader: {', '.join(too_big)} output over {limit // 1024} KiB removed]"
    elif out.output_type == "error":
        out.traceback = [line[:limit // TRACEBACK_LINES] for line in out.traceback[-TRACEBACK_LINES:]]
        out.evalue = out.evalue[:limit // 4]
    return out


class CappedNotebookClient(InterruptingClient, PapermillNotebookClient):
    """papermill's client with output budgets per output, per cell and per notebook.

    Output over a budget is dropped (with one notice per cell); a flood of several notebook
    budgets interrupts the kernel. Totals go into the notebook's ``grader`` metadata. A cell past
    its time limit is interrupted as :class:`grader.pipeline.cell_timeout.InterruptingClient` says.
    """

    output_kb = Int(defaults.OUTPUT_KB).tag(config=True)
    cell_output_kb = Int(defaults.CELL_OUTPUT_KB).tag(config=True)
    notebook_output_kb = Int(defaults.NOTEBOOK_OUTPUT_KB).tag(config=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._cell_bytes: dict[int, int] = {}
        self._notebook_bytes = 0
        self._noticed: set[int] = set()
        self._interrupted = False

    def _record(self) -> None:
        limit = self.notebook_output_kb * 1024
        self.nb.metadata["grader"] = {"output_bytes": self._notebook_bytes, "output_cut": self._notebook_bytes > limit
                                      or bool(self._noticed), "output_flood": self._interrupted}

    def _over_budget(self, cell_index: int, outs: list[NotebookNode]) -> bool:
        over_cell = self._cell_bytes[cell_index] > self.cell_output_kb * 1024
        over_notebook = self._notebook_bytes > self.notebook_output_kb * 1024
        if (over_cell or over_notebook) and cell_index not in self._noticed:
            self._noticed.add(cell_index)
            outs.append(_notice("more output than the grader keeps; the rest of this cell's output was dropped"))
        flood = (self._cell_bytes[cell_index] > FLOOD_FACTOR * self.cell_output_kb * 1024
                 or self._notebook_bytes > FLOOD_FACTOR * self.notebook_output_kb * 1024)
        if flood and not self._interrupted:
            self._interrupted = True
            outs.append(_notice("output flood: the cell was interrupted"))
            asyncio.ensure_future(self.km.interrupt_kernel())
        return over_cell or over_notebook

    def output(self, outs: list[NotebookNode], msg: dict[str, Any], display_id: str | None,
               cell_index: int) -> NotebookNode | None:
        """nbclient's output handler, within the budgets."""
        size = _content_size(msg.get("content", {}))
        self._notebook_bytes += size
        self._cell_bytes[cell_index] = self._cell_bytes.get(cell_index, 0) + size
        over = self._over_budget(cell_index, outs)
        self._record()
        if over:
            return None
        out = super().output(outs, msg, display_id, cell_index)
        return truncate_output(out, self.output_kb * 1024) if out is not None else None


class CappedEngine(NBClientEngine):
    """papermill's nbclient engine with :class:`CappedNotebookClient`, writing the notebook once."""

    @classmethod
    def execute_notebook(cls, nb: NotebookNode, kernel_name: str, output_path: str | None = None,
                         progress_bar: bool = True, log_output: bool = False, autosave_cell_every: int = 30,
                         **kwargs: Any) -> NotebookNode:
        """papermill's engine wrapper, minus its writes: papermill writes the notebook once a run has ended.

        papermill writes the whole notebook as the run starts, after cells and as it ends, then
        once more (bench/results/fixed_costs.md); the grader reads it once, at the end. A run that
        ends early (a timeout, a dead kernel) is written as papermill would.
        """
        nb_man = NotebookExecutionManager(nb, output_path=None, progress_bar=progress_bar, log_output=log_output,
                                          autosave_cell_every=autosave_cell_every)
        nb_man.notebook_start()
        try:
            cls.execute_managed_notebook(nb_man, kernel_name, log_output=log_output, **kwargs)
        except BaseException:
            nb_man.output_path = output_path  # the partial run is saved on the way out
            raise
        finally:
            nb_man.cleanup_pbar()
            nb_man.notebook_complete()
        return nb_man.nb

    @classmethod
    def execute_managed_notebook(cls, nb_man: Any, kernel_name: str, log_output: bool = False,
                                 stdout_file: Any = None, stderr_file: Any = None, start_timeout: int = 60,
                                 execution_timeout: float | None = None, **kwargs: Any) -> Any:
        """Execute ``nb_man``'s notebook as papermill does, through the capping client."""
        kwargs.pop("input_path", None)
        for name in ("timeout", "startup_timeout"):
            kwargs.pop(name, None)
        client = CappedNotebookClient(nb_man, timeout=execution_timeout, startup_timeout=start_timeout,
                                      kernel_name=kernel_name, log_output=log_output, stdout_file=stdout_file,
                                      stderr_file=stderr_file, **kwargs)
        return client.execute()


papermill_engines.register(ENGINE, CappedEngine)
