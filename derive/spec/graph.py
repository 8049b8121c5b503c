"""A computational graph's spec: named inputs and parameters, an ordered list of nodes that
each assign a formula of earlier names, the output differentiated, and the conventions for
the points where max, min, ReLU and abs have no derivative.

The rules the types cannot state are checked here, each with one message: a node that uses
itself or a later node (a cycle), a name defined nowhere, a node the output does not use.
Formulas are read by the whitelist parser (derive/spec/formula.py) with two more functions,
sigmoid and relu, kept as functions of their own so that the engine can draw them as gates
and write sigma' as sigma(1 - sigma)."""

from __future__ import annotations

import ast
import difflib
from typing import TYPE_CHECKING, Annotated, Literal

import msgspec
import sympy
from msgspec import Meta

from .formula import FUNCTIONS, FormulaError, parse_formula
from .losses import (
    loss as loss_function,  # the layered networks' losses: one definition
)
from .vocabulary import (
    LEARNING_RATE,
    LOSSES,
    NAME_PATTERN,
    SpecError,
    field_path,
    shown,
)

if TYPE_CHECKING:
    from .schema import Spec

MAX_NODES = 200  # a board holds a few dozen; past this the diagram and the documents stop being readable


class Sigmoid(sympy.Function):
    """sigma(x), kept whole: its derivative is written sigma(x)(1 - sigma(x)), as on the board."""

    def fdiff(self, argindex: int = 1) -> sympy.Expr:
        return Sigmoid(self.args[0]) * (1 - Sigmoid(self.args[0]))


class ReluSlope(sympy.Function):
    """relu'(x): 1 above 0, 0 below; the value at 0 is the spec's convention."""

    def fdiff(self, argindex: int = 1) -> sympy.Expr:
        return sympy.Integer(0)


class Relu(sympy.Function):
    """max(0, x), kept whole so that its slope at 0 follows the stated convention."""

    def fdiff(self, argindex: int = 1) -> sympy.Expr:
        return ReluSlope(self.args[0])


class TieShare(sympy.Function):
    """The slope of a max or min of two with respect to one argument: 1 where `greater` >
    `less` (the argument wins), 0 where it is below, and at a tie the stated share for the
    first argument, the rest for the second (`second` 0 or 1), so the two add to 1. SymPy's
    Heaviside gives both tied arguments the same value, which is no subgradient unless that
    value is 1/2."""

    nargs = 3


class _OfTwo(sympy.Function):
    """max or min of two as written: the arguments keep their order (SymPy's Max sorts
    them), so the circuit, the printed formula and "the first argument" of the tie
    convention are the lecturer's."""

    nargs = 2
    board_name = ""

    def _latex(self, printer: object) -> str:
        first, second = (printer._print(argument) for argument in self.args)  # type: ignore[attr-defined]
        return rf"\{self.board_name}\left({first}, {second}\right)"

    def _sympystr(self, printer: object) -> str:
        return f"{self.board_name}({', '.join(printer._print(argument) for argument in self.args)})"  # type: ignore[attr-defined]


class Maximum(_OfTwo):
    board_name = "max"

    def fdiff(self, argindex: int = 1) -> sympy.Expr:
        first, second = self.args
        return TieShare(first, second, 0) if argindex == 1 else TieShare(second, first, 1)


class Minimum(_OfTwo):
    board_name = "min"

    def fdiff(self, argindex: int = 1) -> sympy.Expr:
        first, second = self.args
        return TieShare(second, first, 0) if argindex == 1 else TieShare(first, second, 1)


GRAPH_FUNCTIONS = {**FUNCTIONS, "sigmoid": Sigmoid, "relu": Relu}
WRITTEN_FUNCTIONS = {**GRAPH_FUNCTIONS, "max": Maximum, "min": Minimum}  # a circuit's formulas, kept as written


class _Strict(msgspec.Struct, forbid_unknown_fields=True):
    """A misspelt field is an error, as in the rest of the spec."""


class ConventionsSpec(_Strict, kw_only=True):
    """What a non-differentiable point's gradient is taken to be; every document states it.
    The defaults are PyTorch's: a tie of max or min splits the gradient evenly, ReLU and abs
    have slope 0 at 0."""

    # at a tie the first argument of max or min as written receives this share, the second the rest
    max_tie: Annotated[float, Meta(ge=0, le=1)] = 0.5
    relu_at_zero: Annotated[float, Meta(ge=0, le=1)] = 0.0
    abs_at_zero: Annotated[float, Meta(ge=-1, le=1)] = 0.0


