"""A Python environment reached through a symbolic link (``/opt/venv -> /opt/venvs/v3``) still works in the sandbox.

The sandbox binds the folders the links lead to; ``sys.prefix``, ``sys.path`` and
``sys.executable`` keep the linked spelling, so the links themselves are recreated in the new root.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from grader.sandbox.jail_root import links_on_the_way
from grader.sandbox.policy import isolation_mode

JAILED_IMPORT = '''
import json, os, sys
from pathlib import Path
from grader.sandbox.jail import enter_jail
from grader.sandbox.policy import Sandbox, jail_spec, make_scratch

scratch, course = Path(sys.argv[1]), Path(sys.argv[2])
make_scratch(scratch)
spec = jail_spec(Sandbox(), scratch, course, 1)
child = os.fork()
if child == 0:
    code = 1
    try:
        enter_jail(spec)
        import email.mime.application  # not imported yet: found through the linked sys.path
        import tqdm.contrib            # site-packages, through the linked prefix
        seen = {"prefix": sys.prefix, "executable": os.path.exists(sys.executable),
                "site": os.path.isdir(os.path.join(sys.prefix, "lib"))}
        with open(os.path.join(spec.workdir, "report.json"), "w") as handle:
            json.dump(seen, handle)
        code = 0
    finally:
        os._exit(code)
_, status = os.waitpid(child, 0)
sys.exit(os.waitstatus_to_exitcode(status))
'''


def test_links_on_the_way_names_each_link_a_path_goes_through(tmp_path: Path) -> None:
    real = tmp_path / "venvs" / "v3"
    (real / "bin").mkdir(parents=True)
    (tmp_path / "venv").symlink_to(real)
    (tmp_path / "relative").symlink_to("venvs/v3")
    assert links_on_the_way(str(tmp_path / "venv" / "bin")) == [(str(tmp_path / "venv"), str(real))]
    assert links_on_the_way(str(tmp_path / "relative" / "bin")) == [(str(tmp_path / "relative"), "venvs/v3")]
    assert links_on_the_way(str(real / "bin")) == []


@pytest.mark.skipif(isolation_mode() != "namespaces", reason="needs the namespaced sandbox")
def test_a_venv_reached_through_a_link_imports_in_the_sandbox(tmp_path: Path, repo: Path) -> None:
    linked = tmp_path / "linked-venv"
    linked.symlink_to(Path(sys.prefix).resolve())
    course = tmp_path / "course"
    course.mkdir()
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(repo)}
    done = subprocess.run([str(linked / "bin" / "python"), "-c", JAILED_IMPORT, str(tmp_path / "scratch"),
                           str(course)], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads((tmp_path / "scratch" / "work" / "report.json").read_text())
    assert report == {"prefix": str(linked), "executable": True, "site": True}
    assert os.path.realpath(linked) != str(linked)
