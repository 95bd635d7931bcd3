"""What of this machine the sandboxed interpreter sees: this Python's binary, shared library and standard
library, the system's shared libraries, and nothing else; every site-packages and dist-packages directory in
that view is covered by an empty read-only tmpfs, so numpy, torch or this package cannot be imported even by
code that escapes Python's own restrictions.

Everything appears at its host path (so the binary finds its library and standard library as usual), mounted
read-only. When the parent is root the sandbox runs as ``nobody``, who may not be able to reach this Python
(pyenv keeps it under /root, mode 700); the interpreter's files are then staged once per process in a
world-readable temporary directory, hard-linked where the file system allows (copied otherwise), without its
site-packages.
"""

from __future__ import annotations

import atexit
import functools
import glob
import os
import shutil
import site
import stat
import sys
import sysconfig
import tempfile
from dataclasses import dataclass
from pathlib import Path

SYSTEM_LIBRARY_DIRECTORIES = ("/usr/lib", "/usr/lib64", "/usr/lib32", "/lib", "/lib64", "/lib32")
"""Where the dynamic loader and the C libraries live (symbolic links, as on a merged-/usr system, stay
links)."""
PACKAGE_DIRECTORY_PATTERNS = ("python3*/site-packages", "python3*/dist-packages")
"""Third-party packages of any Python, under a system library directory, hidden from the sandbox."""


@dataclass(frozen=True)
class InterpreterView:
    """The read-only file system the sandboxed interpreter sees, as bubblewrap mount operations."""

    executable: str
    """Path of the interpreter inside the sandbox."""
    links: tuple[tuple[str, str], ...]
    """``(target, path)``: symbolic links to create."""
    binds: tuple[tuple[str, str], ...]
    """``(host source, sandbox path)``: read-only bind mounts."""
    hidden: tuple[str, ...]
    """Sandbox paths covered by an empty read-only tmpfs."""


@functools.cache
def interpreter_view(staged: bool) -> InterpreterView:
    """The view of this Python; ``staged`` when the sandbox user cannot read it where it is (see
    ``needs_staging``). Built once per process."""
    pieces = _interpreter_pieces()
    links, system_binds = _system_libraries()
    hidden_on_host = _package_directories([path for _, path in system_binds] + pieces)
    if staged:
        stage = _stage(pieces, hidden_on_host)
        interpreter_binds = tuple((str(stage / str(index)), piece) for index, piece in enumerate(pieces))
    else:
        interpreter_binds = tuple((piece, piece) for piece in pieces)
    system_hidden = [path for path in hidden_on_host if not any(_inside(path, piece) for piece in pieces)]
    return InterpreterView(
        executable=pieces[0], links=links, binds=system_binds + interpreter_binds,
        hidden=tuple(system_hidden if staged else hidden_on_host),
    )


def needs_staging() -> bool:
    """Whether some file of this Python sits behind a directory that other users may not enter, so that
    ``nobody`` (the sandbox user when the parent is root) could not mount it."""
    return any(not os.stat(directory).st_mode & stat.S_IXOTH
               for piece in _interpreter_pieces() for directory in Path(piece).parents)


def _interpreter_pieces() -> list[str]:
    """Host paths of the binary (first), the shared library (if Python is built with one) and the
    standard library."""
    pieces = [os.path.realpath(sys.executable)]
    if sysconfig.get_config_var("Py_ENABLE_SHARED"):
        pieces.append(os.path.realpath(os.path.join(sysconfig.get_config_var("LIBDIR"),
                                                    sysconfig.get_config_var("INSTSONAME"))))
    for directory in (sysconfig.get_path("stdlib"), sysconfig.get_path("platstdlib"),
                      sysconfig.get_config_var("DESTSHARED")):
        directory = os.path.realpath(directory)
        if os.path.isdir(directory) and not any(_inside(directory, piece) for piece in pieces):
            pieces.append(directory)
    return pieces


def _system_libraries() -> tuple[tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]]:
    links, binds = [], []
    for directory in SYSTEM_LIBRARY_DIRECTORIES:
        if os.path.islink(directory):
            links.append((os.readlink(directory), directory))
        elif os.path.isdir(directory):
            binds.append((directory, directory))
    return tuple(links), tuple(binds)


def _package_directories(roots: list[str]) -> list[str]:
    """Existing package directories inside ``roots``: this Python's own, and any Python's under a system
    library directory."""
    candidates = {sysconfig.get_path("purelib"), sysconfig.get_path("platlib"), *site.getsitepackages()}
    for root in roots:
        for pattern in PACKAGE_DIRECTORY_PATTERNS:
            candidates.update(glob.glob(os.path.join(root, pattern)))
    found = {os.path.realpath(path) for path in candidates if os.path.isdir(path)}
    return sorted(path for path in found if any(_inside(path, root) for root in roots))


def _stage(pieces: list[str], hidden: list[str]) -> Path:
    stage = Path(tempfile.mkdtemp(prefix="reward-sandbox-python-"))
    atexit.register(shutil.rmtree, stage, ignore_errors=True)
    stage.chmod(0o755)
    skipped = set(hidden)
    for index, piece in enumerate(pieces):
        destination = stage / str(index)
        if os.path.isdir(piece):
            shutil.copytree(piece, destination, copy_function=_link_or_copy, symlinks=True,
                            ignore=lambda folder, names: [n for n in names if f"{folder}/{n}" in skipped])
        else:
            _link_or_copy(piece, destination)
    return stage


def _link_or_copy(source: str, destination: str | Path) -> None:
    try:
        os.link(source, destination)
    except OSError:  # another file system, or hard links refused
        shutil.copy2(source, destination)


def _inside(path: str, directory: str) -> bool:
    return path == directory or path.startswith(directory.rstrip("/") + "/")
