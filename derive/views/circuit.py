"""The circuit picture of a computational graph, as drawn on the board: left to right, each
box with its value above and its gradient below. One layout feeds the TikZ picture in
LaTeX and the SVG of Markdown and HTML, so the two never disagree.

Columns and rows come from the layered method in derive/views/layering.py: an edge that
skips columns bends through a point in each column it passes, and the boxes are ordered to
leave as few crossings as the sweeps find (none on the examples and on most random graphs
of up to 30 gates). Columns are as close as the widest label allows (least_gap), so a
picture of small numbers may take 12 columns and stay in one piece; a circuit too deep for
the page's width at that gap is cut into bands stacked top to bottom (one tikzpicture each,
so a page may break between them)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..engine.policy import format_number
from .diagram import plain_text, svg_minus
from .layering import Layered, bands, layered

if TYPE_CHECKING:
    from ..engine.derivation import Derivation, Step
    from ..engine.graph import Circuit
    from .blocks import Renderer

TEXT_WIDTH = 17.0  # cm: an A4 page with 2 cm margins, which the picture and its outer labels fit
PAGE_WIDTH = 15.5  # cm the outer columns may span at most (less where the labels are wider: column_span)
MAX_COLUMN_GAP = 3.0  # cm
ROW_GAP = 2.3  # cm: the value above one box and the gradient below the next stay apart
# A column of many boxes (a neuron of 13 inputs) is set closer, down to where a key's boxed
# gradient below one box and a worksheet's blank above the next still keep 1 mm apart, so the
# picture fits the page's 25.7 cm with its outer labels.
ROW_LEAST = 2.0  # cm: the box (0.8) and two labels (0.53 each, a blank with its frame) and 1 mm
PICTURE_HEIGHT = 24.0  # cm between the first and last rows' centres
PT = 2.54 / 72.27  # cm
FRAME = 2 * 3.4 * PT  # cm \boxed adds: \fboxsep (3 pt) and the rule (0.4 pt) on each side
LABEL_CLEARANCE = 0.24  # cm between the frames of two labels side by side: 12 columns of -0.453 on a line, 11 of -0.0779
NAME_ROOM = 0.8  # cm a gate's value label takes with its node's name (q = 0.5) over the least gap
NAMED_OVERHANG = 0.6  # cm a named label (n4 = 0.242) at a band's last column reaches past a plain one: the page keeps room
SVG_SCALE = 62  # px per cm
SVG_MARGIN = 46  # px around the picture: room for the labels of the outer boxes
SVG_RADIUS = 17  # px
SVG_BAND_GAP = 24  # px between two bands of a deep circuit
COPY = "\x01"  # prefix of a copy's name in a band's layout: no spec name holds one
BLANK_WIDTH = 0.8  # cm: a worksheet's blank on the picture marks the place; the text has the labelled blanks
DIAGRAM_BLANK = rf"\boxed{{\rule{{0pt}}{{0.8em}}\hspace{{{BLANK_WIDTH}cm}}}}"

# The symbol inside a gate's box; a node (granularity: nodes) and a leaf show their name.
OP_LATEX = {"add": "+", "multiply": r"\times", "negate": "-", "reciprocal": "1/x", "power": "x^{n}", "exp": r"\exp",
            "log": r"\log", "tanh": r"\tanh", "sinh": r"\sinh", "cosh": r"\cosh", "sin": r"\sin", "cos": r"\cos",
            "sigmoid": r"\sigma", "relu": r"\mathrm{relu}", "max": r"\max", "min": r"\min", "abs": "|x|", "copy": "="}
OP_TEXT = {"add": "+", "multiply": "×", "negate": "−", "reciprocal": "1/x", "power": "xⁿ", "exp": "exp", "log": "log",
           "tanh": "tanh", "sinh": "sinh", "cosh": "cosh", "sin": "sin", "cos": "cos", "sigmoid": "σ", "relu": "relu",
           "max": "max", "min": "min", "abs": "|x|", "copy": "="}


@dataclass(frozen=True)
class Box:
    key: str  # TikZ node name
    name: str
    x: float
    y: float
    inside: tuple[str, str]  # LaTeX and plain text in the box
    is_leaf: bool
    value: tuple[str, str]  # above: LaTeX and plain text ("" for none)
    gradient: tuple[str, str]  # below
    is_copy: bool = False  # a value drawn again, dashed, at the start of a later band
    is_named: bool = False  # the value label carries the gate's name (q = 0.5): wider than a number


@dataclass(frozen=True)
class Edge:
    source: Box
    target: Box
    bends: tuple[tuple[float, float], ...]  # the points (cm) where an edge that skips columns passes them

    def points(self) -> list[tuple[float, float]]:
        return [(self.source.x, self.source.y), *self.bends, (self.target.x, self.target.y)]


@dataclass(frozen=True)
class Band:
    """One row of the picture, read left to right; a circuit too deep for one row of the
    page goes on in the band below, its values from above drawn again, dashed."""
    boxes: list[Box]
    edges: list[Edge]
    width: float
    height: float


@dataclass(frozen=True)
class CircuitLayout:
    bands: list[Band]
    gap: float  # cm between columns

    def svg(self) -> dict[str, object]:
        """Pixel geometry for circuit.svg.j2: y grows downwards, arrows stop at the circles,
        the bands stacked one below the other."""
        top = 0.0
        edges, boxes, rules = [], [], []
        for band in self.bands:
            def at(x: float, y: float, top: float = top) -> tuple[float, float]:
                return round(SVG_MARGIN + x * SVG_SCALE, 1), round(top + SVG_MARGIN + 14 + y * SVG_SCALE, 1)

            for edge in band.edges:
                points = [at(x, y) for x, y in edge.points()]
                points[0] = _towards(points[0], points[1], SVG_RADIUS)
                points[-1] = _towards(points[-1], points[-2], SVG_RADIUS + 2)
                edges.append({"points": " ".join(f"{x:g},{y:g}" for x, y in points)})
            boxes += [{"center": at(box.x, box.y), "inside": box.inside[1], "leaf": box.is_leaf, "again": box.is_copy,
                       "labels": [_svg_label(at(box.x, box.y), side, latex, text)
                                  for side, (latex, text) in (("value", box.value), ("gradient", box.gradient)) if latex]}
                      for box in band.boxes]
            if top:
                rules.append(round(top + SVG_BAND_GAP / 2, 1))
            top += 2 * SVG_MARGIN + 28 + band.height * SVG_SCALE + SVG_BAND_GAP
        width = max(band.width for band in self.bands)
        return {"width": round(2 * SVG_MARGIN + width * SVG_SCALE), "height": round(top - SVG_BAND_GAP),
                "radius": SVG_RADIUS, "boxes": boxes, "edges": edges, "rules": rules}


def _svg_label(center: tuple[float, float], side: str, latex: str, text: str) -> dict[str, object]:
    """Where a value (above the circle) or a gradient (below) is written, in px rounded to
    0.1 so no float noise (249.89999999999998) reaches the file: a blank is a 44 px box
    with the node's name, if any, to its left; a key's number has a frame that fits it."""
    top = center[1] - SVG_RADIUS - 19 if side == "value" else center[1] + SVG_RADIUS + 3
    blank = DIAGRAM_BLANK in latex
    frame = 44.0 if blank else 7.2 * len(text) + 8
    return {"colour": "#2a6b2a" if side == "value" else "#a33", "text": text, "blank": blank,
            "boxed": r"\boxed{" in latex and not blank, "top": round(top, 1), "baseline": round(top + 12, 1),
            "frame_x": round(center[0] - frame / 2, 1), "frame_width": round(frame, 1), "name_x": round(center[0] - 25, 1)}


def _towards(start: tuple[float, float], end: tuple[float, float], distance: float) -> tuple[float, float]:
    """The point `distance` px from `start` towards `end`: an arrow stops at a circle's rim."""
    length = max(((end[0] - start[0]) ** 2 + (end[1] - start[1]) ** 2) ** 0.5, 1e-9)
    return (round(start[0] + (end[0] - start[0]) / length * distance, 1), round(start[1] + (end[1] - start[1]) / length * distance, 1))


