"""Writing files so that a reader never sees half of one: write to a temporary name in
the same folder, then rename, which is atomic on POSIX. Everything a command writes is
prepared in memory first, so a failure part-way (a TeX error, Ctrl-C) leaves the previous
outputs as they were."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


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


class OutputError(Exception):
    """The output folder cannot be used as asked; the message says what to do instead."""


def check_folder(folder: Path, force: bool) -> None:
    """Refuse a non-empty folder derive did not make, so a mistyped -o never mixes our files
    into someone's work; --force overrides."""
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"{folder} is a file, not a folder; choose another -o.")
    if folder.is_dir() and any(folder.iterdir()) and not (folder / MARKER).exists() and not force:
        raise OutputError(f"{folder} is not empty and was not made by derive; choose another -o or pass --force.")


def write_all(folder: Path, files: dict[str, bytes]) -> list[Path]:
    """Write a set of files prepared in memory into a folder, each atomically, and mark the
    folder as derive's."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MARKER).touch()
    for name, data in files.items():
        write_bytes_atomic(folder / name, data)
    return [folder / name for name in files]
