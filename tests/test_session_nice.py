"""The sandbox's session (its Linux autogroup) is niced, not only its threads."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import grader.sandbox.jail as jail
from grader.sandbox.jail import SESSION_NICE_TRIES, set_session_nice
from tests.autogroup import parse_autogroup, session_nice

needs_autogroup = pytest.mark.skipif(not Path("/proc/self/autogroup").exists(),
                                     reason="this kernel has no autogroup scheduling")

NEW_SESSION = """
import os
from grader.sandbox.jail import set_session_nice
from tests.autogroup import session_nice
os.setsid()
print(session_nice(), set_session_nice(7), session_nice())
"""


@needs_autogroup
def test_a_new_session_gets_the_niceness_and_the_grader_keeps_its_own(repo: Path) -> None:
    before = session_nice()  # None where the grader runs in the root autogroup, the session of PID 1
    done = subprocess.run([sys.executable, "-c", NEW_SESSION], cwd=repo, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["0", "True", "7"], "a new session starts at 0 and takes the niceness"
    assert session_nice() == before, "only the new session is niced"


def test_the_root_autogroup_reads_as_none_and_a_session_as_its_niceness() -> None:
    assert parse_autogroup("") is None, "the root autogroup's file is empty"
    assert parse_autogroup("/autogroup-18667 nice 0\n") == 0
    assert parse_autogroup("/autogroup-7 nice -5\n") == -5


def test_the_root_autogroup_cannot_be_niced() -> None:
    root = session_nice(1)
    if root is not None:
        pytest.skip("PID 1 has an autogroup of its own here")
    assert set_session_nice(5, 1) is False, "the kernel refuses to reweight the root group"


def test_a_process_that_is_gone_is_no_error() -> None:
    with open("/proc/sys/kernel/pid_max", encoding="ascii") as handle:
        beyond = int(handle.read()) + 1
    assert set_session_nice(5, beyond) is False


class RateLimited:
    """``open`` for /proc/PID/autogroup that answers EAGAIN ``times`` times, then writes into ``written``."""

    def __init__(self, times: int) -> None:
        self.times, self.calls, self.written = times, 0, []

    def __call__(self, path: str, mode: str, encoding: str) -> RateLimited:
        self.calls += 1
        if self.calls <= self.times:
            raise BlockingIOError(11, "Resource temporarily unavailable")
        return self

    def __enter__(self) -> RateLimited:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def write(self, text: str) -> None:
        self.written.append(text)


@pytest.mark.parametrize(("refusals", "succeeds"), [(2, True), (SESSION_NICE_TRIES, False)])
def test_the_rate_limit_is_waited_out_a_few_times(monkeypatch: pytest.MonkeyPatch, refusals: int,
                                                  succeeds: bool) -> None:
    fake = RateLimited(refusals)
    monkeypatch.setattr(jail, "open", fake, raising=False)
    monkeypatch.setattr(jail.time, "sleep", lambda seconds: None)
    assert set_session_nice(10, os.getpid()) is succeeds
    assert fake.written == (["10"] if succeeds else [])
    assert fake.calls == min(refusals + 1, SESSION_NICE_TRIES)


DETACHED = """
import multiprocessing, os
from multiprocessing import resource_tracker
from grader.probing.probe_launcher import detach_resource_tracker
resource_tracker.ensure_running()
before = os.readlink(f"/proc/self/fd/{resource_tracker._resource_tracker._fd}")
detach_resource_tracker()
lock = multiprocessing.RLock()
print(before.startswith("pipe:"), os.readlink(f"/proc/self/fd/{resource_tracker._resource_tracker._fd}"))
"""


def test_a_forked_sandbox_child_drops_the_pipe_to_the_graders_resource_tracker(repo: Path) -> None:
    done = subprocess.run([sys.executable, "-c", DETACHED], cwd=repo, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", os.devnull]
    assert "resource_tracker" not in done.stderr
