"""Reading a submitted notebook defensively: every way it can be broken becomes a clear reason.

A submission is ``submitted/<student>/<assignment>/<name>``, and it must be a file of its own:
not a symbolic link, not under a linked student or assignment folder, not a FIFO or a device,
and not a hard link with a name outside ``submitted/`` (a link to the instructor's ``source/``
would be graded as the solution and shown back). ``submitted/`` itself may be a link: the
instructor made it, not a student. The file is opened without following links and read from
the descriptor that was checked.
"""

from __future__ import annotations

import errno
import json
import os
import stat
from pathlib import Path

import nbformat

from grader.course import defaults

DEFAULT_MAX_BYTES = defaults.MAX_NOTEBOOK_BYTES
FOLDER_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
# O_NONBLOCK: opening a FIFO that slipped past the checks must not wait for a writer
FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC
KINDS = ((stat.S_ISLNK, "a symbolic link"), (stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
         (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"))


class InvalidNotebook(ValueError):
    """A submission that cannot be graded as a notebook, and why (shown to the student)."""

    def __init__(self, reason: str, *, path: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.path = path


def _kind(mode: int) -> str:
    return next((name for test, name in KINDS if test(mode)), "not a regular file")


def _open_folder(parent_fd: int, name: str, what: str, path: Path) -> int:
    """The folder ``name`` in ``parent_fd``, refused when it is a link or not a folder."""
    try:
        return os.open(name, FOLDER_FLAGS, dir_fd=parent_fd)
    except OSError as error:
        if error.errno in (errno.ELOOP, errno.ENOTDIR):
            info = os.stat(name, dir_fd=parent_fd, follow_symlinks=False)
            raise InvalidNotebook(f"the {what} {name!r} is {_kind(info.st_mode)}, not a folder of its own; "
                                  "hand in the notebook itself", path=str(path)) from error
        raise InvalidNotebook(f"the {what} {name!r} cannot be opened ({error.strerror})", path=str(path)) from error


def _open_file(folder_fd: int, path: Path) -> int:
    """The regular file ``path.name`` in ``folder_fd``, opened without following links, checked to be that file."""
    try:
        seen = os.stat(path.name, dir_fd=folder_fd, follow_symlinks=False)
        if not stat.S_ISREG(seen.st_mode):
            raise InvalidNotebook(f"{path.name} is {_kind(seen.st_mode)}, not a file of its own; "
                                  "hand in a copy of the notebook itself", path=str(path))
        fd = os.open(path.name, FILE_FLAGS, dir_fd=folder_fd)
    except OSError as error:
        raise InvalidNotebook(f"{path.name} cannot be opened ({error.strerror})", path=str(path)) from error
    opened = os.fstat(fd)
    if not stat.S_ISREG(opened.st_mode) or (opened.st_dev, opened.st_ino) != (seen.st_dev, seen.st_ino):
        os.close(fd)
        raise InvalidNotebook(f"{path.name} changed while it was being opened", path=str(path))
    return fd


_hard_links: dict[str, dict[tuple[int, int], list[str]]] = {}  # per real submitted/ folder, made when first needed


def _index_hard_links(root: str) -> dict[tuple[int, int], list[str]]:
    """(device, inode) -> the names under ``root`` of each regular file that has several (links not followed)."""
    index: dict[tuple[int, int], list[str]] = {}
    folders = [root]
    while folders:
        try:
            with os.scandir(folders.pop()) as entries:
                for entry in entries:
                    if entry.is_dir(follow_symlinks=False):
                        folders.append(entry.path)
                    elif entry.is_file(follow_symlinks=False):
                        info = entry.stat(follow_symlinks=False)
                        if info.st_nlink > 1:
                            index.setdefault((info.st_dev, info.st_ino), []).append(entry.path)
        except OSError:
            continue  # a folder that cannot be listed holds no name the check can count
    return index


def _names_are_inside(root: str, info: os.stat_result) -> bool:
    """Whether every name of the file ``info`` is under ``root``; the index is remade once when it is stale."""
    key = (info.st_dev, info.st_ino)
    for remake in (True,) if root not in _hard_links else (False, True):
        if remake:
            _hard_links[root] = _index_hard_links(root)
        names = [name for name in _hard_links[root].get(key, ()) if _same_file(name, key)]
        if len(names) >= info.st_nlink:
            return True
    return False


def _same_file(name: str, key: tuple[int, int]) -> bool:
    try:
        info = os.stat(name, follow_symlinks=False)
    except OSError:
        return False
    return stat.S_ISREG(info.st_mode) and (info.st_dev, info.st_ino) == key


def open_submitted(path: Path) -> int:
    """A read-only descriptor of the submitted file ``path`` (``submitted/<student>/<assignment>/<name>``).

    Raises :class:`InvalidNotebook` with the reason when it is not a file of its own (see the
    module's docstring); the caller closes the descriptor.
    """
    root = path.parents[2]
    try:
        folders = [os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)]  # may be the instructor's link
    except OSError as error:
        raise InvalidNotebook(f"the submissions folder cannot be opened ({error.strerror})", path=str(path)) from error
    try:
        folders.append(_open_folder(folders[-1], path.parents[1].name, "student folder", path))
        folders.append(_open_folder(folders[-1], path.parent.name, "assignment folder", path))
        fd = _open_file(folders[-1], path)
    finally:
        for folder in folders:
            os.close(folder)
    info = os.fstat(fd)
    if info.st_nlink > 1 and not _names_are_inside(os.path.realpath(root), info):
        os.close(fd)
        raise InvalidNotebook(f"{path.name} is a hard link to a file outside the submissions; "
                              "hand in a copy of the notebook itself", path=str(path))
    return fd


def read_submitted(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """The bytes of the submitted file ``path``, read from the descriptor that :func:`open_submitted` checked."""
    with os.fdopen(open_submitted(path), "rb") as stream:
        size = os.fstat(stream.fileno()).st_size
        content = stream.read(max_bytes + 1) if size <= max_bytes else b""
    if size > max_bytes or len(content) > max_bytes:
        raise InvalidNotebook(f"the notebook is {max(size, len(content)):,} bytes, more than the limit of "
                              f"{max_bytes:,}; clear the outputs and hand it in again", path=str(path))
    return content


def _decode(raw: bytes, path: Path) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InvalidNotebook(f"the file is not UTF-8 text (byte {error.start} is not valid UTF-8); "
                              "save it again from Jupyter", path=str(path)) from error


def _parse(text: str, path: Path) -> dict:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise InvalidNotebook(f"the file is not valid JSON ({error.msg} at line {error.lineno}, column "
                              f"{error.colno}); was it cut short or edited by hand?", path=str(path)) from error
    if not isinstance(data, dict) or not ("cells" in data or "worksheets" in data):
        raise InvalidNotebook("the file is JSON but not a Jupyter notebook (no cells)", path=str(path))
    return data


def read_notebook(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> nbformat.NotebookNode:
    """The submitted notebook at ``path`` as nbformat 4 (version 3 upgraded), validated against the schema.

    ``path`` is ``submitted/<student>/<assignment>/<name>``; it is read as :func:`read_submitted` reads it.
    """
    data = _parse(_decode(read_submitted(path, max_bytes), path), path)
    try:
        notebook = nbformat.reads(json.dumps(data), as_version=4)
        nbformat.validate(notebook)
    except (nbformat.ValidationError, nbformat.reader.NotJSONError, ValueError, KeyError, TypeError) as error:
        raise InvalidNotebook(f"the notebook does not follow the Jupyter format: {str(error)[:300]}",
                              path=str(path)) from error
    return notebook
