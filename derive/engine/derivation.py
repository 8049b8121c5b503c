"""The derivation: every quantity of one training step as a named step.

A step is defined by an expression in the symbols of earlier steps and of the spec's
numbers (z1 = w1*x1 + w3*x2; dL/dz1 = dL/da1 * da1/dz1). Backpropagation is the chain
rule organised so that each error signal dL/d(node) is computed once and reused by every
gradient below it, which is what the seed documents do with their boxed factors, and
what keeps the work linear in the number of parameters.

Documents, the key and the grader read only this structure.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property

import sympy
from sympy import Add, Mul

from .functions import softmax, softmax_derivative
from ..spec.vocabulary import SpecError
from .names import partial
from .network import Network, Parameter, Unit, symbol
from .numeric import EvaluationError, evaluate
from .policy import Policy
from .signals import FULL_MAX_PATHS, mode, simplified_output_signal

LEARNING_RATE = "eta"


@dataclass
class Step:
    id: str
    kind: str  # weighted_sum | activation | output | loss | factor | gradient | weight
    role: str  # forward | loss | factor | signal | gradient | update | after
    symbol: sympy.Symbol
    latex: str
    expression: sympy.Expr
    depends_on: tuple[str, ...]
    of: str | None = None  # a chain factor is d(of)/d(wrt)
    wrt: str | None = None
    definition: sympy.Expr | None = None  # what `of` is defined as, the thing differentiated
    terms: tuple[tuple[str, str], ...] = ()  # signal or gradient: sum of upstream signal * factor
    simplified: bool = False  # an output signal whose chain cancels: the expression is the short form (yhat - y)
    exact: float | None = None
    value: float | None = None


@dataclass
class Derivation:
    network: Network
    policy: Policy
    steps: list[Step]
    primitives: dict[str, sympy.Symbol]
    loss_history: list[float] = field(default_factory=list)
    chain: str = "signals"  # full | signals: how the backward pass is worked (derive/engine/signals.py)

    @cached_property
    def by_id(self) -> dict[str, Step]:
        return {step.id: step for step in self.steps}

    def __getitem__(self, step_id: str) -> Step:
        return self.by_id[step_id]

    def __contains__(self, step_id: str) -> bool:
        return step_id in self.by_id

    @property
    def loss_id(self) -> str:
        return self.network.loss_symbol

    def with_role(self, *roles: str) -> list[Step]:
        return [step for step in self.steps if step.role in roles]

    @cached_property
    def names(self) -> dict[sympy.Symbol, str]:
        """LaTeX for every symbol a step expression may contain."""
        names = {sym: self.network.latex(name) for name, sym in self.primitives.items()}
        names[self.primitives[LEARNING_RATE]] = self.network.latex_names.get(LEARNING_RATE, r"\eta")
        names.update({step.symbol: step.latex for step in self.steps})
        return names

    @cached_property
    def primitive_values(self) -> dict[sympy.Symbol, float]:
        network = self.network
        given: dict[str, float | None] = {**network.inputs, **network.targets}
        given.update({p.name: p.value for p in network.parameters})
        given[LEARNING_RATE] = network.learning_rate
        return {self.primitives[name]: value for name, value in given.items() if value is not None}

    @property
    def is_numeric(self) -> bool:
        return self.network.is_numeric()

    def inline(self, step_id: str) -> sympy.Expr:
        """The step in terms of the spec's primitives only (no earlier-step symbols)."""
        cache = self.__dict__.setdefault("_inlined", {})
        if step_id not in cache:
            step = self[step_id]
            replacements = {self[dep].symbol: self.inline(dep) for dep in step.depends_on}
            cache[step_id] = step.expression.xreplace(replacements)
        return cache[step_id]

    def chains(self, step_id: str) -> list[list[str]]:
        """Every path of chain factors from the loss down to this signal or gradient,
        each as factor ids in reading order (dL/dyhat1, dyhat1/dz3, ...)."""
        step = self[step_id]
        if step.role == "factor":
            return [[step_id]]
        return [path + [factor] for upstream, factor in step.terms for path in self.chains(upstream)]

    def evaluate(self, parameter_values: dict[str, float] | None = None) -> tuple[dict[sympy.Symbol, float], dict[sympy.Symbol, float], dict[sympy.Symbol, float]]:
        """Exact values, policy values and the values carried into later steps."""
        exact = dict(self.primitive_values)
        if parameter_values:
            exact.update({self.primitives[name]: value for name, value in parameter_values.items()})
        carried = dict(exact)
        shown: dict[sympy.Symbol, float] = {}
        for step in self.steps:
            exact[step.symbol] = _computed(step, exact)
            value = _computed(step, carried)
            rounded = self.policy.round(value, step.kind)
            if not math.isfinite(rounded):
                raise EvaluationError(f"{step.id} = {value:g} rounds to {rounded}: it is beyond the largest float")
            shown[step.symbol] = rounded
            carried[step.symbol] = self.policy.carried(exact[step.symbol], rounded)
        return exact, shown, carried


