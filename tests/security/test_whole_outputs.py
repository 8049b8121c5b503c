"""A command's folder holds one whole set: the complete old one or the complete new one,
whatever happens part-way (a kill, a full disk), and nothing of an earlier run. Nothing
is written outside the folder through a symbolic link."""

from __future__ import annotations

import errno
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from derive import output
from derive.output import MARKER, OutputError, write_all

from ..conftest import EXAMPLES
from ..test_cli import ROOT, _run

SEED000 = EXAMPLES / "2-2-1-linear-mse.yaml"


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_fewer_versions_leave_no_old_ones(tmp_path: Path) -> None:
    assert _run("variants", str(SEED000), "--count", "12", "--format", "md", "-o", str(tmp_path)).returncode == 0
    result = _run("variants", str(SEED000), "--count", "3", "--format", "md", "-o", str(tmp_path))
    assert result.returncode == 0, result.stderr
    folder = tmp_path / "2-2-1-linear-mse-variants"
    assert sorted(p.name for p in folder.iterdir() if p.is_dir()) == ["v01", "v02", "v03"]
    assert sorted(json.loads((folder / "keys.json").read_text(encoding="utf-8"))["versions"]) == ["v01", "v02", "v03"]
    assert [p.name for p in tmp_path.iterdir()] == ["2-2-1-linear-mse-variants"]  # no staging or old set left


def test_another_format_leaves_no_old_files(tmp_path: Path) -> None:
    assert _run("worksheet", "--format", "md,html", "-o", str(tmp_path)).returncode == 0
    assert _run("worksheet", "--format", "md", "-o", str(tmp_path)).returncode == 0
    names = sorted(p.name for p in (tmp_path / "2-2-1-linear-mse").iterdir())
    assert not [name for name in names if name.endswith(".html")] and "key.md" in names


def test_a_full_disk_is_one_message_and_keeps_the_earlier_set(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "set"
    write_all(folder, {"a.md": b"old a", "sub/b.md": b"old b"})
    before = _snapshot(folder)
    real = output._write_new
    written = []

    def filling(path: Path, data: bytes) -> None:
        if written:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        written.append(path)
        real(path, data)

    monkeypatch.setattr(output, "_write_new", filling)
    with pytest.raises(OutputError, match="No space left on device.*earlier files, if any, are as they were"):
        write_all(folder, {"a.md": b"new a", "c.md": b"new c", "d.md": b"new d"})
    assert _snapshot(folder) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["set"]


def test_a_full_disk_through_the_command_line_is_one_message(tmp_path: Path) -> None:
    assert _run("worksheet", "--format", "md", "-o", str(tmp_path)).returncode == 0
    before = _snapshot(tmp_path)
    hook = tmp_path.parent / f"{tmp_path.name}-hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(
        "import errno, os\nfrom derive import output\n"
        "def full(path, data):\n    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))\n"
        "output._write_new = full\n", encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "derive", "worksheet", "--format", "md,html", "-o", str(tmp_path)],
                            capture_output=True, text=True, cwd=ROOT, timeout=120,
                            env={**os.environ, "PYTHONPATH": f"{hook}{os.pathsep}{ROOT}"})
    assert result.returncode == 2 and "No space left on device" in result.stderr and "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1
    assert _snapshot(tmp_path) == before


