"""Parse what a sandbox wrote back (JSON, NPZ) under limits checked before anything is allocated.

Student code can rewrite any file in its scratch folder, also after the grader's export cell
ran, and it runs inside the probe process that writes the probe results. So nothing read
back is trusted: JSON is refused when nested too deep or holding too many containers before
``json`` recurses into it, and each array of an NPZ is refused when its header claims a
shape, dtype or size the limits do not allow, before its memory is allocated. A budget of
uncompressed bytes holds per file and per submission, so a zip bomb costs nothing.
Every refusal is an :class:`~grader.pipeline.artifacts.ArtifactError` with the reason.
"""

from __future__ import annotations

import io
import json
import math
import os
import re
import zipfile
from pathlib import Path
from typing import IO

import numpy as np
from numpy.lib import format as npy_format

from grader.pipeline.artifacts import ArtifactError, ProbeResult, open_plain_folder, read_regular_file

# The limits, in one place. Legitimate artifacts stay far below them: values.json holds a
# few sequences of at most 100,000 numbers, nested 3 deep; the largest arrays are the probe
# inputs of full MNIST (valid/test/held-out images, about 100 MB, 9.4 M elements the largest).
MAX_JSON_BYTES = 32 * 1024 * 1024  # one JSON file
MAX_JSON_DEPTH = 32  # nesting of [ and {; json recurses per level and gives up near 1,000
MAX_JSON_CONTAINERS = 100_000  # lists and objects in one file (each costs 56+ bytes parsed)
MAX_NPZ_MEMBERS = 256  # arrays in one .npz
MAX_NPZ_DIRECTORY_BYTES = 256 * 1024  # a zip's central directory, which zipfile parses whole
MAX_ARRAY_NDIM = 32
MAX_ARRAY_ELEMENTS = 32 * 1024 * 1024  # one array (256 MiB of float64)
MAX_NPZ_BYTES = 256 * 1024 * 1024  # uncompressed bytes of one .npz
MAX_SUBMISSION_BYTES = 512 * 1024 * 1024  # uncompressed bytes read back for one submission, all files
MAX_PROBE_FILES = 64  # result files in a probe folder (one per grade id)
NUMERIC_KINDS = "biufc"  # bool, signed, unsigned, float, complex: the only dtypes read back
READ_CHUNK = 1024 * 1024  # bytes copied at a time into an allocated array

_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)


class ReadBudget:
    """Uncompressed bytes that may still be read back: one per submission, shared by its files."""

    def __init__(self, limit: int = MAX_SUBMISSION_BYTES) -> None:
        self.limit = limit
        self.spent = 0

    def spend(self, nbytes: int, what: str) -> None:
        """Count ``nbytes`` of ``what``; past the limit is an :class:`ArtifactError`."""
        if self.spent + nbytes > self.limit:
            raise ArtifactError(f"{what} takes what the grader reads back past its limit of {self.limit:,} bytes")
        self.spent += nbytes


def check_json_shape(content: bytes, name: str) -> None:
    """Refuse JSON nested deeper than ``MAX_JSON_DEPTH`` or with too many containers, before parsing it.

    Brackets are counted outside strings (strings removed first); for text that is not valid
    JSON the count can only be too high, never too low, up to where ``json`` would stop.
    """
    structure = np.frombuffer(_JSON_STRING.sub(b'""', content), dtype=np.uint8)
    opening = (structure == ord("[")) | (structure == ord("{"))
    closing = (structure == ord("]")) | (structure == ord("}"))
    containers = max(int(np.count_nonzero(opening)), int(np.count_nonzero(closing)))
    if containers > MAX_JSON_CONTAINERS:
        raise ArtifactError(f"{name} holds {containers:,} lists or objects; the grader reads at most "
                            f"{MAX_JSON_CONTAINERS:,}")
    brackets = np.flatnonzero(opening | closing)
    if brackets.size:
        depth = int(np.cumsum(opening[brackets].astype(np.int32) * 2 - 1).max())
        if depth > MAX_JSON_DEPTH:
            raise ArtifactError(f"{name} is nested {depth:,} levels deep; the grader reads at most {MAX_JSON_DEPTH}")


