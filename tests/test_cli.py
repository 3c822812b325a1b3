"""The command line: subcommands, clear errors, and ``python -m grader``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from grader.cli import main


def test_unknown_assignment_exits_2_with_a_message(repo: Path, capsys) -> None:
    assert main(["release", "--course", str(repo), "--assignment", "week9"]) == 2
    assert "unknown assignment 'week9'" in capsys.readouterr().err


def test_course_without_source_folder_is_refused(tmp_path: Path, capsys) -> None:
    assert main(["release", "--course", str(tmp_path)]) == 2
    assert "has no source/ folder" in capsys.readouterr().err


def test_python_m_grader_lists_released_assignments(repo: Path, tmp_path: Path) -> None:
    course = tmp_path / "course"
    (course / "source").mkdir(parents=True)
    for folder in (repo / "source").iterdir():  # every assignment of the course has its notebook
        (course / "source" / folder.name).symlink_to(folder)
    done = subprocess.run(
        [sys.executable, "-m", "grader", "release", "--course", str(course), "--assignment", "cnn_quiz"],
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "release/cnn_quiz/cnn_quiz.ipynb" in done.stdout
    assert (course / "release" / "cnn_quiz" / "cnn_quiz.ipynb").exists()


def test_the_help_names_every_command(capsys) -> None:
    from grader.cli import build_parser

    with pytest.raises(SystemExit):
        main(["--help"])
    shown = capsys.readouterr().out
    commands = build_parser()._subparsers._group_actions[0].choices
    assert set(commands) == {"release", "reference", "autograde", "report", "kit", "gradescope", "check"}
    assert all(f"    {name}" in shown for name in commands), shown
