"""Bounded messages, end to end: the hidden checks on hostile artifacts, and graded hostile notebooks
(answers of 100,000 floats, huge strings, deep lists, giant dicts, objects whose repr is huge or raises,
values.json rewritten after the export; every part failing with long messages)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from grader.checks.runner import run_checks
from grader.course.settings import GraderSettings
from grader.pipeline.artifacts import Artifacts, ProbeResult
from grader.pipeline.autograde import scored
from grader.pipeline.shown import MAX_FEEDBACK_BYTES, MAX_LINE_CHARS, MAX_RESULTS_BYTES
from grader.results.records import Status, SubmissionResult
from tests.graded_class import make_course
from tests.submissions import GRADE_IDS, Variant
from tests.test_bounded_messages import HOSTILE_VALUES, assert_bounded, nested

# --- the hidden checks on hostile artifacts, in this process --------------------------------------------------

HOSTILE_DESCRIPTIONS = [
    {"kind": "sequence", "value": [i / 10 for i in range(100_000)]},  # a tuple of 100,000 floats, as exported
    {"kind": "sequence", "value": [float(i) for i in range(100_000)]},  # whole numbers: integers() takes them
    {"kind": "string", "value": "s" * 1_000_000},
    {"kind": "object", "type": "T" * 1_000_000},
    {"kind": "number", "value": nested(30)},  # what student code can write over values.json after the export
    {"kind": "number", "value": {f"k{i}": i for i in range(100_000)}},
    {"kind": "K" * 1_000_000, "value": 1},
    {"kind": "array", "dtype": "float64", "shape": [1000, 1000]},
    {"kind": "array", "dtype": "many fields", "shape": [3]},
]
MANY_FIELDS = np.zeros(3, dtype=[(f"field_{'f' * 60}_{i}", "f8") for i in range(200)])


class Anything(dict):
    """Probe values or arrays that answer every name with the same hostile thing."""

    def __init__(self, answer: object) -> None:
        super().__init__()
        self.answer = answer

    def __getitem__(self, name: str) -> object:
        return self.answer

    def get(self, name: str, default: object = None) -> object:
        return self.answer


def hostile_artifacts(assignment: str, tmp_path: Path, probes_fail: bool) -> Artifacts:
    """Every exported name a hostile description; every probe a 10 MB error, or hostile values and arrays."""
    from grader.assignments import probe_spec
    from grader.pipeline.autograde import probe_inputs
    from tests.submissions import CATALOG

    parameters = {**GraderSettings().check_parameters(assignment), **CATALOG.declarations[assignment].parameters}
    if assignment == "mnist_mlp":  # its real inputs take seconds to make; the checks only need labels
        inputs = {f"{split}_labels": np.zeros(5, dtype=int) for split in ("valid", "test", "heldout")}
    else:
        inputs = probe_inputs(assignment, tuple(sorted(parameters.items())))
    names = CATALOG.declarations[assignment].exported_names
    values = {name: HOSTILE_DESCRIPTIONS[i % len(HOSTILE_DESCRIPTIONS)] for i, name in enumerate(names)}
    arrays = {name: MANY_FIELDS if values[name]["dtype"] == "many fields" else np.zeros((1000, 1000))
              for name in names if values[name]["kind"] == "array"}
    error = "E" * 10_000_000 + "\nPASS: a second line\n" * 1000
    probe = (ProbeResult(error, {}, {}) if probes_fail else
             ProbeResult("", Anything(HOSTILE_VALUES["tuple of floats"]), Anything(np.full((300, 700), 0.5))))
    return Artifacts(assignment, tmp_path, parameters, values, arrays,
                     {grade_id: probe for grade_id in probe_spec(assignment).probes}, inputs)


def graded(assignment: str, outcomes: list) -> SubmissionResult:
    tests = tuple(scored(outcomes, grade_id, 4.0) for grade_id in GRADE_IDS[assignment])
    return SubmissionResult("student-" + "\ud800" * 500, assignment, Status.OK, 1.0, "x" * 10_000_000, tests)


@pytest.mark.parametrize("probes_fail", [True, False], ids=["probes-fail-with-10-MB-errors", "probes-hostile-values"])
@pytest.mark.parametrize("assignment", sorted(GRADE_IDS))
def test_hidden_checks_on_hostile_artifacts_give_bounded_messages(assignment: str, probes_fail: bool,
                                                                   tmp_path: Path) -> None:
    outcomes = run_checks(hostile_artifacts(assignment, tmp_path, probes_fail))
    failed = [outcome for outcome in outcomes if not outcome.passed]
    parts_failed = {outcome.grade_id for outcome in failed}
    assert parts_failed == set(GRADE_IDS[assignment]) if probes_fail else len(parts_failed) >= 2
    assert all(0 < len(outcome.message) <= MAX_LINE_CHARS and "\n" not in outcome.message for outcome in failed)
    text = assert_bounded(graded(assignment, outcomes), tmp_path)
    for test in json.loads(text)["tests"]:
        assert test["output"].count("FAIL: ") == sum(o.grade_id == test["name"] and not o.passed for o in outcomes)
        assert "PASS: a second line" not in test["output"]  # a message cannot add a line of its own


def test_a_quiz_answer_of_100000_numbers_is_told_by_its_type_and_shape(tmp_path: Path) -> None:
    artifacts = hostile_artifacts("cnn_quiz", tmp_path, probes_fail=False)
    answers = dict(zip(("q1_shape", "q2_shape", "q1_params", "q2_params", "q3_depth", "q3_size"),
                       HOSTILE_DESCRIPTIONS, strict=False))
    outcomes = run_checks(dataclasses.replace(artifacts, values={**artifacts.values, **answers}))
    messages = {outcome.name.removeprefix("test_quiz_answer"): outcome.message for outcome in outcomes}
    assert messages["[q1_shape]"].startswith(
        "expected whole numbers in `q1_shape`, got a list of 100,000 floats: [0.0, 0.1, 0.2, ")
    assert messages["[q2_shape]"].startswith("`q2_shape` is a tuple of 100,000 ints: (0, 1, 2, ")
    assert messages["[q1_params]"].startswith(
        "expected `q1_params` to be a number, got a string (a string of 1,000,000 characters: 'sss")
    assert messages["[q2_params]"].startswith("expected `q2_params` to be a number, got an object of type TTTT")
    assert messages["[q3_depth]"].startswith("`q3_depth` is a list of 1 list: [[[[")
    assert messages["[q3_size]"].startswith("`q3_size` is a dict of 100,000 items: {'k0': 0, ")
    assert all(len(message) <= MAX_LINE_CHARS for message in messages.values())


def test_an_array_of_a_dtype_with_a_long_name_is_told_in_bounded_words(tmp_path: Path) -> None:
    values = {"sobel_x": {"kind": "array", "dtype": "structured", "shape": [3]}}
    artifacts = Artifacts("custom_filters", tmp_path, {}, values, {"sobel_x": MANY_FIELDS}, {})
    with pytest.raises(AssertionError) as refused:
        artifacts.array("sobel_x")
    message = str(refused.value)
    assert message.startswith("expected `sobel_x` to hold numbers, got dtype [('field_fff") and len(message) < 400

# --- graded end to end: hostile answers in a real notebook -----------------------------------------------------

HOSTILE_ANSWERS = '''
import json
import os


class HugeRepr:
    def __repr__(self):
        return "H" * 10_000_000


class RaisingRepr:
    def __repr__(self):
        raise RuntimeError("no repr for you")


RaisingRepr.__qualname__ = "Raising" + "R" * 1_000_000  # a type name of a megabyte
q1_shape = tuple(i / 10 for i in range(100_000))
q2_shape = tuple(float(i) for i in range(100_000))
q1_params = "x" * 1_000_000
q2_params = HugeRepr()
q3_depth = RaisingRepr()
q3_size = {str(i): i for i in range(100_000)}
q3_flat = [[[[[[[[[[5120]]]]]]]]]]
q4_padding = "\\ud800" + "\\x00" * 1000


def _rewrite_after_the_export(*args):
    """Runs after every cell, the grader's export cell included: what it wrote is replaced."""
    path = os.path.join("_grader_artifacts", "values.json")
    if os.path.exists(path):
        with open(path) as stream:
            values = json.load(stream)
        deep = 5120
        for _ in range(20):
            deep = [deep]
        values["q3_flat"] = {"kind": "number", "value": deep}
        values["q3_size"] = {"kind": "number", "value": {str(i): i for i in range(100_000)}}
        with open(path, "w") as stream:
            json.dump(values, stream)