def circuit_layout(derivation: Derivation, renderer: Renderer, kind: str) -> CircuitLayout:
    """Every box placed, with the value above and the gradient below as this kind of
    document shows them: numbers (handout), blanks (worksheet) or boxed numbers (key). A
    circuit wider than column_span at least_gap is cut into bands (derive/views/layering.py
    chooses the cuts), each laid out on its own, so its columns keep that gap. A band may
    hold one column fewer than a single picture: a gate carried on to the next band is named
    at its value (n4 = 0.242), and at the band's last column that label needs NAMED_OVERHANG."""
    circuit: Circuit = derivation.network  # type: ignore[assignment]
    names = (*circuit.leaves, *(gate.name for gate in circuit.gates))
    edges = tuple((source, gate.name) for gate in circuit.gates for source in gate.inputs)
    least, room = least_gap(derivation, renderer), column_span(derivation, renderer)
    most = max(2, int(room / least) + 1)
    whole = layered(names, edges, most)
    drawings = [whole]
    carried: set[str] = set()  # the names drawn again, dashed, in a later band
    if len(whole.layers) > most:
        most = max(2, int((room - NAMED_OVERHANG) / least) + 1)
        column = {name: index for index, layer in enumerate(whole.layers) for name in layer}
        for leaf in circuit.leaves:  # in the band of its first use, left of which it is drawn
            column[leaf] = min(column[target] for source, target in edges if source == leaf)
        drawings = []
        for span in bands(column, edges, len(whole.layers), most - 1):
            again = [(source, target) for source, target in edges if column[source] < span.start and column[target] in span]
            carried |= {source for source, _ in again}
            copies = [COPY + name for name in dict.fromkeys(source for source, _ in again)]
            drawings.append(layered((*copies, *(name for name in names if column[name] in span)),
                                    tuple((COPY + source if column[source] < span.start else source, target)
                                          for source, target in edges if column[target] in span), most))
    rows = max(max(drawing.row.values()) for drawing in drawings)
    row_gap = max(ROW_LEAST, min(ROW_GAP, PICTURE_HEIGHT / rows)) if rows else ROW_GAP

    def laid_out(width: float) -> CircuitLayout:
        gap = min(MAX_COLUMN_GAP, width / max(max(len(drawing.layers) for drawing in drawings) - 1, 1))
        return CircuitLayout([_band(derivation, renderer, kind, drawing, number, gap, row_gap, carried, gap >= least + NAME_ROOM)
                              for number, drawing in enumerate(drawings)], gap)

    layout = laid_out(room)
    if any(band.width > room - NAMED_OVERHANG and any(box.is_named and box.x >= band.width for box in band.boxes)
           for band in layout.bands):
        layout = laid_out(room - NAMED_OVERHANG)  # fewer labels are named at a narrower gap, none wider
    return layout


