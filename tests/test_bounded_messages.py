"""Bounded messages (grader.pipeline.shown): a long value is told by its type, its shape and its first items, and
results.json stays under 1 MB and a feedback page under 2 MB, whatever the texts and pictures hold.

The hidden checks on hostile artifacts and graded hostile notebooks: tests/test_bounded_messages_graded.py.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from grader.feedback.page import feedback_html
from grader.pipeline.shown import (
    MAX_FEEDBACK_BYTES,
    MAX_LINE_CHARS,
    MAX_LINES,
    MAX_RESULTS_BYTES,
    MAX_VALUE_CHARS,
    capped,
    capped_output,
    shown,
)
from grader.results.records import GradeResult, Status, SubmissionResult, read_results_json, write_results_json


class HugeRepr:
    def __repr__(self) -> str:
        return "H" * 10_000_000


class RaisingRepr:
    def __repr__(self) -> str:
        raise RuntimeError("no repr for you")


def nested(depth: int) -> list:
    value: list = []
    for _ in range(depth):
        value = [value]
    return value


def looping() -> list:
    value: list = [1]
    value.append(value)
    return value


HOSTILE_VALUES = {
    "tuple of floats": tuple(i / 10 for i in range(100_000)),
    "huge string": "x" * 1_000_000,
    "nested list": nested(900),
    "giant dict": {f"key{i}": i for i in range(100_000)},
    "huge repr": HugeRepr(),
    "raising repr": RaisingRepr(),
    "self-containing list": looping(),
    "huge int": 7 ** 100_000,
    "big array": np.zeros((1000, 1000)),
    "list of huge strings": ["y" * 100_000] * 3,
    "lone surrogate": "a\ud800b\x00c",
}


# --- grader.pipeline.shown, unit by unit ---------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "expected"), [
    ((16, 100, 100), "(16, 100, 100)"), ([16, 100, 100], "[16, 100, 100]"), ((1,), "(1,)"), ("short", "'short'"),
    ({"a": [1, 2]}, "{'a': [1, 2]}"), (set(), "set()"), (np.float64(0.5), "0.5"), (np.int64(80), "80"),
    (np.eye(2), "[[1.0, 0.0], [0.0, 1.0]]"), (None, "None"), (4640.0, "4640.0"),
])
def test_a_short_value_is_shown_whole(value: object, expected: str) -> None:
    assert shown(value) == expected


@pytest.mark.parametrize("limit", [60, 120, MAX_VALUE_CHARS, 1_000])
@pytest.mark.parametrize("name", sorted(HOSTILE_VALUES))
def test_a_hostile_value_is_shown_within_the_limit(name: str, limit: int) -> None:
    text = shown(HOSTILE_VALUES[name], limit)
    assert 0 < len(text) <= limit, (name, len(text))


@pytest.mark.parametrize(("name", "start"), [
    ("tuple of floats", "a tuple of 100,000 floats: (0.0, 0.1, 0.2, "),
    ("huge string", "a string of 1,000,000 characters: 'xxxx"),
    ("nested list", "a list of 1 list: [[[["),
    ("giant dict", "a dict of 100,000 items: {'key0': 0, 'key1': 1, "),
    ("huge repr", "an object of type HugeRepr: HHHH"),
    ("raising repr", "an object of type RaisingRepr (its repr raised RuntimeError)"),
    ("big array", "an array of shape (1000, 1000) and dtype float64: [[0.0, 0.0, "),
    ("huge int", "an int of about 84,510 digits"),
    ("list of huge strings", "a list of 3 strings: ['yyyy"),
])
def test_a_long_value_is_told_by_its_type_shape_and_first_items(name: str, start: str) -> None:
    text = shown(HOSTILE_VALUES[name])
    assert text.startswith(start), text
    assert "..." in text or text.endswith(("RuntimeError)", "digits")), text  # what is left out is marked


def test_capped_cuts_a_text_and_says_how_long_it_was() -> None:
    text = capped("a" * 5_000, 100)
    assert len(text) == 100 and text.endswith("... (5,000 characters in all)")
    assert capped("fine") == "fine"


def test_capped_makes_any_text_printable_and_encodable() -> None:
    text = capped("a\ud800b\x00c\x1b[31md\r\n\te")
    assert text == "a\ufffdb\ufffdc\ufffd[31md\ufffd\n\te"
    text.encode("utf-8")  # a lone surrogate would raise here (and crash the write of results.json)


def test_capped_shows_what_is_not_a_text() -> None:
    assert capped(HOSTILE_VALUES["giant dict"], 80).startswith("a dict of 100,000 items")
    assert len(capped(HOSTILE_VALUES["nested list"], 80)) <= 80
    assert len(capped(HOSTILE_VALUES["giant dict"], 30)) == 30


def test_capped_output_keeps_lines_and_length_bounded() -> None:
    flood = "FAIL: " + "z" * 50_000 + "\n" + "PASS: fine\n" * 1_000_000
    output = capped_output(flood, 20_000)
    lines = output.split("\n")
    assert len(output) <= 20_000 and len(lines) <= MAX_LINES
    assert all(len(line) <= MAX_LINE_CHARS for line in lines)
    total = flood.count("\n") + 1
    assert lines[0].startswith("FAIL: zzz") and lines[-1] == f"... ({total - (MAX_LINES - 1):,} more lines)"
    assert capped_output(output, 20_000) == output  # capping again changes nothing: the page shows what the json says
    assert capped_output("FAIL: a\nPASS: b\n") == "FAIL: a\nPASS: b\n"


def assert_bounded(result: SubmissionResult, tmp_path: Path) -> str:
    """results.json under 1 MB, written and read back; the feedback page under 2 MB. Its text."""
    path = tmp_path / "results.json"
    write_results_json(path, result)
    assert path.stat().st_size < MAX_RESULTS_BYTES
    again = read_results_json(path, result.student, result.assignment)
    assert [test.grade_id for test in again.tests] == [test.grade_id for test in result.tests]
    assert len(feedback_html(again).encode()) < MAX_FEEDBACK_BYTES
    assert len(feedback_html(result).encode()) < MAX_FEEDBACK_BYTES
    return path.read_text(encoding="utf-8")


# --- results.json and the feedback page -----------------------------------------------------------------------


def flooded_result(text: str, parts: int = 4) -> SubmissionResult:
    """Every part's output 100 lines longer than a line may be, then ``text``; the summary ``text``."""
    output = f"FAIL: {text[:2_000]}\n" * 100 + text
    tests = tuple(GradeResult(f"part_{i}", 0.0, 1.0, output) for i in range(parts))
    return SubmissionResult("student", "cnn_quiz", Status.OK, 1.0, text, tests)


