"""`grader autograde --scheduler`: a real Dask scheduler and two workers on loopback grade a class."""

from __future__ import annotations

import csv
import json
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest

from tests.submissions import VARIANTS, Variant, build

QUIZ_ID = "cnn_quiz"
MISTAKE = next(variant for variant in VARIANTS if variant.name == "mistake-quiz-shapes-hwc")
EXPECTED = {"reference": 14.0, "mistaken": 12.0, "untouched": 0.0, "missing": 0.0}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_workers(address: str, count: int, seconds: float = 90) -> None:
    from distributed import Client

    with Client(address, timeout=30) as client:
        client.wait_for_workers(count, timeout=seconds)


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    """A Dask scheduler and two single-thread workers (with their nannies, one with the grader's preload)."""
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    bin_dir = Path(sys.executable).parent
    processes = [subprocess.Popen([str(bin_dir / "dask"), "scheduler", "--host", "127.0.0.1", "--port", str(port),
                                   "--no-dashboard"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    time.sleep(1)
    processes += [subprocess.Popen([str(bin_dir / "dask"), "worker", address, "--nthreads", "1", "--no-dashboard",
                                    "--host", "127.0.0.1", *preload], stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
                  for preload in ([], ["--preload", "grader.dask_worker"])]  # one as Dask made it, one quieted
    try:
        wait_for_workers(address, 2)
        yield address
    finally:
        for process in reversed(processes):
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


def make_class(repo: Path, root: Path) -> Path:
    course = root / "course"
    for folder in ("source", "release"):
        shutil.copytree(repo / folder, course / folder)
    shutil.copy(repo / "nbgrader_config.py", course / "nbgrader_config.py")
    notebooks = {"reference": build(course, Variant("reference", QUIZ_ID)), "mistaken": build(course, MISTAKE),
                 "untouched": nbformat.read(repo / "release" / QUIZ_ID / f"{QUIZ_ID}.ipynb", as_version=4)}
    for student, notebook in notebooks.items():
        target = course / "submitted" / student / QUIZ_ID / f"{QUIZ_ID}.ipynb"
        target.parent.mkdir(parents=True)
        nbformat.write(notebook, target)
    (course / "submitted" / "missing" / QUIZ_ID).mkdir(parents=True)  # handed in nothing
    return course


@pytest.fixture(scope="module")
def graded_on_cluster(repo: Path, scheduler: str, tmp_path_factory: pytest.TempPathFactory
                      ) -> tuple[Path, subprocess.CompletedProcess]:
    course = make_class(repo, tmp_path_factory.mktemp("cluster"))
    run = subprocess.run([sys.executable, "-m", "grader", "autograde", "--course", str(course),
                          "--assignment", QUIZ_ID, "--scheduler", scheduler],
                         capture_output=True, text=True, timeout=600)
    return course, run


def scores(course: Path) -> dict[str, float]:
    with (course / "grades.csv").open(newline="", encoding="utf-8") as stream:
        return {row["student_id"]: float(row["total"]) for row in csv.DictReader(stream)}


def test_the_cluster_grades_every_submission_as_expected(graded_on_cluster) -> None:
    course, run = graded_on_cluster
    assert run.returncode == 0, run.stderr[-3000:]
    assert scores(course) == EXPECTED
    assert "graded 4 submission(s)" in run.stdout and "4/4" in run.stdout


def test_results_and_kept_files_come_back_to_the_coordinator(graded_on_cluster) -> None:
    course, _ = graded_on_cluster
    for student in ("reference", "mistaken", "untouched"):
        folder = course / "autograded" / student / QUIZ_ID
        result = json.loads((folder / "results.json").read_text())
        assert result["status"] == "OK" and result["extra_data"]["submission_sha256"]
        executed = nbformat.read(folder / f"{QUIZ_ID}.ipynb", as_version=4)
        assert executed.metadata.get("papermill", {}).get("duration")  # the executed notebook, not the submission
        assert "grader-export" in executed.cells[-1].metadata.get("tags", [])
        assert (course / "feedback" / student / QUIZ_ID).is_dir()
    missing = json.loads((course / "autograded" / "missing" / QUIZ_ID / "results.json").read_text())
    assert missing["status"] == "INVALID_NOTEBOOK" and "expected cnn_quiz.ipynb" in missing["output"]


def test_the_course_gradebook_is_written_by_the_coordinator(graded_on_cluster) -> None:
    from nbgrader.api import Gradebook

    course, _ = graded_on_cluster
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        graded = {s.student.id: s.score for s in gradebook.assignment_submissions(QUIZ_ID)}
    assert graded == EXPECTED


def test_the_same_class_graded_locally_gets_the_same_grades(repo: Path, graded_on_cluster,
                                                            tmp_path: Path) -> None:
    from grader.batch.run import autograde_course

    course = make_class(repo, tmp_path)
    autograde_course(course, (QUIZ_ID,), workers=1)
    assert scores(course) == scores(graded_on_cluster[0])


def test_an_unreachable_scheduler_is_a_clear_error(repo: Path, tmp_path: Path) -> None:
    course = make_class(repo, tmp_path)
    with (course / "nbgrader_config.py").open("a", encoding="utf-8") as config:
        config.write("\nc.GraderSettings.scheduler_connect_timeout = 2\n")
    run = subprocess.run([sys.executable, "-m", "grader", "autograde", "--course", str(course),
                          "--assignment", QUIZ_ID, "--scheduler", f"tcp://127.0.0.1:{free_port()}"],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 2
    assert "cannot grade on the Dask cluster at tcp://127.0.0.1:" in run.stderr
    assert "Traceback" not in run.stderr
    assert "after 2 s" in run.stderr  # the course's setting, not the default 10 s


def worker_timers(dask_worker) -> tuple[bool, float, float]:
    """Runs on a worker: (profiler on, tick ms, system monitor ms)."""
    callbacks = dask_worker.periodic_callbacks
    return "profile" in callbacks, callbacks["tick"].callback_time, callbacks["monitor"].callback_time


def test_the_preload_stops_the_profiler_and_slows_the_monitors_of_its_worker_only(scheduler: str) -> None:
    from distributed import Client

    with Client(scheduler, timeout=30) as client:
        timers = sorted(client.run(worker_timers).values())
    assert timers[0] == (False, 1000, 10000), "the preloaded worker: no profiler, 1 s tick, 10 s monitor"
    assert timers[1][0] and timers[1][1:] < (1000, 10000), "the other one as Dask made it (20 ms tick, 0.5 s monitor)"