class GraphLossSpec(_Strict, kw_only=True):
    """`loss: {name: mse, outputs: [y1, y2], targets: {y1: 0.5, y2: 0.1}}`: the graph's output is
    a layered network's loss (derive/engine/functions.py, one definition) of these nodes. It
    becomes one more node, named by loss_symbol, over target leaves t_{output} (t_y1)."""

    name: Literal[LOSSES]  # type: ignore[valid-type]
    outputs: Annotated[list[str], Meta(min_length=1, max_length=MAX_NODES)]
    targets: Annotated[dict[str, float | None], Meta(max_length=MAX_NODES)]


class GraphSpec(_Strict, kw_only=True):
    inputs: Annotated[dict[str, float | None], Meta(max_length=MAX_NODES)] = {}
    parameters: Annotated[dict[str, float | None], Meta(max_length=MAX_NODES)] = {}  # updated with learning_rate
    targets: Annotated[dict[str, float | None], Meta(max_length=MAX_NODES)] = {}  # numbers a loss node compares with: not differentiated unless in wrt
    nodes: Annotated[list[dict[str, str]], Meta(min_length=1, max_length=MAX_NODES)]
    output: str | None = None  # the scalar differentiated; by default the last node
    loss: GraphLossSpec | None = None  # instead of output: a loss of named nodes and their targets
    wrt: list[str] | None = None  # the leaves whose gradients are asked; by default every input and parameter
    granularity: Literal["gates", "nodes"] = "nodes"
    conventions: ConventionsSpec = msgspec.field(default_factory=ConventionsSpec)
    # The rounding policy's kind of a node's value (precision.weighted_sum, ...); by default
    # every node is an activation and the output an output. A layered network written as a
    # graph names its z nodes weighted_sum and its loss node loss to round as the network does.
    kinds: dict[str, Literal["weighted_sum", "activation", "output", "loss"]] = {}

    @property
    def leaves(self) -> dict[str, float | None]:
        return {**self.inputs, **self.parameters, **self.targets}

    def assignments(self) -> list[tuple[str, str]]:
        """(node name, formula) in the order written; check_graph has made each entry one pair."""
        return [next(iter(entry.items())) for entry in self.nodes]

    @property
    def output_name(self) -> str:
        return self.output or self.assignments()[-1][0]

    @property
    def asked_leaves(self) -> list[str]:
        return list(self.wrt) if self.wrt is not None else [*self.inputs, *self.parameters]


_TOP_LEVEL_LAYERED = ("layers", "loss", "inputs", "targets", "weights", "biases", "data", "weight_seed")


def target_name(output: str) -> str:
    """The leaf holding a loss's target for this output: t_y1 for y1, written t_{y1}."""
    return f"t_{output}"


def with_loss(spec: Spec, origin: str) -> GraphSpec:
    """The graph with its `loss:` written out as the last node (named by loss_symbol, of kind
    loss so it rounds as a network's loss does) and its targets as leaves, so that every
    rule below, the engine and the documents read one kind of graph; the loss field is left
    empty, so the result read again is the same graph."""
    graph = spec.graph
    assert graph is not None and graph.loss is not None

    chosen = graph.loss
    if graph.output is not None:
        raise SpecError(f"{origin}: graph.output: a graph with loss: differentiates the loss {spec.loss_symbol}; leave output out.")
    nodes = [next(iter(entry)) for entry in graph.nodes if len(entry) == 1]
    for index, name in enumerate(chosen.outputs):
        if name not in nodes:
            raise SpecError(f"{origin}: graph.loss.outputs[{index}]: {shown(name)} is not a node; the loss compares nodes: {', '.join(nodes)}.")
        if name in chosen.outputs[:index]:
            raise SpecError(f"{origin}: graph.loss.outputs[{index}]: {shown(name)} is listed twice.")
    if set(chosen.targets) != set(chosen.outputs):
        missing = [name for name in chosen.outputs if name not in chosen.targets]
        place = field_path(("graph", "loss", "targets"))
        if missing:
            raise SpecError(f"{origin}: {place}: no target for {', '.join(missing)}; give one number for each of the outputs {', '.join(chosen.outputs)}.")
        extra = next(name for name in chosen.targets if name not in chosen.outputs)
        raise SpecError(f"{origin}: {field_path(('graph', 'loss', 'targets', extra))}: {shown(extra)} is not one of the loss's outputs {', '.join(chosen.outputs)}.")
    probability = chosen.name in ("binary_cross_entropy", "cross_entropy")
    for name, value in chosen.targets.items():
        if probability and value is not None and not 0 <= value <= 1:
            raise SpecError(f"{origin}: {field_path(('graph', 'loss', 'targets', name))}: {chosen.name} compares with a probability; "
                            f"give a target between 0 and 1; got {value:g}.")
        taken = target_name(name)
        if taken in graph.leaves or taken in nodes:
            raise SpecError(f"{origin}: {field_path(('graph', 'loss', 'targets', name))}: the target's name {taken} is already used "
                            "in the graph; rename that input, parameter or node.")
    targets = [sympy.Symbol(target_name(name), real=True) for name in chosen.outputs]
    outputs = [sympy.Symbol(name, real=True) for name in chosen.outputs]
    formula = str(loss_function(chosen.name).expression(targets, outputs))
    return msgspec.structs.replace(
        graph, loss=None, nodes=[*graph.nodes, {spec.loss_symbol: formula}], output=spec.loss_symbol,
        targets={**graph.targets, **{target_name(name): value for name, value in chosen.targets.items()}},
        kinds={**graph.kinds, spec.loss_symbol: "loss"},
    )


