"""Every gradient the derivation builds factor by factor equals two independent answers:
sympy.diff of the fully inlined loss, and a central finite difference of a forward pass
written here in NumPy, with nothing shared with derive but the spec."""

from __future__ import annotations

import math
import zlib

import numpy as np
import pytest
import sympy

import derive

from ..conftest import HIDDEN_ACTIVATIONS, OUTPUT_AND_LOSS, random_spec

CASES = [
    (hidden, output, loss, depth)
    for depth in (1, 2, 3)
    for index, hidden in enumerate(HIDDEN_ACTIVATIONS)
    for output, loss in OUTPUT_AND_LOSS[(index + depth) % 3 :: 3]
]


def _numpy_loss(problem: derive.Problem, overrides: dict[str, float]) -> float:
    """An independent forward pass over the spec's numbers."""
    net = problem.network
    value = {**net.inputs, **{p.name: p.value for p in net.parameters}, **overrides}
    activations = {name: value[name] for name in net.inputs}
    for layer in net.layers:
        z = []
        for unit in layer:
            total = 0.0
            for p in net.incoming(unit):
                total += value[p.name] * (activations[p.source] if p.source else 1.0)
            z.append(total)
        z = np.array(z)
        name = layer[0].activation.name
        alpha = layer[0].activation.alpha
        a = {
            "identity": lambda: z,
            "sigmoid": lambda: 1 / (1 + np.exp(-z)),
            "tanh": lambda: np.tanh(z),
            "relu": lambda: np.maximum(0, z),
            "leaky_relu": lambda: np.where(z > 0, z, alpha * z),
            "softmax": lambda: np.exp(z) / np.exp(z).sum(),
        }[name]()
        for unit, out in zip(layer, a):
            activations[unit.post] = float(out)
    yhat = np.array([activations[u.post] for u in net.outputs])
    y = np.array(list(net.targets.values()))
    kind = net.spec.loss
    if kind == "squared_error":
        return float(((y - yhat) ** 2).sum())
    if kind == "half_squared_error":
        return float((0.5 * (y - yhat) ** 2).sum())
    if kind == "mse":
        return float(((y - yhat) ** 2).mean())
    if kind == "binary_cross_entropy":
        return float(-(y * np.log(yhat) + (1 - y) * np.log(1 - yhat)).sum())
    return float(-(y * np.log(yhat)).sum())


@pytest.mark.parametrize(("hidden", "output", "loss", "depth"), CASES)
def test_gradients_match_sympy_diff_and_finite_differences(hidden: str, output: str, loss: str, depth: int) -> None:
    spec = random_spec(zlib.crc32(f"{hidden}{output}{loss}{depth}".encode()), hidden, output, loss, depth)
    problem = derive.load(spec)
    derivation = problem.derivation
    symbols = list(derivation.primitive_values)
    point = [derivation.primitive_values[s] for s in symbols]
    modules = [{"Heaviside": lambda x, at_zero=0.5: float(x > 0) if x != 0 else at_zero}, "math"]

    def at_point(expression: sympy.Expr) -> float:
        return float(sympy.lambdify(symbols, expression, modules, cse=True)(*point))

    for parameter in problem.network.parameters:
        gradient = derivation[f"dL/d{parameter.name}"]
        h = 1e-6
        by_differences = (
            _numpy_loss(problem, {parameter.name: parameter.value + h})
            - _numpy_loss(problem, {parameter.name: parameter.value - h})
        ) / (2 * h)
        assert gradient.exact == pytest.approx(by_differences, rel=1e-5, abs=1e-8), parameter.name
    if depth == 3:
        _check_three_layers_against_one_variable_diff(problem)
        return
    inlined_loss = derivation.inline(problem.network.loss_symbol)
    assert at_point(inlined_loss) == pytest.approx(_numpy_loss(problem, {}), rel=1e-12)
    for parameter in problem.network.parameters:
        gradient = derivation[f"dL/d{parameter.name}"]
        by_sympy = at_point(sympy.diff(inlined_loss, derivation.primitives[parameter.name]))
        assert gradient.exact == pytest.approx(by_sympy, rel=1e-9, abs=1e-12), parameter.name
        # The chain, inlined to primitives, is the same function, not just the same number here.
        assert at_point(derivation.inline(gradient.id)) == pytest.approx(by_sympy, rel=1e-9, abs=1e-12)


