"""A deck (slides.py) as Beamer source, as an HTML deck, and the files `--format slides`
writes: slides.tex, slides.pdf and slides.html. Both templates get the same frames, so the
PDF has one page per build and the HTML deck one step per build."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import markupsafe

from .documents import MATHJAX_URL
from .slides import Deck, Frame, build_deck
from .slides_words import WORDS
from .templating import _environment

if TYPE_CHECKING:
    from ..engine.problem import Problem

SVG_CM = 62  # px per slide centimetre in the HTML deck's picture
SVG_MARGIN = 26  # px


def overlay(builds: list[int]) -> str:
    """Builds as a Beamer overlay specification: [2, 3, 4, 7] -> "2-4,7"."""
    runs: list[list[int]] = []
    for build in builds:
        if runs and build == runs[-1][1] + 1:
            runs[-1][1] = build
        else:
            runs.append([build, build])
    return ",".join(str(a) if a == b else f"{a}-{b}" for a, b in runs)


def _cells(frame: Frame) -> list[tuple[str, str, int]]:
    """Each row of the frame's lines as (head, rest, build): the rest keeps its leading
    relation a relation ({}= ...) when it is typeset on its own."""
    cells = []
    for rows, build in frame.lines:
        for row in rows:
            head, _, rest = row.partition("&")
            cells.append((head.strip(), "{}" + rest.strip() if rest.strip().startswith("=") else rest.strip(), build))
    return cells


def _picture(deck: Deck, frame: Frame) -> dict[str, object]:
    """The picture on one frame: each element with the builds it is lit on and the value
    the derivation has given it so far."""
    index = {mark.key: number for number, mark in enumerate(deck.marks)}
    top = max(mark.y for mark in deck.marks)
    left = min(mark.x for mark in deck.marks)

    def px(x: float, y: float) -> tuple[float, float]:
        return round(SVG_MARGIN + (x - left) * SVG_CM, 1), round(SVG_MARGIN + (top - y) * SVG_CM, 1)

    radius = deck.node_size / 2 * SVG_CM
    nodes = [{
        "name": f"m{number}", "mark": mark, "lit": frame.lit_on(mark.key), "value": frame.values.get(mark.key, ""),
        "px": px(mark.x, mark.y),
    } for number, mark in enumerate(deck.marks)]
    edges = []
    for link in deck.links:
        (x1, y1), (x2, y2) = px(link.source.x, link.source.y), px(link.target.x, link.target.y)
        length = max(((x2 - x1) ** 2 + (y2 - y1) ** 2) ** 0.5, 1e-9)
        ux, uy = (x2 - x1) / length, (y2 - y1) / length
        edges.append({
            "source": f"m{index[link.source.key]}", "target": f"m{index[link.target.key]}", "link": link,
            "lit": frame.lit_on(link.key), "value": frame.values.get(link.key, ""),
            "line": (round(x1 + ux * radius, 1), round(y1 + uy * radius, 1), round(x2 - ux * (radius + 3), 1), round(y2 - uy * (radius + 3), 1)),
            "label": (round(x1 + (radius + 0.3 * (length - 2 * radius)) * ux + uy * 8, 1),
                      round(y1 + (radius + 0.3 * (length - 2 * radius)) * uy - ux * 8, 1)),
        })
    width = (max(mark.x for mark in deck.marks) - left) * SVG_CM + 2 * SVG_MARGIN
    height = (top - min(mark.y for mark in deck.marks)) * SVG_CM + 2 * SVG_MARGIN + 10
    return {"nodes": nodes, "edges": edges, "width": round(width), "height": round(height), "radius": round(radius, 1)}


def _context(deck: Deck) -> dict[str, object]:
    frames = [{
        "frame": frame, "cells": _cells(frame), "picture": _picture(deck, frame),
    } for frame in deck.frames]
    return {"deck": deck, "frames": frames, "overlay": overlay, "pages": deck.pages, "words": WORDS[deck.language]}


def render_slides(deck: Deck, fmt: str, mathjax_url: str = MATHJAX_URL, user_templates: Path | None = None) -> str:
    """slides.tex (fmt "tex") or slides.html (fmt "html"), from a user's `--templates`
    folder where it has slides.tex.j2 or slides.html.j2 (in the sandbox, as documents)."""
    template = "slides.tex.j2" if fmt == "tex" else "slides.html.j2"
    context = _context(deck)
    if fmt == "html":
        context["mathjax_url"] = mathjax_url
    return _environment(fmt, user_templates).get_template(template).render(context, markup=markupsafe.Markup)


def compile_slides(tex: str) -> tuple[bytes, str]:
    """slides.pdf and XeLaTeX's log (the tests read its overfull boxes). Beamer loads
    hyperref, which under XeTeX loads the font pzdr (Debian's texlive-fonts-recommended,
    which scripts/install-tex and .ci/run install)."""
    from .pdf import compile_with_log

    return compile_with_log(tex, "slides")


def slide_files(
    problem: Problem, language: str | None, mathjax_url: str = MATHJAX_URL,
    *, every: bool = False, prefix: str = "", user_templates: Path | None = None, iterations: str = "first",
) -> tuple[dict[str, bytes], list[str]]:
    """slides.tex, slides.pdf and slides.html (under `prefix`, a version's folder), and
    notes for the user (a PDF skipped for want of TeX). `iterations` is --iterations: with
    steps > 1, the later iterations in a table ("first") or worked in full ("all")."""
    from .pdf import TexMissing

    deck = build_deck(problem, language, every, iterations)
    tex = render_slides(deck, "tex", user_templates=user_templates)
    html = render_slides(deck, "html", mathjax_url, user_templates)
    files = {f"{prefix}slides.tex": tex.encode(), f"{prefix}slides.html": html.encode()}
    notes: list[str] = []
    try:
        files[f"{prefix}slides.pdf"] = compile_slides(tex)[0]
    except TexMissing as missing:
        notes.append(f"note: slides.pdf skipped: {missing}.")
    return files, notes
