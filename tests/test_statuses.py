"""Broken, slow and crashing submissions still get a results.json with a clear status."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat
import pytest

from grader.batch import autograde_course
from tests.submissions import Variant, build

SETTINGS = '''
c.GraderSettings.cell_timeout = 20
c.GraderSettings.notebook_timeout = 40
'''
QUIZ = "cnn_quiz"


def quiz(name: str, answers: str | None = None) -> Variant:
    return Variant(name, QUIZ, {"quiz_answers": answers} if answers else {})


def write_raw(course: Path, student: str, content: bytes, filename: str = f"{QUIZ}.ipynb") -> None:
    target = course / "submitted" / student / QUIZ / filename
    target.parent.mkdir(parents=True)
    target.write_bytes(content)


EXPECTED = {
    "broken-truncated-json": ("INVALID_NOTEBOOK", "not valid JSON"),
    "broken-json-not-a-notebook": ("INVALID_NOTEBOOK", "not a Jupyter notebook"),
    "broken-not-utf8": ("INVALID_NOTEBOOK", "not UTF-8"),
    "broken-schema": ("INVALID_NOTEBOOK", "Jupyter format"),
    "ok-nbformat-3-upgraded": ("OK", ""),
    "ok-renamed-notebook": ("OK", ""),
    "timeout-cell-sleeps": ("CELL_TIMEOUT", "CELL_TIMEOUT"),
    "timeout-notebook-too-long": ("NOTEBOOK_TIMEOUT", "NOTEBOOK_TIMEOUT"),
    "crash-os-exit": ("KERNEL_DIED", "KERNEL_DIED"),
}


@pytest.fixture(scope="module")
def graded(repo: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    course = tmp_path_factory.mktemp("statuses") / "course"
    for folder in ("source", "release"):
        shutil.copytree(repo / folder, course / folder)
    (course / "nbgrader_config.py").write_text((repo / "nbgrader_config.py").read_text() + SETTINGS)
    reference = nbformat.writes(build(course, quiz("reference"))).encode()
    write_raw(course, "broken-truncated-json", reference[: len(reference) // 2])
    write_raw(course, "broken-json-not-a-notebook", b'{"hello": "world"}')
    write_raw(course, "broken-not-utf8", b"\xff\xfe" + reference)
    write_raw(course, "broken-schema", b'{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [{"x": 1}]}')
    version3 = nbformat.writes(nbformat.convert(build(course, quiz("v3")), 3), version=3)
    write_raw(course, "ok-nbformat-3-upgraded", version3.encode())
    write_raw(course, "ok-renamed-notebook", reference, filename="my quiz (final).ipynb")
    slow_cells = {
        "timeout-cell-sleeps": "import time\ntime.sleep(600)\n",
        "timeout-notebook-too-long": "import time\n" + "time.sleep(15)\n",
        "crash-os-exit": "import os\nos._exit(3)\n",
    }
    for name, code in slow_cells.items():
        variant = Variant(name, QUIZ, {"conv_output_size": code, "conv_param_count": code, "quiz_answers": code})
        write_raw(course, name, nbformat.writes(build(course, variant)).encode())
    autograde_course(course, workers=2)
    return course


@pytest.mark.parametrize("student", list(EXPECTED))
def test_submission_gets_a_status_and_a_reason(graded: Path, student: str) -> None:
    result = json.loads((graded / "autograded" / student / QUIZ / "results.json").read_text())
    status, reason = EXPECTED[student]
    assert result["status"] == status
    assert [test["name"] for test in result["tests"]] == ["conv_output_size", "conv_param_count", "quiz_answers"]
    if status == "OK":
        assert result["score"] == 14
    else:
        assert result["score"] == 0
        assert all(reason in test["output"] for test in result["tests"]), result["tests"][0]["output"]


def test_grades_csv_lists_every_status(graded: Path) -> None:
    rows = (graded / "grades.csv").read_text(encoding="utf-8").splitlines()
    statuses = {line.split(",")[0]: line.split(",")[-1] for line in rows[1:]}
    assert statuses == {student: status for student, (status, _) in EXPECTED.items()}
