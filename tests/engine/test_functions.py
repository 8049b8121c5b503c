"""The hand-written derivative forms of every activation and loss equal sympy.diff."""

import random

import pytest
import sympy

from derive.engine.functions import activation, loss, softmax, softmax_derivative


def _equal_at_points(left: sympy.Expr, right: sympy.Expr, symbols: list[sympy.Symbol], points: int = 5) -> None:
    rng = random.Random(0)
    for _ in range(points):
        point = {s: sympy.Float(rng.uniform(0.05, 0.95)) * rng.choice([1, -1]) for s in symbols}
        assert complex(left.subs(point).evalf()) == pytest.approx(complex(right.subs(point).evalf()), rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("name", ["identity", "sigmoid", "tanh", "relu", "leaky_relu"])
def test_activation_derivative_matches_sympy_diff(name: str) -> None:
    z = sympy.Symbol("z", real=True)
    g = activation(name, 0.2 if name == "leaky_relu" else None)
    by_hand = g.derivative(z, g.function(z))
    by_sympy = sympy.diff(g.function(z), z)
    _equal_at_points(by_hand, by_sympy, [z])


def test_softmax_jacobian_matches_sympy_diff() -> None:
    z = sympy.symbols("z1:4", real=True)
    outputs = [softmax(z, k) for k in range(3)]
    for k in range(3):
        for j in range(3):
            _equal_at_points(softmax_derivative(outputs, k, j), sympy.diff(outputs[k], z[j]), list(z))


@pytest.mark.parametrize("name", ["squared_error", "half_squared_error", "mse", "binary_cross_entropy", "cross_entropy"])
@pytest.mark.parametrize("outputs", [1, 2])
def test_loss_derivative_matches_sympy_diff(name: str, outputs: int) -> None:
    y = sympy.symbols(f"y1:{outputs + 1}", real=True)
    h = sympy.symbols(f"h1:{outputs + 1}", positive=True)
    definition = loss(name)
    total = definition.expression(y, h)
    for k in range(outputs):
        by_hand = definition.derivative(y, h, k)
        _equal_at_points(by_hand, sympy.diff(total, h[k]), [*y, *h])
