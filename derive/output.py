"""Writing files so that a reader never sees half of one, and a folder never holds half a
set. Everything a command writes is prepared in memory first; `write_all` then builds the
whole folder in a temporary sibling and swaps it in (one atomic exchange of the two names
on Linux; elsewhere rename the old aside, rename the new in), and only then removes the
old. A kill at any moment leaves the complete old set or the complete new one, a full
disk leaves the old set, and a re-run leaves nothing from an earlier run. Nothing under
the folder is followed through a symbolic link."""

from __future__ import annotations

import ctypes
import errno
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def write_bytes_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.chmod(temporary, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual mode
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_text_atomic(path: Path, text: str) -> None:
    write_bytes_atomic(path, text.encode("utf-8"))


MARKER = ".derive"  # left in every folder derive creates, so it knows it may write there again
SHARED = b"shared\n"  # the marker's text in a folder derive was forced into: it holds files of others
STAGING, ASIDE = ".new-", ".old-"  # the sibling being built, and the old set on its way out


class OutputError(Exception):
    """The output folder cannot be used as asked; the message says what to do instead."""


def _marker(folder: Path) -> bytes | None:
    """The marker's text if the folder has one that is a regular file (never a link)."""
    marker = folder / MARKER
    if marker.is_symlink() or not marker.is_file():
        return None
    return marker.read_bytes()[:64]


def _is_own(folder: Path) -> bool:
    """Made by derive from scratch, so it may be replaced whole."""
    marker = _marker(folder)
    return marker is not None and marker != SHARED


def check_folder(folder: Path, force: bool) -> None:
    """Refuse a non-empty folder derive did not make, so a mistyped -o never mixes our files
    into someone's work; --force overrides. A folder that is a symbolic link is refused:
    derive replaces its folder whole and would replace the link, not fill its target."""
    if folder.is_symlink():
        raise OutputError(f"{folder} is a symbolic link; give the folder it points to as -o.")
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"{folder} is a file, not a folder; choose another -o.")
    if folder.is_dir() and any(folder.iterdir()) and _marker(folder) is None and not force:
        raise OutputError(f"{folder} is not empty and was not made by derive; choose another -o or pass --force.")


def _checked_names(files: dict[str, bytes]) -> None:
    for name in files:
        parts = Path(name).parts
        if not parts or Path(name).is_absolute() or any(part in ("", ".", "..") for part in parts) or parts[0] == MARKER:
            raise ValueError(f"not a file name inside the output folder: {name!r}")


# Files too large to hold (a large class's grades) are written as they are made: a producer
# is handed `open_new(name)`, writes and closes the files it opens, and returns the rest as
# bytes. They land in the folder being built, so the folder still appears whole or not at all.
Producer = Callable[[Callable[[str], BinaryIO]], dict[str, bytes]]


def write_all(folder: Path, files: dict[str, bytes] | Producer) -> list[Path]:
    """Write a set of files prepared in memory (or made by a producer) as the folder's whole
    content, marked as derive's. A folder derive was forced into (it holds other files) is
    written file by file instead, keeping those files, and marked as shared."""
    if not callable(files):
        _checked_names(files)
    if folder.is_symlink():
        raise OutputError(f"{folder} is a symbolic link; give the folder it points to as -o.")
    try:
        if folder.is_dir() and any(folder.iterdir()) and not _is_own(folder):
            made = _write_into(folder, files)
        else:
            made = _swap_in(folder, files)
    except OSError as error:
        reason = error.strerror or str(error)
        where = f" ({error.filename})" if error.filename else ""
        raise OutputError(f"could not write {folder}: {reason}{where}. The earlier files, if any, are as they were.") from None
    return [folder / name for name in made]


def _leftovers(folder: Path) -> list[Path]:
    """Siblings an interrupted run left: a half-built set, or an old one not yet removed."""
    parent, uid = folder.parent, os.getuid()
    found = []
    for prefix in (STAGING, ASIDE):
        for path in parent.glob(f".{folder.name}{prefix}*"):
            if not path.is_symlink() and path.is_dir() and path.stat().st_uid == uid:
                found.append(path)
    return found


