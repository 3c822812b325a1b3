"""Issue 15, item 1: no submission can stop a run.

Hostile notebooks rewrite what the grader reads back after the export cell wrote it (a
values.json nested 100,000 levels deep; a zip bomb in arrays.npz) or make the probe write
an NPZ whose header claims an 80 TB array. Each gets ``ARTIFACT_INVALID`` with the limit it
broke, every reference among them full marks, and ``grader autograde`` exits 0 with every
results.json written. A submission that kills its grading process is retried once alone,
then recorded as ``GRADER_ERROR``, while the rest of the class is graded.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest

from grader.pipeline.autograde import GradingContext, Submission
from grader.results.records import Status, SubmissionResult
from tests.one_submission_doubles import PretendContext, PretendSubmission, pretend_or_die, raise_always, start_nothing
from tests.submissions import Variant, build, reference_cells

QUIZ = "cnn_quiz"
FULL = 14.0

# A thread that waits for the export cell to write values.json, then replaces it (the kernel
# lives on while the grader runs the probe), as the attack did.
DEEP_VALUES_JSON = '''
import os as _os, threading as _threading, time as _time
def _rewrite_values():
    path = _os.path.join("_grader_artifacts", "values.json")
    while not _os.path.exists(path):
        _time.sleep(0.005)
    with open("deep.tmp", "w") as stream:
        stream.write("[" * 100_000 + "]" * 100_000)
    _os.replace("deep.tmp", path)
_threading.Thread(target=_rewrite_values, daemon=True).start()
'''

# Wraps the grader's export in the kernel: after it wrote arrays.npz, a real zip bomb takes
# its place (one member, a valid .npy of 512 MiB of zeros, deflated to about 0.5 MB).
ZIP_BOMB_ARRAYS = '''
import io as _io, zipfile as _zipfile
import numpy as _np
import grader.pipeline.export as _export
_grader_export_first = _export.export_artifacts
def _bomb(namespace, names, out_dir):
    _grader_export_first(namespace, names, out_dir)
    header = _io.BytesIO()
    _np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False, "shape": (2**26,)})
    with _zipfile.ZipFile(out_dir + "/arrays.npz", "w", _zipfile.ZIP_DEFLATED) as archive:
        with archive.open("q1_shape.npy", "w", force_zip64=True) as member:
            member.write(header.getvalue())
            zeros = bytes(8 << 20)
            for _ in range(64):
                member.write(zeros)
_export.export_artifacts = _bomb
'''

# In the probe process only (it imported grader.probing.probe): every .npz it writes is replaced by
# one whose header claims 10**13 float64 (80 TB) with 64 bytes of data.
HUGE_HEADER_PROBE = '''
import sys as _sys
if "grader.probing.probe" in _sys.modules:
    import io as _io, zipfile as _zipfile
    import numpy as _np
    def _huge_savez(path, **arrays):
        header = _io.BytesIO()
        _np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False,
                                                        "shape": (10**13,)})
        with _zipfile.ZipFile(path, "w") as archive:
            archive.writestr("sizes.npy", header.getvalue() + bytes(64))
    _np.savez = _huge_savez
'''

HOSTILE = {
    "deep-values-json": (DEEP_VALUES_JSON, "values.json is nested 100,000 levels deep"),
    "zip-bomb-arrays": (ZIP_BOMB_ARRAYS, "arrays.npz's 'q1_shape.npy' takes what the grader reads back past"),
    "huge-header-probe": (HUGE_HEADER_PROBE, "claims 10,000,000,000,000 elements"),
}
REFERENCES = ("reference-a", "reference-b")


def make_class(repo: Path, root: Path, hostile: dict[str, tuple[str, str]], references: tuple[str, ...]) -> Path:
    """A cnn_quiz course with the reference solution for ``references``, and a hostile cell in front of it."""
    course = root / "course"
    for folder in ("source", "release"):
        shutil.copytree(repo / folder, course / folder)
    shutil.copy(repo / "nbgrader_config.py", course / "nbgrader_config.py")
    answers = reference_cells(course, QUIZ)["quiz_answers"]
    notebooks = {name: build(course, Variant(name, QUIZ)) for name in references}
    notebooks |= {name: build(course, Variant(name, QUIZ, {"quiz_answers": cell + "\n" + answers}))
                  for name, (cell, _) in hostile.items()}
    for student, notebook in notebooks.items():
        target = course / "submitted" / student / QUIZ / f"{QUIZ}.ipynb"
        target.parent.mkdir(parents=True)
        nbformat.write(notebook, target)
    return course


def result_of(course: Path, student: str) -> dict:
    return json.loads((course / "autograded" / student / QUIZ / "results.json").read_text(encoding="utf-8"))


@pytest.mark.slow  # a grading pool of its own: 30-40 s
def test_hostile_artifacts_get_their_status_and_the_class_is_graded(repo: Path, tmp_path: Path) -> None:
    course = make_class(repo, tmp_path, HOSTILE, REFERENCES)
    run = subprocess.run([sys.executable, "-m", "grader", "autograde", "--course", str(course),
                          "--assignment", QUIZ, "--workers", "2"],
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    for student in REFERENCES:
        result = result_of(course, student)
        assert (result["status"], result["score"]) == ("OK", FULL), result["output"]
    for student, (_, reason) in HOSTILE.items():
        result = result_of(course, student)
        assert result["status"] == "ARTIFACT_INVALID", (student, result["output"])
        assert reason in result["output"], (student, result["output"])
        assert result["score"] == 0 and all(reason in test["output"] for test in result["tests"])
    rows = (course / "grades.csv").read_text(encoding="utf-8").splitlines()[1:]
    assert sorted(row.split(",")[0] for row in rows) == sorted([*REFERENCES, *HOSTILE])


def pooled(tmp_path: Path, students: list[str], grade, workers: int) -> dict[str, SubmissionResult]:
    """Results of grader.batch.pool for pretend submissions (tests/one_submission_doubles.py), one per student."""
    from grader.batch.pool import GradingPool, pooled_results

    submissions = [PretendSubmission(student) for student in students]
    pool = GradingPool(workers, start_nothing, (), grade, PretendContext(tmp_path))
    results = list(pooled_results(submissions, pool))
    assert sorted(result.student for result in results) == sorted(students), "one result each, none twice"
    return {result.student: result for result in results}


@pytest.mark.slow  # a grading pool of its own: 30-40 s
def test_the_pool_retries_a_crash_once_alone_and_keeps_every_other_result(tmp_path: Path) -> None:
    students = ["a", "b", "crash-1", "c", "d", "e", "crash-2", "f", "g"]
    results = pooled(tmp_path, students, pretend_or_die, workers=3)
    attempts = {s: (tmp_path / f"{s}.attempts").read_text().split() for s in students}
    for student in ("crash-1", "crash-2"):
        assert results[student].status is Status.GRADER_ERROR and "died twice" in results[student].output
        assert results[student].score == 0 and results[student].max_score > 0
        assert len(attempts[student]) == 2, "tried with others, then once alone"
    innocent = [s for s in students if not s.startswith("crash")]
    assert all(results[s].status is Status.OK for s in innocent)
    assert all(1 <= len(attempts[s]) <= 2 for s in innocent), "in flight at a crash: graded again, once"
    assert any(len(attempts[s]) == 2 for s in innocent), "some were in flight with a crash (else: nothing tested)"


def test_an_exception_in_a_grading_process_is_that_submissions_grader_error(tmp_path: Path) -> None:
    results = pooled(tmp_path, ["a", "b", "c"], raise_always, workers=2)
    for student, result in results.items():
        assert result.status is Status.GRADER_ERROR
        assert f"RuntimeError: no grading for {student} today" in result.output


def grade_or_die(submission: Submission, context: GradingContext) -> SubmissionResult:
    """Runs in a pool's grading process: a student named ``zz-crash*`` kills it, the rest are graded."""
    from grader.batch.run import grade_in_worker

    if submission.student.startswith("zz-crash"):
        os._exit(70)
    return grade_in_worker(submission, context)


