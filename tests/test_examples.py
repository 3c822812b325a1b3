"""The CI recipes under examples/ are valid workflows and call commands that exist."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def workflow(path: str) -> dict:
    return yaml.safe_load((EXAMPLES / path).read_text())


def run_lines(flow: dict) -> str:
    return "\n".join(step.get("run", "") for job in flow["jobs"].values() for step in job["steps"])


def test_the_student_workflow_checks_every_notebook_and_keeps_the_results() -> None:
    flow = workflow("student-repo/.github/workflows/self-check.yml")
    assert "push" in flow[True] or "push" in flow.get("on", {})  # YAML 1.1 reads `on:` as True
    commands = run_lines(flow)
    assert "pip install -r requirements.txt" in commands
    assert 'python -m grader check "$notebook" --results "results/$name.json"' in commands
    uploads = [step for job in flow["jobs"].values() for step in job["steps"]
               if str(step.get("uses", "")).startswith("actions/upload-artifact")]
    assert uploads and uploads[0]["with"]["path"] == "results/" and uploads[0]["if"] == "always()"


def test_the_instructor_workflow_grades_reports_and_keeps_everything() -> None:
    commands = run_lines(workflow("instructor-repo/.github/workflows/grade.yml"))
    for command in ("scripts/setup.sh", ".venv/bin/grader autograde", ".venv/bin/grader report"):
        assert command in commands


def test_the_commands_the_workflows_use_exist() -> None:
    helps = [subprocess.run([sys.executable, "-m", "grader", *command, "--help"], capture_output=True, text=True)
             for command in (["check"], ["report"], ["kit"])]
    assert all(done.returncode == 0 for done in helps)
    assert "--results" in helps[0].stdout
