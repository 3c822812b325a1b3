"""Tampered notebooks: only solution cells count, taken by grade id; everything else comes from the source."""

from __future__ import annotations

import copy
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell

from grader.batch import autograde_course
from tests.submissions import Variant, build

QUIZ = "cnn_quiz"
WRONG_Q1 = "q1_shape = (100, 100, 16)\nq1_params = 80\nq2_shape = (32, 100, 100)\nq2_params = 4640\n" \
           "q3_depth, q3_size, q3_flat, q4_padding = 20, 16, 5120, 3\n"


def cells_with(notebook: nbformat.NotebookNode, key: str, value: object) -> list[nbformat.NotebookNode]:
    return [cell for cell in notebook.cells if cell.metadata.get("nbgrader", {}).get(key) == value]


def solution(notebook: nbformat.NotebookNode, grade_id: str) -> nbformat.NotebookNode:
    return next(c for c in cells_with(notebook, "grade_id", grade_id) if c.metadata["nbgrader"].get("solution"))


def delete_tests(notebook):
    notebook.cells = [c for c in notebook.cells if not c.metadata.get("nbgrader", {}).get("grade")]


def edit_tests_and_points(notebook):
    for cell in cells_with(notebook, "grade", True):
        cell.source = "print('All tests passed')"
        cell.metadata["nbgrader"]["points"] = 1000


def extra_cell_overrides(notebook):
    notebook.cells.append(new_code_cell("q1_shape = (16, 100, 100)"))


def duplicate_solution(notebook):
    wrong = copy.deepcopy(solution(notebook, "quiz_answers"))
    wrong.source = WRONG_Q1
    wrong.id = "duplicate"
    notebook.cells.append(wrong)


def retype_solution(notebook):
    cell = solution(notebook, "quiz_answers")
    index = notebook.cells.index(cell)
    markdown = new_markdown_cell(cell.source, metadata=cell.metadata)
    notebook.cells[index] = markdown


def rename_grade_ids(notebook):
    for cell in notebook.cells:
        if "nbgrader" in cell.metadata:
            cell.metadata["nbgrader"]["grade_id"] += "_mine"


def hard_code_output(notebook):
    solution(notebook, "quiz_answers").outputs = [nbformat.v4.new_output("stream", name="stdout",
                                                                         text="All tests passed")]
    solution(notebook, "quiz_answers").source = WRONG_Q1


# name -> (how the notebook is tampered with, expected quiz_answers score out of 8, expected total)
TAMPERING: dict[str, tuple[Callable, float, float]] = {
    "tamper-deleted-test-cells": (delete_tests, 8, 14),
    "tamper-edited-tests-and-points": (edit_tests_and_points, 8, 14),
    "tamper-extra-cell-overrides-answer": (extra_cell_overrides, 7, 13),
    "tamper-duplicated-solution-first-wins": (duplicate_solution, 8, 14),
    "tamper-solution-retyped-as-markdown": (retype_solution, 8, 14),
    "tamper-grade-ids-renamed": (rename_grade_ids, 8, 14),
    "tamper-printed-all-tests-passed": (hard_code_output, 7, 13),
}


@pytest.fixture(scope="module")
def graded(repo: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    course = tmp_path_factory.mktemp("tampering") / "course"
    for folder in ("source", "release"):
        shutil.copytree(repo / folder, course / folder)
    shutil.copy(repo / "nbgrader_config.py", course / "nbgrader_config.py")
    for name, (tamper, _, _) in TAMPERING.items():
        notebook = build(course, Variant(name, QUIZ, {"quiz_answers": WRONG_Q1}
                                         if name == "tamper-extra-cell-overrides-answer" else {}))
        tamper(notebook)
        target = course / "submitted" / name / QUIZ / f"{QUIZ}.ipynb"
        target.parent.mkdir(parents=True)
        nbformat.write(notebook, target)
    autograde_course(course, workers=2)
    return course


@pytest.mark.parametrize("student", list(TAMPERING))
def test_tampering_changes_nothing(graded: Path, student: str) -> None:
    result = json.loads((graded / "autograded" / student / QUIZ / "results.json").read_text())
    _, quiz_points, total = TAMPERING[student]
    scores = {test["name"]: (test["score"], test["max_score"]) for test in result["tests"]}
    assert result["status"] == "OK"
    assert scores["quiz_answers"] == (quiz_points, 8)
    assert result["score"] == total and sum(m for _, m in scores.values()) == 14
