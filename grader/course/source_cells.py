"""The gradebook's record of a source notebook, read once per grading run, for nbgrader's preprocessors.

nbgrader's ``OverwriteCells`` opens the gradebook and queries it cell by cell for every
submission, and ``CheckCellMetadata`` re-checks its JSON schema for every cell; together
they cost more than the rest of sanitizing (bench/results/fixed_costs.md);
``OverwriteKernelspec`` opens the gradebook once more for
the notebook's kernelspec. The source cells cannot change during a run, so :class:`NotebookCells`
holds them in memory (read through nbgrader's own API) and the subclasses here run nbgrader's
code against that copy.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import jsonschema
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.nbgraderformat import MetadataValidator, ValidationError
from nbgrader.nbgraderformat.common import BaseMetadataValidator, SchemaTooNewError, SchemaTooOldError
from nbgrader.preprocessors import CheckCellMetadata, OverwriteCells, OverwriteKernelspec
from nbgrader.preprocessors.base import NbGraderPreprocessor
from traitlets import Any as AnyTrait


@dataclass(frozen=True)
class SourceCell:
    """A cell of the instructor's notebook as the gradebook stores it."""

    name: str
    cell_type: str
    locked: bool
    checksum: str | None
    source: str


@dataclass(frozen=True)
class ScoredCell:
    """A grade, solution or task cell: its name and its points (0 for solution cells)."""

    name: str
    max_score: float = 0.0


@dataclass(frozen=True)
class NotebookCells:
    """One notebook's cells in the gradebook, answering the lookups ``OverwriteCells`` makes."""

    notebook: str
    assignment: str
    source_cells: tuple[SourceCell, ...]
    grade_cells: tuple[ScoredCell, ...]
    solution_cells: tuple[ScoredCell, ...]
    task_cells: tuple[ScoredCell, ...]
    kernelspec: str | None = None  # the source notebook's kernelspec, as JSON

    def find_notebook(self, notebook: str, assignment: str) -> NotebookCells:
        """This record, when it is the one asked for."""
        if (notebook, assignment) != (self.notebook, self.assignment):
            raise MissingEntry()
        return self

    def find_source_cell(self, name: str, notebook: str, assignment: str) -> SourceCell:
        """The source cell ``name`` (nbgrader's ``MissingEntry`` when there is none)."""
        found = [cell for cell in self.find_notebook(notebook, assignment).source_cells if cell.name == name]
        if not found:
            raise MissingEntry()
        return found[0]

    def find_graded_cell(self, name: str, notebook: str, assignment: str) -> ScoredCell:
        """The grade or task cell ``name`` with its points."""
        cells = self.find_notebook(notebook, assignment)
        found = [cell for cell in (*cells.grade_cells, *cells.task_cells) if cell.name == name]
        if not found:
            raise MissingEntry()
        return found[0]


def read_notebook_cells(db_url: str, assignment: str, notebook: str | None = None) -> NotebookCells:
    """What the gradebook holds for ``notebook`` of ``assignment`` (nbgrader's ``generate_assignment`` wrote it)."""
    notebook = notebook or assignment
    with Gradebook(db_url) as gradebook:
        record = gradebook.find_notebook(notebook, assignment)
        return NotebookCells(
            notebook=notebook, assignment=assignment,
            source_cells=tuple(SourceCell(cell.name, cell.cell_type, bool(cell.locked), cell.checksum, cell.source)
                               for cell in record.source_cells),
            grade_cells=tuple(ScoredCell(cell.name, float(cell.max_score)) for cell in record.grade_cells),
            solution_cells=tuple(ScoredCell(cell.name) for cell in record.solution_cells),
            task_cells=tuple(ScoredCell(cell.name, float(cell.max_score)) for cell in record.task_cells),
            kernelspec=record.kernelspec)