def _zip_directory_size(content: bytes, name: str) -> int:
    """The size of the central directory zipfile would parse (its own reading of the end record)."""
    # zipfile parses the whole central directory when it opens an archive, building an object
    # per entry; its private end-record reader is what it uses itself, so the two agree.
    end = zipfile._EndRecData(io.BytesIO(content))
    if end is None:
        raise ArtifactError(f"{name} is not an NPZ archive (no zip directory)")
    return int(end[zipfile._ECD_SIZE])


def checked_members(archive: zipfile.ZipFile, name: str, budget: ReadBudget) -> list[zipfile.ZipInfo]:
    """The archive's members once their number, names and declared sizes are within the limits."""
    members = archive.infolist()
    if len(members) > MAX_NPZ_MEMBERS:
        raise ArtifactError(f"{name} holds {len(members):,} arrays; the grader reads at most {MAX_NPZ_MEMBERS}")
    this_file = ReadBudget(MAX_NPZ_BYTES)
    for member in members:
        if not member.filename.endswith(".npy") or member.is_dir():
            raise ArtifactError(f"{name} holds {member.filename[:100]!r}, which is not a NumPy array")
        # zipfile stops a member at its declared size (and checks its CRC): the size bounds the work
        this_file.spend(member.file_size, f"{name}'s {member.filename[:100]!r}")
        budget.spend(member.file_size, f"{name}'s {member.filename[:100]!r}")
    return members


def _array_header(stream: IO[bytes], what: str) -> tuple[tuple[int, ...], bool, np.dtype]:
    version = npy_format.read_magic(stream)
    if version == (1, 0):
        return npy_format.read_array_header_1_0(stream)
    if version == (2, 0):
        return npy_format.read_array_header_2_0(stream)
    raise ArtifactError(f"{what} has an .npy format version {version} the grader does not read")


def checked_header(stream: IO[bytes], what: str, member_bytes: int) -> tuple[tuple[int, ...], bool, np.dtype]:
    """(shape, Fortran order, dtype) of the .npy in ``stream`` once they are within the limits.

    ``member_bytes`` is the member's size: what follows the header must be exactly the array's size.
    """
    shape, fortran_order, dtype = _array_header(stream, what)
    stored_bytes = member_bytes - stream.tell()
    if dtype.kind not in NUMERIC_KINDS or dtype.hasobject or dtype.fields is not None:
        raise ArtifactError(f"{what} has dtype {str(dtype)[:100]}; the grader reads back only arrays of numbers")
    if len(shape) > MAX_ARRAY_NDIM or any(size < 0 for size in shape):
        raise ArtifactError(f"{what} claims shape {str(shape)[:200]}; the grader reads at most "
                            f"{MAX_ARRAY_NDIM} dimensions of sizes >= 0")
    elements = math.prod(shape)
    if elements > MAX_ARRAY_ELEMENTS:
        raise ArtifactError(f"{what} claims {elements:,} elements (shape {str(shape)[:200]}); the grader reads "
                            f"at most {MAX_ARRAY_ELEMENTS:,}")
    if elements * dtype.itemsize != stored_bytes:
        raise ArtifactError(f"{what} claims {elements * dtype.itemsize:,} bytes of data but holds {stored_bytes:,}")
    return shape, fortran_order, dtype


def read_member(archive: zipfile.ZipFile, member: zipfile.ZipInfo, name: str) -> np.ndarray:
    """One array of the archive, its header checked before its memory is allocated."""
    what = f"{name}'s {member.filename[:100]!r}"
    with archive.open(member) as stream:
        shape, fortran_order, dtype = checked_header(stream, what, member.file_size)
        array = np.empty(math.prod(shape), dtype=dtype)
        flat, filled = array.view(np.uint8), 0
        while filled < flat.size:
            chunk = stream.read(min(READ_CHUNK, flat.size - filled))
            if not chunk:
                raise ArtifactError(f"{what} ends before its data does")
            flat[filled:filled + len(chunk)] = np.frombuffer(chunk, dtype=np.uint8)
            filled += len(chunk)
    return array.reshape(shape, order="F" if fortran_order else "C")


