"""The zip's setup.sh picks a Python the grader supports, and installs only into its own virtual environment.

Gradescope's default image (Ubuntu 22.04) has Python 3.10, which the grader does not support.
setup.sh is run here against stand-ins: a folder of fake ``python3``, ``python3.11`` and
``apt-get`` commands that log how they were called, and nothing else on PATH (but the few tools
the script uses). What it installs and how long it takes for real: bench/gradescope_setup.py.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from grader.release.gradescope import CPU_WHEELS, SETUP_SH

FAKE_PYTHON = """#!/bin/bash
echo "$(basename "$0") $*" >> "$LOG"
if [ "$1" = -c ]; then exit {unsupported}; fi
if [ "$1 $2" = "-m venv" ]; then
    if [ -e "$STUBS/{venv_broken}" ]; then rm "$STUBS/{venv_broken}"; exit 1; fi
    mkdir -p "$3/bin" && printf '#!/bin/bash\\necho "venv-python $*" >> "$LOG"\\n' > "$3/bin/python"
    chmod +x "$3/bin/python"
fi
"""
FAKE_APT = """#!/bin/bash
echo "apt-get $*" >> "$LOG"
if [ "$1" = install ] && [[ " $* " == *" python3.11 "* ]]; then
    cp "$STUBS/.python3.11" "$STUBS/python3.11"
fi
"""
TOOLS = ("bash", "dirname", "basename", "mkdir", "rm", "cp", "chmod", "printf")


def fake_python(stubs: Path, name: str, supported: bool, venv_broken: bool = False) -> None:
    """A fake interpreter: it answers the version test and makes a venv whose python logs its calls."""
    broken = f".venv-broken-{name}"
    (stubs / name).write_text(FAKE_PYTHON.format(unsupported=int(not supported), venv_broken=broken))
    (stubs / name).chmod(0o755)
    if venv_broken:
        (stubs / broken).touch()


def run_setup(tmp_path: Path, pythons: dict[str, bool], venv_broken: bool = False) -> list[str]:
    """Run setup.sh with ``pythons`` (name: supported) on PATH; the commands it ran, in order."""
    stubs, source, log = tmp_path / "stubs", tmp_path / "source", tmp_path / "log"
    stubs.mkdir()
    source.mkdir()
    for tool in TOOLS:
        (stubs / tool).symlink_to(shutil.which(tool))
    for name, supported in pythons.items():
        fake_python(stubs, name, supported, venv_broken)
    fake_python(stubs, ".python3.11", True)  # what apt-get would install
    (stubs / "apt-get").write_text(FAKE_APT)
    (stubs / "apt-get").chmod(0o755)
    (source / "setup.sh").write_text(SETUP_SH.format(cpu_wheels=CPU_WHEELS, torch_pins="torch==9.9 torchvision==8.8"))
    env = {"PATH": str(stubs), "LOG": str(log), "STUBS": str(stubs)}
    run = subprocess.run([shutil.which("bash"), str(source / "setup.sh")], env=env, capture_output=True, text=True,
                         timeout=60)
    assert run.returncode == 0, run.stderr
    return log.read_text().splitlines()


INSTALLS = [f"venv-python -m pip install --index-url {CPU_WHEELS} torch==9.9 torchvision==8.8",
            "venv-python -m pip install -r requirements.txt", "venv-python -m pip install --no-deps ."]


@pytest.mark.skipif(os.name != "posix", reason="bash scripts")
def test_ubuntu_22_04_s_python_3_10_is_passed_over_for_python_3_11_from_apt(tmp_path: Path) -> None:
    calls = run_setup(tmp_path, {"python3": False})
    assert "apt-get install -y python3.11 python3.11-venv" in calls
    assert calls[-4:] == ["python3.11 -m venv .venv", *INSTALLS]


@pytest.mark.skipif(os.name != "posix", reason="bash scripts")
def test_a_supported_python3_is_used_as_it_is(tmp_path: Path) -> None:
    calls = run_setup(tmp_path, {"python3": True})
    assert not [call for call in calls if call.startswith("apt-get")]
    assert calls[-4:] == ["python3 -m venv .venv", *INSTALLS]


@pytest.mark.skipif(os.name != "posix", reason="bash scripts")
def test_the_newest_supported_python_wins_and_a_missing_venv_module_is_installed(tmp_path: Path) -> None:
    calls = run_setup(tmp_path, {"python3": True, "python3.12": True, "python3.13": False}, venv_broken=True)
    assert calls[2:] == ["python3.12 -m venv .venv", "apt-get update", "apt-get install -y python3.12-venv",
                         "python3.12 -m venv .venv", *INSTALLS]
    assert not [call for call in calls if call.startswith("python3 ")]
