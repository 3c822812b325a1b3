"""Release hygiene: what of an instructor notebook must never reach a student notebook."""

from __future__ import annotations

import re
from dataclasses import dataclass

import nbformat

REGION = re.compile(r"### BEGIN (SOLUTION|HIDDEN TESTS)\n(.*?)### END \1", re.DOTALL)
MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION", "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")
SECRET_NAMES = ("heldout", "held_out")  # an assignment adds its own (its folder's SECRET_NAMES)
MIN_FRAGMENT = 16


@dataclass(frozen=True)
class Leak:
    """A student notebook cell that shows something only the instructor should see."""

    cell_index: int
    what: str


def _lines(text: str) -> set[str]:
    return {line.strip() for line in text.splitlines() if len(line.strip()) >= MIN_FRAGMENT}


def secret_fragments(source: nbformat.NotebookNode) -> set[str]:
    """Lines found only inside solution and hidden-test regions, long enough to identify them."""
    secret, public = set(), set()
    for cell in source.cells:
        for _, body in REGION.findall(cell.source):
            secret |= _lines(body)
        public |= _lines(REGION.sub("", cell.source))
    return secret - public


def find_leaks(release: nbformat.NotebookNode, source: nbformat.NotebookNode,
               secret_names: tuple[str, ...] = ()) -> list[Leak]:
    """Every place where ``release`` holds a marker, a secret name (:data:`SECRET_NAMES` and ``secret_names``)
    or a line of a hidden region."""
    fragments = secret_fragments(source)
    leaks = []
    for index, cell in enumerate(release.cells):
        text = cell.source
        leaks += [Leak(index, f"marker {marker!r}") for marker in MARKERS if marker in text]
        leaks += [Leak(index, f"secret name {name!r}") for name in (*SECRET_NAMES, *secret_names) if name in text]
        lines = {line.strip() for line in text.splitlines()}
        leaks += [Leak(index, f"hidden line {line!r}") for line in sorted(fragments & lines)]
    return leaks
