"""A computational graph worked forward and backward as the same Derivation of Steps that a
layered network makes (derive/engine/derivation.py), so the key, the grader, variants and
exports read it without code of their own.

The spec's nodes become gates: one per node (`granularity: nodes`, a node's local gradient
is SymPy's derivative of its formula, the fused sigmoid written sigma(1 - sigma)), or one per
elementary operation (`granularity: gates`: add, multiply, negate, reciprocal, power, exp,
log, max, min, abs and the activations), as a circuit is drawn on the board. Then:

- each gate's value is a step with the gate's name as its id (`q`, `f`);
- each edge's local gradient is a chain factor `d{gate}/d{input}`;
- each gate's and each asked leaf's gradient `d{output}/d{name}` is the sum over its uses of
  upstream gradient x local gradient: the sum at a fork, written out;
- with a learning rate each asked parameter is updated (`w'`) and the forward pass after the
  update is worked (`q'`, `f'`).

The points where max, min, ReLU and abs have no derivative take the spec's stated
conventions (derive/spec/graph.py), so every value is a number the documents can state."""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy

from ..spec.graph import WRITTEN_FUNCTIONS, GraphSpec, Maximum, Minimum, Relu, ReluSlope, Sigmoid, TieShare, used_names
from ..spec.formula import parse_formula
from ..spec.schema import Spec
from ..spec.vocabulary import SpecError
from .derivation import LEARNING_RATE, Derivation, Step
from .names import latex_of, partial
from .network import Parameter, symbol
from .policy import Policy
from .signals import FULL_MAX_PATHS

OUTPUT_UPSTREAM = ""  # a term's upstream when the gate it passes through is the output itself (upstream gradient 1)
_FUNCTION_OPS = {sympy.exp: "exp", sympy.log: "log", sympy.tanh: "tanh", sympy.Abs: "abs", sympy.sinh: "sinh",
                 sympy.cosh: "cosh", sympy.sin: "sin", sympy.cos: "cos", Sigmoid: "sigmoid", Relu: "relu",
                 Maximum: "max", Minimum: "min"}


@dataclass(frozen=True)
class Gate:
    """One box of the circuit: its value is `formula` (in its inputs' symbols, sigmoid and relu
    kept whole for display); `node` is the spec node it was split from."""

    name: str
    op: str  # add, multiply, negate, reciprocal, power, exp, ..., copy, or node (granularity: nodes)
    inputs: tuple[str, ...]
    formula: sympy.Expr
    node: str


@dataclass
class Circuit:
    """The graph in the shape the Derivation reads from a network: the given numbers, the
    parameters, the output's name as the loss symbol, names in LaTeX."""

    spec: Spec
    graph: GraphSpec
    gates: list[Gate]
    inputs: dict[str, float | None]
    targets: dict[str, float | None]
    parameters: list[Parameter]
    loss_symbol: str
    learning_rate: float | None
    latex_names: dict[str, str] = field(default_factory=dict)
    weights: list[Parameter] = field(default_factory=list)  # a circuit has no layered weights (the grader asks)
    units: list[object] = field(default_factory=list)  # nor units

    @property
    def asked(self) -> list[str]:
        return self.graph.asked_leaves

    @property
    def leaves(self) -> list[str]:
        return [*self.inputs, *(p.name for p in self.parameters), *self.targets]

    def is_numeric(self) -> bool:
        return all(value is not None for value in self.graph.leaves.values())

    def givens(self) -> list[tuple[str, float | None]]:
        return list(self.graph.leaves.items())

    def latex(self, name: str) -> str:
        return latex_of(name, self.latex_names)

    def uses(self, name: str) -> list[Gate]:
        """The gates that take `name` as an input, in evaluation order: more than one is a fork."""
        return [gate for gate in self.gates if name in gate.inputs]


def build_circuit(spec: Spec) -> Circuit:
    graph = spec.graph
    assert graph is not None, "build_circuit takes a spec with graph:"
    defined = {name: symbol(name) for name in graph.leaves}
    taken = set(defined) | {name for name, _ in graph.assignments()}
    gates: list[Gate] = []
    for name, text in graph.assignments():
        body = parse_formula(text, defined, WRITTEN_FUNCTIONS, written=True)
        if graph.granularity == "nodes":
            inputs = tuple(used for used in used_names(text) if symbol(used) in body.free_symbols)
            gates.append(Gate(name, _op(body) if inputs else "copy", inputs, body, name))
        else:
            _split(body, name, name, gates, taken)
        defined[name] = symbol(name)
    parameters = [Parameter(name, value, tuple(g.name for g in gates if name in g.inputs)) for name, value in graph.parameters.items()]
    return Circuit(spec, graph, gates, dict(graph.inputs), dict(graph.targets), parameters, graph.output_name,
                   spec.learning_rate, dict(spec.latex))


