"""The kernel side of a forked kernel: runs in the child of the warm forkserver.

Kept apart from :mod:`grader.warm_kernel` so that the child imports nothing but the jail
(the forkserver has ipykernel, torch and the rest imported already).
"""

from __future__ import annotations

import os
import sys

from grader.jail import JailSpec, enter_jail
from grader.probe_launcher import parent_sentinel


def run_kernel(spec_json: str, connection_file: str, passed_on: dict[str, str]) -> None:
    """Runs in the forked child: a session of its own, the sandbox, then ipykernel until it exits."""
    os.setsid()
    spec = JailSpec.from_json(spec_json)
    log = os.open(os.path.join(spec.scratch, "kernel.log"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    null = os.open(os.devnull, os.O_RDONLY)
    for source, target in ((null, 0), (log, 1), (log, 2)):
        os.dup2(source, target)
    os.close(log)
    os.close(null)
    enter_jail(spec, lifeline=parent_sentinel())
    os.environ.update(passed_on)
    code = 1
    try:
        from ipykernel.kernelapp import IPKernelApp

        sys.argv = ["ipykernel_launcher", "-f", connection_file]
        IPKernelApp.launch_instance(argv=["-f", connection_file])
        code = 0
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else 1
    finally:
        os._exit(code)
