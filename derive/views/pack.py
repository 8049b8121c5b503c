"""A class pack's LaTeX: many versions' bodies in one source, for one XeLaTeX run.

TikZ is the dearest part of a version for XeLaTeX: the 2-2-1 network costs about 50 ms a
picture (measured over 300 copies), against about 20 ms for the rest of a four-page
worksheet, and a class draws the same network a thousand times. So a pack builds each
network once, into a box at the start of the document:

- a picture that repeats whole (every worksheet's: its labels are the weights' names) is
  that box, placed at each appearance;
- a picture that differs only in its edge labels (every key's: the labels carry the
  weights' values) is the box of its units and arrows, with its labels laid over it as
  plain PGF text boxes: while the box is built, an empty label with each edge's options
  records where TikZ puts it, at what angle and in what font size, and the box's corner.

A worksheet's pages are the ones the full pictures give, pixel for pixel; a key's differ
from them only in TeX's rounding of the recorded lengths (at 200 dpi, 193 of 3.9 million
pixels of a first page, by at most 24 grey levels of 255). Measured on 100 keys at load
10: 5.5 CPU s of XeLaTeX against 11.8 s with the pictures drawn in full. (A label reaching
out of its units' box would widen TikZ's picture a little more than the overlay's: the
network's labels sit between units a centimetre tall.)"""

from __future__ import annotations

import itertools
import re
import string
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

from .templating import _environment

PICTURE = re.compile(r"\\begin\{tikzpicture\}.*?\\end\{tikzpicture\}", re.S)
# A labelled edge of the network picture (tex/body.tex.j2), one a line.
LABELLED_EDGE = re.compile(r"^\\draw\[->\] \((?P<source>[\w-]+)\) -- node\[(?P<options>[^\]\n]*)\] \{(?P<label>[^\n]*)\} \((?P<target>[\w-]+)\);$", re.M)
PICTURE_END = r"\end{tikzpicture}"
PLOT = r"\begin{axis}"  # a pgfplots plot (the loss per iteration, tex/body.tex.j2)


@dataclass(frozen=True)
class SharedBox:
    """One box built at the start of the pack: its TeX name and the picture it holds."""

    name: str
    source: str


def render_pack(bodies: list[str], language: str) -> str:
    """Many documents' bodies in one LaTeX file, each repeated network built once."""
    pictures = [match.group(0) for body in bodies for match in PICTURE.finditer(body)]
    whole = Counter(pictures)
    skeletons = Counter(_skeleton(picture) for picture in pictures if whole[picture] == 1 and LABELLED_EDGE.search(picture))
    boxes: dict[str, SharedBox] = {}  # picture or skeleton -> its box, in order of first use

    def placed(match: re.Match[str]) -> str:
        picture = match.group(0)
        if whole[picture] > 1:
            if picture not in boxes:
                boxes[picture] = SharedBox(_box_name(len(boxes)), picture)
            return rf"\usebox{{{boxes[picture].name}}}"
        skeleton = _skeleton(picture)
        if skeletons.get(skeleton, 0) > 1:
            if skeleton not in boxes:
                name = _box_name(len(boxes))
                boxes[skeleton] = SharedBox(name, _recording(skeleton, picture, name))
            return _overlay(picture, boxes[skeleton].name)
        return picture

    # pgfplots costs a quarter of a second of every XeLaTeX run that loads it; only a training
    # run's loss plot needs it (asked of the bodies before a repeated plot becomes a box).
    with_plots = any(PLOT in body for body in bodies)
    bodies = [PICTURE.sub(placed, body) for body in bodies]
    shared = [(box.name, box.source) for box in boxes.values()]
    return _environment("tex").get_template("pack.tex.j2").render(bodies=bodies, language=language, pictures=shared,
                                                                  with_plots=with_plots)


def _skeleton(picture: str) -> str:
    """The picture without its edge labels (what the versions' pictures have in common),
    each label's options kept in a comment: they decide where a label goes."""
    return LABELLED_EDGE.sub(lambda edge: rf"\draw[->] ({edge['source']}) -- ({edge['target']});% a label: {edge['options']}", picture)


def _recording(skeleton: str, picture: str, name: str) -> str:
    r"""The skeleton, recording as it is built, for each labelled edge, where and at what
    angle an empty label with the edge's options sits, and the font it is set in, and the
    picture's lower left corner, in global macros (`\derivepictureAqax`: box A, the empty
    label of edge a, its centre's x). A label's text then goes where the empty label's
    centre is, at its angle, with its bottom there, as TikZ would put it."""
    lines = []
    font = rf"\noexpand\fontsize{{\csname f@size\endcsname}}{{\csname f@baselineskip\endcsname}}\noexpand\selectfont"
    for letter, edge in zip(_letters(), LABELLED_EDGE.finditer(picture)):
        record_font = rf"\xdef{name}f{letter}{{{font}}}"
        lines.append(rf"\path ({edge['source']}) -- node[{edge['options']}] (derive-label) {{{record_font}}} ({edge['target']});")
        lines.append(_recorded("derive-label", "center", f"{name}q{letter}"))
        lines.append(rf"\pgfmathanglebetweenpoints{{\pgfpointanchor{{derive-label}}{{west}}}}{{\pgfpointanchor{{derive-label}}{{east}}}}"
                     rf"\xdef{name}r{letter}{{\pgfmathresult}}")
    lines.append(_recorded("current bounding box", "south west", f"{name}sw"))
    body = skeleton[: -len(PICTURE_END)]
    return body + "\n".join(lines) + "\n" + PICTURE_END


def _recorded(node: str, anchor: str, macro: str) -> str:
    return rf"\pgfpointanchor{{{node}}}{{{anchor}}}\pgfgetlastxy{{\derivex}}{{\derivey}}\xdef{macro}x{{\derivex}}\xdef{macro}y{{\derivey}}"


def _overlay(picture: str, name: str) -> str:
    """The picture as its skeleton's box with its own labels laid over it (PGF's plain
    text boxes: no TikZ node to build)."""
    lines = [r"\begin{pgfpicture}", rf"\pgftext[at=\pgfpoint{{{name}swx}}{{{name}swy}}, left, bottom]{{\usebox{{{name}}}}}"]
    for letter, edge in zip(_letters(), LABELLED_EDGE.finditer(picture)):
        lines.append(rf"\pgftext[at=\pgfpoint{{{name}q{letter}x}}{{{name}q{letter}y}}, rotate={name}r{letter}, bottom]{{{name}f{letter}{edge['label']}}}")
    return "\n".join([*lines, r"\end{pgfpicture}"])


def _letters() -> Iterator[str]:
    """a, b, ... aa: one per labelled edge, for the recorded macros' names."""
    return (_box_name(number).removeprefix("\\derivepicture").lower() for number in itertools.count())


def _box_name(number: int) -> str:
    r"""`\derivepictureA`, `B`, ... `AA`: TeX's control words are letters only."""
    letters = ""
    number += 1
    while number:
        number, digit = divmod(number - 1, 26)
        letters = string.ascii_uppercase[digit] + letters
    return rf"\derivepicture{letters}"
