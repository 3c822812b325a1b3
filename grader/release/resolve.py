"""Resolve a requirements file for a student's platform and Python with pip's resolver, installing nothing.

``pip install --dry-run --platform P --python-version V`` picks wheels for the target but evaluates
environment markers (``platform_system == "Linux"``) for the machine it runs on: on Linux it asks
a Windows or macOS torch for the Linux-only CUDA wheels and fails with ResolutionImpossible. So
pip runs here with the marker environment of the target (``TARGETS``), and its ``--report``
gives the versions a student would get. The machine's pip configuration (indexes, constraints)
applies unless ``constraints`` names another file.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

PYTHONS = ("3.11", "3.12", "3.13")
# the wheel tag a student's machine accepts (pip adds the older ones it implies) and its marker environment
TARGETS = {
    "manylinux_2_28_x86_64": {"os_name": "posix", "sys_platform": "linux", "platform_system": "Linux",
                              "platform_machine": "x86_64"},
    "macosx_14_0_arm64": {"os_name": "posix", "sys_platform": "darwin", "platform_system": "Darwin",
                          "platform_machine": "arm64"},
    "win_amd64": {"os_name": "nt", "sys_platform": "win32", "platform_system": "Windows",
                  "platform_machine": "AMD64"},
}
PIP_WITH_MARKERS = """
import json, sys
from pip._vendor.packaging import markers
from pip._internal.models import installation_report
target, base = json.loads(sys.argv[1]), markers.default_environment
markers.default_environment = installation_report.default_environment = lambda: {**base(), **target}
from pip._internal.cli.main import main
sys.exit(main(sys.argv[2:]))
"""


class ResolutionFailed(RuntimeError):
    """pip found no set of wheels for the target; the message ends with pip's own words."""


def marker_environment(platform: str, python: str) -> dict[str, str]:
    """The environment markers of CPython ``python`` on ``platform`` (a key of ``TARGETS``)."""
    return {**TARGETS[platform], "python_version": python, "python_full_version": f"{python}.0",
            "implementation_name": "cpython", "platform_python_implementation": "CPython",
            "implementation_version": f"{python}.0", "platform_release": "", "platform_version": ""}


def platform_tags(platform: str) -> list[str]:
    """``platform`` and the older tags it accepts that pip does not add itself (manylinux_2_Y down to 2014)."""
    match = re.fullmatch(r"manylinux_2_(\d+)_(\w+)", platform)
    if match is None:
        return [platform]
    glibc, arch = int(match[1]), match[2]
    return [f"manylinux_2_{minor}_{arch}" for minor in range(glibc, 17, -1)] + [f"manylinux2014_{arch}"]


def resolve(requirements: Path, platform: str, python: str, constraints: Path | None = None,
            timeout: float = 1800) -> list[dict]:
    """What pip would install for ``requirements`` on ``platform`` under CPython ``python``: its report's items."""
    environment = dict(os.environ, PIP_DISABLE_PIP_VERSION_CHECK="1")
    if constraints is not None:
        environment["PIP_CONSTRAINT"] = str(constraints)
    with tempfile.TemporaryDirectory(prefix="resolve-") as scratch:
        report = Path(scratch) / "report.json"
        command = [sys.executable, "-c", PIP_WITH_MARKERS, json.dumps(marker_environment(platform, python)),
                   "install", "--dry-run", "--quiet", "--ignore-installed", "--only-binary=:all:",
                   "--python-version", python, *(f"--platform={tag}" for tag in platform_tags(platform)),
                   "--target", str(Path(scratch) / "target"),
                   "--use-feature=fast-deps", "--report", str(report), "-r", str(requirements)]
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=environment)
        if done.returncode != 0 or not report.is_file():
            raise ResolutionFailed(f"{platform}, Python {python}: " + done.stderr.strip()[-1500:])
        return json.loads(report.read_text(encoding="utf-8"))["install"]


def versions(installs: list[dict]) -> dict[str, str]:
    """``resolve``'s items as versions by normalized name."""
    return {re.sub(r"[-_.]+", "-", item["metadata"]["name"]).lower(): item["metadata"]["version"] for item in installs}
