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
from dataclasses import dataclass, field
from functools import cached_property

import sympy
from sympy import Add, Mul

from .functions import softmax, softmax_derivative
from ..spec.vocabulary import SpecError
from .names import partial
from .network import Network, Parameter, Unit, symbol
from .numeric import EvaluationError, branch, evaluate
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
    iteration: int = 1  # the training iteration it belongs to (the pass after the last: the last)
    sample: int | None = None  # its sample in a mini-batch; None for the batch's own steps and a lone sample


@dataclass
class Derivation:
    network: Network
    policy: Policy
    steps: list[Step]
    primitives: dict[str, sympy.Symbol]
    givens: dict[str, float | None]  # each primitive's value (None in a symbolic spec)
    primitive_latex: dict[str, str]
    loss_history: list[float] = field(default_factory=list)
    history: list[dict[str, float]] = field(default_factory=list)  # per iteration: parameter -> value after it
    batched: bool = False  # the samples' steps carry their numbers: z1(2), dL(2)/dw1
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

    def with_role(self, *roles: str, iteration: int | None = None) -> list[Step]:
        """The steps of these roles, of one iteration when it is given."""
        return [step for step in self.steps if step.role in roles and (iteration is None or step.iteration == iteration)]

    def latex_of(self, name: str) -> str:
        """The LaTeX of a step or a primitive, by id."""
        return self[name].latex if name in self else self.primitive_latex[name]

    @cached_property
    def names(self) -> dict[sympy.Symbol, str]:
        """LaTeX for every symbol a step expression may contain."""
        names = {sym: self.primitive_latex[name] for name, sym in self.primitives.items()}
        names.update({step.symbol: step.latex for step in self.steps})
        return names

    @cached_property
    def primitive_values(self) -> dict[sympy.Symbol, float]:
        return {self.primitives[name]: value for name, value in self.givens.items() if value is not None}

    @property
    def is_numeric(self) -> bool:
        return all(value is not None for value in self.givens.values())

    @property
    def iterations(self) -> int:
        return self.network.spec.steps

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

    def evaluate(self) -> tuple[dict[sympy.Symbol, float], dict[sympy.Symbol, float], dict[sympy.Symbol, float]]:
        """Exact values, policy values and the values carried into later steps."""
        exact = dict(self.primitive_values)
        carried = dict(exact)
        shown: dict[sympy.Symbol, float] = {}
        for step in self.steps:
            exact[step.symbol] = _computed(step, exact)
            value = _computed(step, carried, _branches_at(step.expression, exact))
            rounded = self.policy.round(value, step.kind)
            if not math.isfinite(rounded):
                raise EvaluationError(f"{step.id} = {value:g} rounds to {rounded}: it is beyond the largest float")
            shown[step.symbol] = rounded
            carried[step.symbol] = self.policy.carried(exact[step.symbol], rounded)
        return exact, shown, carried


def _branches_at(expression: sympy.Expr, exact: dict[sympy.Symbol, float]) -> sympy.Expr:
    """Each piecewise choice (a max gate's 1 or 0, ReLU's slope) made at the exact values:
    two inputs can round to one number (0.24682 and 0.24676 both to 0.247) where they do not
    tie, and the key would have split the gradient of a max that has a clear winner."""
    if not expression.has(sympy.Piecewise):
        return expression
    return expression.replace(lambda part: isinstance(part, sympy.Piecewise), lambda part: branch(part, exact))


def _computed(step: Step, values: dict[sympy.Symbol, float], expression: sympy.Expr | None = None) -> float:
    """The step's value (or `expression`'s, the step's with its branches chosen) from
    `values`; NaN, infinity and overflow are refused with the step and the numbers it was
    computed from, so no document ever shows them."""
    try:
        result = evaluate(step.expression if expression is None else expression, values)
    except EvaluationError as error:
        failure = EvaluationError(f"{_stated(step, values)}: {error}")
    else:
        if math.isfinite(result):
            return result
        failure = EvaluationError(f"{_stated(step, values)} is not a number (NaN)" if math.isnan(result) else
                                  f"{_stated(step, values)} overflows to {'-' if result < 0 else ''}infinity")
    failure.step_id = step.id
    raise failure from None


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


@dataclass(frozen=True)
class Pass:
    """Where a step sits in training: after how many updates (the primes of w1', z1'), and
    for which sample of a mini-batch (None: the spec's only sample, ids unmarked)."""

    updates: int = 0
    sample: int | None = None

    def node(self, name: str) -> str:
        """A unit's or the loss's id in this pass: z1, z1', z1''(2), z1[4](2)."""
        return name + primes(self.updates) + (f"({self.sample})" if self.sample is not None else "")

    def given(self, name: str) -> str:
        """An input's or a target's id: x1, or x1(2) for the second sample."""
        return name + (f"({self.sample})" if self.sample is not None else "")

    def node_latex(self, latex: str) -> str:
        return marked_latex(latex, self.updates, self.sample)


