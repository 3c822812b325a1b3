"""Assignments, one folder each: discovered, never listed.

An assignment folder ``<assignment_id>/`` (a Python package) holds everything specific to one
assignment, and nothing outside it names the assignment:

- ``__init__.py``: its declaration: ``EXPORTED_NAMES`` (the names the export cell writes),
  ``PARAMETERS`` (papermill grading parameters; ``c.GraderSettings.parameters`` overrides them),
  ``KEPT_FILES`` (files of the scratch folder kept after grading), ``SECRET_NAMES`` (names a
  student notebook must never show), and optional hooks: ``prepare_scratch(folder) -> {variable:
  value}`` (data a sandbox needs, written into each scratch folder; the variables are set in the
  sandbox), ``probe_names() -> {name: value}`` (names the probe namespace starts with) and
  ``warm_up()`` (one-off costs, paid before the first submission);
- ``probe.py``: ``CELLS``, ``PROBES`` and ``make_inputs`` (see :class:`ProbeSpec`);
- ``test_<assignment_id>.py``: the hidden pytest checks (and an optional ``warm_up()``);
- ``figures.py``: ``FIGURES``, functions ``Artifacts -> (name, caption, PNG)``;
- ``examples.py``: ``EXAMPLES``, example submissions (:class:`grader.course.examples.Variant`).

The grader's own assignments live in this package's folder; a course may keep its own in
folders named by ``c.GraderSettings.assignment_folders``: :func:`register` puts them first on
this package's ``__path__``, so every assignment imports as ``grader.assignments.<id>``.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

BUILT_IN = Path(__file__).resolve().parent
ProbeOutput = tuple[dict[str, Any], dict[str, np.ndarray]]
Probe = Callable[[dict, Mapping[str, np.ndarray]], ProbeOutput]
_registered: list[Path] = []  # course folders of assignment folders, in the order registered


@dataclass(frozen=True)
class ProbeSpec:
    """The cells a probe process executes and the probe of each grade id."""

    cells: tuple[str, ...]
    probes: Mapping[str, Probe]
    make_inputs: Callable[[Mapping[str, Any]], dict[str, np.ndarray]]


@dataclass(frozen=True)
class Declaration:
    """What an assignment folder declares; generic grading code knows an assignment only through this."""

    assignment: str
    folder: Path
    exported_names: tuple[str, ...] = ()
    parameters: Mapping[str, Any] = field(default_factory=dict)
    kept_files: tuple[str, ...] = ()
    secret_names: tuple[str, ...] = ()
    prepare_scratch: Callable[[Path], Mapping[str, str]] | None = None
    probe_names: Callable[[], Mapping[str, Any]] | None = None
    warm_up: Callable[[], None] | None = None

    @property
    def checks_file(self) -> Path:
        """The hidden checks: ``test_<assignment>.py`` in the folder."""
        return self.folder / f"test_{self.assignment}.py"

    def __reduce__(self) -> tuple[Any, tuple[str, str]]:
        """Pickled as its folder: a process that reads it registers the folder and reads the declaration again."""
        return declaration_at, (self.assignment, str(self.folder))


def register(folders: Sequence[Path]) -> None:
    """Put folders of assignment folders first on this package's path, the first of ``folders`` first.

    The grader's own folder may be put first again; :func:`registered` lists only the others.
    """
    for folder in reversed([Path(folder).resolve() for folder in folders]):
        if str(folder) in __path__:
            __path__.remove(str(folder))
        if folder in _registered:
            _registered.remove(folder)
        __path__.insert(0, str(folder))
        if folder != BUILT_IN:
            _registered.insert(0, folder)


def registered() -> tuple[Path, ...]:
    """The course folders :func:`register` added, for processes that must import from them too."""
    return tuple(_registered)


def folders_in(parents: Sequence[Path]) -> dict[str, Path]:
    """Every assignment folder (a package, named as a Python identifier) in ``parents``; the first of a name wins."""
    found: dict[str, Path] = {}
    for parent in parents:
        for folder in sorted(Path(parent).iterdir()) if Path(parent).is_dir() else ():
            if folder.name.isidentifier() and not folder.name.startswith("_") and (folder / "__init__.py").is_file():
                found.setdefault(folder.name, folder.resolve())
    return found


def module(assignment: str, part: str = "") -> Any:
    """The assignment's package, or one of its modules (``probe``, ``figures``, ``examples``, ``test_<id>``)."""
    return importlib.import_module(f"{__name__}.{assignment}{'.' + part if part else ''}")


