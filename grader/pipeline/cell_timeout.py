"""A cell past its time limit: interrupted, its error recorded, and the notebook goes on.

nbclient's ``interrupt_on_timeout`` sends the kernel SIGINT and waits for the cell's reply
again, a whole cell limit at a time, forever. :class:`InterruptingClient` waits a short grace
instead: a cell that has not answered by then (it ignores SIGINT, or catches the
KeyboardInterrupt and goes on) has its kernel killed and :class:`CellIgnoredInterrupt` ends
the run. A cell that did stop is marked in its metadata (:data:`TIMEOUT_KEY`).
"""

from __future__ import annotations

import ast
import re
import time
from queue import Empty
from typing import Any

import nbformat
from jupyter_core.utils import ensure_async
from nbclient import NotebookClient
from nbformat import NotebookNode
from nbformat.v4 import new_output
from traitlets import Float

from grader.course import defaults
from grader.course.layout import nbgrader_metadata
from grader.sandbox.watchdog import kill_kernel

TIMEOUT_KEY = "grader_timed_out"  # cell metadata: the limit (seconds) the cell ran past


def cell_label(index: int, grade_id: str) -> str:
    """How the feedback names a cell: by its grade id (as the student's notebook has it), else by its place."""
    return f"the cell `{grade_id}`" if grade_id else f"cell {index}"


class CellIgnoredInterrupt(RuntimeError):
    """A cell ran past its limit and went on after the interrupt; its kernel was killed."""

    def __init__(self, index: int, grade_id: str, seconds: float, grace: float) -> None:
        self.index, self.grade_id = index, grade_id
        super().__init__(f"{cell_label(index, grade_id)} ran past its {seconds:g} s limit and was still running "
                         f"{grace:g} s after the interrupt; the kernel was killed")


class InterruptingClient(NotebookClient):
    """nbclient's client whose interrupt on a timeout is followed by a short wait, then a kill."""

    interrupt_grace = Float(defaults.INTERRUPT_GRACE_SECONDS,
                            help="seconds an interrupted cell has to stop before its kernel is killed").tag(config=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for cell in self.nb.cells:  # only this client marks a cell as timed out
            cell.metadata.pop(TIMEOUT_KEY, None)

    async def _async_handle_timeout(self, timeout: int, cell: NotebookNode | None = None) -> dict[str, Any] | None:
        """Interrupt the cell and return its reply; kill the kernel when none comes within the grace."""
        if not self.interrupt_on_timeout or cell is None:
            return await super()._async_handle_timeout(timeout, cell)
        cell.metadata[TIMEOUT_KEY] = float(timeout)
        cell.outputs.append(new_output("stream", name="stderr", text=(
            f"\n[grader: this cell ran past its time limit of {timeout:g} s and was interrupted]\n")))
        await ensure_async(self.km.interrupt_kernel())
        reply = await self._execute_reply(self.interrupt_grace)
        if reply is not None:
            return reply
        kill_kernel(self.km)
        index = next((number for number, each in enumerate(self.nb.cells) if each is cell), -1)
        raise CellIgnoredInterrupt(index, str(nbgrader_metadata(cell).get("grade_id", "")), timeout,
                                   self.interrupt_grace)

    async def _execute_reply(self, seconds: float) -> dict[str, Any] | None:
        """The next execute reply on the shell channel within ``seconds`` (one cell runs at a time), or None."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                msg = await ensure_async(self.kc.shell_channel.get_msg(timeout=left))
            except Empty:
                return None
            if msg.get("msg_type") == "execute_reply":
                return msg
        return None


ANSI_CODES = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
CELL_FRAME = re.compile(r"(?:Cell In ?\[\d*\]|Input In ?\[\d*\]), line (\d+)")


def interrupted_line(traceback: list[str]) -> int:
    """The line of the cell that ran when the interrupt came: its outermost frame in IPython's traceback; 0: unknown."""
    for entry in traceback:
        match = CELL_FRAME.search(ANSI_CODES.sub("", entry))
        if match:
            return int(match.group(1))
    return 0


def finished_part(source: str, line: int) -> str:
    """The top-level statements of ``source`` before the one holding ``line``: what an interrupted cell had run.

    Nothing when ``line`` is 0 (unknown), past the cell's statements, or the source cannot be parsed.
    """
    from grader.probing.probe import as_python  # IPython's own transform, as the kernel and the probe apply it

    try:
        body = ast.parse(as_python(source)).body
    except SyntaxError:
        return ""
    if line <= 0:
        return ""
    running = next((statement for statement in body if (statement.end_lineno or statement.lineno) >= line), None)
    return "" if running is None else "".join(source.splitlines(keepends=True)[:running.lineno - 1])


def probe_notebook(notebook: NotebookNode, interrupted: dict[str, int]) -> NotebookNode:
    """A copy of ``notebook`` for the probe process: each cell of ``interrupted`` (grade id -> line) cut to its
    finished part, as the kernel had run it; the probe never runs into the loop the kernel was interrupted in."""
    copy = nbformat.from_dict(notebook)
    for cell in copy.cells:
        grade_id = str(nbgrader_metadata(cell).get("grade_id", ""))
        if cell.cell_type == "code" and grade_id and grade_id in interrupted:
            cell.source = finished_part(cell.source, interrupted[grade_id])
    return copy
