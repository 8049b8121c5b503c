"""Self-check pages: the worksheet as one HTML page whose boxes the grader's own judgement
marks as the student types, offline.

The judgement is not written per network: every step's defining expression is compiled to
JavaScript (SymPy's JavascriptCodePrinter, with sums, powers and functions routed through
helpers that fail where derive/engine/numeric.py fails and add as `math.fsum` adds), and
the page's script (derive/templates/check.js) is a line-by-line port of grading.py's
`grade` run on that model: the key's acceptance intervals, error carried forward through
the student's own answers, the blocks on trivial upstreams and the named mistakes. What
does not depend on the student's answers is computed here once: the intervals, each
mistake's full-precision run, the other weight order's exact values, and which 0s and 1s
trivialise a step."""

from __future__ import annotations

import itertools
import json
import math
from typing import TYPE_CHECKING, Any

import markupsafe
import sympy
from sympy.printing.jscode import JavascriptCodePrinter

from ..spec.graph import Maximum, Minimum
from ..views.circuit_document import circuit_context, render_circuit_svg
from ..views.documents import HEADINGS, document_context, render_diagram, render_text_template
from ..views.key import acceptance_intervals, asked_ids
from . import grading
from .graph_mistakes import fork_runs, mistake_name

if TYPE_CHECKING:
    from ..engine.derivation import Derivation, Step
    from ..engine.problem import Problem

_TWO_ARGUMENTS = {sympy.Max: "max", sympy.Min: "min", Maximum: "max", Minimum: "min"}  # as Math.max, Math.min
_MOST_FREE = 5  # a step's inputs outside every product whose 0/1 combinations are tabled


class _Printer(JavascriptCodePrinter):
    """A step's expression as JavaScript over `v` (the values, by symbol index), evaluated
    in the order derive/engine/numeric.py evaluates it."""

    def __init__(self, index: dict[sympy.Symbol, int]) -> None:
        super().__init__({"strict": False})
        self.index = index

    def _print_Symbol(self, expr: sympy.Symbol) -> str:
        return f"v[{self.index[expr]}]"

    def _print_Add(self, expr: sympy.Add, order: object = None) -> str:
        return "F.sum([" + ", ".join(self._print(arg) for arg in expr.args) + "])"

    def _print_Mul(self, expr: sympy.Mul) -> str:
        return "(" + " * ".join(self._print(arg) for arg in expr.args) + ")"

    def _print_Pow(self, expr: sympy.Pow) -> str:
        return f"F.pow({self._print(expr.base)}, {self._print(expr.exp)})"

    def _print_Rational(self, expr: sympy.Rational) -> str:
        return repr(float(expr))

    _print_Integer = _print_Float = _print_Rational  # type: ignore[assignment]

    def _print_Function(self, expr: sympy.Function) -> str:
        name = {sympy.exp: "exp", sympy.log: "log", sympy.tanh: "tanh", sympy.Abs: "abs", sympy.sinh: "sinh",
                sympy.cosh: "cosh", sympy.sin: "sin", sympy.cos: "cos", sympy.sign: "sign", sympy.Heaviside: "heaviside"}
        if expr.func in _TWO_ARGUMENTS:
            return f"Math.{_TWO_ARGUMENTS[expr.func]}(" + ", ".join(self._print(arg) for arg in expr.args) + ")"
        if expr.func not in name:
            raise ValueError(f"no JavaScript for {expr.func.__name__}")
        return f"F.{name[expr.func]}({self._print(expr.args[0])})"

    _print_exp = _print_log = _print_tanh = _print_Abs = _print_sinh = _print_cosh = _print_Function  # type: ignore[assignment]
    _print_sin = _print_cos = _print_sign = _print_Heaviside = _print_Max = _print_Min = _print_Function  # type: ignore[assignment]

    def _print_Piecewise(self, expr: sympy.Piecewise) -> str:
        code = "F.nobranch()"
        for value, condition in reversed(expr.args):
            test = "true" if condition == sympy.true else self._relation(condition)
            code = f"({test} ? {self._print(value)} : {code})"
        return code

    def _relation(self, condition: sympy.Basic) -> str:
        operator = {sympy.StrictGreaterThan: ">", sympy.GreaterThan: ">=", sympy.StrictLessThan: "<", sympy.LessThan: "<="}
        if type(condition) not in operator:
            raise ValueError(f"no JavaScript for the condition {condition}")
        left, right = condition.args
        return f"({self._print(left)} {operator[type(condition)]} {self._print(right)})"


def _function(printer: _Printer, expression: sympy.Expr) -> str:
    return f"(v) => {printer.doprint(expression)}"


