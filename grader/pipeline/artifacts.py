"""The grader's view of what a submission produced: plain data, validated before use."""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from grader.pipeline.shown import MAX_NAME_CHARS, MAX_VALUE_CHARS, capped, shown

MAX_ARTIFACT_BYTES = 200 * 1024 * 1024  # one file read back; the parsing limits are in grader/pipeline/readback.py


class ArtifactError(AssertionError):
    """An artifact that is missing or not what the contract asks for (a failed check)."""


@dataclass(frozen=True)
class ProbeResult:
    """What a probe of one grade id returned from the sandboxed process, or why it failed."""

    error: str
    values: Mapping[str, Any]
    arrays: Mapping[str, np.ndarray]


@dataclass(frozen=True)
class Artifacts:
    """Everything the hidden checks of one submission may look at."""

    assignment: str
    workdir: Path
    parameters: Mapping[str, Any]
    values: Mapping[str, Mapping[str, Any]]
    arrays: Mapping[str, np.ndarray]
    probes: Mapping[str, ProbeResult]
    inputs: Mapping[str, np.ndarray] = field(default_factory=dict)

    def _described(self, name: str) -> Mapping[str, Any]:
        described = self.values.get(name, {"kind": "missing"})
        if not isinstance(described, Mapping) or not isinstance(described.get("kind"), str):
            raise ArtifactError(f"expected `{name}` to be exported by the grader, got something else")
        if described["kind"] == "missing":
            raise ArtifactError(f"expected `{name}` to be defined, but it is not after running the notebook")
        return described

    def array(self, name: str, ndim: int | None = None) -> np.ndarray:
        """The array or tensor ``name`` as a float64 NumPy array, finite, of ``ndim`` dimensions."""
        described = self._described(name)
        if described["kind"] == "sequence":
            array = np.asarray(described["value"], dtype=np.float64)
        elif described["kind"] == "array" and name in self.arrays:
            array = self.arrays[name]
        else:
            raise ArtifactError(f"expected `{name}` to be a NumPy array, got {self._kind(described)}")
        if array.dtype.kind not in "biuf":
            dtype = capped(str(array.dtype), MAX_VALUE_CHARS)
            raise ArtifactError(f"expected `{name}` to hold numbers, got dtype {dtype}")
        if ndim is not None and array.ndim != ndim:
            raise ArtifactError(f"expected `{name}` to be {ndim}-D, got shape {shown(tuple(array.shape))}")
        array = array.astype(np.float64)
        if not np.isfinite(array).all():
            raise ArtifactError(f"expected finite numbers in `{name}`, got NaN or infinite values")
        return array

    def raw_array(self, name: str) -> np.ndarray:
        """The array ``name`` exactly as exported (dtype kept)."""
        described = self._described(name)
        if described["kind"] != "array" or name not in self.arrays:
            raise ArtifactError(f"expected `{name}` to be a NumPy array, got {self._kind(described)}")
        return self.arrays[name]

    def number(self, name: str) -> float:
        """The number ``name`` (a Python or NumPy number, or a 0-d array)."""
        described = self._described(name)
        if described["kind"] == "number" and not isinstance(described["value"], bool):
            return described["value"]
        if described["kind"] == "array" and name in self.arrays and self.arrays[name].size == 1:
            return self.arrays[name].reshape(()).item()
        raise ArtifactError(f"expected `{name}` to be a number, got {self._kind(described)}")

    def integers(self, name: str) -> tuple[int, ...]:
        """The sequence of ints ``name`` (tuple, list, ``torch.Size`` or 1-D integer array)."""
        described = self._described(name)
        if described["kind"] == "sequence":
            items = described["value"]
        elif described["kind"] == "array" and name in self.arrays and self.arrays[name].ndim == 1:
            items = self.arrays[name].tolist()
        else:
            raise ArtifactError(f"expected `{name}` to be a sequence of ints, got {self._kind(described)}")
        if not all(isinstance(v, (int, float)) and float(v).is_integer() for v in items):
            raise ArtifactError(f"expected whole numbers in `{name}`, got {shown(items)}")
        return tuple(int(v) for v in items)

    def probe(self, grade_id: str) -> ProbeResult:
        """The probe result of ``grade_id``; a failed probe is a failed check with its reason."""
        result = self.probes.get(grade_id)
        if result is None:
            raise ArtifactError("expected your code to run in the grader's sandbox, but it did not finish")
        if result.error:
            raise ArtifactError(capped(result.error))
        return result

    @staticmethod
    def _kind(described: Mapping[str, Any]) -> str:
        kind = capped(described["kind"], MAX_NAME_CHARS)
        if kind == "object":
            return f"an object of type {capped(described.get('type', '?'), MAX_NAME_CHARS)}"
        return f"a {kind} ({shown(described.get('value', described.get('shape', '')))})"


def open_plain_folder(path: Path) -> int | None:
    """A descriptor of the folder ``path`` (never through a link); None when it does not exist."""
    try:
        return os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except FileNotFoundError:
        return None
    except OSError as error:
        raise ArtifactError(f"{path.name} is not a plain folder the grader can read ({error.strerror})") from None


def read_regular_file(path: Path, max_bytes: int = MAX_ARTIFACT_BYTES) -> bytes | None:
    """The bytes of ``path`` if it is a regular file (never through a link); None when absent.

    Student code may leave a link in its scratch folder pointing at a grader's file, or put a
    link in place of the folder the file is in: the grader reads only plain files in plain
    folders that student code wrote itself, and no more than ``max_bytes`` of them.
    """
    folder = open_plain_folder(path.parent)
    if folder is None:
        return None
    try:
        handle = os.open(path.name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=folder)
    except FileNotFoundError:
        return None
    except OSError as error:
        raise ArtifactError(f"{path.name} is not a plain file the grader can read ({error.strerror})") from None
    finally:
        os.close(folder)
    with os.fdopen(handle, "rb") as stream:
        info = os.fstat(stream.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise ArtifactError(f"{path.name} is not a plain file")
        if info.st_size > max_bytes:
            raise ArtifactError(f"{path.name} is larger than {max_bytes:,} bytes")
        content = stream.read(info.st_size + 1)  # read(n) allocates n: what fstat says, and one byte to see growth
        if len(content) > info.st_size:
            raise ArtifactError(f"{path.name} grew while the grader read it")
        return content
