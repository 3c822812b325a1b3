"""The grader's own settings, read from the course's ``nbgrader_config.py`` (traitlets)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from traitlets import Dict, Float, List, Unicode
from traitlets.config import Config, Configurable, PyFileConfigLoader

from grader.course import defaults


def course_config(course_root: Path) -> Config:
    """The course's ``nbgrader_config.py`` as a traitlets ``Config`` (empty when absent)."""
    config_file = course_root / "nbgrader_config.py"
    config = Config()
    if config_file.exists():
        config.merge(PyFileConfigLoader(config_file.name, path=str(course_root)).load_config())
    config.CourseDirectory.root = str(course_root)
    return config


class GraderSettings(Configurable):
    """Grading parameters, thresholds and time limits; set them as ``c.GraderSettings.<name>``."""

    parameters = Dict(
        {}, help="papermill parameters injected per assignment when grading, over its folder's PARAMETERS",
    ).tag(config=True)
    assignment_folders = List(
        Unicode(), help="folders (relative to the course) holding the course's assignment folders; "
        "empty: the grader's own (grader/assignments)",
    ).tag(config=True)
    accuracy_thresholds = Dict(
        {"mnist5k": 0.85, "mnist": 0.97}, help="held-out accuracy that mlp_test requires, per data set"
    ).tag(config=True)
    cell_timeout = Float(defaults.CELL_TIMEOUT_SECONDS, help="seconds one notebook cell may run").tag(config=True)
    interrupt_grace = Float(defaults.INTERRUPT_GRACE_SECONDS, help="seconds a cell interrupted at its time limit "
                            "has to stop before its kernel is killed").tag(config=True)
    notebook_timeout = Float(defaults.NOTEBOOK_TIMEOUT_SECONDS, help="seconds a whole notebook may run").tag(
        config=True)
    probe_timeout = Float(defaults.PROBE_TIMEOUT_SECONDS, help="seconds the probe process may run").tag(config=True)
    scheduler_connect_timeout = Float(defaults.SCHEDULER_CONNECT_SECONDS, help="seconds `grader autograde "
                                      "--scheduler` tries to reach the Dask scheduler").tag(config=True)
    max_notebook_bytes = Float(defaults.MAX_NOTEBOOK_BYTES, help="largest submitted notebook accepted, in bytes").tag(
        config=True)

    def parameters_for(self, assignment: str) -> dict[str, Any]:
        """The papermill parameters of ``assignment`` (empty for assignments without any)."""
        return dict(self.parameters.get(assignment, {}))

    def check_parameters(self, assignment: str) -> dict[str, Any]:
        """What the hidden checks see: the parameters plus the accuracy threshold of the data set."""
        parameters = self.parameters_for(assignment)
        threshold = self.accuracy_thresholds.get(parameters.get("dataset", "mnist5k"), 0.85)
        return {**parameters, "threshold": threshold}


def load_settings(course_root: Path) -> GraderSettings:
    """``GraderSettings`` as configured in ``course_root/nbgrader_config.py``."""
    return GraderSettings(config=course_config(Path(course_root)))


def with_declared_parameters(settings: GraderSettings, declared: Mapping[str, Mapping[str, Any]]) -> GraderSettings:
    """``settings`` with each assignment's declared ``PARAMETERS`` under the configured ones."""
    configured = settings.parameters
    settings.parameters = {assignment: {**parameters, **configured.get(assignment, {})}
                           for assignment, parameters in {**dict.fromkeys(configured, {}), **declared}.items()}
    return settings