def _number(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def _trivial_table(step: Step, symbols: dict[str, sympy.Symbol]) -> tuple[list[str], dict[str, bool]]:
    """grading._trivialised, tabled: the inputs that multiply something (a 0 or 1 there always
    trivialises), and for the others each combination of 0s and 1s."""
    in_products = {dep for dep in step.depends_on
                   if any(node.is_Mul and symbols[dep] in node.args for node in sympy.preorder_traversal(step.expression))}
    free = [dep for dep in step.depends_on if dep not in in_products][:_MOST_FREE]
    table: dict[str, bool] = {}
    for choice in itertools.product((None, 0.0, 1.0), repeat=len(free)):
        degenerate = {symbols[dep]: value for dep, value in zip(free, choice) if value is not None}
        if degenerate:
            key = ",".join(f"{dep}={int(value)}" for dep, value in zip(free, choice) if value is not None)
            table[key] = grading._trivialised(step, degenerate)
    return sorted(in_products), table


def _model(derivation: Derivation) -> tuple[dict[str, Any], list[str]]:
    """The derivation as data for check.js, and the JavaScript of every function it names."""
    index: dict[sympy.Symbol, int] = {}
    for symbol in derivation.primitives.values():
        index.setdefault(symbol, len(index))
    for step in derivation.steps:
        index.setdefault(step.symbol, len(index))
    printer = _Printer(index)
    functions: list[str] = []

    def compiled(expression: sympy.Expr) -> int:
        functions.append(_function(printer, expression))
        return len(functions) - 1

    symbols = {step.id: step.symbol for step in derivation.steps}
    steps = []
    for step in derivation.steps:
        terms = step.expression.args if step.expression.is_Add else (step.expression,)
        products, table = _trivial_table(step, symbols)
        steps.append({
            "id": step.id, "kind": step.kind, "symbol": index[step.symbol],
            "deps": list(step.depends_on), "inputs": [index[symbols[dep]] for dep in step.depends_on],
            "terms": [compiled(term) for term in terms],
            "holding": {str(index[s]): [i for i, term in enumerate(terms) if s in term.free_symbols]
                        for s in step.expression.free_symbols if s in index},
            "products": products, "trivial": table,
        })
    values = [None] * len(index)
    for symbol, value in derivation.primitive_values.items():
        values[index[symbol]] = value
    model = {"steps": steps, "values": values, "givens": list(derivation.primitive_values.values())}
    return model, functions


def _overrides(derivation: Derivation, offset: int, model: dict[str, Any]) -> tuple[dict[str, dict[str, int]], list[str]]:
    """grading._mistakes as compiled functions per step (a step a mistake does not touch is
    left out), mirroring each override's rule."""
    index = {step.id: step_model["symbol"] for step, step_model in zip(derivation.steps, model["steps"])}
    symbol_index = {step.symbol: index[step.id] for step in derivation.steps}
    prim_index = {symbol: i for i, symbol in enumerate(derivation.primitives.values())}
    printer = _Printer({**prim_index, **symbol_index})
    eta = derivation.primitives["eta"]
    loss = derivation.network.loss_symbol
    weights = {p.name for p in derivation.network.weights}
    functions: list[str] = []
    table: dict[str, dict[str, int]] = {name: {} for name in grading._mistakes(derivation)}
    gates = {gate.name: gate for gate in getattr(derivation.network, "gates", ())}  # a computational graph's

    def add(name: str, step: Step, code: str) -> None:
        functions.append(code)
        table[name][step.id] = offset + len(functions) - 1

    forks = fork_runs(derivation)
    for step in derivation.steps:
        activation = grading._activation_factor(derivation, step)
        if activation in ("sigmoid", "tanh"):
            add("sigma_prime_missing", step, "(v) => 1")
            a = f"(v[{index[step.of]}] ?? 0)" if step.of in index else "0"
            at = f"F.sigmoidPrime({a})" if activation == "sigmoid" else f"F.tanhPrime({a})"
            add("sigma_prime_at_activation", step, f"(v) => {at}")
        if step.role == "factor" and step.of == loss and derivation.network.spec.loss in ("squared_error", "mse"):
            add("factor_two_dropped", step, f"(v) => {printer.doprint(step.expression)} / 2")
        if step.role == "update":
            add("learning_rate_missing", step, _function(printer, step.expression.xreplace({eta: sympy.Integer(1)})))
            add("update_sign_flipped", step, _function(printer, step.expression.xreplace({eta: -eta})))
        if step.role == "factor" and step.expression.is_Symbol and step.expression.name in weights:
            add("new_weight_in_backward", step, f"(v) => {derivation[step.expression.name + chr(39)].exact!r}")
        # classroom/graph_mistakes.py, step for step
        for run, use in forks:
            if step.role in ("signal", "gradient") and len(step.terms) >= 2 and use < len(step.terms):
                upstream, factor = step.terms[use]
                kept = derivation[factor].symbol if not upstream else derivation[upstream].symbol * derivation[factor].symbol
                add(run, step, _function(printer, kept))
        gate = gates.get(step.of or "")
        if gate is not None and not step.terms and step.wrt in gate.inputs and len(gate.inputs) >= 2:
            if gate.op == "multiply":
                add("wrong_gate_local", step, "(v) => 1")
            elif gate.op == "add":
                others = [derivation.primitives[name] if name in derivation.primitives else derivation[name].symbol
                          for name in gate.inputs if name != step.wrt]
                add("wrong_gate_local", step, _function(printer, sympy.Mul(*others, evaluate=False)))
    return table, functions


def check_model(derivation: Derivation) -> tuple[dict[str, Any], str]:
    """Everything check.js needs, as JSON, and the JavaScript array of compiled functions."""
    model, functions = _model(derivation)
    mistakes, extra = _overrides(derivation, len(functions), model)
    functions += extra
    intervals = acceptance_intervals(derivation)
    model["key"] = {step_id: list(interval) for step_id, interval in intervals.items()}
    model["right"] = {step.id: [_number(step.value), _number(step.exact)] for step in derivation.steps}
    model["mistakes"] = [
        {"name": mistake_name(name), "steps": mistakes[name],
         "exact": {k: _number(v) for k, v in grading._run(derivation, {}, override).items()}}
        for name, override in grading._mistakes(derivation).items()
    ]
    other = grading._other_weight_order(derivation)
    if other is not None:
        other_model, other_functions = _model(other)
        shift = len(functions)
        functions += other_functions
        for step in other_model["steps"]:
            step["terms"] = [shift + t for t in step["terms"]]
        model["other"] = other_model
        model["other_exact"] = {step.id: step.exact for step in other.steps if step.exact is not None}
    policy = derivation.policy
    model["policy"] = {"mode": policy.mode, "rounding": policy.rounding,
                       "digits": {step.kind: policy.digits_for(step.kind) for step in derivation.steps}}
    model["asked"] = asked_ids(derivation)
    return model, "[\n" + ",\n".join(functions) + "\n]"


def check_page(problem: Problem, language: str, *, student: str = "", student_id: str = "", version: str = "",
               reveal: bool = False) -> str:
    """check.html: the worksheet's picture, given values and rule, and a box for every item
    it asks, in the derivation's order, judged in the page by check.js."""
    from ..spec.schema import SpecError
    from .reports import MISTAKES

    spec = problem.spec
    if spec.samples is not None or spec.optimizer.name != "sgd" or spec.optimizer.weight_decay or spec.steps > 1:
        raise SpecError(f"{problem.origin}: --format check: a self-check page judges one sample and one step of plain "
                        "gradient descent; this spec trains further (samples, optimizer or steps), which the page does not "
                        "judge yet. Leave check out of --format.")
    derivation = problem.derivation
    if not derivation.is_numeric:
        raise SpecError(f"{problem.origin}: --format check: a self-check page compares numbers, and this spec has none "
                        "(give the inputs, targets and weights their values).")
    context, svg = _worksheet_parts(problem, language)
    model, functions = check_model(derivation)
    asked = set(model["asked"])
    sections: list[tuple[str, list[tuple[str, str]]]] = []
    for step in derivation.steps:
        if step.id not in asked:
            continue
        if not sections or sections[-1][0] != step.role:
            sections.append((step.role, []))
        sections[-1][1].append((step.id, step.latex))
    if reveal:
        model["reveal"] = {step.id: context_number(problem, step) for step in derivation.steps if step.id in asked}
    model["version"] = version
    model["phrases"] = MISTAKES[language]
    # </ cannot close the script element from inside the JSON (ids and names are user text).
    data = json.dumps(model, ensure_ascii=False, allow_nan=False, sort_keys=True).replace("</", "<\\/")
    return render_text_template("check.html.j2", {
        **context, "sections": sections, "model": data, "functions": functions, "svg": markupsafe.Markup(svg),
        "student": student, "student_id": student_id, "version": version, "reveal": reveal,
    }, "html")


def _worksheet_parts(problem: Problem, language: str) -> tuple[dict[str, object], str]:
    """What the page shares with the worksheet: title, words, rounding rule, the given values
    as display rows (`givens`) and the picture; a computational graph's come from its own
    documents (views/circuit_document.py)."""
    if problem.spec.graph is not None:
        circuit = circuit_context(problem, "worksheet", language)
        words = {**circuit["words"], "initial": circuit["words"]["given"], "version": HEADINGS[language]["version"]}  # type: ignore[dict-item]
        givens = [row.removeprefix("&") for rows in circuit["given"] for row in rows]  # type: ignore[attr-defined]  # centred rows
        return {**circuit, "words": words, "givens": givens}, render_circuit_svg(problem, "worksheet", inline=True)
    context = document_context(problem, "worksheet", language)
    initial = list(context["initial"])  # type: ignore[call-overload]
    givens = [*initial[:-1], f"{initial[-1]},\\quad \\eta = {context['learning_rate']}"]
    return {**context, "givens": givens}, render_diagram(problem, "worksheet")


def context_number(problem: Problem, step: Step) -> str:
    """The right value as the key prints it (only on a page made with --reveal)."""
    from ..engine.policy import format_number

    assert step.value is not None
    return format_number(step.value, problem.policy, step.kind)