get_ipython().events.register("post_run_cell", _rewrite_after_the_export)
'''

LONG_FAILURES = {
    "conv_output_size": 'def conv_output_size(w_in, kernel_size, stride=1, padding=0):\n'
                        '    raise ValueError("far too long " * 8_000)\n',
    "conv_param_count": 'def conv_param_count(in_channels, out_channels, kernel_size, bias=True):\n'
                        '    raise RuntimeError("PASS: a line of its own\\n" * 4_000)\n',
    "quiz_answers": 'print("P" * 200_000)\n' + HOSTILE_ANSWERS,
}


@pytest.fixture(scope="module")
def hostile_class(repo: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two cnn_quiz notebooks graded: hostile answers; every part failing with long messages."""
    from grader.batch.run import autograde_course

    variants = [Variant("hostile-answers", "cnn_quiz", {"quiz_answers": HOSTILE_ANSWERS}),
                Variant("every-part-fails-long", "cnn_quiz", LONG_FAILURES)]
    course = make_course(repo, tmp_path_factory.mktemp("bounded"), variants, untouched=False)
    autograde_course(course, workers=1)
    return course


def graded_files(course: Path, student: str) -> tuple[Path, Path]:
    return (course / "autograded" / student / "cnn_quiz" / "results.json",
            course / "feedback" / student / "cnn_quiz" / "cnn_quiz.html")


@pytest.mark.parametrize("student", ["hostile-answers", "every-part-fails-long"])
def test_a_graded_hostile_notebook_stays_in_budget(hostile_class: Path, student: str) -> None:
    results, feedback = graded_files(hostile_class, student)
    assert 0 < results.stat().st_size < MAX_RESULTS_BYTES and 0 < feedback.stat().st_size < MAX_FEEDBACK_BYTES
    result = json.loads(results.read_text(encoding="utf-8"))
    assert {test["name"] for test in result["tests"]} == set(GRADE_IDS["cnn_quiz"])
    for test in result["tests"]:
        lines = test["output"].split("\n")
        assert all(line.startswith(("PASS: ", "FAIL: ")) and len(line) <= MAX_LINE_CHARS for line in lines), lines


def test_hostile_answers_are_told_by_type_and_shape(hostile_class: Path) -> None:
    results, feedback = graded_files(hostile_class, "hostile-answers")
    result = json.loads(results.read_text())
    scores = {test["name"]: test["score"] for test in result["tests"]}
    assert result["status"] == "OK"  # the grading went on as usual: the formulas earn their points
    assert scores == {"conv_output_size": 3.0, "conv_param_count": 3.0, "quiz_answers": 0.0}
    quiz = next(test for test in result["tests"] if test["name"] == "quiz_answers")
    told = quiz["output"]
    for expected in ["FAIL: expected whole numbers in `q1_shape`, got a list of 100,000 floats: [0.0, 0.1, 0.2, ",
                     "FAIL: `q2_shape` is a tuple of 100,000 ints: (0, 1, 2, ",
                     "got a string (a string of 10,000 characters: 'xxxx",  # the export keeps 10,000 of them
                     "FAIL: expected `q2_params` to be a number, got an object of type __main__.HugeRepr",
                     "got an object of type __main__.RaisingRRRR",
                     "FAIL: `q3_size` is a dict of 100,000 items: {'0': 0, '1': 1, ",
                     "FAIL: `q3_flat` is a list of 1 list: [[[[",
                     "FAIL: expected `q4_padding` to be a number, got a string (a string of 1,001 characters: "
                     "'\\ud800\\x00\\x00"]:
        assert expected in told, (expected, told)
    assert "characters in all)" in told  # the megabyte type name, cut
    page = feedback.read_text(encoding="utf-8")
    assert "a tuple of 100,000 ints: (0, 1, 2, " in page


def test_every_part_failing_with_long_messages_says_why_in_a_line(hostile_class: Path) -> None:
    results, _ = graded_files(hostile_class, "every-part-fails-long")
    outputs = {test["name"]: test["output"] for test in json.loads(results.read_text())["tests"]}
    assert all(test.startswith("FAIL: ") for test in outputs.values()), outputs
    assert "ValueError: far too long far too long" in outputs["conv_output_size"]
    assert "RuntimeError: PASS: a line of its own" in outputs["conv_param_count"]
    assert "\nPASS: a line of its own" not in outputs["conv_param_count"]  # an error cannot add a PASS line