@pytest.mark.slow
def test_a_submission_that_kills_its_grading_process_is_retried_once_then_grader_error(
        repo: Path, tmp_path: Path) -> None:
    from grader.batch.run import find_submissions, graded_results, prepare_context

    course = make_class(repo, tmp_path, {}, ("reference-a", "reference-b", "zz-crash"))
    context = prepare_context(course, (QUIZ,))
    submissions = list(find_submissions(course, (QUIZ,)))
    results = {r.student: r for r in graded_results(submissions, context, 2, grade=grade_or_die)}
    assert sorted(results) == ["reference-a", "reference-b", "zz-crash"]
    assert results["zz-crash"].status is Status.GRADER_ERROR and "died twice" in results["zz-crash"].output
    for student in ("reference-a", "reference-b"):
        assert (results[student].status, results[student].score) == (Status.OK, FULL), results[student].output


@pytest.mark.parametrize("failure", [RecursionError("deep"), MemoryError(), KeyError("points")])
def test_anything_grading_raises_becomes_grader_error(failure: BaseException, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    import grader.batch.run

    def fail(*args, **kwargs):
        raise failure

    notebook = tmp_path / "submitted" / "s" / QUIZ / f"{QUIZ}.ipynb"
    notebook.parent.mkdir(parents=True)
    notebook.write_text("{}")
    monkeypatch.setattr(grader.batch.run, "grade_submission", fail)
    context = GradingContext(course=tmp_path, settings=None, db_url="", skeletons={}, sandbox=None,
                             source_cells={}, points=PretendContext(tmp_path).points)
    result = grader.batch.run.grade_in_worker(Submission("s", QUIZ, notebook), context)
    assert result.status is Status.GRADER_ERROR and type(failure).__name__ in result.output
    assert result.max_score > 0 and result.score == 0


class KilledFuture:
    """A Dask future whose task killed every worker that ran it."""

    def result(self):
        from distributed import KilledWorker

        raise KilledWorker("grade_remote-1234", SimpleNamespace(address="tcp://127.0.0.1:40000"), 1)


def test_a_dask_task_that_killed_its_workers_is_grader_error(repo: Path) -> None:
    from grader.batch.cluster import remote_outcome

    result = remote_outcome(repo, Submission("s", QUIZ, Path("s.ipynb")), KilledFuture())
    assert result.status is Status.GRADER_ERROR and "KilledWorker" in result.output
    assert result.score == 0 and result.max_score == FULL
