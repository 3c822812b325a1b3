"""The grader modules that some modules need: their imports followed through the package's own source.

Both the sandbox (what student code may read) and the student kit (what ``grader check`` needs)
are built from this closure, so neither can miss a module that an import inside a function needs.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from pathlib import Path


def module_closure(package: Path, roots: Sequence[str], excluded: Sequence[str] = ()) -> tuple[Path, ...]:
    """The files of the modules ``roots`` (``grader...``) and of every grader module they import, their packages
    included; never one of the ``excluded`` modules (dotted names) nor a module inside one."""
    pending, seen, files = list(roots), set(), set()
    while pending:
        name = pending.pop()
        parts = name.split(".")
        if name in seen or any(name == other or name.startswith(other + ".") for other in excluded):
            continue
        seen.add(name)
        if (path := _module_file(package, name)) is not None:
            files.add(path)
            pending += [".".join(parts[:end]) for end in range(1, len(parts))]
            pending += sorted(_grader_imports(path))
    return tuple(sorted(files))


def _module_file(package: Path, name: str) -> Path | None:
    """The source file of module ``name`` (``grader...``) in ``package``; None for a name that is no module."""
    parts = name.split(".")[1:]
    base = package.joinpath(*parts)
    candidates = (base / "__init__.py",) if not parts else (base.with_suffix(".py"), base / "__init__.py")
    return next((path for path in candidates if path.is_file()), None)


def _grader_imports(source: Path) -> set[str]:
    """The ``grader`` names a module imports anywhere (functions included), and each name it imports from them."""
    names = set()
    for node in ast.walk(ast.parse(source.read_bytes())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names |= {node.module, *(f"{node.module}.{alias.name}" for alias in node.names)}
    return {name for name in names if name.split(".")[0] == "grader"}
