"""Random graphs (up to 30 gates, every gate kind, fan-out, shared parameters): every
node's value and every gradient against sympy.diff of the output inlined into the leaves,
against PyTorch autograd in float64, and the two granularities against each other."""

from __future__ import annotations

import math
import random
from typing import Any

import pytest
import sympy

from derive.engine.graph import build_circuit
from derive.engine.problem import build
from derive.spec.formula import parse_formula
from derive.spec.graph import GRAPH_FUNCTIONS, Relu, Sigmoid
from derive.spec.schema import parse_spec

# One template per gate kind (a and b are distinct earlier names); the ones that could leave
# their domain or overflow are guarded by construction (1 + b^2 > 0, exp of a tanh).
TEMPLATES = [
    "{a} + {b}", "{a} - {b}", "{a} * {b}", "-{a}", "{a} / (1 + {b}^2)", "{a}^2", "sqrt(1 + {a}^2)", "exp(tanh({a}))",
    "log(1 + {a}^2)", "max({a}, {b})", "min({a}, {b})", "abs({a})", "tanh({a})", "sigmoid({a})", "relu({a})",
    "{a} * {b} + {a}", "sigmoid({a} * {b} + 0.5)",
]
MAX_GATES = 30
SEEDS = range(40)


def random_graph(seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    value = lambda: round(rng.choice([-1, 1]) * rng.uniform(0.2, 1.5), 3)  # noqa: E731
    inputs = {f"x{i}": value() for i in range(rng.randint(1, 3))}
    parameters = {f"w{i}": value() for i in range(rng.randint(1, 3))}
    names = [*inputs, *parameters]
    nodes: list[dict[str, str]] = []
    for index in range(rng.randint(2, 9)):
        template = TEMPLATES[(seed + index) % len(TEMPLATES)] if index < 2 else rng.choice(TEMPLATES)
        # Shared parameters and fan-out: earlier names are drawn again and again.
        a = rng.choice(names)
        b = rng.choice([name for name in names if name != a] or [a])
        nodes.append({f"n{index}": template.format(a=a, b=b if b != a else "0.7")})
        names.append(f"n{index}")
    used = {name for node in nodes for formula in node.values() for name in names if _mentions(formula, name)}
    loose = [name for name in names if name not in used]
    nodes.append({"f": " + ".join(loose) if len(loose) > 1 else f"{loose[0]} * {names[0]}"})
    return {"language": "en", "precision": {"carry": "exact"},
            "graph": {"inputs": inputs, "parameters": parameters, "nodes": nodes}}


def _mentions(formula: str, name: str) -> bool:
    import re

    return re.search(rf"\b{name}\b", formula) is not None


def graphs() -> list[dict[str, Any]]:
    """The seeds' graphs, shortened until their gate form has at most MAX_GATES gates."""
    found = []
    for seed in SEEDS:
        data = random_graph(seed)
        data["graph"]["granularity"] = "gates"
        while len(build_circuit(parse_spec(data)).gates) > MAX_GATES:
            data = random_graph(seed + 1000 * len(found) + 7)
            data["graph"]["granularity"] = "gates"
        found.append(data)
    return found


GRAPHS = graphs()


def test_the_graphs_cover_every_gate_kind_fan_out_and_size() -> None:
    ops = {gate.op for data in GRAPHS for gate in build_circuit(parse_spec(data)).gates}
    assert ops >= {"add", "multiply", "negate", "reciprocal", "power", "exp", "log", "max", "min", "abs", "tanh", "sigmoid", "relu"}
    forks = [data for data in GRAPHS if any(len(build_circuit(parse_spec(data)).uses(name)) > 1
                                            for name in parse_spec(data).graph.leaves)]  # type: ignore[union-attr]
    assert len(forks) > len(GRAPHS) // 2
    assert max(len(build_circuit(parse_spec(data)).gates) for data in GRAPHS) > 15


def _inlined(data: dict[str, Any]) -> tuple[sympy.Expr, dict[str, sympy.Expr], dict[sympy.Symbol, float]]:
    """The output and every node written in the leaves only, sigma and relu as formulas."""
    graph = data["graph"]
    leaves = {**graph["inputs"], **graph["parameters"]}
    symbols = {name: sympy.Symbol(name, real=True) for name in leaves}
    nodes: dict[str, sympy.Expr] = {}
    for entry in graph["nodes"]:
        (name, formula), = entry.items()
        body = parse_formula(formula, {**symbols, **{n: sympy.Symbol(n, real=True) for n in nodes}}, GRAPH_FUNCTIONS)
        body = body.xreplace({sympy.Symbol(n, real=True): e for n, e in nodes.items()})
        nodes[name] = body.replace(Sigmoid, lambda a: 1 / (1 + sympy.exp(-a))).replace(Relu, lambda a: sympy.Max(0, a))
    return nodes["f"], nodes, {symbols[name]: value for name, value in leaves.items()}


@pytest.mark.parametrize("index", range(len(GRAPHS)))
@pytest.mark.parametrize("granularity", ["gates", "nodes"])
def test_values_and_gradients_match_sympy_diff(index: int, granularity: str) -> None:
    data = {**GRAPHS[index], "graph": {**GRAPHS[index]["graph"], "granularity": granularity}}
    d = build(data).derivation
    output, nodes, values = _inlined(data)
    for name, expression in nodes.items():
        assert d[name].exact == pytest.approx(float(expression.subs(values)), rel=1e-12, abs=1e-12), name
    for leaf in values:
        expected = float(sympy.diff(output, leaf).subs(values))
        assert d[f"df/d{leaf.name}"].exact == pytest.approx(expected, rel=1e-10, abs=1e-12), leaf.name


def _torch_value(expression: sympy.Expr, tensors: dict[str, Any]) -> Any:
    import torch

    if expression.is_Symbol:
        return tensors[expression.name]
    if expression.is_Number:
        return torch.tensor(float(expression), dtype=torch.float64)
    args = [_torch_value(a, tensors) for a in expression.args]
    if expression.is_Add:
        return sum(args[1:], args[0])
    if expression.is_Mul:
        product = args[0]
        for a in args[1:]:
            product = product * a
        return product
    if expression.is_Pow:
        return torch.pow(args[0], args[1])
    functions = {sympy.exp: torch.exp, sympy.log: torch.log, sympy.tanh: torch.tanh, sympy.Abs: torch.abs,
                 Sigmoid: torch.sigmoid, Relu: torch.relu}
    if expression.func in functions:
        return functions[expression.func](args[0])
    return {sympy.Max: torch.maximum, sympy.Min: torch.minimum}[expression.func](*args)


@pytest.mark.parametrize("index", range(len(GRAPHS)))
def test_gradients_match_torch_autograd(index: int) -> None:
    torch = pytest.importorskip("torch")
    data = GRAPHS[index]
    graph = data["graph"]
    leaves = {**graph["inputs"], **graph["parameters"]}
    tensors = {name: torch.tensor(value, dtype=torch.float64, requires_grad=True) for name, value in leaves.items()}
    symbols = {name: sympy.Symbol(name, real=True) for name in leaves}
    for entry in graph["nodes"]:
        (name, formula), = entry.items()
        tensors[name] = _torch_value(parse_formula(formula, {**symbols, **{n: sympy.Symbol(n, real=True) for n in tensors}},
                                                   GRAPH_FUNCTIONS), tensors)
    tensors["f"].backward()
    for granularity in ("gates", "nodes"):
        d = build({**data, "graph": {**graph, "granularity": granularity}}).derivation
        assert d["f"].exact == pytest.approx(tensors["f"].item(), rel=1e-12, abs=1e-12)
        for name in leaves:
            assert d[f"df/d{name}"].exact == pytest.approx(tensors[name].grad.item(), rel=1e-10, abs=1e-12), (granularity, name)


@pytest.mark.parametrize("index", range(len(GRAPHS)))
def test_both_granularities_agree(index: int) -> None:
    data = GRAPHS[index]
    gates = build({**data, "graph": {**data["graph"], "granularity": "gates"}}).derivation
    nodes = build({**data, "graph": {**data["graph"], "granularity": "nodes"}}).derivation
    asked = [step.id for step in nodes.steps if step.role == "gradient"]
    assert asked == [step.id for step in gates.steps if step.role == "gradient"]
    for step_id in asked:
        assert math.isclose(gates[step_id].exact, nodes[step_id].exact, rel_tol=1e-12, abs_tol=1e-13)  # type: ignore[arg-type]