def check_graph(spec: Spec, origin: str) -> None:
    """Every rule of a graph spec the types cannot state, in the order a reader meets them."""
    graph = spec.graph
    assert graph is not None
    for name in _TOP_LEVEL_LAYERED:
        if getattr(spec, name) not in (None, {}, []):
            where = "graph.inputs, graph.parameters and graph.targets" if name in ("inputs", "targets", "weights", "biases") else "graph.nodes"
            raise SpecError(f"{origin}: {name}: a spec with graph: describes its circuit in {where}; leave out the top-level {name}.")
    if spec.randomize is not None and spec.randomize.biases is not None:
        raise SpecError(f"{origin}: randomize.biases: a graph has no biases of its own; randomize.weights draws its parameters.")
    for index, entry in enumerate(graph.nodes):
        if len(entry) != 1:
            raise SpecError(f"{origin}: graph.nodes[{index}]: each node is one `name: formula` pair (like `- q: x + y`); got {len(entry)} pairs.")
    _check_names(graph, origin)
    _check_all_or_none_given(graph, origin)
    _check_formulas(graph, origin)
    _check_use(graph, origin)
    known = {*graph.leaves, *(name for name, _ in graph.assignments()), LEARNING_RATE, graph.output_name}
    for key in spec.latex:
        bare = key.rstrip("'")
        if bare not in known:
            raise SpecError(f"{origin}: latex: {shown(key)} is not a name used in the graph.")


def _check_all_or_none_given(graph: GraphSpec, origin: str) -> None:
    """A circuit is worked in numbers or wholly in symbols: one leaf left null among numbered
    ones would silently turn every value on the page into a symbol."""
    groups = [(group, getattr(graph, group)) for group in ("inputs", "parameters", "targets")]
    if not any(value is not None for _, values in groups for value in values.values()):
        return
    for group, values in groups:
        missing = [name for name, value in values.items() if value is None]
        if missing:
            raise SpecError(f"{origin}: {field_path(('graph', group, missing[0]))}: the other leaves have numbers, so this "
                            "one needs one too (or leave every number out for a symbolic derivation).")


def _check_names(graph: GraphSpec, origin: str) -> None:
    first_seen: dict[str, str] = {}
    named = [(field_path(("graph", group, name)), name) for group in ("inputs", "parameters", "targets") for name in getattr(graph, group)]
    named += [(f"graph.nodes[{index}]", name) for index, (name, _) in enumerate(graph.assignments())]
    for place, name in named:
        if not NAME_PATTERN.match(name):
            raise SpecError(f"{origin}: {place}: {shown(name)} is not a usable name; use a letter followed by letters, digits or _ (like x, q, w0).")
        if name == LEARNING_RATE:
            raise SpecError(f"{origin}: {place}: the name '{LEARNING_RATE}' is the learning rate's symbol; choose another name.")
        if name in GRAPH_FUNCTIONS:
            raise SpecError(f"{origin}: {place}: {shown(name)} is a function's name; choose another name.")
        if name in first_seen:
            raise SpecError(f"{origin}: {place}: the name {shown(name)} is already used in {first_seen[name]}; choose another name.")
        first_seen[name] = place
    nodes = [name for name, _ in graph.assignments()]
    if graph.output is not None and graph.output not in nodes:
        raise SpecError(f"{origin}: graph.output: {shown(graph.output)} is not a node; the output is one of {', '.join(nodes)}.")
    for name in graph.kinds:
        if name not in nodes:
            raise SpecError(f"{origin}: {field_path(('graph', 'kinds', name))}: {shown(name)} is not a node; kinds name nodes: {', '.join(nodes)}.")
    if graph.wrt is not None:
        leaves = [*graph.leaves]
        if not graph.wrt:
            raise SpecError(f"{origin}: graph.wrt: list at least one input or parameter, or leave the field out.")
        for index, name in enumerate(graph.wrt):
            if name not in graph.leaves:
                kind = "a node (its gradient is worked on the way)" if name in nodes else "not an input, parameter or target"
                raise SpecError(f"{origin}: graph.wrt[{index}]: {shown(name)} is {kind}; wrt lists leaves: {', '.join(leaves)}.")
            if name in graph.wrt[:index]:
                raise SpecError(f"{origin}: graph.wrt[{index}]: {shown(name)} is listed twice.")