class RecordedOverwriteCells(OverwriteCells):
    """nbgrader's ``OverwriteCells``, reading the source cells from a :class:`NotebookCells` in memory."""

    cells = AnyTrait(None, allow_none=True, help="the NotebookCells of the notebook being sanitized")

    def preprocess(self, nb: Any, resources: dict) -> tuple[Any, dict]:
        """Overwrite locked and graded cells from the record; add missing ones back."""
        self.notebook_id = resources["nbgrader"]["notebook"]
        self.assignment_id = resources["nbgrader"]["assignment"]
        self.db_url = resources["nbgrader"]["db_url"]
        self.gradebook = self.cells
        nb, resources = NbGraderPreprocessor.preprocess(self, nb, resources)  # the per-cell pass
        if self.add_missing_cells:
            nb, resources = self.add_missing_grade_cells(nb, resources)
            nb, resources = self.add_missing_task_cells(nb, resources)
        return nb, resources


class RecordedOverwriteKernelspec(OverwriteKernelspec):
    """nbgrader's ``OverwriteKernelspec``, taking the source notebook's kernelspec from a :class:`NotebookCells`."""

    cells = AnyTrait(None, allow_none=True, help="the NotebookCells of the notebook being sanitized")

    def preprocess(self, nb: Any, resources: dict) -> tuple[Any, dict]:
        """Give the submission the source notebook's kernelspec, when the gradebook has one."""
        record = self.cells.find_notebook(resources["nbgrader"]["notebook"], resources["nbgrader"]["assignment"])
        if record.kernelspec:
            nb.metadata["kernelspec"] = json.loads(record.kernelspec)
        return nb, resources


_VALIDATORS: dict[int, Any] = {}  # schema version -> its jsonschema validator, the schema checked


_VALID_METADATA: set[tuple[int, str]] = set()  # (schema version, nbgrader metadata as JSON) found valid
MAX_REMEMBERED = 4096


def _metadata_key(version: int, metadata: Any) -> tuple[int, str] | None:
    try:
        return version, json.dumps(metadata, sort_keys=True)
    except (TypeError, ValueError):
        return None


class _CheckedSchemaOnce(BaseMetadataValidator):
    """``validate_cell`` with the JSON schema itself checked once, not once per cell.

    Metadata already found valid (most cells: those restored from the source) is not
    validated again.
    """

    def validate_cell(self, cell: Any) -> None:
        if "nbgrader" not in cell.metadata:
            return
        version = cell.metadata["nbgrader"].get("schema_version", 0)
        if version < self.schema_version:
            raise SchemaTooOldError(f"Outdated schema version: {version} (expected {self.schema_version})",
                                    version, self.schema_version)
        if version > self.schema_version:
            raise SchemaTooNewError(f"Schema version is too new: {version} (expected {self.schema_version})",
                                    version, self.schema_version)
        key = _metadata_key(self.schema_version, cell.metadata["nbgrader"])
        if key in _VALID_METADATA:
            return
        validator = _VALIDATORS.get(self.schema_version)
        if validator is None:
            validator_class = jsonschema.validators.validator_for(self.schema)
            validator_class.check_schema(self.schema)
            validator = _VALIDATORS.setdefault(self.schema_version, validator_class(self.schema))
        error = jsonschema.exceptions.best_match(validator.iter_errors(cell.metadata["nbgrader"]))
        if error is not None:
            raise error
        if key is not None and len(_VALID_METADATA) < MAX_REMEMBERED:
            _VALID_METADATA.add(key)


class _FastMetadataValidator(MetadataValidator, _CheckedSchemaOnce):
    """nbgrader's current metadata validator; its base check goes through :class:`_CheckedSchemaOnce`."""


class QuickCheckCellMetadata(CheckCellMetadata):
    """nbgrader's ``CheckCellMetadata`` with the schema checked once per process."""

    def preprocess(self, nb: Any, resources: dict) -> tuple[Any, dict]:
        """Raise ``ValidationError`` when the nbgrader metadata is malformed, as nbgrader does."""
        try:
            _FastMetadataValidator().validate_nb(nb)
        except ValidationError:
            self.log.error("Notebook failed to validate; the nbgrader metadata may be corrupted.")
            raise ValidationError("Notebook failed to validate; the nbgrader metadata may be corrupted.") from None
        return nb, resources
