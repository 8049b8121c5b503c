"""Compiling LaTeX to PDF with XeLaTeX (kotex needs a Unicode engine for Korean).

TeX runs in a private temporary folder with shell escape off, and with SOURCE_DATE_EPOCH
fixed so that the same .tex gives the same PDF bytes."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

FIXED_DATE = "1700000000"  # any fixed instant; only its constancy matters


class TexMissing(Exception):
    """No XeLaTeX on this machine: a note for the user, not a failure."""


@dataclass
class TexFailure(Exception):
    """XeLaTeX stopped with an error; the first error lines of its log say why."""

    name: str
    log_excerpt: str

    def __str__(self) -> str:
        return f"XeLaTeX could not compile {self.name}:\n{self.log_excerpt}"


def tex_engine() -> str | None:
    return shutil.which("xelatex")


def compile_pdf(tex: str, name: str, attachments: dict[str, bytes] | None = None) -> bytes:
    """The PDF for one .tex source; attachments are files the source includes."""
    engine = tex_engine()
    if engine is None:
        raise TexMissing("no XeLaTeX found; install texlive-xetex, texlive-lang-korean and fonts-nanum for PDFs")
    with tempfile.TemporaryDirectory(prefix="derive-tex-") as folder:
        work = Path(folder)
        (work / f"{name}.tex").write_text(tex, encoding="utf-8")
        for file_name, data in (attachments or {}).items():
            (work / file_name).write_bytes(data)
        environment = {**os.environ, "SOURCE_DATE_EPOCH": FIXED_DATE, "FORCE_SOURCE_DATE": "1", "openout_any": "p", "openin_any": "p"}
        command = [engine, "-no-shell-escape", "-interaction=nonstopmode", "-halt-on-error", f"{name}.tex"]
        result = subprocess.run(command, cwd=work, env=environment, capture_output=True, timeout=300, stdin=subprocess.DEVNULL)
        if result.returncode != 0:
            log_file = work / f"{name}.log"
            log = log_file.read_text(encoding="utf-8", errors="replace") if log_file.exists() else result.stdout.decode(errors="replace")
            raise TexFailure(name, _first_error(log))
        return (work / f"{name}.pdf").read_bytes()


def _first_error(log: str) -> str:
    lines = log.splitlines()
    for index, line in enumerate(lines):
        if line.startswith("!") or re.match(r"^.*:\d+: ", line):
            return "\n".join(lines[index : index + 6])
    return "\n".join(lines[-10:])
