"""The network picture: where each node and edge label goes. One layout feeds both the
TikZ picture in LaTeX and the SVG file beside the Markdown, so the two never disagree."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from ..engine.network import Network
from ..engine.policy import format_number

COLUMN_GAP = 4.0  # cm between layers
ROW_GAP = 2.0  # cm between units of a layer
LABEL_POSITION = 0.25  # edge labels sit near their source, along the edge, away from the crossings mid-way
# Where else along its edge a label may go when that spot is taken, nearest first: past a
# 2-2-1 network the labels near a column of inputs run into each other.
LABEL_POSITIONS = (0.25, 0.35, 0.18, 0.45, 0.55, 0.65, 0.72)
LABEL_CHAR = 0.13  # cm per character of a \scriptsize label, a little generous
LABEL_HEIGHT = 0.32  # cm: labels closer than this across their length collide
LABEL_OFFSET = 0.17  # cm above its edge (TikZ's `above` with inner sep)
# Past this many edges the picture names the weights but leaves their values to the
# "Initial values" block above it: a 3-4-4-2 picture cannot hold 52 "w = 0.3" labels.
VALUED_EDGES = 20
# Past this many the edges are not labelled at all (a 6-10-8-4 picture has 200): the forward
# pass's formulas say which weight joins which units.
NAMED_EDGES = 80
LABEL_LIFT = 7  # px between an SVG edge and its label
SVG_SCALE = 60  # px per cm
SVG_MARGIN = 40  # px around the picture
SVG_RADIUS = 22  # px


@dataclass(frozen=True)
class Node:
    key: str  # TikZ node name
    x: float
    y: float
    latex: str
    text: tuple[str, str]  # plain-text base and subscript, for SVG
    is_bias: bool = False


@dataclass(frozen=True)
class Edge:
    source: Node
    target: Node
    latex: str  # w_{1} or w_{1} = 0.3
    text: tuple[str, str, str]  # base, subscript, "= 0.3" or ""
    position: float = LABEL_POSITION  # how far along the edge its label sits, 0 at the source

    def _along(self, position: float) -> tuple[float, float, float, float]:
        """The point `position` of the way along the drawn arrow, from circle to circle, as
        TikZ's `pos` measures it, and the arrow's direction."""
        dx, dy = self.target.x - self.source.x, self.target.y - self.source.y
        length = math.hypot(dx, dy)
        ux, uy = dx / length, dy / length
        start, end = _radius(self.source), length - _radius(self.target)
        distance = start + position * (end - start)
        return self.source.x + ux * distance, self.source.y + uy * distance, ux, uy

    @property
    def label_x(self) -> float:
        return self._along(self.position)[0]

    @property
    def label_y(self) -> float:
        return self._along(self.position)[1]

    def label_outline(self, position: float) -> list[tuple[float, float]]:
        """Points along the label as printed at `position` (cm): a row across its width, on
        the line it sits on above the edge, enough to tell two labels apart."""
        x, y, ux, uy = self._along(position)
        cx, cy = x - uy * LABEL_OFFSET, y + ux * LABEL_OFFSET
        half = LABEL_CHAR * len("".join(self.text)) / 2
        return [(cx + ux * half * k / 4, cy + uy * half * k / 4) for k in range(-4, 5)]


def _radius(node: Node) -> float:
    """cm: the TikZ styles' minimum sizes, 1.1 cm for a unit and 0.8 cm for a bias."""
    return 0.4 if node.is_bias else 0.55


def _placed(edges: list[Edge]) -> list[Edge]:
    """Each label at the first of LABEL_POSITIONS where it touches no label placed before
    it (or, if every spot is taken, where it touches fewest), in edge order: deterministic,
    and a 2-2-1 picture keeps every label where it always was."""
    geometry = tuple((e.source.x, e.source.y, e.source.is_bias, e.target.x, e.target.y, e.target.is_bias, len("".join(e.text))) for e in edges)
    positions = _PLACEMENTS.get(geometry)
    if positions is None:
        if len(_PLACEMENTS) >= 256:
            _PLACEMENTS.clear()
        positions = _PLACEMENTS[geometry] = _positions(edges)
    return [Edge(edge.source, edge.target, edge.latex, edge.text, position) for edge, position in zip(edges, positions)]


# Where the labels go depends only on the arrows and the labels' lengths, which a class's
# versions share: placing them (every label against every other) was a fifth of rendering
# a Markdown worksheet, so each placement is remembered.
_PLACEMENTS: dict[tuple[tuple[float, float, bool, float, float, bool, int], ...], list[float]] = {}


def _positions(edges: list[Edge]) -> list[float]:
    taken: list[list[tuple[float, float]]] = []
    placed = []
    for edge in edges:
        def clashes(position: float) -> int:
            outline = edge.label_outline(position)
            return sum(
                any(math.hypot(x - u, y - v) < LABEL_HEIGHT for x, y in outline for u, v in other)
                for other in taken
            )

        position = min(LABEL_POSITIONS, key=lambda p: (clashes(p), LABEL_POSITIONS.index(p)))
        taken.append(edge.label_outline(position))
        placed.append(position)
    return placed


