"""Reading a submitted notebook defensively: every way it can be broken becomes a clear reason."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat

DEFAULT_MAX_BYTES = 20 * 1024 * 1024


class InvalidNotebook(ValueError):
    """A submission that cannot be graded as a notebook, and why (shown to the student)."""

    def __init__(self, reason: str, *, path: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.path = path


def _decode(raw: bytes, path: Path) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InvalidNotebook(f"the file is not UTF-8 text (byte {error.start} is not valid UTF-8); "
                              "save it again from Jupyter", path=str(path)) from error


def _parse(text: str, path: Path) -> dict:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise InvalidNotebook(f"the file is not valid JSON ({error.msg} at line {error.lineno}, column "
                              f"{error.colno}); was it cut short or edited by hand?", path=str(path)) from error
    if not isinstance(data, dict) or not ("cells" in data or "worksheets" in data):
        raise InvalidNotebook("the file is JSON but not a Jupyter notebook (no cells)", path=str(path))
    return data


def read_notebook(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> nbformat.NotebookNode:
    """The notebook at ``path`` as nbformat 4 (version 3 upgraded), validated against the schema."""
    size = path.stat().st_size
    if size > max_bytes:
        raise InvalidNotebook(f"the notebook is {size:,} bytes, more than the limit of {max_bytes:,}; "
                              "clear the outputs and hand it in again", path=str(path))
    data = _parse(_decode(path.read_bytes(), path), path)
    try:
        notebook = nbformat.reads(json.dumps(data), as_version=4)
        nbformat.validate(notebook)
    except (nbformat.ValidationError, nbformat.reader.NotJSONError, ValueError, KeyError, TypeError) as error:
        raise InvalidNotebook(f"the notebook does not follow the Jupyter format: {str(error)[:300]}",
                              path=str(path)) from error
    return notebook
