"""A class pack of any size: the versions are compiled in chunks on every core and joined
in order into one PDF per kind, the same bytes however many cores did the work."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

import derive
import derive.views.documents
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
    monkeypatch.setattr(batch, "PACK_CHUNK", 2)  # three XeLaTeX runs a kind, on two cores
    lines: list[str] = []
    chunked, _ = variant_files(variants, ["pdf"], None, workers=2, echo=lines.append)
    again, _ = variant_files(variants, ["pdf"], None, workers=1, echo=lambda _: None)
    assert any("5 versions in 6 XeLaTeX runs on 2 cores" in line for line in lines)
    assert [line.strip() for line in lines if "compiled chunk" in line] == [f"compiled chunk {n} of 6" for n in range(1, 7)]
    for name in ("worksheets.pdf", "keys.pdf"):
        assert chunked[name] == again[name]  # the same bytes with one core or two, run after run
    for name in ("worksheets.pdf", "keys.pdf"):
        pages = _page_texts(chunked[name], tmp_path)
        assert len(pages) == len(_page_texts(whole[name], tmp_path))
        versions = [re.search(r"v0[1-5]", page).group(0) for page in pages]  # each page's header names its version
        assert versions == sorted(versions) and list(dict.fromkeys(versions)) == ["v01", "v02", "v03", "v04", "v05"]


def _first_pages(pdf: bytes, folder: Path, pages: int) -> list[np.ndarray]:
    """The first pages as grey pixels at 100 dpi."""
    (folder / "doc.pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-gray", "-r", "100", "-l", str(pages), str(folder / "doc.pdf"), str(folder / "page")], check=True)
    images = []
    for path in sorted(folder.glob("page-*.pgm")):
        data = path.read_bytes()
        magic, width, height, depth, pixels = data.split(maxsplit=4)
        images.append(np.frombuffer(pixels, dtype=np.uint8).reshape(int(height), int(width)))
        path.unlink()
    return images


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="needs poppler-utils")
def test_a_pack_builds_each_network_once_and_the_pages_look_as_drawn_in_full(tmp_path: Path) -> None:
    from derive.views.pack import render_pack
    from derive.views.pdf import compile_pdf
    from derive.views.templating import _environment

    variants = make_variants(derive.load(EXAMPLES / "2-2-1-linear-mse.yaml"), 2, seed=3)
    bodies = {kind: [derive.views.documents.render(v.problem, kind, "tex_body", "ko", version=v.id, student=None) for v in variants]
              for kind in ("worksheet", "key")}
    for kind, pages, most_pixels_apart in (("worksheet", 8, 0), ("key", 10, 0.001)):
        packed = render_pack(bodies[kind], "ko")
        assert packed.count(r"\begin{tikzpicture}") == 1  # the box, laid over by each key's labels in plain PGF
        in_full = _environment("tex").get_template("pack.tex.j2").render(bodies=bodies[kind], language="ko", pictures=[], with_plots=False)
        assert in_full.count(r"\begin{tikzpicture}") == 2
        shared, drawn = (_first_pages(compile_pdf(source, kind), tmp_path, pages) for source in (packed, in_full))
        assert len(shared) == len(drawn) == pages
        for ours, theirs in zip(shared, drawn, strict=True):
            assert ours.shape == theirs.shape
            assert np.count_nonzero(ours != theirs) <= most_pixels_apart * ours.size


def test_pgfplots_is_loaded_only_by_a_pack_that_plots(tmp_path: Path) -> None:
    """A quarter of a second of every XeLaTeX run: a pack loads pgfplots only when one of its
    bodies has a loss plot (a training run's key), and such a pack still compiles."""
    import yaml

    from derive.views.pack import render_pack
    from derive.views.pdf import compile_pdf

    for name, plots in (("2-2-1-linear-mse.yaml", False), ("2-2-1-adam.yaml", True)):
        spec = yaml.safe_load((EXAMPLES / name).read_text(encoding="utf-8"))
        spec.setdefault("randomize", {"inputs": {"min": 0.1, "max": 0.9}, "weights": {"min": -0.9, "max": 0.9}})
        variants = make_variants(derive.load(spec), 2, seed=5)
        for kind in ("worksheet", "key"):
            bodies = [derive.views.documents.render(v.problem, kind, "tex_body", "en", version=v.id, student=None) for v in variants]
            has_plot = any(r"\begin{axis}" in body for body in bodies)
            packed = render_pack(bodies, "en")
            assert (r"\usepackage{pgfplots}" in packed) == has_plot
            if kind == "key":
                assert has_plot == plots, name
                if plots:
                    assert _page_texts(compile_pdf(packed, "keys"), tmp_path)
                    # the same plot in every body becomes one shared box, and still needs pgfplots
                    assert r"\usepackage{pgfplots}" in render_pack([bodies[0]] * 2, "en")