def _remove(path: Path) -> None:
    if path.is_symlink() or not path.is_dir():
        path.unlink(missing_ok=True)
    else:
        shutil.rmtree(path, ignore_errors=True)  # rmtree removes links; it never follows one


def _recover(folder: Path) -> None:
    """Killed between the two renames of the fallback swap: the old set is aside and whole."""
    if folder.exists() or folder.is_symlink():
        return
    asides = [path for path in _leftovers(folder) if path.name.startswith(f".{folder.name}{ASIDE}")]
    if asides:
        os.rename(asides[0], folder)


def _produced(staging: Path, files: dict[str, bytes] | Producer) -> dict[str, bytes | None]:
    """The files to write, by name (None for one a producer wrote into `staging` itself)."""
    if not callable(files):
        return dict(files)
    streamed: dict[str, bytes | None] = {}

    def open_new(name: str) -> BinaryIO:
        _checked_names({name: b""})
        streamed[name] = None
        path = staging / name
        path.parent.mkdir(parents=True, exist_ok=True)
        return os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o666), "wb")

    rest = files(open_new)
    _checked_names(rest)
    return streamed | dict(rest)


def _swap_in(folder: Path, files: dict[str, bytes] | Producer) -> dict[str, bytes | None]:
    parent = folder.parent
    parent.mkdir(parents=True, exist_ok=True)
    _recover(folder)
    for leftover in _leftovers(folder):
        _remove(leftover)
    staging = Path(tempfile.mkdtemp(dir=parent, prefix=f".{folder.name}{STAGING}"))  # 0700 while it is built
    try:
        made = _produced(staging, files)
        for name, data in made.items():
            if data is not None:
                _write_new(staging / name, data)
        _write_new(staging / MARKER, b"")
        os.chmod(staging, 0o777 & ~_umask())
        if not (folder.exists() or folder.is_symlink()):
            os.rename(staging, folder)
        elif _exchange(staging, folder):
            pass  # staging now holds the old set; removed below
        else:
            aside = Path(tempfile.mkdtemp(dir=parent, prefix=f".{folder.name}{ASIDE}"))
            os.rename(folder, aside)  # onto the empty folder just made: atomic, and never over a stranger's name
            os.rename(staging, folder)
            _remove(aside)
    finally:
        _remove(staging)
    return made


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(first: Path, second: Path) -> bool:
    """Swap two names atomically (Linux renameat2 RENAME_EXCHANGE); False where unsupported."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return False
    if renameat2(_AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(second))


def _write_new(path: Path, data: bytes) -> None:
    """A new file in a folder being built: created, never opened through a link."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o666)
    with os.fdopen(handle, "wb") as file:
        file.write(data)


def _write_into(folder: Path, files: dict[str, bytes] | Producer) -> dict[str, bytes | None]:
    """Each file atomically into a folder that holds others' files (--force). A subfolder
    that is a link is refused, so nothing is written outside the folder; a file that is a
    link is replaced by the new file, not written through. A producer's files are made in a
    hidden folder inside first, then each renamed into place."""
    staging = Path(tempfile.mkdtemp(dir=folder, prefix=STAGING))
    try:
        made = _produced(staging, files)
        _refuse_linked_folders(folder, made)
        for name, data in made.items():
            if data is None:
                (folder / name).parent.mkdir(parents=True, exist_ok=True)
                os.replace(staging / name, folder / name)
            else:
                write_bytes_atomic(folder / name, data)
    finally:
        _remove(staging)
    write_bytes_atomic(folder / MARKER, SHARED)
    return made


def _refuse_linked_folders(folder: Path, files: dict[str, bytes | None]) -> None:
    for name in files:
        inside = folder
        for part in Path(name).parts[:-1]:
            inside = inside / part
            if inside.is_symlink():
                raise OutputError(f"{inside} is a symbolic link; derive does not write through one. Remove it or choose another -o.")