@dataclass(frozen=True)
class Layout:
    nodes: list[Node]
    edges: list[Edge]
    width: float
    height: float

    def svg(self) -> dict[str, object]:
        """Pixel geometry for the SVG template: y grows downwards, arrows stop at the circles."""
        def px(x: float, y: float) -> tuple[float, float]:
            return round(SVG_MARGIN + x * SVG_SCALE, 1), round(SVG_MARGIN - y * SVG_SCALE, 1)

        edges = []
        for edge in self.edges:
            (x1, y1), (x2, y2) = px(edge.source.x, edge.source.y), px(edge.target.x, edge.target.y)
            length = math.hypot(x2 - x1, y2 - y1)
            ux, uy = (x2 - x1) / length, (y2 - y1) / length
            lx, ly = px(edge.label_x, edge.label_y)
            edges.append({
                "x1": round(x1 + ux * SVG_RADIUS, 1), "y1": round(y1 + uy * SVG_RADIUS, 1),
                "x2": round(x2 - ux * (SVG_RADIUS + 2), 1), "y2": round(y2 - uy * (SVG_RADIUS + 2), 1),
                "label": (round(lx + uy * LABEL_LIFT, 1), round(ly - ux * LABEL_LIFT, 1)),
                "angle": round(math.degrees(math.atan2(uy, ux)), 1), "text": edge.text,
            })
        nodes = [{"center": px(node.x, node.y), "text": node.text, "is_bias": node.is_bias} for node in self.nodes]
        return {
            "width": round(2 * SVG_MARGIN + self.width * SVG_SCALE), "height": round(2 * SVG_MARGIN + self.height * SVG_SCALE),
            "radius": SVG_RADIUS, "nodes": nodes, "edges": edges,
        }


def layout(network: Network, with_values: bool) -> Layout:
    """Inputs in the first column, each layer in the next, a bias node "1" under the
    column it is added to; columns centred vertically. Edges are labelled with their
    weight (up to NAMED_EDGES edges) and, up to VALUED_EDGES edges and where
    `with_values`, its value."""
    columns: list[list[tuple[str, bool]]] = [[(name, False) for name in network.inputs]]
    for depth, layer in enumerate(network.layers):
        if any(unit.pre in p.targets for p in network.biases for unit in layer):
            columns[-1].append((f"bias{depth}", True))
        columns.append([(unit.post, False) for unit in layer])
    tallest = max(len(column) for column in columns)
    nodes: dict[str, Node] = {}
    for index, column in enumerate(columns):
        offset = (tallest - len(column)) * ROW_GAP / 2
        for row, (name, is_bias) in enumerate(column):
            latex = "1" if is_bias else network.latex(name)
            nodes[name] = Node(f"n{index}x{row}", index * COLUMN_GAP, -(offset + row * ROW_GAP), latex, plain_text(latex), is_bias)
    post_of = {unit.pre: unit.post for unit in network.units}
    layer_of = {unit.pre: unit.layer for unit in network.units}
    edges = []
    count = sum(len(parameter.targets) for parameter in network.parameters)
    with_values = with_values and count <= VALUED_EDGES
    for parameter in network.parameters:
        for target in parameter.targets:
            source = nodes[parameter.source] if parameter.source else nodes[f"bias{layer_of[target]}"]
            name = network.latex(parameter.name)
            value = format_number(parameter.value) if with_values and parameter.value is not None else ""
            edges.append(Edge(source, nodes[post_of[target]], f"{name} = {value}" if value else name,
                              (*plain_text(name), svg_minus(f" = {value}") if value else "")))
    if count > NAMED_EDGES:
        return Layout(list(nodes.values()), [Edge(e.source, e.target, "", ("", "", "")) for e in edges], (len(columns) - 1) * COLUMN_GAP, (tallest - 1) * ROW_GAP)
    return Layout(list(nodes.values()), _placed(edges), (len(columns) - 1) * COLUMN_GAP, (tallest - 1) * ROW_GAP)


_ACCENTS = {"hat": "\u0302", "bar": "\u0304", "tilde": "\u0303"}
_GREEK_LETTERS = dict(zip(
    "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi pi rho sigma tau upsilon phi chi psi omega".split(),
    "αβγδεζηθικλμνξπρστυφχψω",
))


def svg_minus(text: str) -> str:
    """Each number's minus sign as the typographic minus (U+2212), as the PDF prints it: SVG
    has no math typesetting, and a hyphen is a short dash beside a digit."""
    return re.sub(r"(?<![\w.])-(?=[\d.])", "\u2212", text)


def plain_text(latex: str) -> tuple[str, str]:
    r"""\hat{y}_{1} -> ("ŷ", "1"), \mathrm{n1\_g1} -> ("n1_g1", ""): enough LaTeX for the
    names of a network picture in SVG, which has no math typesetting of its own."""
    text = re.sub(r"\\(hat|bar|tilde)\{(\\?\w+)\}", lambda m: _one(m.group(2)) + _ACCENTS[m.group(1)], latex)
    text = re.sub(r"\\(?:mathrm|text|mathit|mathbf)\{([^{}]*)\}", r"\1", text)
    text = re.sub(r"\\([A-Za-z]+)", lambda m: _one("\\" + m.group(1)), text)
    base, _, sub = text.replace(r"\_", "\x00").partition("_")  # \_ is an underscore written, _ a subscript
    return _unbraced(base), _unbraced(sub)


def _unbraced(text: str) -> str:
    return text.replace("{", "").replace("}", "").replace("\x00", "_")


def _one(name: str) -> str:
    return _GREEK_LETTERS.get(name.lstrip("\\"), name.lstrip("\\"))
