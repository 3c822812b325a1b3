"""The red-team suite: 40-odd hostile and broken submissions graded as one batch with the references.

Each gets its expected status and no more than its honest score; nothing escapes the sandbox;
the machine is left clean; the grader stays responsive while a fork bomb runs.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import statistics
import subprocess
import threading
import time
from pathlib import Path

import nbformat
import pytest

from grader.batch.run import autograde_course
from grader.sandbox.jail import NO_ISOLATION
from grader.sandbox.policy import isolation_mode
from tests.redteam import DAEMON_SECONDS, ESCAPE_MARKER, Case, cases, escape_writes

pytestmark = [
    pytest.mark.skipif(isolation_mode() == NO_ISOLATION,
                       reason="Linux namespaces are unavailable here; the sandbox cannot isolate"),
    # "tamper-duplicated-cells-first-wins" copies graded cells, ids and all, on purpose: nbformat's notice is expected
    pytest.mark.filterwarnings("ignore::nbformat.warnings.DuplicateCellId"),
]

SETTINGS = '''
c.GraderSettings.cell_timeout = 15
c.GraderSettings.parameters = {"mnist_mlp": {"n_epochs": 6, "seed": 0, "dataset": "mnist5k", "batch_size": 20,
                                             "valid_size": 0.2}}
c.GraderSettings.accuracy_thresholds = {"mnist5k": 0.75}
c.GraderSettings.notebook_timeout = 40
c.Sandbox.file_mb = 64
c.Sandbox.scratch_mb = 300
c.Sandbox.memory_mb = 2048
'''


class Listener:
    """A TCP server on loopback that counts the connections it accepts (there must be none)."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.accepted = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self.server.accept()
            except OSError:
                return
            self.accepted += 1
            connection.close()


class LatencyProbe:
    """Starts ``/bin/true`` every 0.2 s while the batch runs and records how long each start took."""

    def __init__(self) -> None:
        self.samples: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            started = time.perf_counter()
            subprocess.run(["/bin/true"], check=True)
            self.samples.append(time.perf_counter() - started)

    def stop(self) -> dict[str, float]:
        self._stop.set()
        self._thread.join()
        ordered = sorted(self.samples)
        return {"samples": len(ordered), "median_ms": 1000 * statistics.median(ordered),
                "p99_ms": 1000 * ordered[int(0.99 * (len(ordered) - 1))], "max_ms": 1000 * ordered[-1]}


def grader_temp_folders() -> set[str]:
    return {entry.name for entry in Path("/tmp").iterdir() if entry.name.startswith(("grader-work-", "grader-"))}


def sandbox_processes() -> list[str]:
    """Command lines of processes left by student code: sandbox uids, the daemon's sleep, kernels."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            status = (entry / "status").read_text()
            uid = int(status.split("Uid:")[1].split()[0])
            parent = int(status.split("PPid:")[1].split()[0])
        except (OSError, IndexError, ValueError):
            continue
        if parent == os.getpid():
            continue  # this test session's own probe server, when an earlier test graded in-process
        jailed = "-m grader.sandbox.jail" in command or "forkserver" in command
        if uid >= 200_000 or DAEMON_SECONDS in command or jailed:
            found.append(f"{entry.name} uid={uid} {command}")
    return found


@pytest.fixture(scope="module")
def redteam(repo: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    course = tmp_path_factory.mktemp("redteam") / "course"
    for folder in ("source", "release"):
        shutil.copytree(repo / folder, course / folder)
    (course / "nbgrader_config.py").write_text((repo / "nbgrader_config.py").read_text() + SETTINGS)
    listener = Listener()
    class_cases = cases(repo, course, listener.port)
    for case in class_cases:
        target = course / "submitted" / case.name / case.assignment / f"{case.assignment}.ipynb"
        target.parent.mkdir(parents=True)
        case.write(course, target)
    temp_before = grader_temp_folders()
    latency = LatencyProbe()
    started = time.perf_counter()
    autograde_course(course, workers=2)
    seconds = time.perf_counter() - started
    timings = latency.stop()
    time.sleep(0.5)  # the kernel reaps what the last PID namespace left
    report = {"cases": len(class_cases), "batch_seconds": round(seconds, 1), "latency": timings}
    print(f"\nred-team batch: {json.dumps(report)}")
    (course / "redteam-report.json").write_text(json.dumps(report, indent=2))
    return {"course": course, "cases": {case.name: case for case in class_cases}, "listener": listener,
            "temp_before": temp_before, "report": report}


def result_of(course: Path, case: Case) -> dict:
    return json.loads((course / "autograded" / case.name / case.assignment / "results.json").read_text())


def printed(course: Path, case: Case) -> str:
    notebook = nbformat.read(course / "autograded" / case.name / case.assignment / f"{case.assignment}.ipynb", 4)
    return "\n".join(output.get("text", "") for cell in notebook.cells for output in cell.get("outputs", []))


def test_the_class_is_big_enough(redteam: dict) -> None:
    assert len(redteam["cases"]) >= 30


@pytest.mark.parametrize("name", [case.name for case in cases(Path("."), Path("."), 0)])
def test_status_and_honest_score(redteam: dict, name: str) -> None:
    case = redteam["cases"][name]
    result = result_of(redteam["course"], case)
    assert result["status"] == case.status, result["output"] + json.dumps(result["tests"])[:2000]
    assert result["score"] <= case.at_most
    if case.exactly is not None:
        assert result["score"] == case.exactly, json.dumps(result["tests"])[:2000]
    if case.must_fail:
        assert any(f"FAIL: {case.must_fail}" in line or ("FAIL:" in line and case.must_fail in line)
                   for test in result["tests"] for line in test["output"].splitlines()), result["tests"]
    if case.status != "OK" and result["score"] == 0:
        assert all(test["output"] for test in result["tests"])  # every part says why


def test_nothing_was_read_or_reached(redteam: dict) -> None:
    course, named = redteam["course"], redteam["cases"]
    reads = printed(course, named["escape-reads-grader-files"])
    network = printed(course, named["escape-network"])
    assert "STOLEN" not in reads and reads.count("DENIED") == 8, reads
    assert "REACHED" not in network and network.count("DENIED") == 2, network
    assert redteam["listener"].accepted == 0


def test_nothing_was_written_for_the_next_submission(repo: Path, redteam: dict) -> None:
    course, named = redteam["course"], redteam["cases"]
    writes = printed(course, named["escape-writes-for-next-submission"])
    # /tmp is the sandbox's own, emptied with it: writing there is allowed and reaches nobody
    assert writes.count("DENIED") == 4 and writes.count("WROTE") == 1 and f"WROTE {ESCAPE_MARKER}" in writes, writes
    assert not any(Path(path).exists() for path in escape_writes(repo))
    assert not Path(ESCAPE_MARKER).exists()


def test_executed_notebooks_stay_small(redteam: dict) -> None:
    for name in ("resource-billion-short-lines", "resource-one-enormous-line"):
        case = redteam["cases"][name]
        executed = redteam["course"] / "autograded" / name / case.assignment / f"{case.assignment}.ipynb"
        assert executed.stat().st_size < 8 * 1024 * 1024


def test_machine_is_left_clean(redteam: dict) -> None:
    deadline = time.monotonic() + 10  # the workers' probe servers exit once their workers have
    while sandbox_processes() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert sandbox_processes() == []
    assert grader_temp_folders() - redteam["temp_before"] == set()


def test_grader_stayed_responsive(redteam: dict) -> None:
    latency = redteam["report"]["latency"]
    assert latency["samples"] > 10
    assert latency["median_ms"] < 1000, latency  # starting a process never took a second in the middle