def primes(updates: int) -> str:
    """The marks of a quantity after `updates` updates, as lecture notes write them: ', '',
    ''' and from the fourth on [4] (w1[4])."""
    return "'" * updates if updates <= 3 else f"[{updates}]"


def marked_latex(latex: str, updates: int = 0, sample: int | None = None) -> str:
    """A name's LaTeX with its primes and its sample as a superscript: z_{1}'^{(2)}."""
    upper = [f"[{updates}]"] if updates > 3 else []
    if sample is not None:
        upper.append(f"({sample})")
    marks = "'" * updates if updates <= 3 else ""
    return latex + marks + (f"^{{{''.join(upper)}}}" if upper else "")


class StepBuilder:
    iteration = 1  # the iteration the steps being added belong to

    def __init__(self, network: Network, batched: bool):
        self.network = network
        self.mode = mode(network)
        self.batched = batched  # the samples' steps carry their sample's number
        self.steps: list[Step] = []
        self.ids: dict[str, Step] = {}
        self.position: dict[str, int] = {}  # step id -> index, to order dependencies without a scan
        self.primitives: dict[str, sympy.Symbol] = {}
        self.givens: dict[str, float | None] = {}  # each primitive's value, None in a symbolic spec
        self.primitive_latex: dict[str, str] = {}
        for index, (inputs, targets) in enumerate(network.samples, start=1):
            where = Pass(sample=index if batched else None)
            for name, value in [*inputs.items(), *targets.items()]:
                self.primitive(where.given(name), value, where.node_latex(network.latex(name)))
        for parameter in network.parameters:
            self.primitive(parameter.name, parameter.value, network.latex(parameter.name))
        self.primitive(LEARNING_RATE, network.learning_rate, network.latex_names.get(LEARNING_RATE, r"\eta"))

    def primitive(self, name: str, value: float | None, latex: str) -> sympy.Symbol:
        self.primitives[name] = symbol(name)
        self.givens[name] = value
        self.primitive_latex[name] = latex
        return self.primitives[name]

    def add(self, step_id: str, kind: str, role: str, expression: sympy.Expr, latex: str, **extra: object) -> Step:
        depends = {s.name for s in expression.free_symbols} & self.ids.keys()
        ordered = tuple(sorted(depends, key=self.position.__getitem__))
        step = Step(step_id, kind, role, symbol(step_id), latex, expression, ordered, iteration=self.iteration, **extra)  # type: ignore[arg-type]
        self.position[step_id] = len(self.steps)
        self.steps.append(step)
        self.ids[step_id] = step
        return step

    def sym(self, name: str) -> sympy.Symbol:
        return self.primitives[name] if name in self.primitives else self.ids[name].symbol

    def latex_of(self, name: str) -> str:
        return self.primitive_latex[name] if name in self.primitive_latex else self.ids[name].latex

    @staticmethod
    def parameter(name: str, updates: int) -> str:
        """The id of a parameter's value after `updates` updates: w1, w1', w1''."""
        return name + primes(updates)

    # forward ------------------------------------------------------------------

    def forward(self, where: Pass, role: str = "forward") -> None:
        network = self.network
        param = {p.name: self.sym(self.parameter(p.name, where.updates)) for p in network.parameters}

        def source(name: str) -> sympy.Symbol:
            return self.sym(where.given(name)) if name in network.inputs else self.sym(where.node(name))

        for layer in network.layers:
            for unit in layer:
                terms = [
                    Mul(param[p.name], source(p.source), evaluate=False) if not p.is_bias else param[p.name]
                    for p in network.incoming(unit)
                ]
                expression = terms[0] if len(terms) == 1 else Add(*terms, evaluate=False)
                self.add(where.node(unit.pre), "weighted_sum", role, expression, where.node_latex(network.latex(unit.pre)),
                         sample=where.sample)
            pre = [self.sym(where.node(unit.pre)) for unit in layer]
            for unit in layer:
                if unit.activation.name == "softmax":
                    expression = softmax(pre, unit.index)
                else:
                    expression = unit.activation.function(pre[unit.index])
                kind = "output" if unit.is_output else "activation"
                self.add(where.node(unit.post), kind, role, expression, where.node_latex(network.latex(unit.post)),
                         sample=where.sample)
        targets = [self.sym(where.given(name)) for name in network.targets]
        outputs = [self.sym(where.node(unit.post)) for unit in network.outputs]
        self.add(where.node(network.loss_symbol), "loss", "loss" if role == "forward" else role,
                 network.loss.expression(targets, outputs), where.node_latex(network.latex(network.loss_symbol)),
                 sample=where.sample)

    # backward -----------------------------------------------------------------

    def factor(self, of: str, wrt: str, expression: sympy.Expr, definition: sympy.Expr, sample: int | None) -> str:
        step_id = f"d{of}/d{wrt}"
        latex = partial(self.latex_of(of), self.latex_of(wrt))
        self.add(step_id, "factor", "factor", expression, latex, of=of, wrt=wrt, definition=definition, sample=sample)
        return step_id

    def accumulate(self, loss_id: str, node: str, terms: list[tuple[str, str]], role: str, kind: str,
                   sample: int | None, shorter: sympy.Expr | None = None) -> str:
        """dL/d(node) = sum of upstream signal * local factor; `shorter` replaces that sum
        where the factors cancel (an output signal, y-hat - y)."""
        products = [Mul(self.sym(up), self.sym(f), evaluate=False) for up, f in terms]
        expression = products[0] if len(products) == 1 else Add(*products, evaluate=False)
        step_id = f"d{loss_id}/d{node}"
        latex = partial(self.latex_of(loss_id), self.latex_of(node))
        self.add(step_id, kind, role, shorter if shorter is not None else expression, latex,
                 of=loss_id, wrt=node, terms=tuple(terms), simplified=shorter is not None, sample=sample)
        return step_id

    def paths(self, step_id: str) -> list[list[str]]:
        """Every path of chain factors from the loss down to this step, in reading order."""
        step = self.ids[step_id]
        if step.role == "factor":
            return [[step_id]]
        return [path + [factor] for upstream, factor in step.terms for path in self.paths(upstream)]

    def backward(self, where: Pass) -> None:
        network = self.network
        loss_id = where.node(network.loss_symbol)
        targets = [self.sym(where.given(name)) for name in network.targets]
        outputs = [self.sym(where.node(unit.post)) for unit in network.outputs]
        signal: dict[str, str] = {}  # unit name -> the id of its error signal in this pass
        for unit in network.outputs:
            derivative = network.loss.derivative(targets, outputs, unit.index)
            signal[unit.post] = self.factor(loss_id, where.node(unit.post), derivative, self.ids[loss_id].expression, where.sample)
        for depth in range(len(network.layers) - 1, -1, -1):
            layer = network.layers[depth]
            for unit in layer:
                self._pre_signal(where, unit, layer, signal)
            pres = {u.pre for u in layer}
            for parameter in network.parameters:
                if any(target in pres for target in parameter.targets):
                    self._gradient(where, parameter, signal)
            if depth > 0:
                for unit in network.layers[depth - 1]:
                    terms = []
                    for target in layer:
                        weight = network.weight_between(unit.post, target)
                        if weight is None:
                            continue
                        pre = where.node(target.pre)
                        f = self.factor(pre, where.node(unit.post), self.sym(self.parameter(weight.name, where.updates)),
                                        self.ids[pre].expression, where.sample)
                        terms.append((signal[target.pre], f))
                    if terms:
                        signal[unit.post] = self.accumulate(loss_id, where.node(unit.post), terms, "signal", "factor", where.sample)

    def _pre_signal(self, where: Pass, unit: Unit, layer: list[Unit], signal: dict[str, str]) -> None:
        loss_id = where.node(self.network.loss_symbol)
        pre, post = where.node(unit.pre), where.node(unit.post)
        if unit.activation.name == "softmax":
            posts = [self.sym(where.node(u.post)) for u in layer]
            terms = [
                (signal[u.post], self.factor(where.node(u.post), pre, softmax_derivative(posts, u.index, unit.index),
                                             self.ids[where.node(u.post)].expression, where.sample))
                for u in layer
            ]
        else:
            derivative = unit.activation.derivative(self.sym(pre), self.sym(post))
            terms = [(signal[unit.post], self.factor(post, pre, derivative, self.ids[post].expression, where.sample))]
        shorter = None
        if unit.is_output and self.mode == "signals":
            outputs = [self.sym(where.node(u.post)) for u in layer]
            targets = [self.sym(where.given(name)) for name in self.network.targets]
            shorter = simplified_output_signal(self.network, unit.index, outputs, targets)
        signal[unit.pre] = self.accumulate(loss_id, pre, terms, "signal", "factor", where.sample, shorter)

    def _gradient(self, where: Pass, parameter: Parameter, signal: dict[str, str]) -> None:
        loss_id = where.node(self.network.loss_symbol)
        name = self.parameter(parameter.name, where.updates)
        terms = []
        for target in parameter.targets:
            pre = where.node(target)
            if parameter.source is None:
                local: sympy.Expr = sympy.Integer(1)
            elif parameter.source in self.network.inputs:
                local = self.sym(where.given(parameter.source))
            else:
                local = self.sym(where.node(parameter.source))
            terms.append((signal[target], self.factor(pre, name, local, self.ids[pre].expression, where.sample)))
        step_id = self.accumulate(loss_id, name, terms, "gradient", "gradient", where.sample)
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
            self.add(step_id, step.kind, step.role, expression, step.latex, of=step.of, wrt=step.wrt, terms=step.terms,
                     sample=where.sample)
