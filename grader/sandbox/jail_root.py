"""The sandbox's file tree, built from nothing: a tmpfs as the new root and bind mounts of what student code may see.

Student code sees, each at its own path (forked processes find lazily imported modules and
libraries where the server saw them), read-only unless said:

- :attr:`JailSpec.read_only`: the Python environment, the grader modules the kernel and the
  probe import (one by one), ``Sandbox.expose``, and the system of :func:`system_view`:
  ``/usr`` (``/bin``, ``/sbin``, ``/lib*`` as links where the host has links), the few
  :data:`ETC_ENTRIES` and ``/sys`` (CUDA, torch's cpuinfo and glibc's CPU count read it; it
  holds no user file); less :attr:`JailSpec.hidden` (held-out digits, hidden checks and probes);
- its own ``/etc/passwd`` and ``/etc/group`` (root, the sandbox's user, nobody);
- :attr:`JailSpec.devices` (:data:`DEV_NODES`, ``/dev/nvidia*`` for CUDA), the links of
  :data:`DEV_LINKS` and ``/dev/shm``, a small tmpfs (writable);
- ``/proc`` of its own PID namespace;
- ``/tmp``, a small tmpfs, and its scratch folder: the only places it can write.

The tmpfs is mounted over ``/tmp`` of the old tree (private to this mount namespace), so every
source is opened first and bound through ``/proc/self/fd``. Then ``pivot_root`` makes it ``/``
and the old root is detached (where ``pivot_root`` cannot, a ``chroot``: the old root stays out
of reach of a process without capabilities).
"""

from __future__ import annotations

import ctypes
import functools
import glob
import os
import platform
import stat
import sys
from dataclasses import dataclass

from grader.sandbox.jail_spec import (
    MS_BIND,
    MS_NODEV,
    MS_NOEXEC,
    MS_NOSUID,
    MS_PRIVATE,
    MS_RDONLY,
    MS_REC,
    MS_REMOUNT,
    JailError,
    JailSpec,
    _call,
    _libc,
    _locked_flags,
    _mount,
)

NEW_ROOT = "/tmp"  # where the new root is built, in the old tree
SYSTEM_TREES = ("usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32")
PYTHON = f"python{sys.version_info.major}"
ETC_ENTRIES = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "nsswitch.conf", "host.conf", "hosts",
               "alternatives", "fonts", PYTHON, f"{PYTHON}.{sys.version_info.minor}")  # python3*: Debian's
DEV_NODES = ("null", "zero", "full", "random", "urandom", "tty")
DEV_LINKS = {"fd": "/proc/self/fd", "stdin": "/proc/self/fd/0", "stdout": "/proc/self/fd/1",
             "stderr": "/proc/self/fd/2"}
SMALL_TMPFS = "size=64m,mode=1777"
SYSCALLS = {"x86_64": {"pivot_root": 155, "mount_setattr": 442}, "aarch64": {"pivot_root": 41, "mount_setattr": 442}}
AT_FDCWD, AT_RECURSIVE, MOUNT_ATTR_RDONLY, MNT_DETACH = -100, 0x8000, 1, 2
ENOSYS = 38


@dataclass(frozen=True)
class SystemView:
    """What student code sees of the system: links to recreate (path, link text), read-only paths, devices."""

    links: tuple[tuple[str, str], ...]
    read_only: tuple[str, ...]
    devices: tuple[str, ...]


@dataclass(frozen=True)
class Source:
    """A path of the old tree, held open (``O_PATH``) before the new root covers it, and whether it stays writable."""

    path: str
    handle: int
    writable: bool


class _MountAttr(ctypes.Structure):
    _fields_ = [("attr_set", ctypes.c_uint64), ("attr_clr", ctypes.c_uint64), ("propagation", ctypes.c_uint64),
                ("userns_fd", ctypes.c_uint64)]


def _syscall(name: str) -> int | None:
    return SYSCALLS.get(platform.machine(), {}).get(name)


@functools.cache
def system_view() -> SystemView:
    """This machine's :class:`SystemView` (:data:`SYSTEM_TREES`, :data:`ETC_ENTRIES`, /sys, :data:`DEV_NODES`)."""
    links, paths = [], []
    for path in (*(f"/{name}" for name in SYSTEM_TREES), *(f"/etc/{name}" for name in ETC_ENTRIES)):
        if os.path.islink(path):
            links.append((path, os.readlink(path)))
        elif os.path.exists(path):
            paths.append(path)
    links += [(f"/dev/{name}", text) for name, text in DEV_LINKS.items()]
    links += python_links()
    devices = [f"/dev/{name}" for name in DEV_NODES if os.path.exists(f"/dev/{name}")]
    return SystemView(tuple(links), (*paths, "/sys"), (*devices, *sorted(glob.glob("/dev/nvidia*"))))


def links_on_the_way(path: str) -> list[tuple[str, str]]:
    """(link, link text) of each symbolic link that ``path`` goes through, outside the folders it leads to."""
    links, current = [], "/"
    for part in path.strip("/").split("/"):
        current = os.path.join(current, part)
        if os.path.islink(current):
            links.append((current, os.readlink(current)))
            current = os.path.realpath(current)
    return links


