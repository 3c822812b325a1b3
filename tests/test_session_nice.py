"""The sandbox's session (its Linux autogroup) is niced, not only its threads."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import grader.jail as jail
from grader.jail import SESSION_NICE_TRIES, set_session_nice

needs_autogroup = pytest.mark.skipif(not Path("/proc/self/autogroup").exists(),
                                     reason="this kernel has no autogroup scheduling")

NEW_SESSION = """
import os
from grader.jail import set_session_nice
os.setsid()
print(set_session_nice(7))
print(open("/proc/self/autogroup").read().split()[-1])
"""


def own_session_nice() -> int:
    return int(Path("/proc/self/autogroup").read_text().split()[-1])


@needs_autogroup
def test_a_new_session_gets_the_niceness_and_the_grader_keeps_its_own(repo: Path) -> None:
    before = own_session_nice()
    done = subprocess.run([sys.executable, "-c", NEW_SESSION], cwd=repo, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "7"]
    assert own_session_nice() == before, "only the new session is niced"


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
from grader.probe_launcher import detach_resource_tracker
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
