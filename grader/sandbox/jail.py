"""The sandbox around student code: namespaces, a file tree of its own (:mod:`grader.sandbox.jail_root`), limits,
another uid.

``python -m grader.sandbox.jail SPEC.json -- COMMAND...`` enters the sandbox and execs COMMAND (the
kernel); :func:`enter_jail` does the same inside a running process (the probe child) and
returns in the sandboxed grandchild. The spec is plain JSON written by the grader.

With namespaces, the process that enters stays outside as a small parent that waits and
exits with the child's status (128 + signal when it was killed); the child is process 1 of
a new PID namespace, so every process it leaves behind dies with it.
"""

from __future__ import annotations

import ctypes
import os
import resource
import select
import signal
import sys
import threading
import time

from grader.sandbox.jail_spec import (
    MS_NODEV,
    MS_NOSUID,
    MS_PRIVATE,
    MS_REC,
    JailSpec,
    Limits,
    _call,
    _libc,
    _mount,
)

CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x20000, 0x10000000, 0x20000000, 0x40000000
PR_SET_PDEATHSIG, PR_SET_NO_NEW_PRIVS, PR_CAPBSET_DROP = 1, 38, 24
CAPABILITY_VERSION_3, CAPABILITY_COUNT = 0x20080522, 64
NAMESPACES, NO_ISOLATION = "namespaces", "none"
KERNEL_VARIABLES = ("JPY_PARENT_PID",)  # jupyter_client's note to the kernel that a client started it
SESSION_NICE_TRIES = 5  # Linux takes ten autogroup changes a second from processes without CAP_SYS_ADMIN


def _unshare(user: bool) -> None:
    uid, gid = os.geteuid(), os.getegid()
    flags = CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWPID | (CLONE_NEWUSER if user else 0)
    _call("unshare", _libc.unshare(flags))
    if user:  # be root inside the user namespace, the same user outside
        for name, text in (("setgroups", "deny"), ("uid_map", f"0 {uid} 1"), ("gid_map", f"0 {gid} 1")):
            with open(f"/proc/self/{name}", "w") as handle:
                handle.write(text)


def _build_view(spec: JailSpec) -> None:
    """Replace the file tree by the sandbox's own: only what :mod:`grader.sandbox.jail_root` lists, at the same
    paths."""
    from grader.sandbox.jail_root import build_root  # not in the student kit, which never builds it

    build_root(spec)


def set_session_nice(nice: int, pid: int | str = "self") -> bool:
    """Give the whole session of ``pid`` (its Linux autogroup) the niceness ``nice``; False where that can't be done.

    With autogroup scheduling (``kernel.sched_autogroup_enabled``) each session shares the CPUs
    as one unit, and a thread's own niceness counts only against threads of its own session: a
    sandbox in a session of its own runs at the grader's priority unless its session is niced too.
    """
    for _ in range(SESSION_NICE_TRIES):
        try:
            with open(f"/proc/{pid}/autogroup", "w", encoding="ascii") as autogroup:
                autogroup.write(str(nice))
            return True
        except BlockingIOError:  # EAGAIN: another change was made in the last 100 ms
            time.sleep(0.025)
        except OSError:  # no autogroup support, or the process has ended
            return False
    return False


def _give_scratch_to(uid: int, scratch: str) -> None:
    for root, folders, files in os.walk(scratch):
        for name in (*folders, *files):
            os.lchown(os.path.join(root, name), uid, uid)
    os.lchown(scratch, uid, uid)


def _running_processes() -> int:
    return sum(1 for entry in os.scandir("/proc") if entry.name.isdigit())


def _apply_limits(limits: Limits, processes: int) -> None:
    mib = 1024 * 1024
    for name, value in ((resource.RLIMIT_CPU, limits.cpu_seconds), (resource.RLIMIT_DATA, limits.memory_mb * mib),
                        (resource.RLIMIT_FSIZE, limits.file_mb * mib), (resource.RLIMIT_NPROC, processes),
                        (resource.RLIMIT_NOFILE, limits.open_files), (resource.RLIMIT_CORE, 0)):
        hard = resource.getrlimit(name)[1]
        value = value if hard == resource.RLIM_INFINITY else min(value, hard)
        resource.setrlimit(name, (value, hard if name == resource.RLIMIT_CPU else value))
    os.nice(limits.nice)