def _op(expression: sympy.Expr) -> str:
    """The elementary operation at the top of an expression."""
    if expression.is_Symbol or expression.is_Number:
        return "copy"
    if expression.is_Add:
        return "add"
    if expression.is_Mul:
        return "negate" if len(expression.args) == 2 and expression.args[0] == -1 else "multiply"
    if expression.is_Pow:
        return "reciprocal" if expression.args[1] == -1 else "power"
    return _FUNCTION_OPS.get(expression.func, "node")


def _split(expression: sympy.Expr, name: str | None, node: str, gates: list[Gate], taken: set[str]) -> sympy.Expr:
    """Make `expression` a chain of elementary gates ending in one named `name`; returns the
    symbol (or constant) that stands for it in the gate above. Inner gates are named after
    their node (s_g1, s_g2, ...), never a name the spec uses."""
    if expression.is_Symbol and name is not None:  # a node that copies a name: `y: x`
        gates.append(Gate(name, "copy", (expression.name,), expression, node))
        return symbol(name)
    op = _op(expression)
    arguments = expression.args
    if op == "negate":
        arguments = arguments[1:]
    elif op == "reciprocal":
        arguments = arguments[:1]
    children = []
    for argument in arguments:
        if argument.is_Symbol or not argument.free_symbols:  # a name, or a constant such as 1/2
            children.append(argument)
        else:
            children.append(_split(argument, None, node, gates, taken))
    if op == "negate":
        formula = -children[0]
    elif op == "reciprocal":
        formula = 1 / children[0]
    else:
        formula = expression.func(*children, evaluate=False) if op in ("add", "multiply", "power") else expression.func(*children)
    inputs = tuple(dict.fromkeys(child.name for child in children if child.is_Symbol))
    name = name or _fresh(node, taken)
    gates.append(Gate(name, op, inputs, formula, node))
    return symbol(name)


def _fresh(node: str, taken: set[str]) -> str:
    index = 1
    while f"{node}_g{index}" in taken:
        index += 1
    taken.add(f"{node}_g{index}")
    return f"{node}_g{index}"


def lowered(expression: sympy.Expr, graph: GraphSpec) -> sympy.Expr:
    """The expression in functions the evaluator knows, with the stated conventions at the
    kinks: sigma as 1/(1 + e^-x), relu as max(0, x), and their slopes as piecewise numbers."""
    conventions = graph.conventions

    def kink(below: sympy.Expr, at: float, above: sympy.Expr) -> object:
        return lambda a: sympy.Piecewise((above, a > 0), (below, a < 0), (sympy.Rational(str(at)), True), evaluate=False)

    share = conventions.max_tie
    lowerings: dict[type, object] = {
        Sigmoid: lambda a: 1 / (1 + sympy.exp(-a)),
        Relu: lambda a: sympy.Max(0, a),
        ReluSlope: kink(sympy.Integer(0), conventions.relu_at_zero, sympy.Integer(1)),
        TieShare: lambda greater, less, second: sympy.Piecewise(
            (1, greater > less), (0, greater < less), (sympy.Rational(str(1 - share if second else share)), True), evaluate=False),
        sympy.sign: kink(sympy.Integer(-1), conventions.abs_at_zero, sympy.Integer(1)),
    }

    def lower(node: sympy.Expr) -> sympy.Expr:
        lowering = lowerings.get(node.func)
        return lowering(*node.args) if lowering is not None else node  # type: ignore[operator]
    return as_written(expression, lower)


def as_written(expression: sympy.Expr, change: object) -> sympy.Expr:
    """`expression` with `change` applied to every subexpression from the leaves up, keeping
    the order a formula was written in: a sum or product whose terms changed is rebuilt
    unevaluated, where SymPy's `replace` and `xreplace` would sort it again (b + w x)."""
    if expression.args:
        arguments = tuple(as_written(argument, change) for argument in expression.args)
        if arguments != expression.args:
            keep = expression.is_Add or expression.is_Mul or expression.is_Pow
            expression = expression.func(*arguments, evaluate=False) if keep else expression.func(*arguments)
    return change(expression)  # type: ignore[operator]


