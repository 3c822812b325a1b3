"""A forkserver started by exec with an allow-listed environment, and the context that forks from it.

Python's own forkserver (``multiprocessing.forkserver.ensure_running``) is exec'd with the
environment of the process that starts it: the grader's, tokens and passwords included, which
every forked kernel and probe would then carry in its memory. This server is the same program
(the stdlib's ``forkserver.main``), exec'd with :data:`grader.sandbox.environment.SERVER_ENVIRONMENT`
alone; the grader's ``os.environ`` is never changed, so its other threads are not disturbed.
Its ``sys.path`` is the grader's, given on the command line (the stdlib server's comes from
``PYTHONPATH``, which is not passed on).

Written for Python 3.11's multiprocessing (the project's pinned version): :class:`CleanPopen`
is ``popen_forkserver.Popen`` talking to this server instead of the module-wide one.
"""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import threading
from multiprocessing import connection, context, forkserver, popen_forkserver, process, resource_tracker, spawn, util
from typing import Any

from grader.sandbox.environment import allowed_environment

SERVER_COMMAND = ("import sys; sys.path[:] = {path!r}; "
                  "from multiprocessing.forkserver import main; main({fds}, {preload!r})")


class ServerProcess(subprocess.Popen):  # type: ignore[type-arg]
    """The server's process handle; the server may outlive it, ending once every client has closed its pipe end."""

    def __del__(self) -> None:
        """Nothing: subprocess would warn of a process still running and poll it later, which is by design here."""


class CleanForkServer(forkserver.ForkServer):
    """A forkserver whose process starts with the allow-listed environment, never the grader's."""

    def __init__(self) -> None:
        super().__init__()
        self._preload_modules = []
        self._server: ServerProcess | None = None

    def ensure_running(self) -> None:
        """Start the server unless it runs (again, if it has died)."""
        with self._lock:
            resource_tracker.ensure_running()  # its pipe goes to every child; the children close it
            if self._server is not None and self._server.poll() is None:
                return
            if self._forkserver_alive_fd is not None:
                os.close(self._forkserver_alive_fd)
            self._forkserver_address = self._forkserver_alive_fd = self._forkserver_pid = None
            self._launch()

    def _launch(self) -> None:
        with socket.socket(socket.AF_UNIX) as listener:
            address = connection.arbitrary_address("AF_UNIX")
            listener.bind(address)
            if not util.is_abstract_socket_namespace(address):
                os.chmod(address, 0o600)
            listener.listen()
            alive_r, alive_w = os.pipe()  # every client holds the write end; the server ends at its EOF
            try:
                command = SERVER_COMMAND.format(path=list(sys.path), fds=f"{listener.fileno()}, {alive_r}",
                                                preload=list(self._preload_modules))
                executable = spawn.get_executable()
                self._server = ServerProcess([executable, *util._args_from_interpreter_flags(), "-c", command],
                                             executable=executable, pass_fds=(listener.fileno(), alive_r),
                                             env=allowed_environment())
            except BaseException:
                os.close(alive_w)
                raise
            finally:
                os.close(alive_r)
        self._forkserver_address, self._forkserver_alive_fd = address, alive_w
        self._forkserver_pid = self._server.pid

    def server_pid(self) -> int | None:
        """The server process's pid (None before it has started)."""
        return self._forkserver_pid


SERVER = CleanForkServer()


class CleanPopen(popen_forkserver.Popen):
    """``popen_forkserver.Popen``, its child forked by :data:`SERVER`."""

    def _launch(self, process_obj: Any) -> None:
        prep_data = spawn.get_preparation_data(process_obj._name)
        buf = io.BytesIO()
        context.set_spawning_popen(self)
        try:
            context.reduction.dump(prep_data, buf)
            context.reduction.dump(process_obj, buf)
        finally:
            context.set_spawning_popen(None)
        self.sentinel, w = SERVER.connect_to_new_process(self._fds)
        parent_w = os.dup(w)  # the child's sentinel of this process, as the stdlib keeps it
        self.finalizer = util.Finalize(self, util.close_fds, (parent_w, self.sentinel))
        with open(w, "wb", closefd=True) as stream:
            stream.write(buf.getbuffer())
        self.pid = forkserver.read_signed(self.sentinel)


class CleanProcess(process.BaseProcess):
    """A process forked by :data:`SERVER`."""

    _start_method = "forkserver"

    @staticmethod
    def _Popen(process_obj: Any) -> CleanPopen:
        return CleanPopen(process_obj)


class CleanForkServerContext(context.ForkServerContext):
    """The forkserver start method, forking from :data:`SERVER` rather than the stdlib's server."""

    Process = CleanProcess

    def set_forkserver_preload(self, module_names: list[str]) -> None:
        """The modules the server imports before it forks (set before it starts)."""
        SERVER.set_forkserver_preload(module_names)

    def ensure_running(self) -> None:
        """Start the server now rather than at the first fork."""
        SERVER.ensure_running()


_lock = threading.Lock()
_context: CleanForkServerContext | None = None


def clean_context() -> CleanForkServerContext:
    """The context whose processes are forked from the clean server (one per process)."""
    global _context
    with _lock:
        if _context is None:
            _context = CleanForkServerContext()
        return _context