def least_gap(derivation: Derivation, renderer: Renderer) -> float:
    """The least distance (cm) between two columns: the widest label and LABEL_CLEARANCE."""
    return widest_label(derivation, renderer) + LABEL_CLEARANCE


def column_span(derivation: Derivation, renderer: Renderer) -> float:
    """How far apart (cm) the first and last columns may be: PAGE_WIDTH, or less where the
    outer labels' halves would reach past the text (labels of 9 decimals, 1.9 cm wide)."""
    return min(PAGE_WIDTH, TEXT_WIDTH - widest_label(derivation, renderer))


def widest_label(derivation: Derivation, renderer: Renderer) -> float:
    """The widest label (cm) any kind of document draws: a key's boxed number, a given
    number, a worksheet's blank. Read off the key's labels for every kind, so a worksheet's
    picture is its key's, box for box."""
    circuit: Circuit = derivation.network  # type: ignore[assignment]
    output = circuit.loss_symbol
    widths = [BLANK_WIDTH + FRAME]
    for name in (*circuit.leaves, *(gate.name for gate in circuit.gates)):
        for step_id in (name, f"d{output}/d{name}"):
            latex, text = _label(derivation, renderer, step_id, "key")
            widths.append(label_width(text) + (FRAME if latex.startswith(r"\boxed") else 0))
    return max(widths)


