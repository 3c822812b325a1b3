"""No variable of the grader's environment reaches student code: not in its memory, not in any environ it can read.

The grader runs in a fresh process with a random secret in its environment (the forkserver is
started once per process). A submitted notebook searches, at the top of a solution cell that
both its kernel and its probe process run, its own memory (/proc/self/maps and /proc/self/mem),
/proc/self/environ, /proc/1/environ and the environ of every parent it can see. The secret is
written in the cell as two halves that never meet in memory: only a real copy holds them side
by side. The search reports how much it scanned, so a search that read nothing cannot pass.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from grader.kernels.kernel import launcher_environment
from grader.sandbox.clean_forkserver import CleanForkServer
from grader.sandbox.environment import SERVER_ENVIRONMENT, allowed_environment
from grader.sandbox.policy import isolation_mode
from tests.submissions import Variant, build, reference_cells

QUIZ, CELL = "cnn_quiz", "conv_output_size"  # a solution cell the probe process runs too
SECRET_VARIABLE = "GRADER_TEST_DATABASE_PASSWORD"
# Machine code mapped from library files is never written, so it cannot hold a copy of the
# environment; skipping it halves the search (4 GB of a torch process's 6 GB of mappings).
SEARCH = r'''
def _search_environment(first, second, where):
    import ctypes
    import os
    import time

    started = time.monotonic()
    ctypes.CDLL(None).prctl(4, 1, 0, 0, 0)  # PR_SET_DUMPABLE: setuid made /proc/self/mem and environ root's

    def holds(data):
        start = data.find(first)
        while start >= 0:
            if data[start + len(first):start + len(first) + len(second)] == second:
                return True
            start = data.find(first, start + 1)
        return False

    found, regions, scanned, unreadable, chunk, overlap = [], 0, 0, 0, 8 << 20, len(first) + len(second)
    with open("/proc/self/maps") as maps:
        lines = maps.read().splitlines()
    with open("/proc/self/mem", "rb", buffering=0) as mem:
        for line in lines:
            fields = line.split()
            mapped_code = fields[1].startswith("r-x") and len(fields) > 5 and fields[5].startswith("/")
            if not fields[1].startswith("r") or mapped_code:
                continue
            start, end = (int(part, 16) for part in fields[0].split("-"))
            regions += 1
            for position in range(start, end, chunk):
                try:
                    mem.seek(position)
                    data = mem.read(min(chunk + overlap, end - position))
                except (OSError, OverflowError, ValueError):
                    unreadable += 1
                    break
                scanned += len(data)
                if holds(data):
                    found.append("memory " + (" ".join(fields[5:]) or "(anonymous)"))
                    break
    pids, pid, environs = [], os.getpid(), 0
    while pid > 0 and pid not in pids:
        pids.append(pid)
        try:
            with open(f"/proc/{pid}/status") as status:
                pid = int(status.read().split("PPid:")[1].split()[0])
        except (OSError, IndexError, ValueError):
            break
    for name in dict.fromkeys(["self", "1", *map(str, pids)]):
        try:
            with open(f"/proc/{name}/environ", "rb") as environ:
                data = environ.read()
        except OSError:
            continue
        environs += 1
        if holds(data):
            found.append(f"/proc/{name}/environ")
    verdict = "FOUND" if found else "NOT-FOUND"
    return (f"ENV-SEARCH {where} {verdict} regions={regions} bytes={scanned} unreadable={unreadable} "
            f"environ_files={environs} pids={pids} seconds={time.monotonic() - started:.1f} found_in={found}")
'''
# in the probe process (its namespace has __cells__) the report goes to model.pt, a file the grader keeps
# (the test course's cnn_quiz declares it: see keep_model_pt)
SEARCH_HERE = '''
_where = "probe" if "__cells__" in globals() else "kernel"
_report = _search_environment({first!r}.encode(), {second!r}.encode(), _where)
print(_report)
if "__cells__" in globals():
    with open("model.pt", "w") as _stream:
        _stream.write(_report)
del _where, _report, _search_environment
'''
REPORT = re.compile(r"ENV-SEARCH (\w+) (FOUND|NOT-FOUND) regions=(\d+) bytes=(\d+) unreadable=\d+ environ_files=(\d+)")


def report_of(text: str, where: str) -> tuple[str, int, int, int]:
    """(verdict, regions, bytes, environ files) of the search that ran ``where``; fails when there is none."""
    reports = [match for match in REPORT.finditer(text) if match.group(1) == where]
    assert len(reports) == 1, f"expected one search report from the {where}, got: {text[-2000:]}"
    verdict, regions, scanned, environs = reports[0].group(2, 3, 4, 5)
    return verdict, int(regions), int(scanned), int(environs)


def assert_searched_clean(text: str, where: str) -> None:
    """The search ``where`` ran over real memory and environ files, and found nothing."""
    verdict, regions, scanned, environs = report_of(text, where)
    assert verdict == "NOT-FOUND", f"the {where} found the grader's secret: {text[-2000:]}"
    assert regions > 10 and scanned > 100 * 1024 * 1024, "the search must read the process's memory"
    assert environs >= 2, "the search must read /proc/self/environ and /proc/1/environ at least"


def secret_halves() -> tuple[str, str]:
    """A random secret, as two halves that the hostile cell holds apart."""
    return secrets.token_hex(12), secrets.token_hex(12)


def keep_model_pt(repo: Path, course: Path) -> None:
    """The course's own copy of the grader's assignment folders, its cnn_quiz keeping ``model.pt`` (the probe's
    report: the grader keeps only the files an assignment declares)."""
    shutil.copytree(repo / "grader" / "assignments", course / "assignments",
                    ignore=shutil.ignore_patterns("__pycache__", "canary-*"))
    with (course / "assignments" / QUIZ / "__init__.py").open("a", encoding="utf-8") as declaration:
        declaration.write('\nKEPT_FILES = ("model.pt",)\n')
    with (course / "nbgrader_config.py").open("a", encoding="utf-8") as config:
        config.write('\nc.GraderSettings.assignment_folders = ["assignments"]\n')


def course_with_searches(repo: Path, root: Path, students: list[str], first: str, second: str) -> Path:
    """A course of cnn_quiz submissions whose solution cell searches for ``first + second`` first."""
    course = root / "course"
    for folder in ("source", "release"):
        shutil.copytree(repo / folder, course / folder)
    shutil.copy(repo / "nbgrader_config.py", course / "nbgrader_config.py")
    keep_model_pt(repo, course)
    source = SEARCH + SEARCH_HERE.format(first=first, second=second) + "\n" + reference_cells(course, QUIZ)[CELL]
    for student in students:
        target = course / "submitted" / student / QUIZ / f"{QUIZ}.ipynb"
        target.parent.mkdir(parents=True)
        nbformat.write(build(course, Variant(student, QUIZ, {CELL: source})), target)
    return course


def grade_with_secret(course: Path, secret: str, workers: int) -> subprocess.CompletedProcess[str]:
    """``python -m grader autograde`` in a fresh process whose environment holds ``secret``."""
    env = {**os.environ, SECRET_VARIABLE: secret, "DATABASE_URL": f"postgresql://grader:{secret}@db/course"}
    return subprocess.run([sys.executable, "-m", "grader", "autograde", "--course", str(course),
                           "--workers", str(workers)], env=env, capture_output=True, text=True, timeout=600,
                          cwd=course)


def assert_secret_nowhere(course: Path, secret: str, completed: subprocess.CompletedProcess[str]) -> None:
    """The secret is in no file of the course (results, feedback, notebooks, gradebook) nor the grader's output."""
    needle = secret.encode()
    for path in course.rglob("*"):
        if path.is_file() and not path.is_symlink():
            assert needle not in path.read_bytes(), f"the grader's secret ended up in {path}"
    assert secret not in completed.stdout + completed.stderr