def _computed(step: Step, values: dict[sympy.Symbol, float]) -> float:
    """The step's value from `values`; NaN, infinity and overflow are refused with the step
    and the numbers it was computed from, so no document ever shows them."""
    try:
        result = evaluate(step.expression, values)
    except EvaluationError as error:
        raise EvaluationError(f"{_stated(step, values)}: {error}") from None
    if math.isnan(result):
        raise EvaluationError(f"{_stated(step, values)} is not a number (NaN)")
    if math.isinf(result):
        raise EvaluationError(f"{_stated(step, values)} overflows to {'-' if result < 0 else ''}infinity")
    return result


def _stated(step: Step, values: dict[sympy.Symbol, float]) -> str:
    """`z3 = w5*a1 + w6*a2 with a1 = 8e+307, ...`: the step and the numbers it used."""
    try:
        expression = str(sympy.N(step.expression, 6))  # 1e300 as 1.00000e+300, not 301 digits
    except (TypeError, ValueError):
        expression = str(step.expression)
    if len(expression) > 120:
        expression = expression[:117] + "..."
    used = sorted((s for s in step.expression.free_symbols if s in values), key=lambda s: s.name)
    given = ", ".join(f"{s.name} = {values[s]:g}" for s in used[:8]) + (", ..." if len(used) > 8 else "")
    return f"{step.id} = {expression}" + (f" with {given}" if given else "")