def local_gradient(gate: Gate, wrt: str, graph: GraphSpec) -> sympy.Expr:
    """d(gate)/d(wrt) in the gate's inputs and its own value: sigma(1 - sigma) as s(1 - s),
    e^x as the gate's value, so a student reuses the number from the forward pass; common
    factors are taken out, as a lecturer writes 2(o - t)."""
    own = symbol(gate.name)
    formula = _canonical(gate.formula)  # the derivative is SymPy's, so sigma(w x + b) is found in it by SymPy's form
    derivative = sympy.factor_terms(sympy.diff(formula, symbol(wrt)))  # 2(o - t), as written by hand, not 2o - 2t
    if not formula.is_Symbol and not formula.is_Number:
        derivative = derivative.xreplace({formula: own})
    return lowered(derivative, graph)


def _canonical(expression: sympy.Expr) -> sympy.Expr:
    """A formula kept as written (derive/spec/formula.py), evaluated into SymPy's own form."""
    return expression.func(*map(_canonical, expression.args)) if expression.args else expression


class _GraphBuilder:
    def __init__(self, circuit: Circuit):
        self.circuit = circuit
        self.steps: list[Step] = []
        self.ids: dict[str, Step] = {}
        names = [*circuit.leaves, LEARNING_RATE]
        self.primitives = {name: symbol(name) for name in names}

    def add(self, step_id: str, kind: str, role: str, expression: sympy.Expr, latex: str, **extra: object) -> Step:
        depends = {s.name for s in expression.free_symbols} & self.ids.keys()
        order = {step.id: index for index, step in enumerate(self.steps)}
        step = Step(step_id, kind, role, symbol(step_id), latex, expression, tuple(sorted(depends, key=order.__getitem__)), **extra)  # type: ignore[arg-type]
        self.steps.append(step)
        self.ids[step_id] = step
        return step

    def forward(self, prime: str = "") -> None:
        circuit = self.circuit
        gates = [gate.name for gate in circuit.gates]
        renamed = {symbol(name): symbol(name + prime) for name in [*circuit.leaves, *gates] if name + prime in self.ids or name in gates}
        for gate in circuit.gates:
            expression = lowered(gate.formula, circuit.graph)
            if prime:
                expression = as_written(expression, lambda node: renamed.get(node, node))
            kind = circuit.graph.kinds.get(gate.name, "output" if gate.name == circuit.loss_symbol else "activation")
            self.add(gate.name + prime, kind, "after" if prime else "forward", expression, circuit.latex(gate.name + prime))

    def backward(self) -> None:
        circuit = self.circuit
        output = circuit.loss_symbol
        asked = set(circuit.asked)
        feeds: dict[str, bool] = {name: name in asked for name in circuit.leaves}
        for gate in circuit.gates:
            feeds[gate.name] = any(feeds[name] for name in gate.inputs)
        terms: dict[str, list[tuple[str, str]]] = {}
        signal: dict[str, str] = {output: OUTPUT_UPSTREAM}
        for gate in reversed(circuit.gates):
            if gate.name != output:
                if not feeds[gate.name] or gate.name not in terms:
                    continue
                signal[gate.name] = self.accumulate(gate.name, terms[gate.name], "signal", "factor")
            for name in gate.inputs:
                if not feeds[name]:
                    continue
                if gate.name == output and len(circuit.uses(name)) == 1:
                    # The output's own local gradient is the input's gradient: one step, as dL/dyhat1 is;
                    # an asked leaf's is made with the other gradients, below.
                    if name in asked:
                        continue
                    factor = self.factor(gate, name, f"d{output}/d{name}")
                else:
                    suffix = ".local" if gate.name == output else ""
                    factor = self.factor(gate, name, f"d{gate.name}/d{name}{suffix}")
                terms.setdefault(name, []).append((signal[gate.name], factor))
        for name in circuit.asked:
            if name not in terms:  # used by the output alone
                self.factor(circuit.uses(name)[0], name, f"d{output}/d{name}", "gradient", "gradient")
                continue
            step_id = self.accumulate(name, terms[name], "gradient", "gradient")
            if circuit.spec.chain == "full":
                self.multiply_out(self.ids[step_id])

    def paths(self, step_id: str) -> list[list[str]]:
        """Every path of local gradients from the output down to this step, in reading order."""
        step = self.ids[step_id]
        if not step.terms:
            return [[step_id]]
        return [path + [factor] for upstream, factor in step.terms
                for path in (self.paths(upstream) if upstream != OUTPUT_UPSTREAM else [[]])]

    def multiply_out(self, step: Step) -> None:
        """chain: full: the gradient is the sum over paths of the product of their local
        gradients, as the page writes it (a network's seed format)."""
        paths = self.paths(step.id)
        if len(paths) > FULL_MAX_PATHS:
            raise SpecError(f"chain: full writes every path of local gradients, and {step.id} has {len(paths)} "
                            f"(at most {FULL_MAX_PATHS}); use chain: signals or auto for this graph.")
        products = [sympy.Mul(*(self.ids[f].symbol for f in path), evaluate=False) if len(path) > 1 else self.ids[path[0]].symbol
                    for path in paths]
        if paths == [[step.id]]:
            return
        step.expression = products[0] if len(products) == 1 else sympy.Add(*products, evaluate=False)
        order = {s.id: index for index, s in enumerate(self.steps)}
        step.depends_on = tuple(sorted({s.name for s in step.expression.free_symbols} & self.ids.keys(), key=order.__getitem__))

    def factor(self, gate: Gate, wrt: str, step_id: str, role: str = "factor", kind: str = "factor") -> str:
        circuit = self.circuit
        latex = partial(circuit.latex(gate.name), circuit.latex(wrt))
        if step_id.endswith(".local"):
            latex = rf"\left.{latex}\right|_{{\mathrm{{local}}}}"
        self.add(step_id, kind, role, local_gradient(gate, wrt, circuit.graph), latex, of=gate.name, wrt=wrt,
                 definition=lowered(gate.formula, circuit.graph))
        return step_id

    def accumulate(self, name: str, terms: list[tuple[str, str]], role: str, kind: str) -> str:
        """d(output)/d(name): the sum over the name's uses of upstream x local; a term through
        the output itself is the local gradient alone."""
        output = self.circuit.loss_symbol
        step_id = f"d{output}/d{name}"
        if step_id in self.ids:  # the output's local gradient already is this gradient
            return step_id
        products = [self.ids[f].symbol if up == OUTPUT_UPSTREAM else sympy.Mul(self.ids[up].symbol, self.ids[f].symbol, evaluate=False)
                    for up, f in terms]
        expression = products[0] if len(products) == 1 else sympy.Add(*products, evaluate=False)
        latex = partial(self.circuit.latex(output), self.circuit.latex(name))
        self.add(step_id, kind, role, expression, latex, of=output, wrt=name, terms=tuple(terms))
        return step_id

    def update(self) -> None:
        eta = self.primitives[LEARNING_RATE]
        output = self.circuit.loss_symbol
        for parameter in self.circuit.parameters:
            if parameter.name not in self.circuit.asked:
                continue
            gradient = self.ids[f"d{output}/d{parameter.name}"].symbol
            expression = sympy.Add(self.primitives[parameter.name], sympy.Mul(-1, eta, gradient, evaluate=False), evaluate=False)
            self.add(parameter.name + "'", "weight", "update", expression, self.circuit.latex(parameter.name + "'"))


