"""The environment of every process the grader starts for student code: built from an allow-list.

A process started by exec keeps the environment block it was started with in its memory (on
its initial stack, in libc's ``environ``, in ``os.environ``), and every process forked from it
inherits that memory; clearing ``os.environ`` later erases none of it. So the processes that
sandboxed code is forked or exec'd from (the forkserver, ``python -m grader.sandbox.jail``) are started
with this environment, never with the grader's own, which may hold tokens and passwords (CI).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple

# the venv's scripts first, then the system's: what a kernel or the jail launcher may run
PLAIN_PATH = f"{Path(sys.executable).parent}:/usr/bin:/bin"


class EnvironmentAllowList(NamedTuple):
    """What of an environment a process gets: values the grader fixes, and names passed on when they are set."""

    fixed: tuple[tuple[str, str], ...]
    passed: tuple[str, ...]


SERVER_ENVIRONMENT = EnvironmentAllowList(
    fixed=(
        ("PATH", PLAIN_PATH),  # not the grader's PATH: the sandbox's own, which student code gets anyway
        ("LANG", "C.UTF-8"),  # one locale whatever the grader's LANG/LC_*: grading does not depend on them
        ("MPLBACKEND", "Agg"),  # read when the server imports pyplot: no display is ever opened
        ("PYDEVD_DISABLE_FILE_VALIDATION", "1"),  # debugpy's import (ipykernel) warns on stderr otherwise
    ),
    passed=(
        # OpenMP and the BLAS libraries read these once, as the server loads them (batch.start_worker
        # sets them to the threads each grading process may use); numbers, never credentials
        "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
        # which GPUs this grader may use, read when CUDA starts in a kernel
        "CUDA_VISIBLE_DEVICES",
        # where the preloaded libraries keep their caches (matplotlib's font list, built once):
        # without them the server rebuilds them in a temporary folder at every start
        "HOME", "XDG_CACHE_HOME", "XDG_CONFIG_HOME", "MPLCONFIGDIR",
    ),
)
# what student code gets of the grader's environment, besides the sandbox's own folders
STUDENT_PASSED = ("CUDA_VISIBLE_DEVICES",)


def allowed_environment(allowed: EnvironmentAllowList = SERVER_ENVIRONMENT,
                        source: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment ``allowed`` builds from ``source`` (the grader's environment by default)."""
    source = os.environ if source is None else source
    return {**{name: source[name] for name in allowed.passed if name in source}, **dict(allowed.fixed)}


def passed_from_grader(names: tuple[str, ...] = STUDENT_PASSED) -> dict[str, str]:
    """The variables of ``names`` that are set in the grader's environment."""
    return {name: os.environ[name] for name in names if name in os.environ}
