"""The reference answers of cnn_quiz agree with what real PyTorch layers do."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
import torch
from torch import nn

from grader.course.layout import source_notebook


def solution_namespace(repo: Path, grade_id: str) -> dict:
    """Run one solution cell of the (trusted) instructor notebook on its own."""
    notebook = nbformat.read(source_notebook(repo, "cnn_quiz"), as_version=4)
    cell = next(c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)
    namespace: dict = {}
    exec(compile(cell.source, f"cnn_quiz:{grade_id}", "exec"), namespace)  # trusted source
    return namespace


@pytest.fixture(scope="module")
def answers(repo: Path) -> dict:
    return solution_namespace(repo, "quiz_answers")


def params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_example_1_and_2(answers: dict) -> None:
    conv1 = nn.Conv2d(1, 16, 2, stride=2)
    conv2 = nn.Conv2d(16, 32, 3, padding=1)
    after1 = conv1(torch.zeros(1, 1, 200, 200))
    after2 = conv2(after1)
    assert tuple(answers["q1_shape"]) == tuple(after1.shape[1:]) == (16, 100, 100)
    assert answers["q1_params"] == params(conv1) == 80
    assert tuple(answers["q2_shape"]) == tuple(after2.shape[1:]) == (32, 100, 100)
    assert answers["q2_params"] == params(conv2) == 4640


def test_flattening_quiz(answers: dict) -> None:
    stack = nn.Sequential(nn.Conv2d(3, 10, 3), nn.MaxPool2d(4, 4), nn.Conv2d(10, 20, 5, padding=2),
                          nn.MaxPool2d(2, 2))
    out = stack(torch.zeros(1, 3, 130, 130))
    assert (answers["q3_depth"], answers["q3_size"], answers["q3_size"]) == tuple(out.shape[1:])
    assert answers["q3_flat"] == out[0].numel() == 5120


def test_same_padding_for_7x7(answers: dict) -> None:
    conv = nn.Conv2d(1, 1, 7, stride=1, padding=answers["q4_padding"])
    assert conv(torch.zeros(1, 1, 31, 31)).shape[-2:] == (31, 31)


@pytest.mark.parametrize("grade_id", ["conv_output_size", "conv_param_count"])
def test_reference_formulas_match_conv2d(repo: Path, grade_id: str) -> None:
    formula = solution_namespace(repo, grade_id)[grade_id]
    generator = torch.Generator().manual_seed(7)
    for _ in range(200):
        w_in, k, stride, pad, c_in, c_out = (
            int(torch.randint(lo, hi, (1,), generator=generator))
            for lo, hi in ((8, 64), (1, 8), (1, 5), (0, 4), (1, 4), (1, 6))
        )
        conv = nn.Conv2d(c_in, c_out, k, stride=stride, padding=pad)
        if grade_id == "conv_output_size":
            assert formula(w_in, k, stride, pad) == conv(torch.zeros(1, c_in, w_in, w_in)).shape[-1]
        else:
            assert formula(c_in, c_out, k) == params(conv)
            assert formula(c_in, c_out, k, bias=False) == params(nn.Conv2d(c_in, c_out, k, bias=False))


def test_grader_answer_key_is_what_pytorch_measures(answers: dict) -> None:
    from grader.assignments.cnn_quiz.test_cnn_quiz import ANSWERS, reference_answers

    assert reference_answers() == ANSWERS
    assert {name: answers[name] for name in ANSWERS} == ANSWERS