class _CapabilityHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapabilitySets(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def _drop_capabilities() -> None:
    """Drop every capability, for good: without them no mount of the sandbox's tree can be undone or remounted."""
    for capability in range(CAPABILITY_COUNT):
        _libc.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0)  # fails past the last one the kernel knows
    empty = (_CapabilitySets * 2)()
    _call("capset", _libc.capset(ctypes.byref(_CapabilityHeader(CAPABILITY_VERSION_3, 0)), empty))


def _become(uid: int | None) -> None:
    if uid is not None:
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)
    _libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    _drop_capabilities()
    parent = os.getppid()
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)  # set after setuid, which clears it
    if os.getppid() != parent:
        os._exit(137)


def _watch_lifeline(lifeline: int, victim: int) -> None:
    """SIGKILL ``victim`` (this process) once ``lifeline`` reads end-of-file: the grader is gone."""
    def watch() -> None:
        select.select([lifeline], [], [])
        os.kill(victim, signal.SIGKILL)

    threading.Thread(target=watch, daemon=True, name="grader-lifeline").start()


def _wait_for_child_or_grader(child: int, lifeline: int) -> None:
    """Block until ``child`` ends, killing it first if ``lifeline`` says the grader is gone.

    This process unshared its PID namespace, so it may not start threads: it waits on a pidfd.
    """
    try:
        pidfd = os.pidfd_open(child)
    except OSError:
        return
    ready, _, _ = select.select([lifeline, pidfd], [], [])
    if lifeline in ready and pidfd not in ready:
        os.kill(child, signal.SIGKILL)


def _wait_and_exit(child: int, lifeline: int | None = None) -> None:
    """The parent outside the sandbox: pass on termination, then exit as the child did."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the interrupt reaches the child through the process group
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, lambda *_: os.kill(child, signal.SIGKILL))
    if lifeline is not None:
        _wait_for_child_or_grader(child, lifeline)
    while True:
        try:
            _, status = os.waitpid(child, 0)
            break
        except InterruptedError:
            continue
    os._exit(128 + os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status))


def enter_jail(spec: JailSpec, lifeline: int | None = None) -> None:
    """Enter the sandbox; returns in the sandboxed process (a forked child when isolated).

    With ``lifeline``, a pipe end that reads end-of-file when the grader process is gone, the
    sandboxed process is killed then (a process forked from a server outlives the grader otherwise).
    """
    # the process count is per user: without a uid of its own, leave room for what this user runs
    processes = spec.limits.processes + (_running_processes() if spec.uid is None else 0)
    if spec.isolation == NAMESPACES:
        _unshare(user=os.geteuid() != 0)
        child = os.fork()
        if child:
            _wait_and_exit(child, lifeline)
        if lifeline is not None:
            os.close(lifeline)
        _build_view(spec)
    elif lifeline is not None:
        _watch_lifeline(lifeline, os.getpid())
    if spec.uid is not None:
        _give_scratch_to(spec.uid, spec.scratch)
    _apply_limits(spec.limits, processes)
    _become(spec.uid)
    os.chdir(spec.workdir)
    os.environ.clear()
    os.environ.update(spec.env)


def self_test() -> int:
    """Exit 0 when this machine lets the grader build the namespaced sandbox."""
    _unshare(user=os.geteuid() != 0)
    child = os.fork()
    if child:
        _wait_and_exit(child)
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    _mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "size=1m")
    return 0


def main(argv: list[str]) -> int:
    """``SPEC.json -- COMMAND...``: enter the sandbox described by SPEC and exec COMMAND."""
    if argv == ["--self-test"]:
        return self_test()
    if len(argv) < 3 or argv[1] != "--":
        print("usage: python -m grader.sandbox.jail SPEC.json -- COMMAND...", file=sys.stderr)
        return 2
    with open(argv[0], encoding="utf-8") as handle:
        spec = JailSpec.from_json(handle.read())
    passed_on = {name: os.environ[name] for name in KERNEL_VARIABLES if name in os.environ}
    log = os.open(os.path.join(spec.scratch, "kernel.log"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(log, 1)  # what the kernel prints outside cells stays in its scratch, not on the grader's terminal
    os.dup2(log, 2)
    os.close(log)
    enter_jail(spec)
    os.execvpe(argv[2], argv[2:], {**spec.env, **passed_on})
    return 127


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
