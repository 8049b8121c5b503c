"""A class pack of any size: the versions are compiled in chunks on every core and joined
in order into one PDF per kind, the same bytes however many cores did the work."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

import derive
from derive.classroom import batch
from derive.classroom.batch import variant_files
from derive.classroom.variants import make_variants

from ..conftest import EXAMPLES

pytestmark = pytest.mark.skipif(shutil.which("xelatex") is None or shutil.which("pdftotext") is None,
                                reason="needs XeLaTeX and poppler-utils")


def _page_texts(pdf: bytes, folder: Path) -> list[str]:
    path = folder / "pack.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return text.split("\f")[:-1]


def test_a_pack_compiled_in_chunks_holds_every_version_in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    variants = make_variants(derive.load(EXAMPLES / "2-2-1-linear-mse.yaml"), 5, seed=3)
    whole, _ = variant_files(variants, ["pdf"], None, workers=1, echo=lambda _: None)
    monkeypatch.setattr(batch, "PACK_CHUNK", 2)  # three XeLaTeX runs, on two cores
    lines: list[str] = []
    chunked, _ = variant_files(variants, ["pdf"], None, workers=2, echo=lines.append)
    again, _ = variant_files(variants, ["pdf"], None, workers=1, echo=lambda _: None)
    assert any("3 XeLaTeX runs on 2 cores" in line for line in lines)
    assert any("3 of 3 runs done" in line for line in lines)
    assert chunked["keys.pdf"] == again["keys.pdf"]  # the same bytes with one core or two
    for name in ("worksheets.pdf", "keys.pdf"):
        pages = _page_texts(chunked[name], tmp_path)
        assert len(pages) == len(_page_texts(whole[name], tmp_path))
        versions = [re.search(r"v0[1-5]", page).group(0) for page in pages]  # each page's header names its version
        assert versions == sorted(versions) and list(dict.fromkeys(versions)) == ["v01", "v02", "v03", "v04", "v05"]