def assert_graded_clean(course: Path, student: str, secret: str) -> None:
    """Both searches of ``student``'s submission ran, found nothing, and the reference still scored in full."""
    graded = course / "autograded" / student / QUIZ
    executed = json.loads((graded / f"{QUIZ}.ipynb").read_text(encoding="utf-8"))
    outputs = "".join(output.get("text", "") if isinstance(output.get("text", ""), str) else "".join(output["text"])
                      for cell in executed["cells"] for output in cell.get("outputs", []))
    assert_searched_clean(outputs, "kernel")
    assert_searched_clean((graded / "model.pt").read_text(encoding="utf-8"), "probe")
    results = json.loads((graded / "results.json").read_text(encoding="utf-8"))
    assert results["score"] == pytest.approx(sum(test["max_score"] for test in results["tests"]))


def test_the_search_finds_a_secret_that_clearing_the_environment_leaves_behind(tmp_path: Path) -> None:
    """The negative control: in a plain process started with the secret, clearing os.environ erases no copy."""
    first, second = secret_halves()
    script = SEARCH + f"\nimport os\nos.environ.clear()\nprint(_search_environment({first!r}.encode(), " \
                      f"{second!r}.encode(), 'control'))\n"
    completed = subprocess.run([sys.executable, "-c", script], env={"PATH": "/usr/bin:/bin", "SECRET": first + second},
                               capture_output=True, text=True, timeout=120)
    verdict, regions, scanned, _ = report_of(completed.stdout, "control")
    assert verdict == "FOUND" and regions > 0 and scanned > 0
    assert "/proc/self/environ" in completed.stdout and "memory [stack]" in completed.stdout


