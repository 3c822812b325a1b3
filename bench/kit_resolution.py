"""What a student downloads for the kit: its requirements resolved for each platform and Python.

Resolves the kit's requirements.txt with pip's resolver for every target of
grader/release/resolve.py (nothing is installed), sums the sizes of the wheels pip picks
(a HEAD request per wheel, or the file's size for a local index) and writes
bench/results/kit.md. With ``--installed VENV`` it adds the size of a venv where the kit's
requirements were installed here. Usage:
``.venv/bin/python bench/kit_resolution.py [--installed /tmp/kit-venv] [--install-seconds S]``
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.measure import human_bytes  # noqa: E402
from grader.release.kit import kit_requirements  # noqa: E402
from grader.release.resolve import PYTHONS, TARGETS, ResolutionFailed, resolve, versions  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "kit.md"


def wheel_size(url: str) -> int:
    """The size in bytes of the wheel at ``url`` (file:// or http(s))."""
    if url.startswith("file://"):
        return Path(urllib.request.url2pathname(url[len("file://"):])).stat().st_size
    with urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=60) as response:
        return int(response.headers["Content-Length"])


def tree_size(folder: Path) -> int:
    """Bytes of the regular files under ``folder``."""
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file() and not path.is_symlink())


def row(requirements: Path, platform: str, python: str) -> str:
    """One table row: the versions and the download size pip's choice means, or why it failed."""
    started = time.monotonic()
    try:
        installs = resolve(requirements, platform, python)
    except ResolutionFailed as error:
        return f"| {platform} | {python} | fails: {str(error).splitlines()[-1][:120]} | | | |"
    found = versions(installs)
    size = sum(wheel_size(item["download_info"]["url"]) for item in installs)
    return (f"| {platform} | {python} | torch {found['torch']}, torchvision {found['torchvision']}, "
            f"numpy {found['numpy']} | {len(installs)} | {human_bytes(size)} | {time.monotonic() - started:.0f} |")


def main() -> int:
    """Resolve every target, print and write the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--installed", type=Path, help="a venv where the kit's requirements were installed here")
    parser.add_argument("--install-seconds", type=float, help="how long that install took")
    arguments = parser.parse_args()
    lines = ["# The student kit's requirements, resolved per platform", "",
             f"Measured by `bench/kit_resolution.py` on {time.strftime('%Y-%m-%d')}: pip's resolver, nothing "
             "installed; download = the wheels pip picks, summed.", "",
             "Requirements: " + ", ".join(f"`{line}`" for line in kit_requirements()), "",
             "| platform | Python | picks | packages | download | resolve s |", "|---|---|---|---|---|---|"]
    with tempfile.TemporaryDirectory() as scratch:
        requirements = Path(scratch) / "requirements.txt"
        requirements.write_text("\n".join(kit_requirements()) + "\n", encoding="utf-8")
        for platform in TARGETS:
            for python in PYTHONS:
                lines.append(row(requirements, platform, python))
                print(lines[-1], flush=True)
    if arguments.installed:
        took = f" in {arguments.install_seconds:.0f} s" if arguments.install_seconds else ""
        lines += ["", f"Installed here (Linux x86_64, Python 3.11, `pip install -r requirements.txt`{took}): "
                  f"the venv holds {human_bytes(tree_size(arguments.installed))}."]
    RESULTS.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return 0 if "fails:" not in "\n".join(lines) else 1


if __name__ == "__main__":
    sys.exit(main())
