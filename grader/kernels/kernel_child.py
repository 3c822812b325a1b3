"""The kernel side of a forked kernel: runs in the child of the warm forkserver.

Kept apart from :mod:`grader.kernels.warm_kernel` so that the child imports nothing but the jail
(the forkserver has ipykernel, torch and the rest imported already).
"""

from __future__ import annotations

import dataclasses
import functools
import os
import sys
import threading
from collections.abc import Callable
from typing import Any

from grader.probing.probe_launcher import detach_resource_tracker, parent_sentinel
from grader.sandbox.jail import JailSpec, enter_jail

READINESS_REQUESTS = frozenset({"kernel_info_request"})  # what a client asks before it sends any code


def _thread_ids() -> list[int]:
    """This process's threads (``[0]``, this thread, where /proc is not this process's own)."""
    try:
        own_proc = int(os.readlink("/proc/self")) == os.getpid()  # not the host's /proc seen from a PID namespace
        return [int(name) for name in os.listdir("/proc/self/task")] if own_proc else [0]
    except (OSError, ValueError):
        return [0]


def set_priority(nice: int) -> None:
    """Give every thread of this process the niceness ``nice`` (each Linux thread has its own)."""
    done: set[int] = set()
    while pending := set(_thread_ids()) - done:  # again, for a thread started meanwhile
        for thread in pending:
            try:
                os.setpriority(os.PRIO_PROCESS, thread, nice)
            except ProcessLookupError:
                pass  # a thread that has ended meanwhile
        done |= pending


def lower_priority_before_requests(kernel: Any, increment: int) -> None:
    """Every request but ``kernel_info_request`` first drops every thread ``increment`` nicer (once).

    Starting up and answering the client's readiness check is ipykernel's own code, which
    the next submission waits for; no student code runs before the first other request.
    """
    nice = min(os.getpriority(os.PRIO_PROCESS, 0) + increment, 19)
    lock = threading.Lock()
    lowered = []

    def guarded(handler: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(handler)
        def lower_then_handle(*args: Any, **kwargs: Any) -> Any:
            with lock:
                if not lowered:
                    set_priority(nice)
                    lowered.append(True)
            return handler(*args, **kwargs)
        return lower_then_handle

    for handlers in (kernel.shell_handlers, kernel.control_handlers):
        for msg_type, handler in handlers.items():
            if msg_type not in READINESS_REQUESTS:
                handlers[msg_type] = guarded(handler)


def run_kernel(spec_json: str, connection_file: str, passed_on: dict[str, str]) -> None:
    """Runs in the forked child: a session of its own, the sandbox, then ipykernel until it exits.

    ipykernel starts up and answers the readiness check at the grader's priority (it is the
    grader's code, and the next submission waits for it); every thread drops to the sandbox's
    niceness before the kernel handles any other request, so student code never runs above it.
    """
    os.setsid()
    detach_resource_tracker()
    spec = JailSpec.from_json(spec_json)
    log = os.open(os.path.join(spec.scratch, "kernel.log"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    null = os.open(os.devnull, os.O_RDONLY)
    for source, target in ((null, 0), (log, 1), (log, 2)):
        os.dup2(source, target)
    os.close(log)
    os.close(null)
    enter_jail(dataclasses.replace(spec, limits=dataclasses.replace(spec.limits, nice=0)), lifeline=parent_sentinel())
    os.environ.update(passed_on)
    code = 1
    try:
        from ipykernel.kernelapp import IPKernelApp

        sys.argv = ["ipykernel_launcher", "-f", connection_file]
        app = IPKernelApp.instance()
        app.initialize(["-f", connection_file])
        lower_priority_before_requests(app.kernel, spec.limits.nice)
        app.start()
        code = 0
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else 1
    finally:
        os._exit(code)
