"""Reading a process's Linux autogroup (its session's share of the CPUs) in tests."""

from __future__ import annotations

from pathlib import Path


def session_nice(pid: int | str = "self") -> int | None:
    """The niceness of the autogroup of ``pid``; None where it has none.

    The file is missing without autogroup scheduling, and empty for a process in the root
    autogroup: one that never left the session of PID 1, as under some CI runners.
    """
    try:
        return parse_autogroup(Path(f"/proc/{pid}/autogroup").read_text())
    except OSError:
        return None


def parse_autogroup(text: str) -> int | None:
    """The niceness in a /proc/PID/autogroup line ("/autogroup-42 nice 10"); None for an empty file."""
    words = text.split()
    return int(words[-1]) if len(words) == 3 and words[1] == "nice" else None
