"""Issue 15, item 1: what a sandbox writes back is parsed under limits (grader.pipeline.readback), on crafted files.

Each refusal is an ArtifactError with the reason, raised before anything is allocated for the
claimed size: never a RecursionError, MemoryError or a zip bomb's gigabytes.
"""

from __future__ import annotations

import io
import json
import os
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import pytest

import grader.pipeline.readback as readback
from grader.pipeline.artifacts import ArtifactError
from grader.pipeline.readback import ReadBudget, load_json, load_npz, load_probes, read_back


def npy(shape: tuple[int, ...], descr: str = "<f8", data: bytes | None = None) -> bytes:
    """An .npy member: a header claiming ``shape`` of ``descr``, then ``data`` (by default, zeros to match)."""
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": descr, "fortran_order": False, "shape": shape})
    if data is None:
        data = bytes(int(np.prod(shape)) * np.dtype(descr).itemsize)
    return header.getvalue() + data


def npz(path: Path, members: dict[str, bytes], compression: int = zipfile.ZIP_STORED) -> Path:
    with zipfile.ZipFile(path, "w", compression) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return path


def refused(load, *args) -> str:
    with pytest.raises(ArtifactError) as refusal:
        load(*args)
    return str(refusal.value)


def test_arrays_come_back_as_saved(tmp_path: Path) -> None:
    arrays = {"floats": np.arange(12.0).reshape(3, 4), "fortran": np.asfortranarray(np.ones((2, 3), np.float32)),
              "big_endian": np.arange(6, dtype=">i4"), "scalar": np.array(7), "empty": np.zeros((0, 5)),
              "flags": np.array([True, False]), "complex": np.array([1 + 2j])}
    np.savez(tmp_path / "a.npz", **arrays)
    np.savez_compressed(tmp_path / "c.npz", **arrays)
    for name in ("a.npz", "c.npz"):
        loaded = load_npz(tmp_path / name)
        assert sorted(loaded) == sorted(arrays)
        for key, array in arrays.items():
            assert loaded[key].dtype == array.dtype and loaded[key].shape == array.shape
            np.testing.assert_array_equal(loaded[key], array)
    assert load_npz(tmp_path / "absent.npz") == {}


def test_a_header_claiming_80_terabytes_is_refused_before_allocating(tmp_path: Path) -> None:
    reason = refused(load_npz, npz(tmp_path / "p.npz", {"sizes.npy": npy((10**13,), data=bytes(64))}))
    assert "claims 10,000,000,000,000 elements" in reason


def test_a_header_claiming_more_than_its_data_is_refused(tmp_path: Path) -> None:
    reason = refused(load_npz, npz(tmp_path / "p.npz", {"x.npy": npy((1000,), data=bytes(64))}))
    assert "claims 8,000 bytes of data but holds 64" in reason


@pytest.mark.parametrize("descr", ["|O", "<U3", [("a", "<f8")], "|V8", "<M8[s]"])
def test_only_arrays_of_numbers_are_read(tmp_path: Path, descr) -> None:
    reason = refused(load_npz, npz(tmp_path / "p.npz", {"x.npy": npy((2,), descr)}))
    assert "only arrays of numbers" in reason


def test_shapes_beyond_the_limits_are_refused(tmp_path: Path) -> None:
    assert "dimensions" in refused(load_npz, npz(tmp_path / "d.npz", {"x.npy": npy((1,) * 33)}))
    with pytest.raises(ArtifactError):
        load_npz(npz(tmp_path / "n.npz", {"x.npy": npy((-1, 8), data=bytes(64))}))


