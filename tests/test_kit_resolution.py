"""The student kit's requirements.txt resolves, with pip's resolver, for the Pythons and platforms students use.

Slow tier: pip fetches each platform's torch wheel to read its dependencies (lazily where the
index serves byte ranges), up to a few minutes per pair here; the nine pairs resolve side by side,
once per session. Skipped, saying why, when no package registry answers.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from grader.release.kit import KIT_PACKAGES, declared_dependencies, kit_requirements
from grader.release.resolve import PYTHONS, TARGETS, marker_environment, platform_tags, resolve, versions

RANGE = re.compile(r"([A-Za-z0-9._-]+)>=([0-9][^,]*),<([0-9][^,;\s]*)")


def registry_unreachable() -> str | None:
    """Why pip cannot reach a registry here (its words), or None when it can."""
    done = subprocess.run([sys.executable, "-m", "pip", "index", "versions", "torch"], capture_output=True,
                          text=True, timeout=120)
    return None if done.returncode == 0 and "Available versions" in done.stdout else done.stderr.strip()[-300:]


def test_the_kit_asks_for_ranges_not_pins() -> None:
    requirements = kit_requirements()
    assert [RANGE.fullmatch(line)[1] for line in requirements if RANGE.fullmatch(line)] == list(KIT_PACKAGES)
    declared = {spec.split(">=")[0]: spec for spec in declared_dependencies()}
    assert "torch>=2.13.0,<2.15" in requirements and declared["torch"] == "torch>=2.13.0,<2.15"


def test_targets_carry_their_own_markers_and_tags() -> None:
    assert marker_environment("win_amd64", "3.13")["sys_platform"] == "win32"
    assert marker_environment("macosx_14_0_arm64", "3.12")["platform_system"] == "Darwin"
    assert marker_environment("win_amd64", "3.13")["python_version"] == "3.13"
    tags = platform_tags("manylinux_2_28_x86_64")
    assert tags[0] == "manylinux_2_28_x86_64" and "manylinux_2_18_x86_64" in tags and tags[-1] == "manylinux2014_x86_64"
    assert platform_tags("win_amd64") == ["win_amd64"]


@pytest.fixture(scope="module")
def kit_requirements_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    reason = registry_unreachable()
    if reason is not None:
        pytest.skip(f"no package registry answers pip here: {reason}")
    path = tmp_path_factory.mktemp("kit") / "requirements.txt"
    path.write_text("\n".join(kit_requirements()) + "\n")
    return path


@pytest.fixture(scope="module")
def resolutions(kit_requirements_file: Path) -> dict[tuple[str, str], list[dict] | Exception]:
    """Every (platform, Python) pair resolved at once: pip waits on the network, not on the cores."""
    pairs = [(platform, python) for platform in TARGETS for python in PYTHONS]
    with ThreadPoolExecutor(max_workers=len(pairs)) as pool:
        futures = {pair: pool.submit(resolve, kit_requirements_file, *pair) for pair in pairs}
    return {pair: future.exception() or future.result() for pair, future in futures.items()}


@pytest.mark.slow
@pytest.mark.parametrize("python", PYTHONS)
@pytest.mark.parametrize("platform", list(TARGETS))
def test_the_kit_resolves_for_a_student(resolutions: dict, platform: str, python: str) -> None:
    installs = resolutions[(platform, python)]
    if isinstance(installs, Exception):
        raise installs
    found = versions(installs)
    for line in kit_requirements():
        name, low, high = RANGE.fullmatch(line).groups()
        key = re.sub(r"[-_.]+", "-", name).lower()
        assert key in found, f"{name} is not in what pip picks for {platform}, Python {python}"
        assert _release(low) <= _release(found[key]) < _release(high), (name, found[key])
    system = {"manylinux_2_28_x86_64": "linux", "macosx_14_0_arm64": "macosx", "win_amd64": "win_amd64"}[platform]
    for item in installs:  # every wheel is pure Python or built for this platform
        wheel = item["download_info"]["url"].rsplit("/", 1)[-1]
        assert wheel.endswith(("-any.whl", ".whl")) and (wheel.endswith("-any.whl") or system in wheel), wheel
    if platform != "manylinux_2_28_x86_64":  # Linux-only CUDA wheels are never asked for elsewhere
        assert not [name for name in found if name.startswith(("nvidia-", "cuda-", "triton"))]
    print(json.dumps({"platform": platform, "python": python, "torch": found["torch"], "numpy": found["numpy"]}))


def _release(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.match(r"[0-9]+(?:\.[0-9]+)*", version)[0].split("."))