class _Builder:
    def __init__(self, network: Network):
        self.network = network
        self.mode = mode(network)
        self.steps: list[Step] = []
        self.ids: dict[str, Step] = {}
        self.position: dict[str, int] = {}  # step id -> index, to order dependencies without a scan
        self.primitives: dict[str, sympy.Symbol] = {}
        for name in [*network.inputs, *network.targets, *(p.name for p in network.parameters), LEARNING_RATE]:
            self.primitives[name] = symbol(name)

    def add(self, step_id: str, kind: str, role: str, expression: sympy.Expr, latex: str, **extra: object) -> Step:
        depends = {s.name for s in expression.free_symbols} & self.ids.keys()
        ordered = tuple(sorted(depends, key=self.position.__getitem__))
        step = Step(step_id, kind, role, symbol(step_id), latex, expression, ordered, **extra)  # type: ignore[arg-type]
        self.position[step_id] = len(self.steps)
        self.steps.append(step)
        self.ids[step_id] = step
        return step

    def sym(self, name: str) -> sympy.Symbol:
        return self.primitives[name] if name in self.primitives else self.ids[name].symbol

    # forward ------------------------------------------------------------------

    def forward(self, prime: str = "") -> None:
        network = self.network
        role = "after" if prime else "forward"
        param = {p.name: self.sym(p.name + prime) if prime else self.sym(p.name) for p in network.parameters}

        def source(name: str) -> sympy.Symbol:
            return self.sym(name + prime) if name + prime in self.ids else self.sym(name)

        for layer in network.layers:
            for unit in layer:
                terms = [
                    Mul(param[p.name], source(p.source), evaluate=False) if not p.is_bias else param[p.name]
                    for p in network.incoming(unit)
                ]
                expression = terms[0] if len(terms) == 1 else Add(*terms, evaluate=False)
                self.add(unit.pre + prime, "weighted_sum", role, expression, network.latex(unit.pre + prime))
            pre = [self.sym(unit.pre + prime) for unit in layer]
            for unit in layer:
                if unit.activation.name == "softmax":
                    expression = softmax(pre, unit.index)
                else:
                    expression = unit.activation.function(pre[unit.index])
                kind = "output" if unit.is_output else "activation"
                self.add(unit.post + prime, kind, role, expression, network.latex(unit.post + prime))
        targets = [self.sym(name) for name in network.targets]
        outputs = [self.sym(unit.post + prime) for unit in network.outputs]
        loss_id = network.loss_symbol + prime
        self.add(loss_id, "loss", "loss" if not prime else "after", network.loss.expression(targets, outputs), network.latex(loss_id))

    # backward -----------------------------------------------------------------

    def factor(self, of: str, wrt: str, expression: sympy.Expr, definition: sympy.Expr) -> str:
        step_id = f"d{of}/d{wrt}"
        latex = partial(self.network.latex(of), self.network.latex(wrt))
        self.add(step_id, "factor", "factor", expression, latex, of=of, wrt=wrt, definition=definition)
        return step_id

    def accumulate(self, node: str, terms: list[tuple[str, str]], role: str, kind: str, shorter: sympy.Expr | None = None) -> str:
        """dL/d(node) = sum of upstream signal * local factor; `shorter` replaces that sum
        where the factors cancel (an output signal, y-hat - y)."""
        loss_id = self.network.loss_symbol
        products = [Mul(self.sym(up), self.sym(f), evaluate=False) for up, f in terms]
        expression = products[0] if len(products) == 1 else Add(*products, evaluate=False)
        step_id = f"d{loss_id}/d{node}"
        latex = partial(self.network.latex(loss_id), self.network.latex(node))
        self.add(step_id, kind, role, shorter if shorter is not None else expression, latex,
                 of=loss_id, wrt=node, terms=tuple(terms), simplified=shorter is not None)
        return step_id

    def paths(self, step_id: str) -> list[list[str]]:
        """Every path of chain factors from the loss down to this step, in reading order."""
        step = self.ids[step_id]
        if step.role == "factor":
            return [[step_id]]
        return [path + [factor] for upstream, factor in step.terms for path in self.paths(upstream)]

    def backward(self) -> None:
        network = self.network
        loss_id = network.loss_symbol
        targets = [self.sym(name) for name in network.targets]
        outputs = [self.sym(unit.post) for unit in network.outputs]
        signal: dict[str, str] = {}
        for unit in network.outputs:
            derivative = network.loss.derivative(targets, outputs, unit.index)
            signal[unit.post] = self.factor(loss_id, unit.post, derivative, self.ids[loss_id].expression)
        for depth in range(len(network.layers) - 1, -1, -1):
            layer = network.layers[depth]
            for unit in layer:
                self._pre_signal(unit, layer, signal)
            pres = {u.pre for u in layer}
            for parameter in network.parameters:
                if any(target in pres for target in parameter.targets):
                    self._gradient(parameter, signal)
            if depth > 0:
                for unit in network.layers[depth - 1]:
                    terms = []
                    for target in layer:
                        weight = network.weight_between(unit.post, target)
                        if weight is None:
                            continue
                        f = self.factor(target.pre, unit.post, self.sym(weight.name), self.ids[target.pre].expression)
                        terms.append((signal[target.pre], f))
                    if terms:
                        signal[unit.post] = self.accumulate(unit.post, terms, "signal", "factor")

    def _pre_signal(self, unit: Unit, layer: list[Unit], signal: dict[str, str]) -> None:
        z = self.sym(unit.pre)
        if unit.activation.name == "softmax":
            posts = [self.sym(u.post) for u in layer]
            terms = [
                (signal[u.post], self.factor(u.post, unit.pre, softmax_derivative(posts, u.index, unit.index), self.ids[u.post].expression))
                for u in layer
            ]
        else:
            derivative = unit.activation.derivative(z, self.sym(unit.post))
            terms = [(signal[unit.post], self.factor(unit.post, unit.pre, derivative, self.ids[unit.post].expression))]
        shorter = None
        if unit.is_output and self.mode == "signals":
            outputs = [self.sym(u.post) for u in layer]
            shorter = simplified_output_signal(self.network, unit.index, outputs, [self.sym(name) for name in self.network.targets])
        signal[unit.pre] = self.accumulate(unit.pre, terms, "signal", "factor", shorter)

    def _gradient(self, parameter: Parameter, signal: dict[str, str]) -> None:
        terms = []
        for target in parameter.targets:
            local = self.sym(parameter.source) if parameter.source else sympy.Integer(1)
            terms.append((signal[target], self.factor(target, parameter.name, local, self.ids[target].expression)))
        step_id = self.accumulate(parameter.name, terms, "gradient", "gradient")
        if self.mode == "full":
            # The page multiplies every path's printed factors: so does the value.
            paths = self.paths(step_id)
            if len(paths) > FULL_MAX_PATHS:
                raise SpecError(f"chain: full writes every path of chain factors, and {step_id} has {len(paths)} "
                                f"(at most {FULL_MAX_PATHS}); use chain: signals or auto for this network.")
            products = [Mul(*(self.sym(f) for f in path), evaluate=False) if len(path) > 1 else self.sym(path[0]) for path in paths]
            step = self.steps.pop()
            del self.ids[step_id], self.position[step_id]
            expression = products[0] if len(products) == 1 else Add(*products, evaluate=False)
            self.add(step_id, step.kind, step.role, expression, step.latex, of=step.of, wrt=step.wrt, terms=step.terms)

    def update(self) -> None:
        eta = self.primitives[LEARNING_RATE]
        loss_id = self.network.loss_symbol
        for parameter in self.network.parameters:
            gradient = self.ids[f"d{loss_id}/d{parameter.name}"].symbol
            expression = Add(self.sym(parameter.name), Mul(-1, eta, gradient, evaluate=False), evaluate=False)
            self.add(parameter.name + "'", "weight", "update", expression, self.network.latex(parameter.name + "'"))