def python_links() -> list[tuple[str, str]]:
    """The links on the way to the Python environment (a venv reached through a link): the sandbox binds the
    folders they lead to, so ``sys.executable`` and ``sys.prefix`` must lead there too."""
    found = {}
    for path in (sys.prefix, sys.base_prefix, os.path.dirname(sys.executable)):
        found.update(links_on_the_way(os.path.abspath(path)))
    return sorted(found.items())


def _open_sources(read_only: tuple[str, ...], writable: tuple[str, ...]) -> list[Source]:
    """Every path to bind, held open before :data:`NEW_ROOT` covers them (those that exist)."""
    sources = []
    for path in (*read_only, *writable):
        try:
            sources.append(Source(path, os.open(path, os.O_PATH | os.O_CLOEXEC), path in writable))
        except OSError:
            continue
    return sources


def _read_only(target: str) -> None:
    """Make the mount at ``target`` and every mount below it read-only (the top one only, on old kernels)."""
    number = _syscall("mount_setattr")
    if number is not None:
        attr = _MountAttr(MOUNT_ATTR_RDONLY, 0, 0, 0)
        if _libc.syscall(number, AT_FDCWD, target.encode(), AT_RECURSIVE, ctypes.byref(attr),
                         ctypes.sizeof(attr)) == 0:
            return
        if ctypes.get_errno() != ENOSYS:
            raise JailError(f"read-only {target}", ctypes.get_errno())
    _mount(None, target, None, MS_REMOUNT | MS_BIND | MS_RDONLY | _locked_flags(target))


def _make_target(target: str, handle: int) -> None:
    """An empty folder or file at ``target`` to bind the source held by ``handle`` on, unless one is there."""
    if os.path.lexists(target):
        return
    os.makedirs(os.path.dirname(target), exist_ok=True)
    if stat.S_ISDIR(os.fstat(handle).st_mode):
        os.mkdir(target)
    else:
        os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o644))


def _bind(source: Source) -> None:
    target = NEW_ROOT + source.path
    _make_target(target, source.handle)
    _mount(f"/proc/self/fd/{source.handle}", target, None, MS_BIND | MS_REC)
    os.close(source.handle)
    if not source.writable:
        _read_only(target)


def _write(path: str, text: str) -> None:
    handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
    os.write(handle, text.encode())
    os.close(handle)


def _write_accounts(uid: int, home: str) -> None:
    """An ``/etc/passwd`` and ``/etc/group`` that know only root, the sandbox's user and nobody."""
    users = {0: "root", uid: "student", 65534: "nobody"}
    homes = {uid: home}
    os.makedirs(f"{NEW_ROOT}/etc", exist_ok=True)
    _write(f"{NEW_ROOT}/etc/passwd", "".join(
        f"{name}:x:{number}:{number}:{name}:{homes.get(number, '/nonexistent')}:/usr/sbin/nologin\n"
        for number, name in users.items()))
    _write(f"{NEW_ROOT}/etc/group", "".join(f"{'nogroup' if number == 65534 else name}:x:{number}:\n"
                                            for number, name in users.items()))


def _enter_new_root() -> None:
    """Make :data:`NEW_ROOT` this namespace's ``/`` and detach the old root (or chroot, where that can't be done)."""
    os.chdir(NEW_ROOT)
    number = _syscall("pivot_root")
    if number is not None and _libc.syscall(number, b".", b".") == 0:
        _call("detach the old root", _libc.umount2(b".", MNT_DETACH))
    else:
        os.chroot(".")
    os.chdir("/")


def build_root(spec: JailSpec) -> None:
    """Replace this mount namespace's file tree by the sandbox's (see the module's docstring)."""
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    try:
        _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    except JailError:
        pass  # a container that masks /proc: its processes stay visible, nothing else changes
    sources = _open_sources(spec.read_only, (*spec.devices, "/proc", spec.scratch))
    _mount("tmpfs", NEW_ROOT, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=0755")
    for folder in ("/tmp", "/dev/shm"):
        os.makedirs(NEW_ROOT + folder)
        _mount("tmpfs", NEW_ROOT + folder, "tmpfs", MS_NOSUID | MS_NODEV, SMALL_TMPFS)
    for path, text in spec.links:
        os.makedirs(os.path.dirname(NEW_ROOT + path), exist_ok=True)
        os.symlink(text, NEW_ROOT + path)
    for source in sources:
        _bind(source)
    for path in spec.hidden:
        if os.path.isdir(NEW_ROOT + path) and not os.path.islink(NEW_ROOT + path):
            _mount("tmpfs", NEW_ROOT + path, "tmpfs", MS_NOSUID | MS_NODEV | MS_RDONLY, "size=4k,mode=0555")
    _write_accounts(spec.uid or 0, spec.env.get("HOME", "/nonexistent"))
    _mount(None, NEW_ROOT, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)
    _enter_new_root()