def parse_npz(content: bytes, name: str, budget: ReadBudget) -> dict[str, np.ndarray]:
    """The arrays of NPZ bytes (never unpickling), each checked against the limits before it is read."""
    try:
        if _zip_directory_size(content, name) > MAX_NPZ_DIRECTORY_BYTES:
            raise ArtifactError(f"{name}'s zip directory is larger than {MAX_NPZ_DIRECTORY_BYTES:,} bytes")
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            members = checked_members(archive, name, budget)
            return {member.filename[:-len(".npy")]: read_member(archive, member, name) for member in members}
    except ArtifactError:
        raise
    except Exception as error:  # noqa: BLE001 - zipfile, zlib, lzma and numpy refuse bad bytes in many ways
        raise ArtifactError(f"{name} is not an NPZ archive the grader can read "
                            f"({type(error).__name__}: {str(error)[:200]})") from None


def load_npz(path: Path, budget: ReadBudget | None = None) -> dict[str, np.ndarray]:
    """Arrays of an ``.npz`` file, never unpickling, within this module's limits; an absent file is empty.

    ``budget`` counts the uncompressed bytes read back for one submission (a fresh one when None).
    """
    content = read_regular_file(path)
    if content is None:
        return {}
    return parse_npz(content, path.name, budget or ReadBudget())


def load_json(path: Path, budget: ReadBudget | None = None) -> dict:
    """A JSON object from ``path``, within this module's limits; an absent file is empty."""
    content = read_regular_file(path, MAX_JSON_BYTES)
    if content is None:
        return {}
    (budget or ReadBudget()).spend(len(content), path.name)
    check_json_shape(content, path.name)
    try:
        data = json.loads(content.decode("utf-8"))
    except (ValueError, RecursionError) as error:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise ArtifactError(f"{path.name} is not JSON the grader can read "
                            f"({type(error).__name__}: {str(error)[:200]})") from None
    if not isinstance(data, dict):
        raise ArtifactError(f"{path.name} does not hold a JSON object")
    return data


def probe_files(probe_dir: Path) -> list[Path]:
    """The ``*.json`` result files of a probe folder (never through a link), at most ``MAX_PROBE_FILES``."""
    folder = open_plain_folder(probe_dir)
    if folder is None:
        return []
    found = []
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.name.endswith(".json"):
                    found.append(probe_dir / entry.name)
                if len(found) > MAX_PROBE_FILES:
                    raise ArtifactError(f"{probe_dir.name} holds more than {MAX_PROBE_FILES} probe results")
    finally:
        os.close(folder)
    return sorted(found)


def load_probes(probe_dir: Path, budget: ReadBudget | None = None) -> dict[str, ProbeResult]:
    """Probe results written by ``grader.probing.probe``, one pair of files per grade id, within the limits."""
    budget = budget or ReadBudget()
    probes = {}
    for described in probe_files(probe_dir):
        data = load_json(described, budget)
        values = data.get("values", {})
        probes[described.stem] = ProbeResult(
            error=str(data.get("error") or ""), values=values if isinstance(values, dict) else {},
            arrays=load_npz(described.with_suffix(".npz"), budget),
        )
    return probes


def read_back(exported: Path, probe_dir: Path) -> tuple[dict, dict[str, np.ndarray], dict[str, ProbeResult]]:
    """values.json, arrays.npz and the probe results, within one submission's budget (grader.pipeline.readback).

    Student code wrote them: whatever goes wrong reading them is an :class:`ArtifactError`
    (``ARTIFACT_INVALID``), never an exception that stops the grader.
    """
    budget = ReadBudget()
    try:
        return (load_json(exported / "values.json", budget), load_npz(exported / "arrays.npz", budget),
                load_probes(probe_dir, budget))
    except ArtifactError:
        raise
    except Exception as error:  # noqa: BLE001 - e.g. MemoryError or RecursionError on what student code wrote
        raise ArtifactError(f"the grader could not read back what the notebook wrote "
                            f"({type(error).__name__}: {str(error)[:200]})") from None