def derive(network: Network, policy: Policy) -> Derivation:
    builder = _Builder(network)
    builder.forward()
    builder.backward()
    builder.update()
    builder.forward(prime="'")
    derivation = Derivation(network, policy, builder.steps, builder.primitives, chain=builder.mode)
    if derivation.is_numeric:
        _fill_values(derivation)
    return derivation


def _fill_values(derivation: Derivation) -> None:
    exact, shown, carried = derivation.evaluate()
    for step in derivation.steps:
        step.exact = exact[step.symbol]
        step.value = shown[step.symbol]
    derivation.loss_history = list(_training_losses(derivation, shown, carried))


def _training_losses(
    derivation: Derivation, shown: dict[sympy.Symbol, float], carried: dict[sympy.Symbol, float]
) -> Iterator[float]:
    """The loss before each of `steps` updates, then after the last one; every iteration
    after the first reruns the same steps from the previous iteration's updated values."""
    network = derivation.network
    loss = derivation[network.loss_symbol].symbol
    after = derivation[network.loss_symbol + "'"].symbol
    yield shown[loss]
    for _ in range(network.spec.steps - 1):
        parameters = {p.name: carried[derivation[p.name + "'"].symbol] for p in network.parameters}
        _, shown, carried = derivation.evaluate(parameters)
        yield shown[loss]
    yield shown[after]
