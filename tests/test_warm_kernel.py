"""Kernels forked from the warm server: fast, fresh for every submission, and gone with their grader."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from grader.sandbox.policy import isolation_mode
from grader.sandbox.watchdog import stop_kernel
from tests.autogroup import session_nice

pytestmark = pytest.mark.skipif(isolation_mode() != "namespaces", reason="needs the namespaced sandbox")

# A grading process that starts its kernel ahead, says which one, then waits to be killed.
WORKER = textwrap.dedent('''
    import sys, time
    from pathlib import Path
    import grader.batch.run as batch
    course = Path(sys.argv[1])
    context = batch.prepare_context(course, ("cnn_quiz",))
    batch.start_worker(1, ("cnn_quiz",), context)
    ready = batch._kernels.take()
    print(ready.manager.provisioner.pid, ready.run.spec.uid, flush=True)
    time.sleep(600)
''')


def processes_of(uid: int) -> list[int]:
    """Pids of the processes that run as ``uid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == uid:
                    found.append(int(entry.name))
            except FileNotFoundError:
                continue
    return found


def servers_of(course: Path) -> list[int]:
    """Pids of forkservers whose grading process ran in ``course`` (orphans once it is killed)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and b"forkserver" in (entry / "cmdline").read_bytes() and \
                    (entry / "cwd").resolve() == course.resolve():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def small_course(repo: Path, root: Path) -> Path:
    for folder in ("source", "release"):
        shutil.copytree(repo / folder, root / folder)
    shutil.copy(repo / "nbgrader_config.py", root / "nbgrader_config.py")
    return root


def test_a_kernel_started_ahead_dies_with_its_grading_process(repo: Path, tmp_path: Path) -> None:
    course = small_course(repo, tmp_path / "course")
    worker = subprocess.Popen([sys.executable, "-c", WORKER, str(course)], stdout=subprocess.PIPE, text=True,
                              cwd=course, start_new_session=True, env={**os.environ, "PYTHONPATH": str(repo)})
    try:
        pid, uid = (int(word) for word in worker.stdout.readline().split())
        deadline = time.monotonic() + 20
        while not processes_of(uid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert processes_of(uid), "the kernel started ahead should be running as its sandbox uid"
        os.kill(pid, 0)
    finally:
        worker.send_signal(signal.SIGKILL)  # no clean-up code runs in the grading process
        worker.wait()
    deadline = time.monotonic() + 10
    while processes_of(uid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert processes_of(uid) == [], "the sandboxed kernel outlived the grader that started it"
    while servers_of(course) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert servers_of(course) == [], "the grader's forkserver outlived it"


def test_each_submission_gets_a_fresh_kernel_that_starts_fast(repo: Path, tmp_path: Path) -> None:
    import grader.batch.run as batch
    from grader.batch.run import prepare_context, start_worker, stop_worker

    course = small_course(repo, tmp_path / "course")
    context = prepare_context(course, ("cnn_quiz",))
    start_worker(1, ("cnn_quiz",), context)
    assert gc.get_freeze_count() > 0, "what warm-up left alive should be out of the garbage collector's way"
    try:
        pids, scratches, waits = set(), set(), []
        for _ in range(3):
            started = time.perf_counter()
            ready = batch._kernels.take()
            client = ready.manager.client()
            client.start_channels()
            asyncio.run(client.wait_for_ready(timeout=30))
            waits.append(time.perf_counter() - started)
            pids.add(ready.manager.provisioner.pid)
            scratches.add(ready.run.scratch)
            client.stop_channels()
            stop_kernel(ready.manager)
            shutil.rmtree(ready.run.scratch, ignore_errors=True)
            batch._kernels.start_next()
            time.sleep(1.5)  # as if this submission were probed and checked meanwhile
    finally:
        stop_worker()
    assert gc.get_freeze_count() == 0
    assert len(pids) == 3 and len(scratches) == 3
    assert min(waits) < 0.5, f"a kernel started ahead should answer at once, waited {waits}"


THREADS_CELL = ('import torch\n'
                'open("probe_threads.txt", "w").write(str(torch.get_num_threads()))\n'
                'def conv_output_size(w_in, kernel_size, stride=1, padding=0):\n'
                '    return (w_in - kernel_size + 2 * padding) // stride + 1\n')


def test_the_probe_process_runs_torch_on_one_thread(repo: Path, tmp_path: Path) -> None:
    import nbformat

    from grader.batch.run import prepare_context
    from grader.pipeline.autograde import SECRET_SUFFIX, probe_inputs, sandbox_run
    from grader.probing.probe_launcher import PROBE_THREADS, WaitingProbe

    context = prepare_context(small_course(repo, tmp_path / "course"), ("cnn_quiz",))
    run = sandbox_run(context, tmp_path / "scratch")
    notebook = nbformat.read(repo / "source" / "cnn_quiz" / "cnn_quiz.ipynb", as_version=4)
    cell = next(c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "conv_output_size")
    cell.source = THREADS_CELL
    nbformat.write(notebook, run.scratch / "cnn_quiz.ipynb")
    inputs = probe_inputs("cnn_quiz", tuple(sorted(context.settings.check_parameters("cnn_quiz").items())))
    np.savez(run.scratch / "inputs.npz", **{k: v for k, v in inputs.items() if not k.endswith(SECRET_SUFFIX)})
    (run.scratch / "probes").mkdir()
    probe = WaitingProbe(run.spec)
    try:
        probe.run("cnn_quiz", run.scratch / "cnn_quiz.ipynb", run.scratch / "inputs.npz", run.scratch / "probes", 60)
    finally:
        probe.cancel()
    written = Path(run.spec.workdir) / "probe_threads.txt"
    assert written.read_text() == str(PROBE_THREADS) == "1", "a probe should not fight the next kernel for cores"
    assert (run.scratch / "probes" / "conv_output_size.json").is_file()


def test_a_retired_kernel_is_killed_at_once_and_cleaned_up_in_the_background(repo: Path, tmp_path: Path) -> None:
    from grader.batch.run import prepare_context
    from grader.kernels.warm_kernel import KernelReserve
    from grader.pipeline.autograde import sandbox_run

    context = prepare_context(small_course(repo, tmp_path / "course"), ("cnn_quiz",))
    reserve = KernelReserve(lambda scratch: sandbox_run(context, scratch))
    ready = reserve.take()
    client = ready.manager.client()
    client.start_channels()
    asyncio.run(client.wait_for_ready(timeout=30))  # the kernel runs as its sandbox uid by now
    client.stop_channels()
    uid, scratch, connection = ready.run.spec.uid, ready.run.scratch, Path(ready.manager.connection_file)
    assert processes_of(uid) and scratch.is_dir() and connection.is_file()
    reserve.retire(ready)
    deadline = time.monotonic() + 3
    while processes_of(uid) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert processes_of(uid) == [], "retiring a kernel should kill it and its probe process at once"
    reserve.close()  # waits for the background clean-up
    assert not scratch.exists() and not connection.exists()


def tree_of(pid: int) -> list[int]:
    """``pid`` and its descendants (from /proc/PID/task/TID/children)."""
    tree = [pid]
    for parent in tree:
        for task in Path(f"/proc/{parent}/task").glob("*/children"):
            with contextlib.suppress(OSError):
                tree.extend(int(child) for child in task.read_text().split())
    return tree


def niceness_of_threads(pid: int) -> list[int]:
    """The niceness of every thread of ``pid`` (field 19 of /proc/PID/task/TID/stat)."""
    values = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            values.append(int((task / "stat").read_text().rsplit(")", 1)[1].split()[16]))
    return values


def test_a_kernel_drops_every_thread_to_the_sandbox_niceness_before_it_runs_any_code(repo: Path,
                                                                                   tmp_path: Path) -> None:
    from grader.batch.run import prepare_context
    from grader.kernels.warm_kernel import KernelReserve
    from grader.pipeline.autograde import sandbox_run

    context = prepare_context(small_course(repo, tmp_path / "course"), ("cnn_quiz",))
    reserve = KernelReserve(lambda scratch: sandbox_run(context, scratch))
    ready = reserve.take()
    base, own_session = os.getpriority(os.PRIO_PROCESS, 0), session_nice(os.getpid())
    sandboxed = min(base + context.sandbox.nice, 19)
    try:
        client = ready.manager.client()
        client.start_channels()
        asyncio.run(client.wait_for_ready(timeout=30))  # ipykernel has started all its threads
        jailed = set(processes_of(ready.run.spec.uid))
        kernel = [nice for pid in jailed & set(tree_of(ready.manager.provisioner.pid))
                  for nice in niceness_of_threads(pid)]
        assert set(kernel) == {base}, "start-up and the readiness check run at the grader's priority"
        if Path("/proc/self/autogroup").exists():  # the session's share of the CPUs, not only its threads' niceness
            assert session_nice(ready.manager.provisioner.pid) == context.sandbox.nice, "ready: student code runs next"
            assert session_nice(ready.probe._process.pid) == context.sandbox.nice
            assert session_nice(os.getpid()) == own_session, "the grader's own session keeps its share"
        probe = [nice for pid in jailed & set(tree_of(ready.probe._process.pid)) for nice in niceness_of_threads(pid)]
        assert probe and set(probe) == {sandboxed}, "the waiting probe process is sandboxed from the start"
        reply = asyncio.run(client.execute_interactive("import os; print(os.getpriority(os.PRIO_PROCESS, 0))",
                                                       timeout=30, output_hook=lambda message: None))
        assert reply["content"]["status"] == "ok"
        client.stop_channels()
        threads = [nice for pid in processes_of(ready.run.spec.uid) for nice in niceness_of_threads(pid)]
        assert len(threads) >= 3, "the kernel and its waiting probe, with ipykernel's threads"
        assert set(threads) == {sandboxed}, "no thread may run above the sandbox's niceness"
    finally:
        reserve.retire(ready)
        reserve.close()


TRACKER_IN_KERNEL = """
import multiprocessing, os
from multiprocessing import resource_tracker
lock = multiprocessing.RLock()  # a named semaphore, as tqdm makes one
print(os.readlink(f"/proc/self/fd/{resource_tracker._resource_tracker._fd}"))
"""


def test_student_code_cannot_reach_the_graders_resource_tracker(repo: Path, tmp_path: Path) -> None:
    from multiprocessing import resource_tracker

    from grader.batch.run import prepare_context
    from grader.kernels.warm_kernel import KernelReserve
    from grader.pipeline.autograde import sandbox_run

    context = prepare_context(small_course(repo, tmp_path / "course"), ("cnn_quiz",))
    resource_tracker.ensure_running()  # the grader's tracker, whose pipe the forkserver hands to its children
    reserve = KernelReserve(lambda scratch: sandbox_run(context, scratch))
    ready = reserve.take()
    try:
        client = ready.manager.client()
        client.start_channels()
        asyncio.run(client.wait_for_ready(timeout=30))
        printed = []
        reply = asyncio.run(client.execute_interactive(
            TRACKER_IN_KERNEL, timeout=30,
            output_hook=lambda message: printed.append(message["content"].get("text", ""))))
        client.stop_channels()
        assert reply["content"]["status"] == "ok", "multiprocessing's locks still work in the sandbox"
        assert "".join(printed).strip() == os.devnull, "the tracker pipe leads nowhere, not to the grader"
    finally:
        reserve.retire(ready)
        reserve.close()
