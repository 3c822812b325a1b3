"""What ``scripts/setup.sh`` downloads and installs, measured on a fresh clone.

Clones this repository into a temporary folder, runs its ``scripts/setup.sh`` with pip's cache
off (every wheel is fetched, as on a fresh machine) and pip's ``--report`` on, then writes
bench/results/setup.md: the time, the wheels fetched and their size (the largest named), and
the size of the ``.venv`` it made. Usage: ``.venv/bin/python bench/setup_cost.py [--keep]``
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.kit_resolution import tree_size, wheel_size  # noqa: E402
from bench.measure import human_bytes  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "setup.md"


def measure(clone: Path) -> tuple[float, list[tuple[str, int]]]:
    """Run ``clone``'s setup.sh; its seconds and the (wheel, bytes) pip fetched for the project."""
    report = clone.parent / "report.json"
    environment = dict(os.environ, PIP_NO_CACHE_DIR="1", PIP_REPORT=str(report))  # the last pip run's report
    started = time.monotonic()
    subprocess.run([str(clone / "scripts" / "setup.sh")], check=True, env=environment, stdout=subprocess.DEVNULL)
    seconds = time.monotonic() - started
    installs = json.loads(report.read_text(encoding="utf-8"))["install"]
    urls = [item["download_info"]["url"] for item in installs if item["download_info"]["url"].endswith(".whl")]
    return seconds, sorted(((url.rsplit("/", 1)[-1], wheel_size(url)) for url in urls), key=lambda pair: -pair[1])


def main() -> int:
    """Clone, set up, measure, write bench/results/setup.md."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the clone (its path is printed)")
    arguments = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="setup-cost-"))
    clone = scratch / "clone"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    seconds, wheels = measure(clone)
    total = sum(size for _, size in wheels)
    nvidia = sum(size for name, size in wheels if name.startswith(("nvidia_", "cuda_", "triton")))
    largest = ", ".join(f"{name.split('-')[0]} {human_bytes(size)}" for name, size in wheels[:4])
    text = (f"# scripts/setup.sh on a fresh clone\n\nMeasured by `bench/setup_cost.py` on {time.strftime('%Y-%m-%d')}"
            f" (Linux x86_64, Python 3.11, 2 shared cores, pip's cache off).\n\n"
            f"- Time: {seconds / 60:.1f} min (venv, pip upgrade, `pip install -c requirements.lock -e '.[dev]'`).\n"
            f"- Fetched: {len(wheels)} wheels, {human_bytes(total)}; NVIDIA's CUDA libraries and triton "
            f"{human_bytes(nvidia)} of it. Largest: {largest}.\n"
            f"- Installed: `.venv` holds {human_bytes(tree_size(clone / '.venv'))}.\n")
    RESULTS.write_text(text, encoding="utf-8")
    print(text)
    if arguments.keep:
        print(f"kept: {clone}")
    else:
        shutil.rmtree(scratch)
    return 0


if __name__ == "__main__":
    sys.exit(main())