def test_a_marker_that_is_a_link_does_not_make_a_folder_derive_s(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.write_text("victim", encoding="utf-8")
    folder = tmp_path / "out" / "2-2-1-linear-mse"
    folder.mkdir(parents=True)
    (folder / "thesis.tex").write_text("mine", encoding="utf-8")
    (folder / MARKER).symlink_to(outside)
    refused = _run("worksheet", "--format", "md", "-o", str(tmp_path / "out"))
    assert refused.returncode == 2 and "not empty and was not made by derive" in refused.stderr
    forced = _run("worksheet", "--format", "md", "--force", "-o", str(tmp_path / "out"))
    assert forced.returncode == 0, forced.stderr
    assert outside.read_text(encoding="utf-8") == "victim"
    assert (folder / "thesis.tex").read_text(encoding="utf-8") == "mine"
    assert not (folder / MARKER).is_symlink()


def test_a_subfolder_that_is_a_link_is_never_written_through(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    folder = tmp_path / "out"
    write_all(folder, {"feedback/a.md": b"old"})
    (folder / "feedback").rename(tmp_path / "aside")
    (folder / "feedback").symlink_to(outside)
    write_all(folder, {"feedback/a.md": b"new"})  # derive's own folder: replaced whole
    assert list(outside.iterdir()) == []
    assert not (folder / "feedback").is_symlink() and (folder / "feedback" / "a.md").read_bytes() == b"new"
    # A folder derive was forced into is written file by file: a linked subfolder is refused.
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "theirs.txt").write_text("theirs", encoding="utf-8")
    (shared / "feedback").symlink_to(outside)
    with pytest.raises(OutputError, match="symbolic link"):
        write_all(shared, {"feedback/a.md": b"new"})
    assert list(outside.iterdir()) == []


def test_an_output_folder_that_is_a_link_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "target"
    target.mkdir()
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "2-2-1-linear-mse").symlink_to(target)
    result = _run("worksheet", "--format", "md", "-o", str(tmp_path / "out"))
    assert result.returncode == 2 and "symbolic link" in result.stderr and list(target.iterdir()) == []


def _consistent(folder: Path) -> int:
    keys = json.loads((folder / "keys.json").read_text(encoding="utf-8"))["versions"]
    versions = sorted(p.name for p in folder.iterdir() if p.is_dir())
    assert versions == sorted(keys)
    for version in versions:
        assert json.loads((folder / version / "key.json").read_text(encoding="utf-8")) == keys[version]
    return len(versions)


def test_a_kill_at_any_moment_leaves_one_whole_set(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "derive", "variants", str(SEED000), "--format", "md", "-o", str(tmp_path)]
    assert subprocess.run([*command, "--count", "5", "--seed", "1"], capture_output=True, cwd=ROOT, timeout=300).returncode == 0
    folder = tmp_path / "2-2-1-linear-mse-variants"
    started = time.monotonic()
    assert subprocess.run([*command, "--count", "30"], capture_output=True, cwd=ROOT, timeout=300).returncode == 0
    duration = time.monotonic() - started
    assert _consistent(folder) == 30
    chooser = random.Random(os.environ.get("DERIVE_KILL_SEED"))
    for attempt in range(6):
        count, seed = (5, 1) if attempt % 2 else (30, 2)
        process = subprocess.Popen([*command, "--count", str(count), "--seed", str(seed)], cwd=ROOT,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(chooser.uniform(0.5, duration * 1.1))
        process.send_signal(signal.SIGKILL)
        process.wait()
        _consistent(folder)
    # A later run cleans up whatever a killed one left beside the folder.
    assert subprocess.run([*command, "--count", "5"], capture_output=True, cwd=ROOT, timeout=300).returncode == 0
    assert _consistent(folder) == 5 and [p.name for p in tmp_path.iterdir()] == [folder.name]


@pytest.mark.skipif(subprocess.run(["which", "xelatex"], capture_output=True).returncode != 0, reason="XeLaTeX is not installed")
def test_sigterm_during_tex_removes_its_temporary_folder(tmp_path: Path) -> None:
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    process = subprocess.Popen(
        [sys.executable, "-m", "derive", "worksheet", "--format", "md,pdf", "-o", str(tmp_path / "out")],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, "TMPDIR": str(temporary)},
    )
    deadline = time.monotonic() + 120
    while not list(temporary.glob("derive-tex-*")) and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    assert list(temporary.glob("derive-tex-*")), "XeLaTeX never started"
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == 128 + signal.SIGTERM
    assert list(temporary.glob("derive-tex-*")) == []
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())