def loaded(assignment: str, folder: Path) -> Any:
    """The package of the assignment folder ``folder``, imported from there (another folder's of the same name,
    read earlier in this process, is forgotten first)."""
    register([folder.parent])
    package = module(assignment)
    if Path(package.__file__).resolve().parent != folder:
        forget(assignment)
        package = module(assignment)
    if Path(package.__file__).resolve().parent != folder:
        raise ImportError(f"{folder}: another assignment folder named {assignment!r} came first "
                          f"({Path(package.__file__).parent})")
    return package


def declaration_at(assignment: str, folder: str | Path) -> Declaration:
    """The declaration of the assignment folder ``folder``."""
    folder = Path(folder).resolve()
    package = loaded(assignment, folder)
    return Declaration(assignment, folder, tuple(getattr(package, "EXPORTED_NAMES", ())),
                       dict(getattr(package, "PARAMETERS", {})), tuple(getattr(package, "KEPT_FILES", ())),
                       tuple(getattr(package, "SECRET_NAMES", ())), getattr(package, "prepare_scratch", None),
                       getattr(package, "probe_names", None), getattr(package, "warm_up", None))


def forget(assignment: str) -> None:
    """Drop the imported modules of ``assignment``, so that the next import reads its folder again."""
    prefix = f"{__name__}.{assignment}"
    for name in [name for name in sys.modules if name == prefix or name.startswith(prefix + ".")]:
        del sys.modules[name]


def probe_spec(assignment: str) -> ProbeSpec:
    """The probe spec of ``assignment`` (its ``probe.py``)."""
    probe = module(assignment, "probe")
    return ProbeSpec(tuple(probe.CELLS), probe.PROBES, probe.make_inputs)


def probe_names(assignment: str) -> dict[str, Any]:
    """The names the assignment's probe namespace starts with (its ``probe_names`` hook; none without one)."""
    hook = getattr(module(assignment), "probe_names", None)
    return dict(hook()) if hook is not None else {}


def figures(assignment: str) -> tuple[Callable[..., tuple[str, str, bytes]], ...]:
    """The feedback pictures of ``assignment`` (its ``figures.py``; none without one)."""
    try:
        return tuple(module(assignment, "figures").FIGURES)
    except ModuleNotFoundError as error:
        if error.name != f"{__name__}.{assignment}.figures":
            raise
        return ()


def checks_file(assignment: str) -> Path:
    """The hidden checks of ``assignment``: ``test_<assignment>.py`` in its folder."""
    return Path(module(assignment).__file__).resolve().parent / f"test_{assignment}.py"


def checks_module(assignment: str) -> Any:
    """The hidden checks module of ``assignment``, imported."""
    return module(assignment, f"test_{assignment}")


def warm_up(declaration: Declaration) -> None:
    """Pay the assignment's one-off costs: its own ``warm_up`` hook and its checks module's."""
    if declaration.warm_up is not None:
        declaration.warm_up()
    getattr(checks_module(declaration.assignment), "warm_up", lambda: None)()


def import_probes(folders: Sequence[str]) -> None:
    """In a probe process, before its sandbox hides them: the probe modules of the course's own assignment folders
    (``folders``; the grader's own are imported by the forkserver already)."""
    register([Path(folder) for folder in folders])
    for assignment, folder in folders_in(registered()).items():
        loaded(assignment, folder)
        probe_spec(assignment)