def test_a_zip_bomb_is_refused_from_its_declared_size(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(readback, "MAX_NPZ_BYTES", 16 << 20)  # a 64 MiB bomb against a 16 MiB limit: same path, faster
    path = tmp_path / "bomb.npz"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive, archive.open("x.npy", "w") as member:
        member.write(npy((8 << 20,), data=b""))
        for _ in range(64):
            member.write(bytes(1 << 20))
    assert path.stat().st_size < 200_000
    tracemalloc.start()
    try:
        reason = refused(load_npz, path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "past its limit of 16,777,216 bytes" in reason
    assert peak < 4 << 20, f"nothing of the 64 MiB was decompressed (peak {peak:,} bytes)"


def test_one_budget_holds_across_a_submissions_files(tmp_path: Path) -> None:
    np.savez(tmp_path / "a.npz", x=np.zeros(1000))
    np.savez(tmp_path / "b.npz", x=np.zeros(1000))
    budget = ReadBudget(12_000)
    load_npz(tmp_path / "a.npz", budget)
    assert "past its limit of 12,000 bytes" in refused(load_npz, tmp_path / "b.npz", budget)


def test_too_many_members_or_too_large_a_directory_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    many = {f"x{i}.npy": npy((1,)) for i in range(readback.MAX_NPZ_MEMBERS + 1)}
    assert "arrays; the grader reads at most" in refused(load_npz, npz(tmp_path / "m.npz", many))
    monkeypatch.setattr(readback, "MAX_NPZ_DIRECTORY_BYTES", 1000)
    assert "zip directory is larger" in refused(load_npz, npz(tmp_path / "d.npz", dict(list(many.items())[:40])))


def test_what_is_not_an_npz_of_arrays_is_refused(tmp_path: Path) -> None:
    plain = tmp_path / "plain.npz"
    np.save(plain.with_suffix(".npy"), np.zeros(3))
    plain.with_suffix(".npy").rename(plain)
    assert "not an NPZ archive" in refused(load_npz, plain)
    (tmp_path / "noise.npz").write_bytes(os.urandom(5000))
    assert "not an NPZ archive" in refused(load_npz, tmp_path / "noise.npz")
    assert "not a NumPy array" in refused(load_npz, npz(tmp_path / "t.npz", {"notes.txt": b"hello"}))
    corrupted = bytearray(npz(tmp_path / "k.npz", {"x.npy": npy((64,))}, zipfile.ZIP_DEFLATED).read_bytes())
    corrupted[120] ^= 0xFF
    (tmp_path / "k.npz").write_bytes(bytes(corrupted))
    assert "not an NPZ archive the grader can read" in refused(load_npz, tmp_path / "k.npz")


def test_json_nested_100000_deep_is_refused_before_json_recurses(tmp_path: Path) -> None:
    (tmp_path / "values.json").write_text("[" * 100_000 + "]" * 100_000)
    assert "nested 100,000 levels deep" in refused(load_json, tmp_path / "values.json")
    (tmp_path / "open.json").write_text('{"a": ' + "{" * 5000)
    assert "nested 5,001 levels deep" in refused(load_json, tmp_path / "open.json")


def test_json_depth_counts_brackets_outside_strings_only(tmp_path: Path) -> None:
    deep_text = {"kind": "string", "value": "[{" * 4000 + '\\"[' * 100}
    (tmp_path / "strings.json").write_text(json.dumps({"x": deep_text}))
    assert load_json(tmp_path / "strings.json") == {"x": deep_text}
    nested: object = 1
    for _ in range(readback.MAX_JSON_DEPTH - 1):
        nested = [nested]
    (tmp_path / "limit.json").write_text(json.dumps({"x": nested}))
    assert load_json(tmp_path / "limit.json")["x"] == nested
    (tmp_path / "over.json").write_text(json.dumps({"x": [nested]}))
    assert f"nested {readback.MAX_JSON_DEPTH + 1} levels" in refused(load_json, tmp_path / "over.json")


def test_json_too_large_too_many_containers_or_malformed_is_refused(tmp_path: Path) -> None:
    with (tmp_path / "large.json").open("wb") as stream:
        stream.truncate(readback.MAX_JSON_BYTES + 1)
    assert "is larger than" in refused(load_json, tmp_path / "large.json")
    (tmp_path / "lists.json").write_text('{"x": [' + "[]," * 200_000 + "[]]}")
    assert "lists or objects" in refused(load_json, tmp_path / "lists.json")
    (tmp_path / "digits.json").write_text('{"x": ' + "9" * 100_000 + "}")
    assert "not JSON the grader can read" in refused(load_json, tmp_path / "digits.json")
    (tmp_path / "bytes.json").write_bytes(b'{"x": "\xff\xfe"}')
    assert "not JSON the grader can read" in refused(load_json, tmp_path / "bytes.json")
    (tmp_path / "list.json").write_text("[1, 2]")
    assert "does not hold a JSON object" in refused(load_json, tmp_path / "list.json")


def test_links_and_special_files_are_not_read(tmp_path: Path) -> None:
    secret = tmp_path / "grader" / "values.json"
    secret.parent.mkdir()
    secret.write_text('{"secret": 1}')
    (tmp_path / "linked-folder").symlink_to(secret.parent)
    assert "not a plain folder" in refused(load_json, tmp_path / "linked-folder" / "values.json")
    (tmp_path / "scratch").mkdir()
    (tmp_path / "scratch" / "values.json").symlink_to(secret)
    assert "not a plain file" in refused(load_json, tmp_path / "scratch" / "values.json")
    os.mkfifo(tmp_path / "scratch" / "arrays.npz")
    assert "not a plain file" in refused(load_npz, tmp_path / "scratch" / "arrays.npz")
    assert "not a plain folder" in refused(load_probes, tmp_path / "linked-folder")


def test_probe_results_are_read_within_the_limits(tmp_path: Path) -> None:
    probes = tmp_path / "probes"
    probes.mkdir()
    (probes / "a.json").write_text(json.dumps({"error": "", "values": ["not", "a", "dict"]}))
    np.savez(probes / "a.npz", x=np.zeros(1000))
    (probes / "b.json").write_text(json.dumps({"error": "", "values": {"n": 3}}))
    np.savez(probes / "b.npz", x=np.zeros(1000))
    loaded = load_probes(probes)
    assert loaded["a"].values == {} and loaded["b"].values == {"n": 3}
    assert loaded["b"].arrays["x"].shape == (1000,)
    assert "past its limit" in refused(load_probes, probes, ReadBudget(12_000))
    for index in range(readback.MAX_PROBE_FILES):
        (probes / f"extra{index}.json").write_text("{}")
    assert "probe results" in refused(load_probes, probes)


def test_anything_else_reading_back_raises_is_an_artifact_error(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    def overflow(*args, **kwargs):
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(readback, "load_json", overflow)
    with pytest.raises(ArtifactError, match="RecursionError"):
        read_back(tmp_path / "_grader_artifacts", tmp_path / "probes")
