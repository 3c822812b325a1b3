"""pooling_layers' folder in this process: the source notebook's solutions through its probes, checks and picture.

Nothing in the grader's shared code knows pooling_layers yet: each submission here is the source
notebook with some solution cells replaced, run through the folder's probes and checks in this
process (tests.inprocess). Its degenerate answers are in tests/test_degenerate_answers.py.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from grader.assignments import pooling_layers
from grader.assignments.pooling_layers import examples, figures, probe
from grader.checks.registry import CheckOutcome
from grader.pipeline.artifacts import ArtifactError, Artifacts, ProbeResult
from tests import inprocess
from tests.inprocess import REPO, run_checks
from tests.submissions import GRADE_IDS as ALL_GRADE_IDS

ASSIGNMENT = "pooling_layers"
SOURCE = inprocess.source_path(ASSIGNMENT)
GRADE_IDS = ALL_GRADE_IDS[ASSIGNMENT]  # from the source notebook


@pytest.fixture(scope="module")
def inputs() -> dict[str, np.ndarray]:
    """The unseen maps, read-only as the grader hands them out."""
    return inprocess.grading_inputs(ASSIGNMENT)


def artifacts_of(cells: dict[str, str], inputs: dict[str, np.ndarray], tmp_path: Path) -> Artifacts:
    """The artifacts the grader would hold for a submission with these solution cells (tests.inprocess)."""
    assert inputs is inprocess.grading_inputs(ASSIGNMENT)
    return inprocess.artifacts_of(ASSIGNMENT, cells, tmp_path)


def shares(outcomes: list[CheckOutcome]) -> dict[str, float]:
    """The fraction of each grade id's points, as grader.pipeline.autograde.scored gives them."""
    return inprocess.shares(ASSIGNMENT, outcomes)


def graded(cells: dict[str, str], inputs: dict[str, np.ndarray], tmp_path: Path) -> tuple[dict, list]:
    outcomes = run_checks(artifacts_of(cells, inputs, tmp_path))
    return shares(outcomes), outcomes


@pytest.mark.parametrize("variant", examples.CORRECT, ids=lambda variant: variant.name)
def test_correct_variants_earn_full_marks(variant: examples.Variant, inputs, tmp_path: Path) -> None:
    fractions, outcomes = graded(variant.cells, inputs, tmp_path)
    assert fractions == dict.fromkeys(GRADE_IDS, 1.0), [o.message for o in outcomes if not o.passed]
    assert len(outcomes) == 12


@pytest.mark.parametrize("variant", examples.MISTAKES, ids=lambda variant: variant.name)
def test_each_mistake_loses_exactly_what_it_declares(variant: examples.Variant, inputs, tmp_path: Path) -> None:
    fractions, outcomes = graded(variant.cells, inputs, tmp_path)
    declared = {grade_id: variant.expected.get(grade_id, 1.0) for grade_id in GRADE_IDS}
    assert fractions == pytest.approx(declared), [o.message for o in outcomes if not o.passed]
    assert min(fractions.values()) < 1.0


HINTS = {"mistake-pooling-ceil-mode": "round down", "mistake-pooling-stride-ignored": "use the stride",
         "mistake-pooling-default-stride-one": "stride=None means stride = kernel_size",
         "mistake-avg-integer-maps-truncated": "return floats", "mistake-max-channels-last": "last two axes",
         "mistake-max-uses-torch": "NumPy alone", "mistake-pooling-answers-off": "fraction thrown away"}


@pytest.mark.parametrize("name", sorted(HINTS))
def test_a_mistake_is_told_what_went_wrong(name: str, inputs, tmp_path: Path) -> None:
    variant = next(variant for variant in examples.MISTAKES if variant.name == name)
    _, outcomes = graded(variant.cells, inputs, tmp_path)
    assert any(HINTS[name] in outcome.message for outcome in outcomes if not outcome.passed)
    failed = [outcome.message for outcome in outcomes if not outcome.passed]
    assert all("expected" in message for message in failed), failed  # the feedback's rule: what was expected


def test_all_zero_answers_keep_only_the_parameter_count(inputs, tmp_path: Path) -> None:
    """0 is the right number of a pooling layer's parameters: all zeros earn that answer's share only."""
    cell = "p1_shape = p2_shape = (0, 0, 0)\np3_params = 0\np4_kept = 0.0\n"
    fractions, outcomes = graded({"pooling_answers": cell}, inputs, tmp_path)
    assert fractions["pooling_answers"] == 0.25
    assert [o.name for o in outcomes if o.grade_id == "pooling_answers" and o.passed] == [
        "test_pooling_answer[p3_params]"]