def derive_graph(circuit: Circuit, policy: Policy) -> Derivation:
    builder = _GraphBuilder(circuit)
    builder.forward()
    builder.backward()
    # As for a network: a symbolic problem is worked through the update with eta as a symbol.
    updates = circuit.learning_rate is not None or not circuit.is_numeric()
    if updates and any(p.name in circuit.asked for p in circuit.parameters):
        builder.update()
        builder.forward(prime="'")
    # Each leaf's value, and eta's where there is one: a graph with no learning rate is still
    # numeric (it is worked forward and backward, not updated).
    givens: dict[str, float | None] = dict(circuit.graph.leaves)
    if circuit.learning_rate is not None or not circuit.is_numeric():
        givens[LEARNING_RATE] = circuit.learning_rate
    primitive_latex = {name: circuit.latex(name) for name in builder.primitives if name != LEARNING_RATE}
    primitive_latex[LEARNING_RATE] = circuit.latex_names.get(LEARNING_RATE, r"\eta")
    derivation = Derivation(circuit, policy, builder.steps, builder.primitives, givens, primitive_latex,  # type: ignore[arg-type]
                            chain="signals")
    if circuit.is_numeric():
        exact, shown, _ = derivation.evaluate()
        for step in derivation.steps:
            step.exact = exact[step.symbol]
            step.value = shown[step.symbol]
        derivation.loss_history = _losses(derivation, shown)
    return derivation


def _losses(derivation: Derivation, shown: dict[sympy.Symbol, float]) -> list[float]:
    """The output before the update and, where there is one, after it (a graph is worked for
    one step: the spec refuses `steps`)."""
    output = derivation.network.loss_symbol
    after = [output + "'"] if output + "'" in derivation else []
    return [shown[derivation[name].symbol] for name in [output, *after]]
