"""The circuit picture of a computational graph, as drawn on the board: left to right, each
box with its value above and its gradient below. One layout feeds the TikZ picture in
LaTeX and the SVG of Markdown and HTML, so the two never disagree.

Columns are depths (a gate one column right of its deepest input; a leaf just left of its
first use, so no edge runs back); within a column the boxes are ordered by the mean row of
their neighbours, sweeping right and left a few times, the barycentre heuristic that leaves
a board-sized circuit with few or no crossings."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..engine.policy import format_number
from .diagram import plain_text

if TYPE_CHECKING:
    from ..engine.derivation import Derivation, Step
    from ..engine.graph import Circuit
    from .blocks import Renderer

PAGE_WIDTH = 15.5  # cm the picture may take on an A4 page with 2 cm margins
MAX_COLUMN_GAP = 3.0  # cm
ROW_GAP = 2.3  # cm: the value above one box and the gradient below the next stay apart
SWEEPS = 6
NAMED_GAP = 2.2  # cm between columns from which a gate's value label has room for its node's name too
SVG_SCALE = 62  # px per cm
SVG_MARGIN = 46  # px around the picture: room for the labels of the outer boxes
SVG_RADIUS = 17  # px
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
class CircuitLayout:
    boxes: list[Box]
    edges: list[tuple[Box, Box]]
    width: float
    height: float

    def svg(self) -> dict[str, object]:
        """Pixel geometry for circuit.svg.j2: y grows downwards, arrows stop at the circles."""
        def px(box: Box) -> tuple[float, float]:
            return round(SVG_MARGIN + box.x * SVG_SCALE, 1), round(SVG_MARGIN + 14 + box.y * SVG_SCALE, 1)

        edges = []
        for source, target in self.edges:
            (x1, y1), (x2, y2) = px(source), px(target)
            length = max(((x2 - x1) ** 2 + (y2 - y1) ** 2) ** 0.5, 1e-9)
            ux, uy = (x2 - x1) / length, (y2 - y1) / length
            edges.append({"x1": round(x1 + ux * SVG_RADIUS, 1), "y1": round(y1 + uy * SVG_RADIUS, 1),
                          "x2": round(x2 - ux * (SVG_RADIUS + 2), 1), "y2": round(y2 - uy * (SVG_RADIUS + 2), 1)})
        boxes = [{"center": px(box), "inside": box.inside[1], "leaf": box.is_leaf,
                  "labels": [(side, text, DIAGRAM_BLANK in latex, r"\boxed{" in latex and DIAGRAM_BLANK not in latex)
                             for side, (latex, text) in (("value", box.value), ("gradient", box.gradient)) if latex]}
                 for box in self.boxes]
        return {"width": round(2 * SVG_MARGIN + self.width * SVG_SCALE), "height": round(2 * SVG_MARGIN + 28 + self.height * SVG_SCALE),
                "radius": SVG_RADIUS, "boxes": boxes, "edges": edges}


def columns(circuit: Circuit) -> list[list[str]]:
    """The names column by column, in the order that keeps edges from crossing."""
    depth: dict[str, int] = {}
    for gate in circuit.gates:
        depth[gate.name] = 1 + max((depth.get(name, 0) for name in gate.inputs), default=0)
    for name in circuit.leaves:
        depth[name] = min(depth[gate.name] for gate in circuit.uses(name)) - 1
    count = max(depth.values()) + 1
    grid: list[list[str]] = [[] for _ in range(count)]
    for name in [*circuit.leaves, *(gate.name for gate in circuit.gates)]:
        grid[depth[name]].append(name)
    inputs = {gate.name: gate.inputs for gate in circuit.gates}
    consumers = {name: [gate.name for gate in circuit.uses(name)] for name in depth}
    for sweep in range(SWEEPS):
        row = {name: index for column in grid for index, name in enumerate(column)}
        order = range(1, count) if sweep % 2 == 0 else range(count - 2, -1, -1)
        for index in order:
            neighbours = inputs if sweep % 2 == 0 else consumers
            def centre(name: str) -> float:
                near = [row[other] / max(len(grid[depth[other]]), 1) for other in neighbours.get(name, ()) if other in row]
                return sum(near) / len(near) if near else row[name] / max(len(grid[index]), 1)
            grid[index] = sorted(grid[index], key=lambda name: (centre(name), row[name]))
            row.update({name: position for position, name in enumerate(grid[index])})
    return grid


def rows(grid: list[list[str]], edges: list[tuple[str, str]]) -> dict[str, float]:
    """Each box's row (in units of ROW_GAP): the columns centred, then each box moved to the
    free half-row of its column with the fewest crossings while that removes some, counted
    on the straight edges as drawn; an edge that skips columns crosses too, and one that runs
    through a box counts as a crossing, so the search leaves gaps for the long edges."""
    tallest = max(len(column) for column in grid)
    at = {name: (float(index), (tallest - len(column)) / 2 + row) for index, column in enumerate(grid) for row, name in enumerate(column)}
    best = crossings(edges, at)
    places = [step / 2 for step in range(2 * tallest - 1)]
    for _ in range(SWEEPS):
        improved = False
        for column in grid:
            for name in column:
                if best == 0:
                    return {name: y for name, (_, y) in at.items()}
                x, start = at[name]
                taken = [at[other][1] for other in column if other != name]
                for y in places:
                    if y == start or any(abs(y - other) < 1 for other in taken):
                        continue
                    at[name] = (x, y)
                    count = crossings(edges, at)
                    if count < best:
                        best, improved, start = count, True, y
                    else:
                        at[name] = (x, start)
        if not improved:
            break
    return {name: y for name, (_, y) in at.items()}


def crossings(edges: list[tuple[str, str]], at: dict[str, tuple[float, float]]) -> int:
    """How many pairs of straight edges cross (edges that share an end meet, not cross), and
    how many edges run through a box they do not join."""
    def side(o: tuple[float, float], t: tuple[float, float], u: tuple[float, float]) -> float:
        return (t[0] - o[0]) * (u[1] - o[1]) - (t[1] - o[1]) * (u[0] - o[0])

    count = 0
    for index, (a, b) in enumerate(edges):
        p, q = at[a], at[b]
        for c, d in edges[index + 1:]:
            if a in (c, d) or b in (c, d) or max(p[0], q[0]) <= min(at[c][0], at[d][0]) or max(at[c][0], at[d][0]) <= min(p[0], q[0]):
                continue
            r, t = at[c], at[d]
            if side(p, q, r) * side(p, q, t) < 0 and side(r, t, p) * side(r, t, q) < 0:
                count += 1
        length = math.hypot(q[0] - p[0], q[1] - p[1])
        for name, point in at.items():
            if name not in (a, b) and min(p[0], q[0]) < point[0] < max(p[0], q[0]) and abs(side(p, q, point)) / length < 0.35:
                count += 1
    return count


def circuit_layout(derivation: Derivation, renderer: Renderer, kind: str) -> CircuitLayout:
    """Every box placed, with the value above and the gradient below as this kind of
    document shows them: numbers (handout), blanks (worksheet) or boxed numbers (key)."""
    circuit: Circuit = derivation.network  # type: ignore[assignment]
    grid = columns(circuit)
    tallest = max(len(column) for column in grid)
    row_of = rows(grid, [(source, gate.name) for gate in circuit.gates for source in gate.inputs])
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
            placed[name] = Box(f"c{index}r{row}", name, index * gap, row_of[name] * ROW_GAP, inside, name not in ops,
                               value, gradient)
    edges = [(placed[source], placed[gate.name]) for gate in circuit.gates for source in gate.inputs]
    return CircuitLayout(list(placed.values()), edges, (len(grid) - 1) * gap, (tallest - 1) * ROW_GAP)


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