def used_names(formula: str) -> list[str]:
    """The variable names a formula mentions, in order of first use (function names excluded)."""
    try:
        tree = ast.parse(formula.strip().replace("^", "**"), mode="eval")
    except (SyntaxError, RecursionError, MemoryError, ValueError):
        return []  # parse_formula words the problem
    called = {id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
    found = [node for node in ast.walk(tree) if isinstance(node, ast.Name) and id(node) not in called]
    return list(dict.fromkeys(node.id for node in sorted(found, key=lambda node: node.col_offset)))


def _check_formulas(graph: GraphSpec, origin: str) -> None:
    assignments = graph.assignments()
    position = {name: index for index, (name, _) in enumerate(assignments)}
    defined = list(graph.leaves)
    for index, (name, formula) in enumerate(assignments):
        place = f"graph.nodes[{index}].{name}"
        if not used_names(formula) and formula.strip():
            _parsed(formula, {}, origin, place)  # a formula that does not parse is worded as such, not as a constant
            raise SpecError(f"{origin}: {place}: the formula uses no input, parameter or earlier node; a constant is no node of the graph.")
        for used in used_names(formula):
            if used == name:
                raise SpecError(f"{origin}: {place}: {name} uses itself; a graph has no cycles (a node may use only inputs, parameters and earlier nodes).")
            if used in position and position[used] > index:
                raise SpecError(
                    f"{origin}: {place}: uses {used}, which is defined later (graph.nodes[{position[used]}]); a graph has no cycles: "
                    "a node may use only inputs, parameters and earlier nodes, so list the nodes in the order they are computed."
                )
            if used not in defined:
                close = difflib.get_close_matches(used, defined, n=1)
                hint = f" Did you mean {shown(close[0])}?" if close else ""
                raise SpecError(f"{origin}: {place}: {shown(used)} is not an input, parameter, target or earlier node.{hint}")
        body = _parsed(formula, {known: sympy.Symbol(known, real=True) for known in defined}, origin, place)
        cancelled = [used for used in used_names(formula) if sympy.Symbol(used, real=True) not in body.free_symbols]
        if cancelled:
            raise SpecError(f"{origin}: {place}: {cancelled[0]} cancels out of the formula (it has no effect on {name}); "
                            f"write the formula without it; got {shown(formula)}.")
        if body.has(sympy.nan, sympy.zoo, sympy.oo, -sympy.oo):
            raise SpecError(f"{origin}: {place}: the formula is undefined or infinite (0/0, a division by 0 or log(0)); got {shown(formula)}.")
        defined.append(name)


def _parsed(formula: str, symbols: dict[str, sympy.Symbol], origin: str, place: str) -> sympy.Expr:
    try:
        return parse_formula(formula, symbols, GRAPH_FUNCTIONS, example="(x + y) * sigmoid(w*z)")
    except FormulaError as error:
        raise SpecError(f"{origin}: {place}: {error}; got {shown(formula)}.") from None


def _check_use(graph: GraphSpec, origin: str) -> None:
    """Every node and leaf feeds the output: a node computed for nothing is a mistake in the spec."""
    assignments = graph.assignments()
    uses = {name: set(used_names(formula)) for name, formula in assignments}
    needed = {graph.output_name}
    for name, _ in reversed(assignments):
        if name in needed:
            needed |= uses[name]
    for index, (name, _) in enumerate(assignments):
        if name not in needed:
            raise SpecError(
                f"{origin}: graph.nodes[{index}].{name}: the node {name} is not used on the way to the output "
                f"{graph.output_name}; remove it or use it in a later node."
            )
    for group in ("inputs", "parameters", "targets"):
        for name in getattr(graph, group):
            if name not in needed:
                raise SpecError(f"{origin}: {field_path(('graph', group, name))}: {name} is not used by any node on the way to the output {graph.output_name}.")