def _check_three_layers_against_one_variable_diff(problem: derive.Problem) -> None:
    """The all-symbolic 3-layer loss takes minutes to inline and differentiate. Fixing every
    primitive but one at its value while inlining leaves the loss as a function of that one
    parameter, small enough for sympy.diff, and still the same partial derivative."""
    derivation = problem.derivation
    forward = [step for step in derivation.steps if step.role in ("forward", "loss")]
    for parameter in problem.network.parameters:
        free = derivation.primitives[parameter.name]
        inlined = {s: sympy.Float(v, 30) for s, v in derivation.primitive_values.items() if s != free}
        for step in forward:
            inlined[step.symbol] = step.expression.xreplace(inlined)
        loss = inlined[derivation[problem.network.loss_symbol].symbol]
        at_value = {free: sympy.Float(parameter.value, 30)}
        assert float(loss.xreplace(at_value).evalf(30)) == pytest.approx(_numpy_loss(problem, {}), rel=1e-12)
        by_sympy = float(sympy.diff(loss, free).xreplace(at_value).evalf(30))
        assert derivation[f"dL/d{parameter.name}"].exact == pytest.approx(by_sympy, rel=1e-9, abs=1e-12), parameter.name

def test_update_and_second_forward_pass_follow_gradient_descent(seed000: derive.Problem) -> None:
    d = seed000.derivation
    for p in seed000.network.parameters:
        step = d[f"{p.name}'"]
        assert step.exact == pytest.approx(p.value - 0.1 * d[f"dL/d{p.name}"].exact, rel=1e-12)
    assert d["L'"].exact < d["L"].exact


def test_a_unit_feeding_two_outputs_sums_both_paths() -> None:
    spec = random_spec(7, "sigmoid", "identity", "squared_error", 1)
    spec["targets"] = {"y1": 0.2, "y2": 0.8}
    spec["layers"][-1]["units"] = 2
    spec["weights"] = {f"w{i + 1}": 0.1 * (i + 1) for i in range(len(spec["inputs"]) * spec["layers"][0]["units"] + spec["layers"][0]["units"] * 2)}
    problem = derive.load(spec)
    d = problem.derivation
    first_hidden = problem.network.layers[0][0]
    signal = d[f"dL/d{first_hidden.post}"]
    assert len(signal.terms) == 2
    gradient_of_first_weight = d[f"dL/d{problem.network.weights[0].name}"]
    assert len(d.chains(gradient_of_first_weight.id)) == 2


def test_each_error_signal_is_one_step_reused_by_every_gradient_below_it(seed000: derive.Problem) -> None:
    d = seed000.derivation
    ids = [step.id for step in d.steps]
    assert ids.count("dL/dz3") == 1
    assert d["dL/dw5"].terms[0][0] == "dL/dz3"
    assert d["dL/da1"].terms[0][0] == "dL/dz3"
    assert d.chains("dL/dw1") == [["dL/dyhat1", "dyhat1/dz3", "dz3/da1", "da1/dz1", "dz1/dw1"]]


def test_symbolic_spec_builds_the_same_steps_without_numbers() -> None:
    from ..conftest import EXAMPLES

    problem = derive.load(EXAMPLES / "1-1-1-symbolic.yaml")
    d = problem.derivation
    assert not d.is_numeric
    assert all(step.value is None and step.exact is None for step in d.steps)
    x, w1, w2, y = (d.primitives[n] for n in ("x", "w1", "w2", "y_true"))
    sig = lambda t: 1 / (1 + sympy.exp(-t))  # noqa: E731
    loss = sympy.Rational(1, 2) * (y - sig(w2 * sig(w1 * x))) ** 2
    assert sympy.simplify(d.inline("dL/dw1") - sympy.diff(loss, w1)) == 0


@pytest.mark.parametrize(
    ("formula", "python"),
    [
        ("z/(1+abs(z))", lambda z: z / (1 + abs(z))),
        ("z/(1+exp(-z))", lambda z: z / (1 + math.exp(-z))),
        ("ln(1+exp(z))", lambda z: math.log(1 + math.exp(z))),
    ],
)
def test_custom_formulas_are_differentiated_right(formula: str, python) -> None:  # type: ignore[no-untyped-def]
    """A custom activation and a custom loss against finite differences of the same
    functions written here in Python."""
    spec = random_spec(11, "sigmoid", "identity", "half_squared_error", 1)
    spec["layers"][0]["activation"] = {"name": "custom", "formula": formula}
    spec["loss"] = {"formula": "(y - yhat)^2 / 2 + (y - yhat)^4"}
    problem = derive.load(spec)
    net = problem.network

    def loss(overrides: dict[str, float]) -> float:
        value = {**net.inputs, **{p.name: p.value for p in net.parameters}, **overrides}
        activations = dict(net.inputs)
        for depth, layer in enumerate(net.layers):
            for unit in layer:
                z = sum(value[p.name] * (activations[p.source] if p.source else 1.0) for p in net.incoming(unit))
                activations[unit.post] = python(z) if depth < len(net.layers) - 1 else z
        return sum((y - activations[u.post]) ** 2 / 2 + (y - activations[u.post]) ** 4 for u, y in zip(net.outputs, net.targets.values()))

    for parameter in net.parameters:
        h = 1e-6
        expected = (loss({parameter.name: parameter.value + h}) - loss({parameter.name: parameter.value - h})) / (2 * h)
        assert problem.derivation[f"dL/d{parameter.name}"].exact == pytest.approx(expected, rel=1e-5, abs=1e-8), parameter.name
