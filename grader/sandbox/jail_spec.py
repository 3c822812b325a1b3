"""What both halves of the sandbox share: its spec, its errors and the mount call; and a notebook's sandboxed run.

:mod:`grader.sandbox.jail` enters the sandbox and :mod:`grader.sandbox.jail_root` builds its file tree; both
import these, so neither imports the other at module level (the student kit has no jail_root).
"""

from __future__ import annotations

import ctypes
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from grader.course import defaults

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT, MS_BIND, MS_REC = 1, 2, 4, 8, 32, 4096, 16384
MS_PRIVATE, MS_RELATIME, ST_RELATIME = 1 << 18, 1 << 21, 4096


class JailError(OSError):
    """A step of entering the sandbox failed; ``step`` says which."""

    def __init__(self, step: str, errno_: int) -> None:
        super().__init__(errno_, f"sandbox: {step} failed: {os.strerror(errno_)}")
        self.step = step


@dataclass(frozen=True)
class Limits:
    """Per-process resource limits for student code (setrlimit), and its scheduling niceness."""

    cpu_seconds: int = defaults.CPU_SECONDS
    memory_mb: int = defaults.MEMORY_MB
    file_mb: int = defaults.FILE_MB
    processes: int = defaults.PROCESSES
    open_files: int = defaults.OPEN_FILES
    nice: int = defaults.NICE


@dataclass(frozen=True)
class JailSpec:
    """Everything the sandbox needs, decided by the grader: paths, limits, uid and environment."""

    scratch: str  # the only writable folder
    workdir: str
    isolation: str  # NAMESPACES or NO_ISOLATION
    uid: int | None  # run as this uid (only when the grader is root)
    limits: Limits
    read_only: tuple[str, ...]  # the files and folders shown, read-only, each at its own path; parents first
    hidden: tuple[str, ...]  # folders inside those that are replaced by empty ones
    devices: tuple[str, ...]  # device nodes shown (/dev/null, the GPUs...)
    links: tuple[tuple[str, str], ...]  # symbolic links made in the new tree: (path, link text)
    env: dict[str, str]

    def to_json(self) -> str:
        """The spec as JSON."""
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> JailSpec:
        """A spec from :meth:`to_json`'s output."""
        data = json.loads(text)
        data["limits"] = Limits(**data["limits"])
        for name in ("read_only", "hidden", "devices"):
            data[name] = tuple(data[name])
        data["links"] = tuple((path, text) for path, text in data["links"])
        return cls(**data)


_libc = ctypes.CDLL(None, use_errno=True)


def _call(step: str, result: int) -> None:
    if result != 0:
        raise JailError(step, ctypes.get_errno())


def _encode(text: str | None) -> bytes | None:
    return text.encode() if text is not None else None


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    encode = _encode
    _call(f"mount {target}", _libc.mount(encode(source), encode(target), encode(fstype), ctypes.c_ulong(flags),
                                         encode(data)))


def _locked_flags(path: str) -> int:
    """The flags of the mount holding ``path`` that a user namespace may not drop."""
    flag = os.statvfs(path).f_flag
    return (flag & (MS_NOSUID | MS_NODEV | MS_NOEXEC)) | (MS_RELATIME if flag & ST_RELATIME else 0)


@dataclass(frozen=True)
class SandboxRun:
    """Where and how a notebook runs sandboxed: the jail, its scratch folder and the output budgets."""

    spec: JailSpec
    scratch: Path
    scratch_bytes: int = defaults.SCRATCH_MB * 1024 * 1024
    output_kb: int = defaults.OUTPUT_KB
    cell_output_kb: int = defaults.CELL_OUTPUT_KB
    notebook_output_kb: int = defaults.NOTEBOOK_OUTPUT_KB
