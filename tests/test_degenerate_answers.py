"""No free points (issue 17, item 1): every degenerate answer of tests/degenerate_corpus.py scores 0 on its grade id.

Each answer runs through its assignment's probes and hidden checks in this process
(tests.inprocess): seconds in all, in the default tier.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.checks.registry import CheckOutcome, earned_share, outcome_line
from grader.pipeline.autograde import scored
from tests import inprocess
from tests.degenerate_corpus import CORPUS, KINDS, Answer, NotApplicable
from tests.submissions import GRADE_IDS

ANSWERS = [pytest.param(assignment, grade_id, answer, id=f"{grade_id}-{kind}")
           for (assignment, grade_id), kinds in CORPUS.items() for kind, answer in kinds.items()
           if isinstance(answer, Answer)]


def untrained_checkpoint(workdir: Path) -> None:
    """The reference ``Net()``'s untrained weights as ``model.pt`` in ``workdir`` (mnist_mlp's probe reads it)."""
    import torch

    namespace: dict = {"__name__": "__main__"}
    exec("import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n"  # noqa: S102 - the repo's own cell
         + inprocess.reference_cells(inprocess.REPO, "mnist_mlp")["mlp_model"].replace("print(model)", ""), namespace)
    torch.manual_seed(0)
    torch.save(namespace["Net"]().state_dict(), workdir / "model.pt")


def graded_answer(assignment: str, answer: Answer, workdir: Path) -> tuple[dict[str, float], list[CheckOutcome]]:
    if assignment == "mnist_mlp":
        untrained_checkpoint(workdir)
    return inprocess.graded(assignment, answer.cells, workdir, answer.exports)


def test_the_corpus_covers_every_kind_of_every_grade_id() -> None:
    """Every grade id of every assignment has all five kinds, each an answer or a reason it does not apply."""
    assert {grade_id for _, grade_id in CORPUS} == {g for ids in GRADE_IDS.values() for g in ids}
    assert len(CORPUS) == 17
    for (assignment, grade_id), kinds in CORPUS.items():
        assert grade_id in GRADE_IDS[assignment]
        assert set(KINDS) <= set(kinds), f"{grade_id} lacks {set(KINDS) - set(kinds)}"
        assert all(isinstance(a, Answer) or len(a.reason) > 40 for a in kinds.values())


def test_every_grade_id_has_a_value_check(tmp_path: Path) -> None:
    """A grade id whose checks were all properties could never earn a point: each has a value check."""
    for assignment in GRADE_IDS:
        answer = next(a for (name, _), kinds in CORPUS.items() if name == assignment for a in kinds.values()
                      if isinstance(a, Answer))
        _, outcomes = graded_answer(assignment, answer, tmp_path)
        for grade_id in GRADE_IDS[assignment]:
            assert any(o.evidence for o in outcomes if o.grade_id == grade_id), f"{grade_id}: no value check"


@pytest.mark.parametrize(("assignment", "grade_id", "answer"), ANSWERS)
def test_a_degenerate_answer_scores_zero(assignment: str, grade_id: str, answer: Answer, tmp_path: Path) -> None:
    fractions, outcomes = graded_answer(assignment, answer, tmp_path)
    mine = [o for o in outcomes if o.grade_id == grade_id]
    assert fractions[grade_id] == 0.0, [o.message for o in mine if o.passed]
    assert any(not o.passed for o in mine)


def test_the_issue_example_constant_minus_one_earns_nothing_and_is_told_so(tmp_path: Path) -> None:
    """conv_output_size returning -1 has whole numbers: that property held, but it counts for nothing."""
    answer = CORPUS["cnn_quiz", "conv_output_size"]["constant"]
    fractions, outcomes = graded_answer("cnn_quiz", answer, tmp_path)
    mine = [o for o in outcomes if o.grade_id == "conv_output_size"]
    assert fractions["conv_output_size"] == 0.0
    assert [(o.passed, o.evidence) for o in mine] == [(False, True), (True, False)]
    assert outcome_line(mine[1], mine[1].message, evidence=False).startswith(
        "PASS: (not counted: no check of your answer's values passed) conv_output_size returns whole numbers")
    assert outcome_line(mine[1], "m", evidence=True) == "PASS: m"
    result = scored(outcomes, "conv_output_size", 3.0)
    assert result.score == 0.0 and "PASS: (not counted" in result.output and "FAIL: conv_output_size:" in result.output


def test_a_property_counts_beside_a_passing_value_check() -> None:
    """The rule in numbers: weights 3 (value) and 1 (property)."""
    value, prop = (CheckOutcome("v", "g", 3, True, "", True), CheckOutcome("p", "g", 1, True, "", False))
    assert earned_share([value, prop]) == 1.0
    assert earned_share([value.__class__("v", "g", 3, False, "", True), prop]) == 0.0
    assert earned_share([value, prop.__class__("p", "g", 1, False, "", False)]) == 0.75
    assert earned_share([prop]) == 0.0


def test_a_passing_note_of_weight_zero_is_no_evidence() -> None:
    note = CheckOutcome("locked inputs unchanged", "g", 0, True, "", True)
    prop = CheckOutcome("p", "g", 1, True, "", False)
    wrong = CheckOutcome("v", "g", 3, False, "", True)
    assert earned_share([note, prop, wrong]) == 0.0


def test_not_applicable_kinds_say_why() -> None:
    reasons = [(grade_id, kind) for (_, grade_id), kinds in CORPUS.items() for kind, a in kinds.items()
               if isinstance(a, NotApplicable)]
    assert reasons == [("pooling_answers", "zeros"), ("mlp_train", "input-unchanged"),
                       ("mlp_test", "input-unchanged")]
