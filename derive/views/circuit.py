"""The circuit picture of a computational graph, as drawn on the board: left to right, each
box with its value above and its gradient below. One layout feeds the TikZ picture in
LaTeX and the SVG of Markdown and HTML, so the two never disagree.

Columns and rows come from the layered method in derive/views/layering.py: an edge that
skips columns bends through a point in each column it passes, and the boxes are ordered to
leave as few crossings as the sweeps find (none on the examples and on most random graphs
of up to 30 gates)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..engine.policy import format_number
from .diagram import plain_text
from .layering import layered

if TYPE_CHECKING:
    from ..engine.derivation import Derivation, Step
    from ..engine.graph import Circuit
    from .blocks import Renderer

PAGE_WIDTH = 15.5  # cm the picture may take on an A4 page with 2 cm margins
MAX_COLUMN_GAP = 3.0  # cm
ROW_GAP = 2.3  # cm: the value above one box and the gradient below the next stay apart
NAMED_GAP = 2.2  # cm between columns from which a gate's value label has room for its node's name too
SVG_SCALE = 62  # px per cm
SVG_MARGIN = 46  # px around the picture: room for the labels of the outer boxes
SVG_RADIUS = 17  # px
SVG_MIN_COLUMN = 84  # px between columns: room for a boxed key label between two boxes
DIAGRAM_BLANK = r"\boxed{\rule{0pt}{0.8em}\hspace{0.9cm}}"  # a worksheet's blank on the picture: no label, the text has them

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


@dataclass(frozen=True)
class Edge:
    source: Box
    target: Box
    bends: tuple[tuple[float, float], ...]  # the points (cm) where an edge that skips columns passes them

    def points(self) -> list[tuple[float, float]]:
        return [(self.source.x, self.source.y), *self.bends, (self.target.x, self.target.y)]


@dataclass(frozen=True)
class CircuitLayout:
    boxes: list[Box]
    edges: list[Edge]
    width: float
    height: float
    gap: float  # cm between columns

    def svg(self) -> dict[str, object]:
        """Pixel geometry for circuit.svg.j2: y grows downwards, arrows stop at the circles.
        Columns squeezed onto the page are spread to SVG_MIN_COLUMN px apart, so the labels
        of a deep circuit stay apart; the page scrolls such a picture in its own box."""
        across = max(SVG_SCALE, SVG_MIN_COLUMN / self.gap) if self.gap else SVG_SCALE

        def at(x: float, y: float) -> tuple[float, float]:
            return round(SVG_MARGIN + x * across, 1), round(SVG_MARGIN + 14 + y * SVG_SCALE, 1)

        def px(box: Box) -> tuple[float, float]:
            return at(box.x, box.y)

        edges = []
        for edge in self.edges:
            points = [at(x, y) for x, y in edge.points()]
            points[0] = _towards(points[0], points[1], SVG_RADIUS)
            points[-1] = _towards(points[-1], points[-2], SVG_RADIUS + 2)
            edges.append({"points": " ".join(f"{x:g},{y:g}" for x, y in points)})
        boxes = [{"center": px(box), "inside": box.inside[1], "leaf": box.is_leaf,
                  "labels": [(side, text, DIAGRAM_BLANK in latex, r"\boxed{" in latex and DIAGRAM_BLANK not in latex)
                             for side, (latex, text) in (("value", box.value), ("gradient", box.gradient)) if latex]}
                 for box in self.boxes]
        return {"width": round(2 * SVG_MARGIN + self.width * across), "height": round(2 * SVG_MARGIN + 28 + self.height * SVG_SCALE),
                "radius": SVG_RADIUS, "boxes": boxes, "edges": edges}


def _towards(start: tuple[float, float], end: tuple[float, float], distance: float) -> tuple[float, float]:
    """The point `distance` px from `start` towards `end`: an arrow stops at a circle's rim."""
    length = max(((end[0] - start[0]) ** 2 + (end[1] - start[1]) ** 2) ** 0.5, 1e-9)
    return (round(start[0] + (end[0] - start[0]) / length * distance, 1), round(start[1] + (end[1] - start[1]) / length * distance, 1))


def circuit_layout(derivation: Derivation, renderer: Renderer, kind: str) -> CircuitLayout:
    """Every box placed, with the value above and the gradient below as this kind of
    document shows them: numbers (handout), blanks (worksheet) or boxed numbers (key)."""
    circuit: Circuit = derivation.network  # type: ignore[assignment]
    names = [*circuit.leaves, *(gate.name for gate in circuit.gates)]
    drawing = layered(names, [(source, gate.name) for gate in circuit.gates for source in gate.inputs])
    grid = [[name for name in layer if not drawing.is_dummy(name)] for layer in drawing.layers]
    gap = min(MAX_COLUMN_GAP, PAGE_WIDTH / max(len(grid) - 1, 1))
    ops = {gate.name: gate.op for gate in circuit.gates}
    gates_drawn = circuit.graph.granularity == "gates"
    output = circuit.loss_symbol
    nodes = {name for name, _ in circuit.graph.assignments()}
    placed: dict[str, Box] = {}
    for index, column in enumerate(grid):
        for row, name in enumerate(column):
            name_latex = circuit.latex(name)
            if name in ops and gates_drawn:
                inside = (OP_LATEX.get(ops[name], name_latex), OP_TEXT.get(ops[name], name))
            else:
                inside = (name_latex, "".join(plain_text(name_latex)))
            value = _label(derivation, renderer, name, kind)
            if gates_drawn and name in nodes and value[0] and gap >= NAMED_GAP:  # which gate is q: its name beside its value
                value = (f"{name_latex} = {value[0]}", f"{''.join(plain_text(name_latex))} = {value[1]}" if value[1] else "")
            gradient_id = f"d{output}/d{name}"
            gradient = _label(derivation, renderer, gradient_id, kind) if gradient_id in derivation else ("", "")
            if name == output:
                gradient = ("1", "1")
            placed[name] = Box(f"c{index}r{row}", name, index * gap, drawing.row[name] * ROW_GAP, inside, name not in ops,
                               value, gradient)
    column = {name: index for index, layer in enumerate(drawing.layers) for name in layer}
    edges = [Edge(placed[source], placed[gate.name],
                  tuple((column[point] * gap, drawing.row[point] * ROW_GAP) for point in drawing.routes[source, gate.name]))
             for gate in circuit.gates for source in gate.inputs]
    return CircuitLayout(list(placed.values()), edges, (len(grid) - 1) * gap, max(drawing.row.values()) * ROW_GAP, gap)


def _label(derivation: Derivation, renderer: Renderer, step_id: str, kind: str) -> tuple[str, str]:
    """A value or gradient as LaTeX (plain, a small blank, or boxed, by kind) and as plain
    text for SVG; a leaf's given number is printed as given."""
    circuit: Circuit = derivation.network  # type: ignore[assignment]
    if step_id not in derivation:
        given = circuit.graph.leaves.get(step_id)
        text = format_number(given) if given is not None else ""
        return text, text
    step: Step = derivation[step_id]
    if step.value is None:
        return "", ""
    shown = renderer.number(step)
    if kind == "worksheet":
        return DIAGRAM_BLANK, ""
    return (rf"\boxed{{{shown}}}" if kind == "key" else shown), shown