def label_width(number: str) -> float:
    """A number's width in cm as the labels' \\scriptsize math sets it in an 11 pt document:
    Computer Modern at its 8 pt design size (cmr8, cmsy8), whose digit is 4.25 pt wide, the
    point 2.36 pt, the minus 6.61 pt. Checked against the words' boxes in compiled pictures
    (tests/views/test_circuit.py)."""
    return sum(6.61 if char in "-\u2212" else 2.36 if char == "." else 4.25 for char in number) * PT


def _band(derivation: Derivation, renderer: Renderer, kind: str, drawing: Layered, number: int, gap: float, row_gap: float,
          carried: set[str], names_fit: bool) -> Band:
    """One band's boxes and edges; a gate whose value goes on in a later band is named
    beside its value, which is how its dashed copy there is found."""
    circuit: Circuit = derivation.network  # type: ignore[assignment]
    grid = [[name for name in layer if not drawing.is_dummy(name)] for layer in drawing.layers]
    ops = {gate.name: gate.op for gate in circuit.gates}
    gates_drawn = circuit.graph.granularity == "gates"
    output = circuit.loss_symbol
    nodes = {name for name, _ in circuit.graph.assignments()}
    placed: dict[str, Box] = {}
    for index, column in enumerate(grid):
        for row, key in enumerate(column):
            name = key.removeprefix(COPY)
            name_latex = circuit.latex(name)
            at = (f"b{number}c{index}r{row}", name, index * gap, drawing.row[key] * row_gap)
            if key != name:
                placed[key] = Box(*at, (name_latex, "".join(plain_text(name_latex))), name not in ops, ("", ""), ("", ""), True)
                continue
            if name in ops and gates_drawn:
                inside = (OP_LATEX.get(ops[name], name_latex), OP_TEXT.get(ops[name], name))
            else:
                inside = (name_latex, "".join(plain_text(name_latex)))
            value = _label(derivation, renderer, name, kind)
            named = name in carried or (name in nodes and names_fit)  # which gate is q: its name beside its value
            named = named and gates_drawn and name in ops and bool(value[0])
            if named:
                plain = "".join(plain_text(name_latex))
                value = (f"{name_latex} = {value[0]}", f"{plain} = {value[1]}" if value[1] else f"{plain} =")
            gradient_id = f"d{output}/d{name}"
            gradient = _label(derivation, renderer, gradient_id, kind) if gradient_id in derivation else ("", "")
            if name == output:
                gradient = ("1", "1")
            placed[key] = Box(*at, inside, name not in ops, value, gradient, is_named=named)
    column = {name: index for index, layer in enumerate(drawing.layers) for name in layer}
    edges = [Edge(placed[source], placed[target], tuple((column[point] * gap, drawing.row[point] * row_gap) for point in points))
             for (source, target), points in drawing.routes.items()]
    return Band(list(placed.values()), edges, (len(grid) - 1) * gap, max(drawing.row.values()) * row_gap)


def _label(derivation: Derivation, renderer: Renderer, step_id: str, kind: str) -> tuple[str, str]:
    """A value or gradient as LaTeX (plain, a small blank, or boxed, by kind) and as plain
    text for SVG; a leaf's given number is printed as given."""
    circuit: Circuit = derivation.network  # type: ignore[assignment]
    if step_id not in derivation:
        given = circuit.graph.leaves.get(step_id)
        text = format_number(given) if given is not None else ""
        return text, svg_minus(text)
    step: Step = derivation[step_id]
    if step.value is None:
        return "", ""
    shown = renderer.number(step)
    if kind == "worksheet":
        return DIAGRAM_BLANK, ""
    return (rf"\boxed{{{shown}}}" if kind == "key" else shown), svg_minus(shown)
