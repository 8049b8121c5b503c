"""A circuit is the one the lecturer wrote: gates, their inputs and their printed formulas
keep the written order and grouping (SymPy's canonical form would sort max(z, w) into
max(w, z), collect x*x into x^2 and y + y into 2y), while the numbers stay SymPy's."""

from __future__ import annotations

from typing import Any

import pytest
import sympy

from derive.engine.graph import Circuit
from derive.engine.problem import build
from derive.spec.formula import parse_formula
from derive.spec.graph import GRAPH_FUNCTIONS, used_names
from derive.views.circuit_document import formula_latex
from derive.views.latex import DerivePrinter

INPUTS = {"a": 0.5, "b": -1.5, "c": 2.0, "w": 0.8, "x": 1.5, "y": -0.4, "z": 0.3, "t": 2.0}


def _problem(formula: str, granularity: str) -> Any:
    used = {name: INPUTS[name] for name in used_names(formula)}
    return build({"language": "en", "graph": {"inputs": used, "nodes": [{"f": formula}], "granularity": granularity}})


# formula, its gates as (op, inputs) in evaluation order, the output gate's formula as printed
GATES = [
    ("max(z, w) * x", [("max", ("z", "w")), ("multiply", ("f_g1", "x"))], r"f_{g1} \cdot x"),
    ("x * x", [("multiply", ("x",))], r"x \cdot x"),
    ("y + y", [("add", ("y",))], "y + y"),
    ("w*x + b", [("multiply", ("w", "x")), ("add", ("f_g1", "b"))], "f_{g1} + b"),
    ("a + b + c", [("add", ("a", "b", "c"))], "a + b + c"),
    ("a + (b + c)", [("add", ("b", "c")), ("add", ("a", "f_g1"))], "a + f_{g1}"),
    ("a - b + c", [("negate", ("b",)), ("add", ("a", "f_g1", "c"))], "a + f_{g1} + c"),
    ("c * (a + b)", [("add", ("a", "b")), ("multiply", ("c", "f_g1"))], r"c \cdot f_{g1}"),
    ("min(y, x) - z", [("min", ("y", "x")), ("negate", ("z",)), ("add", ("f_g1", "f_g2"))], "f_{g1} + f_{g2}"),
    ("(x - t)^2 / 2", [("negate", ("t",)), ("add", ("x", "f_g1")), ("power", ("f_g2",)), ("multiply", ("f_g3",))],
     r"\frac{f_{g3}}{2}"),
    ("-x * y", [("multiply", ("x", "y"))], r"- x \cdot y"),
]


@pytest.mark.parametrize(("formula", "gates", "printed"), GATES)
def test_gates_follow_the_formula_as_written(formula: str, gates: list[tuple[str, tuple[str, ...]]], printed: str) -> None:
    problem = _problem(formula, "gates")
    circuit: Circuit = problem.network
    assert [(gate.op, gate.inputs) for gate in circuit.gates] == gates
    assert formula_latex(circuit.gates[-1].formula, problem.derivation) == printed


# formula at granularity nodes, as the forward table prints it
NODES = [
    ("w*x + b", r"w \cdot x + b"),
    ("max(z, w)", r"\max\left(z, w\right)"),
    ("min(x, b) + a", r"\min\left(x, b\right) + a"),
    ("(x - t)^2 / 2", r"\frac{\left(x - t\right)^{2}}{2}"),
    ("sigmoid(w*x + b) * c", r"\sigma{\left(w \cdot x + b \right)} \cdot c"),
    ("x + y + y", "x + y + y"),
]


@pytest.mark.parametrize(("formula", "printed"), NODES)
def test_a_node_prints_as_written(formula: str, printed: str) -> None:
    problem = _problem(formula, "nodes")
    assert formula_latex(problem.network.gates[0].formula, problem.derivation) == printed


@pytest.mark.parametrize("granularity", ["gates", "nodes"])
@pytest.mark.parametrize("formula", [f for f, *_ in GATES] + [f for f, _ in NODES] + ["sigmoid(w*x + b)", "exp(-(x*y)) / (1 + a)"])
def test_written_and_canonical_forms_agree_on_every_number(formula: str, granularity: str) -> None:
    """Independent of the engine: the inlined formula's value and sympy.diff of it, against
    the key's value and every leaf's gradient."""
    d = _problem(formula, granularity).derivation
    symbols = {name: sympy.Symbol(name, real=True) for name in used_names(formula)}
    canonical = parse_formula(formula, symbols, GRAPH_FUNCTIONS)
    inlined = canonical.replace(GRAPH_FUNCTIONS["sigmoid"], lambda u: 1 / (1 + sympy.exp(-u)))
    at = {symbols[name]: sympy.Rational(str(INPUTS[name])) for name in symbols}
    assert d["f"].exact == pytest.approx(float(inlined.subs(at)), rel=1e-12, abs=1e-12)
    for name, leaf in symbols.items():
        expected = float(sympy.diff(inlined, leaf).subs(at))  # no ties at these inputs
        assert d[f"df/d{name}"].exact == pytest.approx(expected, rel=1e-12, abs=1e-12), name


def test_the_pass_after_the_update_keeps_the_written_order() -> None:
    d = build({"language": "en", "learning_rate": 0.1, "graph": {
        "inputs": {"x": 1.5}, "parameters": {"w": 0.8, "b": -0.2},
        "nodes": [{"h": "w*x + b"}, {"y": "x + relu(h)"}]}}).derivation
    printer = DerivePrinter(d.names)
    assert printer.doprint(d["h'"].expression) == r"w' \cdot x + b'"


@pytest.mark.parametrize(("piecewise", "printed"), [
    (sympy.Piecewise((1, sympy.Symbol("z") > 0), (0, True)), r"\begin{cases} 1 & z > 0 \\ 0 & z \leq 0 \end{cases}"),
    (sympy.Piecewise((1, sympy.Symbol("h") > 0), (0, sympy.Symbol("h") < 0), (sympy.Rational(1, 2), True), evaluate=False),
     r"\begin{cases} 1 & h > 0 \\ 0 & h < 0 \\ \frac{1}{2} & h = 0 \end{cases}"),
])
def test_cases_are_written_without_english_words(piecewise: sympy.Piecewise, printed: str) -> None:
    """A Korean page had SymPy's "for" and "otherwise" in every case-by-case slope."""
    assert DerivePrinter({}).doprint(piecewise) == printed
