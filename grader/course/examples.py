"""Example submissions: a variant of an assignment's reference solution, and the score it must keep.

Each assignment folder's ``examples.py`` lists its ``EXAMPLES`` (correct variants and typical
mistakes); the test suite grades them, ``scripts/make_examples.py`` writes the bundled class
from them and the benchmark grades them. A variant is built from the release notebook, every
solution cell filled by grade id: with the variant's cell where it names one, else with the
instructor's solution.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from grader.course.layout import nbgrader_metadata, release_notebook, source_notebook

MARKER = re.compile(r"^\s*### (BEGIN|END) SOLUTION\s*$\n?", re.MULTILINE)


@dataclass(frozen=True)
class Variant:
    """One submission: the assignment, replaced solution cells, and the score fraction per grade id.

    ``expected`` maps a grade id to the fraction of its points the variant keeps; a grade id not
    named keeps all of them.
    """

    name: str
    assignment: str
    cells: dict[str, str] = field(default_factory=dict)
    expected: dict[str, float] = field(default_factory=dict)


def reference_cells(course: Path, assignment: str) -> dict[str, str]:
    """The instructor's solution cells by grade id, without nbgrader's markers."""
    source = nbformat.read(source_notebook(course, assignment), as_version=4)
    return {nbgrader_metadata(cell)["grade_id"]: MARKER.sub("", cell.source)
            for cell in source.cells if nbgrader_metadata(cell).get("solution")}


def build(course: Path, variant: Variant) -> nbformat.NotebookNode:
    """The release notebook with every solution cell filled in as ``variant`` says."""
    notebook = nbformat.read(release_notebook(course, variant.assignment), as_version=4)
    solutions = {**reference_cells(course, variant.assignment), **variant.cells}
    for cell in notebook.cells:
        grade_id = nbgrader_metadata(cell).get("grade_id")
        if nbgrader_metadata(cell).get("solution") and grade_id in solutions:
            cell.source = solutions[grade_id]
    return notebook


def course_examples(course: Path) -> tuple[Variant, ...]:
    """Every example of the course's assignments (those whose folder has an ``examples.py``), by assignment."""
    from grader.assignments import module
    from grader.course.catalog import course_catalog

    examples: list[Variant] = []
    for assignment, declaration in course_catalog(course).declarations.items():
        if (declaration.folder / "examples.py").is_file():
            examples += module(assignment, "examples").EXAMPLES
    return tuple(examples)
