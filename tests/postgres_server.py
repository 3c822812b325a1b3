"""A throwaway PostgreSQL server for the tests: its own data folder, loopback only, trust auth.

The server binaries are Debian's (``/usr/lib/postgresql/<version>/bin``) or any on PATH. When
there are none, root installs them with ``scripts/install_postgres.sh`` (as ``.ci/run`` does);
anyone else gets a skip. As root, the server runs as the ``postgres`` system user, which
PostgreSQL requires.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
USER = "grader"
DATABASE = "gradebook"
SERVER_OPTIONS = "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"


def find_bin_dir() -> Path | None:
    """The folder holding ``initdb`` and ``pg_ctl`` (the newest Debian version first), or None."""
    debian = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"),
                    key=lambda path: int(path.parent.parent.name) if path.parent.parent.name.isdigit() else 0)
    if debian:
        return debian[-1].parent
    on_path = shutil.which("initdb")
    return Path(on_path).parent if on_path and shutil.which("pg_ctl") else None


def server_bin_dir() -> Path:
    """The server binaries, installed first when root lacks them; skips the test when they can't be had."""
    found = find_bin_dir()
    if found is None and os.geteuid() == 0 and shutil.which("apt-get"):
        install = subprocess.run([str(REPO / "scripts" / "install_postgres.sh")], capture_output=True, text=True)
        if install.returncode != 0:
            pytest.skip(f"could not install PostgreSQL with apt-get: {install.stderr.strip()[-500:]}")
        found = find_bin_dir()
    if found is None:
        pytest.skip("PostgreSQL's server (initdb, pg_ctl) is not installed, and installing it needs root: "
                    "run scripts/install_postgres.sh as root or apt-get install postgresql")
    return found


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def as_server_user(command: list[str]) -> list[str]:
    """``command`` run as the ``postgres`` system user when we are root (PostgreSQL refuses root)."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def run(command: list[str], what: str) -> None:
    """Run a server command; a failure raises with its output."""
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"{what} failed ({done.returncode}): {done.stdout[-2000:]}{done.stderr[-2000:]}")


@contextmanager
def postgres_server() -> Iterator[str]:
    """Start a server on 127.0.0.1, create a database, yield its SQLAlchemy URL; stop and delete at the end."""
    bin_dir = server_bin_dir()
    root = Path(tempfile.mkdtemp(prefix="grader-postgres-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    data, port = root / "data", free_port()
    started = False
    try:
        run(as_server_user([str(bin_dir / "initdb"), "-D", str(data), "-U", USER, "--auth=trust",
                            "--encoding=UTF8", "--locale=C", "--no-sync"]), "initdb")
        options = f"-h 127.0.0.1 -p {port} -k {root} {SERVER_OPTIONS}"
        run(as_server_user([str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(root / "server.log"),
                            "-o", options, "-w", "-t", "60", "start"]), "pg_ctl start")
        started = True
        run([str(bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", USER, DATABASE], "createdb")
        yield f"postgresql+psycopg2://{USER}@127.0.0.1:{port}/{DATABASE}"
    finally:
        if started:
            subprocess.run(as_server_user([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]),
                           capture_output=True, timeout=120)
        shutil.rmtree(root, ignore_errors=True)