@pytest.mark.parametrize("char", ["\"", "&", "\U0001F600", "\u2028", "\x00", "\ud800", "\n"],
                         ids=["quote", "ampersand", "astral", "line-separator", "nul", "surrogate", "newline"])
def test_the_worst_characters_keep_results_and_feedback_in_budget(char: str, tmp_path: Path) -> None:
    """Each character costs the most bytes somewhere: 6 as HTML (&quot;), 4 in UTF-8, 26 as a line of its own."""
    assert_bounded(flooded_result(char * 3_000_000, parts=12), tmp_path)


def png_of(size: int) -> bytes:
    return b"\x89PNG\r\n\x1a\n" + bytes(size - 8)


def test_a_picture_that_would_push_the_page_over_is_left_out_with_a_note() -> None:
    figures = [("small", png_of(100_000)), ("huge", png_of(3_000_000)), ("after", png_of(200_000)),
               ("filler", png_of(900_000)), ("one too many", png_of(200_000))]
    page = feedback_html(flooded_result("\"" * 3_000_000), figures)
    assert len(page.encode()) < MAX_FEEDBACK_BYTES
    kept = [caption for caption, _ in figures if f'<figcaption>{caption}</figcaption>' in page]
    assert kept == ["small", "after", "filler"]
    assert "huge: this picture (3.0 MB) was left out" in page
    assert "one too many: this picture (0.2 MB) was left out" in page


def test_todays_pictures_all_fit() -> None:
    """The largest pictures drawn today (custom_filters: four of 80-140 KB; noise maps up to 0.8 MB) fit."""
    figures = [(f"picture {i}", png_of(800_000 if i == 0 else 140_000)) for i in range(5)]
    page = feedback_html(flooded_result("a" * 100_000), figures)
    assert page.count("<figure>") == 5 and "left out" not in page
