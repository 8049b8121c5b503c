"""Activations and losses as SymPy expressions, each with its derivative written the way
a lecturer writes it.

SymPy's own derivative of 1/(1+e^{-z}) is e^{-z}/(1+e^{-z})^2; lecture notes write
sigma(z)(1 - sigma(z)), or a(1 - a) with the activation already computed, and that is the
form that lets a student reuse a number from the forward pass. Each hand-written form is
checked against ``sympy.diff`` in the tests.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import sympy
from sympy import Expr, Integer, Max, Mul, Piecewise, Rational, exp, tanh

from ..spec.losses import Loss, loss
from ..spec.losses import sum_of as _sum

__all__ = ["Activation", "Loss", "activation", "custom_activation", "custom_loss", "layer_activation", "loss", "softmax",  # Loss, loss: from the spec
           "softmax_derivative", "spec_loss"]

if TYPE_CHECKING:
    from ..spec.schema import LayerSpec, Spec

Derivative = Callable[[Expr, Expr], Expr]


@dataclass(frozen=True)
class Activation:
    """An elementwise activation g, with g'(z) written in terms of z and a = g(z)."""

    name: str
    latex: str  # the function's name in formulas: \sigma, \tanh, \mathrm{ReLU}
    function: Callable[[Expr], Expr]
    derivative: Derivative
    alpha: float | None = None

    def named(self, argument_latex: str) -> str:
        if self.name == "identity":
            return argument_latex
        return rf"{self.latex}\left({argument_latex}\right)"


def _leaky(alpha: Expr) -> Activation:
    return Activation(
        name="leaky_relu",
        latex=r"\mathrm{LeakyReLU}",
        # max(z, alpha z), as lecturers write it; equal to the two-branch form for 0 < alpha < 1.
        function=lambda z: Max(z, alpha * z),
        derivative=lambda z, a: Piecewise((Integer(1), z > 0), (alpha, True)),
        alpha=float(alpha),
    )


def custom_activation(name: str, formula: str) -> Activation:
    """g(z) from the spec's formula; g'(z) is SymPy's derivative of it, written in z."""
    from ..spec.formula import parse_formula

    z = sympy.Symbol("z", real=True)
    body = parse_formula(formula, {"z": z})
    slope = sympy.diff(body, z)
    return Activation(name, rf"\mathrm{{{name}}}", lambda arg: body.xreplace({z: arg}), lambda arg, a: slope.xreplace({z: arg}))


def custom_loss(name: str, formula: str) -> Loss:
    """One output's term t(y, yhat) from the spec's formula, summed over the outputs."""
    from ..spec.formula import parse_formula

    y, yhat = sympy.Symbol("y", real=True), sympy.Symbol("yhat", real=True)
    term = parse_formula(formula, {"y": y, "yhat": yhat})
    slope = sympy.diff(term, yhat)
    return Loss(
        "custom", name, name,
        lambda ys, hs: _sum([term.xreplace({y: yi, yhat: hi}) for yi, hi in zip(ys, hs)]),
        lambda ys, hs, k: slope.xreplace({y: ys[k], yhat: hs[k]}),
    )


def activation(name: str, alpha: float | None = None) -> Activation:
    if name == "identity":
        return Activation(name, "", lambda z: z, lambda z, a: Integer(1))
    if name == "sigmoid":
        return Activation(
            name,
            r"\sigma",
            lambda z: 1 / (1 + exp(-z)),
            lambda z, a: Mul(a, 1 - a, evaluate=False),
        )
    if name == "tanh":
        return Activation(name, r"\tanh", tanh, lambda z, a: 1 - a**2)
    if name == "relu":
        return Activation(
            name,
            r"\mathrm{ReLU}",
            lambda z: Max(0, z),
            lambda z, a: Piecewise((Integer(1), z > 0), (Integer(0), True)),
        )
    if name == "leaky_relu":
        return _leaky(sympy.nsimplify(alpha) if alpha is not None else Rational(1, 100))
    if name == "softmax":
        return Activation(name, r"\mathrm{softmax}", _layer_wide, _layer_wide)
    raise ValueError(f"unknown activation {name}")


def _layer_wide(*_: Expr) -> Expr:
    """Softmax is not elementwise: the derivation builds each output from the whole layer
    with `softmax` and its Jacobian with `softmax_derivative`. Reaching this is a bug."""
    raise TypeError("softmax is layer-wide; use softmax() and softmax_derivative()")


def softmax(z: Sequence[Expr], k: int) -> Expr:
    return exp(z[k]) / sympy.Add(*[exp(zj) for zj in z])


def softmax_derivative(a: Sequence[Expr], k: int, j: int) -> Expr:
    """d a_k / d z_j = a_k (delta_kj - a_j)."""
    if k == j:
        return Mul(a[k], 1 - a[k], evaluate=False)
    return Mul(-1, a[k], a[j], evaluate=False)


def layer_activation(layer: LayerSpec) -> Activation:
    """A spec layer's activation, built-in (with its own alpha) or custom: the one object
    that both the per-scalar derivation and the matrix form evaluate."""
    if isinstance(layer.activation, str):
        return activation(layer.activation, layer.alpha)
    return custom_activation(layer.activation.name, layer.activation.formula)


def spec_loss(spec: Spec) -> Loss:
    """The spec's loss, built-in or custom, for both forms."""
    return loss(spec.loss) if isinstance(spec.loss, str) else custom_loss(spec.loss.name, spec.loss.formula)