def test_the_forkserver_starts_with_the_allow_list_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    """The server's own environ is the allow-list's; the grader's environment is left as it was."""
    secret = "".join(secret_halves())
    monkeypatch.setenv(SECRET_VARIABLE, secret)
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    server = CleanForkServer()
    server.ensure_running()
    try:
        deadline, block = time.monotonic() + 10, b""
        while not block and time.monotonic() < deadline:  # empty until exec has set up the new stack
            with open(f"/proc/{server.server_pid()}/environ", "rb") as environ:
                block = environ.read()
        entries = dict(entry.split("=", 1) for entry in block.decode().split("\0") if entry)
    finally:
        server._stop()
    assert entries == allowed_environment() and secret not in str(entries)
    assert set(entries) <= {*dict(SERVER_ENVIRONMENT.fixed), *SERVER_ENVIRONMENT.passed}
    assert entries["OMP_NUM_THREADS"] == "3" and os.environ[SECRET_VARIABLE] == secret


def test_the_jail_launcher_gets_the_allow_list_and_jupyters_notes_alone() -> None:
    """``python -m grader.sandbox.jail`` (kernels not forked from the server) starts without the grader's variables."""
    jupyter_env = {**os.environ, SECRET_VARIABLE: "x", "JPY_PARENT_PID": "42", "JPY_SESSION_NAME": "s"}
    assert launcher_environment(jupyter_env) == {**allowed_environment(), "JPY_PARENT_PID": "42"}


@pytest.mark.skipif(isolation_mode() != "namespaces", reason="needs the namespaced sandbox")
def test_a_kernel_not_forked_from_the_server_and_its_launcher_hold_no_secret(
        repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from grader.batch.run import prepare_context
    from grader.kernels.kernel import sandboxed_manager
    from grader.pipeline.autograde import sandbox_run

    secret = "".join(secret_halves())
    monkeypatch.setenv(SECRET_VARIABLE, secret)  # jupyter copies os.environ for the kernel command it runs
    course = course_with_searches(repo, tmp_path, [], "", "")
    run = sandbox_run(prepare_context(course, (QUIZ,)), tmp_path / "scratch")
    manager = sandboxed_manager(run.spec, tmp_path / "scratch")
    manager.forked = False
    asyncio.run(manager.start_kernel())
    try:
        with open(f"/proc/{manager.provisioner.process.pid}/environ", "rb") as environ:
            launcher = environ.read()
        client = manager.client()
        client.start_channels()
        asyncio.run(client.wait_for_ready(timeout=60))
        printed: list[str] = []
        code = f"import os\nprint(open('/proc/self/environ', 'rb').read().count({secret.encode()!r}), " \
               "'in', len(os.environ))"
        asyncio.run(client.execute_interactive(
            code, timeout=60, output_hook=lambda message: printed.append(message["content"].get("text", ""))))
        client.stop_channels()
    finally:
        asyncio.run(manager.shutdown_kernel(now=True))
    assert secret.encode() not in launcher and b"JPY_PARENT_PID=" in launcher
    assert re.fullmatch(r"0 in [1-9]\d*\n", "".join(printed)), printed


@pytest.mark.slow  # a grader run of its own, and a 2 GB memory search twice: 20-50 s
@pytest.mark.skipif(isolation_mode() != "namespaces", reason="without namespaces the grader's /proc is readable")
def test_kernel_and_probe_hold_nothing_of_the_graders_environment(repo: Path, tmp_path: Path) -> None:
    first, second = secret_halves()
    course = course_with_searches(repo, tmp_path, ["env-search"], first, second)
    completed = grade_with_secret(course, first + second, workers=1)
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert_graded_clean(course, "env-search", first + second)
    assert_secret_nowhere(course, first + second, completed)


@pytest.mark.slow
@pytest.mark.skipif(isolation_mode() != "namespaces", reason="without namespaces the grader's /proc is readable")
def test_pool_workers_fork_from_clean_servers_too(repo: Path, tmp_path: Path) -> None:
    first, second = secret_halves()
    students = ["env-search-a", "env-search-b"]
    course = course_with_searches(repo, tmp_path, students, first, second)
    completed = grade_with_secret(course, first + second, workers=2)
    assert completed.returncode == 0, completed.stderr[-3000:]
    for student in students:
        assert_graded_clean(course, student, first + second)
    assert_secret_nowhere(course, first + second, completed)
