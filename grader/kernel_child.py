"""The kernel side of a forked kernel: runs in the child of the warm forkserver.

Kept apart from :mod:`grader.warm_kernel` so that the child imports nothing but the jail
(the forkserver has ipykernel, torch and the rest imported already).
"""

from __future__ import annotations

import dataclasses
import os
import sys

from grader.jail import JailSpec, enter_jail
from grader.probe_launcher import parent_sentinel


def lower_priority(increment: int) -> None:
    """Make every thread of this process ``increment`` nicer, as ``os.nice`` would (each thread has its own)."""
    nice = min(os.getpriority(os.PRIO_PROCESS, 0) + increment, 19)
    try:
        own_proc = int(os.readlink("/proc/self")) == os.getpid()  # not the host's /proc seen from a PID namespace
        threads = [int(name) for name in os.listdir("/proc/self/task")] if own_proc else []
    except (OSError, ValueError):
        threads = []
    for thread in threads or [0]:
        try:
            os.setpriority(os.PRIO_PROCESS, thread, nice)
        except ProcessLookupError:
            continue  # a thread that has ended meanwhile


def run_kernel(spec_json: str, connection_file: str, passed_on: dict[str, str]) -> None:
    """Runs in the forked child: a session of its own, the sandbox, then ipykernel until it exits.

    ipykernel starts up at the grader's priority (it is the grader's code, and the next
    submission waits for it); every thread drops to the sandbox's niceness before the kernel
    takes its first request, so student code never runs above it.
    """
    os.setsid()
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
        lower_priority(spec.limits.nice)
        app.start()
        code = 0
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else 1
    finally:
        os._exit(code)
