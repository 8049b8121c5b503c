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

    @property
    def label_x(self) -> float:
        return self.source.x + LABEL_POSITION * (self.target.x - self.source.x)

    @property
    def label_y(self) -> float:
        return self.source.y + LABEL_POSITION * (self.target.y - self.source.y)


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
    column it is added to; columns centred vertically."""
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
    for parameter in network.parameters:
        for target in parameter.targets:
            source = nodes[parameter.source] if parameter.source else nodes[f"bias{layer_of[target]}"]
            name = network.latex(parameter.name)
            value = format_number(parameter.value) if with_values and parameter.value is not None else ""
            edges.append(Edge(source, nodes[post_of[target]], f"{name} = {value}" if value else name, (*plain_text(name), f" = {value}" if value else "")))
    return Layout(list(nodes.values()), edges, (len(columns) - 1) * COLUMN_GAP, (tallest - 1) * ROW_GAP)


_ACCENTS = {"hat": "\u0302", "bar": "\u0304", "tilde": "\u0303"}
_GREEK_LETTERS = dict(zip(
    "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi pi rho sigma tau upsilon phi chi psi omega".split(),
    "αβγδεζηθικλμνξπρστυφχψω",
))


def plain_text(latex: str) -> tuple[str, str]:
    r"""\hat{y}_{1} -> ("ŷ", "1"): enough LaTeX for the names of a network picture in SVG,
    which has no math typesetting of its own."""
    text = re.sub(r"\\(hat|bar|tilde)\{(\\?\w+)\}", lambda m: _one(m.group(2)) + _ACCENTS[m.group(1)], latex)
    text = re.sub(r"\\(?:mathrm|text|mathit|mathbf)\{([^{}]*)\}", r"\1", text)
    text = re.sub(r"\\([A-Za-z]+)", lambda m: _one("\\" + m.group(1)), text)
    base, _, sub = text.partition("_")
    return base.replace("{", "").replace("}", ""), sub.replace("{", "").replace("}", "")


def _one(name: str) -> str:
    return _GREEK_LETTERS.get(name.lstrip("\\"), name.lstrip("\\"))
