"""The losses of a layered network, as SymPy expressions with their derivatives written the
way a lecturer writes them (-2(y - yhat), not 2yhat - 2y). They live with the spec because a
graph's `loss:` is written out as a node when the spec is read (derive/spec/graph.py), and
the engine (derive/engine/functions.py) uses the same definitions: one definition of each."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import sympy
from sympy import Expr, Mul, Rational, log


@dataclass(frozen=True)
class Loss:
    name: str
    title_ko: str
    title_en: str
    expression: Callable[[Sequence[Expr], Sequence[Expr]], Expr]
    derivative: Callable[[Sequence[Expr], Sequence[Expr], int], Expr]


def sum_of(terms: list[Expr]) -> Expr:
    return terms[0] if len(terms) == 1 else sympy.Add(*terms, evaluate=False)


def _error(y: Expr, yhat: Expr) -> Expr:
    """y - yhat kept in that order: SymPy would print -yhat + y."""
    return sympy.Add(y, -yhat, evaluate=False)


def _squared(y: Sequence[Expr], yhat: Sequence[Expr]) -> list[Expr]:
    return [sympy.Pow(_error(yi, hi), 2, evaluate=False) for yi, hi in zip(y, yhat)]


def loss(name: str) -> Loss:
    if name == "squared_error":
        return Loss(
            name, "제곱 오차", "squared error",
            lambda y, h: sum_of(_squared(y, h)),
            lambda y, h, k: Mul(-2, _error(y[k], h[k]), evaluate=False),
        )
    if name == "half_squared_error":
        return Loss(
            name, "제곱 오차의 절반", "half squared error",
            lambda y, h: sum_of([Mul(Rational(1, 2), term, evaluate=False) for term in _squared(y, h)]),
            lambda y, h, k: Mul(-1, _error(y[k], h[k]), evaluate=False),
        )
    if name == "mse":
        return Loss(
            name, "평균 제곱 오차, MSE", "mean squared error, MSE",
            lambda y, h: Mul(Rational(1, len(y)), sum_of(_squared(y, h)), evaluate=False)
            if len(y) > 1 else _squared(y, h)[0],
            lambda y, h, k: Mul(Rational(-2, len(y)), _error(y[k], h[k]), evaluate=False)
            if len(y) > 1 else Mul(-2, _error(y[k], h[k]), evaluate=False),
        )
    if name == "binary_cross_entropy":
        return Loss(
            name, "이진 교차 엔트로피", "binary cross-entropy",
            lambda y, h: -sum_of([yi * log(hi) + (1 - yi) * log(1 - hi) for yi, hi in zip(y, h)]),
            lambda y, h, k: sympy.Add(h[k], -y[k], evaluate=False) / Mul(h[k], 1 - h[k], evaluate=False),
        )
    if name == "cross_entropy":
        return Loss(
            name, "교차 엔트로피", "cross-entropy",
            lambda y, h: -sum_of([yi * log(hi) for yi, hi in zip(y, h)]),
            lambda y, h, k: -y[k] / h[k],
        )
    raise ValueError(f"unknown loss {name}")