def test_a_malformed_probe_report_fails_its_checks_without_crashing(inputs, tmp_path: Path) -> None:
    reference = artifacts_of({}, inputs, tmp_path)
    hostile = ProbeResult("", {"errors": "x" * 100_000, "alone_error": ["not", "text"]}, {})
    artifacts = Artifacts("pooling_layers", tmp_path, {}, reference.values, reference.arrays,
                          {"max_pool2d": hostile, "avg_pool2d": hostile}, inputs)
    fractions, outcomes = shares(run_checks(artifacts)), run_checks(artifacts)
    assert fractions == {"max_pool2d": 0.0, "avg_pool2d": 0.0, "pooling_answers": 1.0}
    assert all(len(o.message) < 1_000 for o in outcomes)


def test_the_figure_shows_both_poolings_beside_pytorch(inputs, tmp_path: Path) -> None:
    name, caption, png = figures.pooled_road(artifacts_of({}, inputs, tmp_path))
    assert name == "pooled-road" and "never saw" in caption
    assert png.startswith(b"\x89PNG") and len(png) > 5_000
    rows = figures.pooled_road_rows(artifacts_of({}, inputs, tmp_path))
    assert [label for label, _ in rows] == ["maps", "your max", "expected", "your avg", "expected"]
    for yours, expected in ((rows[1], rows[2]), (rows[3], rows[4])):
        for mine, wanted in zip(yours[1], expected[1], strict=True):
            np.testing.assert_allclose(mine.picture, wanted.picture, atol=1e-9)


def test_the_figure_leaves_out_a_pooling_that_raises_and_refuses_when_none_works(inputs, tmp_path: Path) -> None:
    raising = "def avg_pool2d(maps, kernel_size, stride=None):\n    raise ValueError('not yet')\n"
    rows = figures.pooled_road_rows(artifacts_of({"avg_pool2d": raising}, inputs, tmp_path))
    assert [label for label, _ in rows] == ["maps", "your max", "expected"]
    both_raise = {"avg_pool2d": raising, "max_pool2d": raising.replace("avg_pool2d", "max_pool2d")}
    with pytest.raises(ValueError, match="neither pooling"):
        figures.pooled_road(artifacts_of(both_raise, inputs, tmp_path))


def test_the_inputs_hold_the_cases_the_contract_names(inputs) -> None:
    shapes = [inputs[f"maps_{case}"].shape for case in range(len(inputs["cases"]))]
    kernels, strides = inputs["cases"][:, 0], inputs["cases"][:, 1]
    assert any(h % 2 and w % 2 for _, h, w in shapes) and any(h != w for _, h, w in shapes)
    pairs = list(zip(kernels, strides, strict=True))
    assert any(s == probe.DEFAULT_STRIDE for _, s in pairs) and any(s == k for k, s in pairs)
    assert any(0 < s < k for k, s in pairs) and any(s > k for k, s in pairs)
    dtypes = {inputs[f"maps_{case}"].dtype.kind for case in range(len(shapes))}
    assert dtypes == {"f", "i"}
    other = probe.make_inputs({"seed": 1})
    assert not np.array_equal(other["maps_0"], inputs["maps_0"]) and other["maps_0"].shape == shapes[0]
    assert inputs["road_maps"].shape == (4, 69, 94) and inputs["road_maps"].max() > 0


def test_the_numpy_alone_run_puts_pytorch_back(inputs, tmp_path: Path) -> None:
    import torch

    artifacts = artifacts_of({"max_pool2d": examples.USES_TORCH}, inputs, tmp_path)
    alone = artifacts.probes["max_pool2d"].values
    assert alone["alone_error"] == "" and all(error.startswith("NameError") for error in alone["alone_errors"])
    assert sys.modules["torch"] is torch and sys.modules["torch.nn.functional"] is torch.nn.functional
    with pytest.raises(ArtifactError):
        Artifacts("pooling_layers", tmp_path, {}, {}, {}, {}, inputs).probe("max_pool2d")


def test_the_declarations_match_the_notebook_and_import_no_torch() -> None:
    notebook = json.loads(SOURCE.read_text(encoding="utf-8"))
    solutions = tuple(cell["metadata"]["nbgrader"]["grade_id"] for cell in notebook["cells"]
                      if cell["metadata"].get("nbgrader", {}).get("solution"))
    assert solutions == GRADE_IDS == tuple(probe.PROBES) + ("pooling_answers",)
    assert probe.ASSIGNMENT == Path(pooling_layers.__file__).parent.name == "pooling_layers"
    assert (pooling_layers.PARAMETERS, pooling_layers.KEPT_FILES) == ({}, ())
    assert {variant.assignment for variant in examples.EXAMPLES} == {"pooling_layers"}
    code = "import sys, grader.assignments.pooling_layers; print('torch' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert done.stdout.strip() == "False"
