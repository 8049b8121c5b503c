"""Compiling LaTeX to PDF with XeLaTeX (kotex needs a Unicode engine for Korean), and
joining PDFs (a class pack's chunks).

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
    return compile_with_log(tex, name, attachments)[0]


MAX_PASSES = 3  # longtable settles its column widths on the second pass


def compile_with_log(tex: str, name: str, attachments: dict[str, bytes] | None = None) -> tuple[bytes, str]:
    """The PDF and XeLaTeX's log of its last pass. TeX runs again while it asks to (a
    table's widths changed), and a character no loaded font has is an error: a PDF that
    silently drops a Hangul title or a name is worse than none."""
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
        log_file = work / f"{name}.log"
        for _ in range(MAX_PASSES):
            result = subprocess.run(command, cwd=work, env=environment, capture_output=True, timeout=300, stdin=subprocess.DEVNULL)
            log = log_file.read_text(encoding="utf-8", errors="replace") if log_file.exists() else result.stdout.decode(errors="replace")
            if result.returncode != 0:
                raise TexFailure(name, _first_error(log))
            if "Rerun" not in log:
                break
        missing = sorted(set(re.findall(r"Missing character: There is no (\S+)(?: \(U\+[0-9A-F]+\))? in font", log)))
        if missing:
            raise TexFailure(name, f"no font in the document has {', '.join(missing[:8])}; install fonts-nanum (Debian) for Hangul")
        return (work / f"{name}.pdf").read_bytes(), log


def overfull_boxes(log: str, tolerance_pt: float = 1.0) -> list[str]:
    """The log's 'Overfull \\hbox (12.3pt too wide)' lines wider than the tolerance, and its
    'Overfull \\vbox (91.9pt too high)': a page whose content ran past its foot (a picture
    taller than the page, a display of more rows than it holds)."""
    return [line for line in log.splitlines()
            if (match := re.match(r"Overfull \\[hv]box \(([0-9.]+)pt too (?:wide|high)\)", line)) and float(match.group(1)) > tolerance_pt]


def _first_error(log: str) -> str:
    lines = log.splitlines()
    for index, line in enumerate(lines):
        if line.startswith("!") or re.match(r"^.*:\d+: ", line):
            return "\n".join(lines[index : index + 6])
    return "\n".join(lines[-10:])


def joined_pdf(pdfs: list[bytes]) -> bytes:
    """PDFs joined page after page, in memory, with a fixed document ID so the bytes are
    stable. qpdf (through pikepdf) joins a 1,000-version pack's 4,000 worksheet pages in 1.1 s
    against pypdf's 2.5 s, and the last kind's join is the pack's serial tail."""
    import io

    import pikepdf

    if len(pdfs) == 1:
        return pdfs[0]
    joined = pikepdf.new()
    sources = [pikepdf.open(io.BytesIO(pdf)) for pdf in pdfs]  # open until the join is saved: it copies from them then
    for source in sources:
        joined.pages.extend(source.pages)
    buffer = io.BytesIO()
    joined.save(buffer, deterministic_id=True)
    return buffer.getvalue()
