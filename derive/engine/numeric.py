"""Evaluate a step's SymPy expression with plain floats.

The expressions are small (one step each), so walking the tree is faster than
compiling it with lambdify, and the same walker serves the grader, which re-evaluates a
step with a student's numbers in place of the key's.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import sympy


class EvaluationError(ArithmeticError):
    """A number that cannot be computed (log of 0, overflow); worded for the user."""


def _log(x: float) -> float:
    if x <= 0:
        raise EvaluationError(f"log of {x:g} is undefined: an output reached exactly 0 or 1; use smaller weights or inputs")
    return math.log(x)


def _exp(x: float) -> float:
    try:
        return math.exp(x)
    except OverflowError:
        raise EvaluationError(f"e^{x:g} overflows: the weights or inputs are too large") from None


def _sqrt(x: float) -> float:
    if x < 0:
        raise EvaluationError(f"the square root of {x:g} is undefined")
    return math.sqrt(x)


def _guarded(function: object) -> object:
    def apply(x: float) -> float:
        try:
            return function(x)  # type: ignore[operator]
        except OverflowError:
            raise EvaluationError(f"{getattr(function, '__name__', 'a function')}({x:g}) overflows") from None

    return apply


_FUNCTIONS = {
    sympy.exp: _exp,
    sympy.log: _log,
    sympy.tanh: math.tanh,
    sympy.Abs: abs,
    sympy.sqrt: _sqrt,
    sympy.sinh: _guarded(math.sinh),
    sympy.cosh: _guarded(math.cosh),
    sympy.sin: math.sin,
    sympy.cos: math.cos,
    sympy.sign: lambda x: float((x > 0) - (x < 0)),
    sympy.Heaviside: lambda x: 1.0 if x > 0 else (0.0 if x < 0 else 0.5),
}


def evaluate(expression: sympy.Basic, values: Mapping[sympy.Symbol, float]) -> float:
    if expression.is_Symbol:
        try:
            return values[expression]
        except KeyError:
            raise EvaluationError(f"no value for {expression}") from None
    if expression.is_Number:
        return float(expression)
    args = expression.args
    if expression.is_Add:
        terms = [evaluate(a, values) for a in args]
        try:
            return math.fsum(terms)
        except OverflowError:
            raise EvaluationError(f"the sum of {_listed(terms)} overflows") from None
        except ValueError:  # +inf and -inf
            raise EvaluationError(f"the sum of {_listed(terms)} is undefined") from None
    if expression.is_Mul:
        product = 1.0
        for a in args:
            product *= evaluate(a, values)
        return product
    if expression.is_Pow:
        base = evaluate(args[0], values)
        power = evaluate(args[1], values)
        if base == 0 and power < 0:
            raise EvaluationError("division by zero")
        try:
            result = base**power
        except OverflowError:
            raise EvaluationError("a power overflows") from None
        if isinstance(result, complex):
            raise EvaluationError(f"{base:g} to the power {power:g} is not a real number")
        return result
    if isinstance(expression, sympy.Piecewise):
        for value, condition in args:
            if condition == sympy.true or _holds(condition, values):
                return evaluate(value, values)
        raise EvaluationError("no branch of a piecewise function applies")
    if isinstance(expression, sympy.Max):
        return max(evaluate(a, values) for a in args)
    if isinstance(expression, sympy.Min):
        return min(evaluate(a, values) for a in args)
    function = _FUNCTIONS.get(expression.func)
    if function is not None:
        return function(evaluate(args[0], values))
    raise EvaluationError(f"cannot evaluate {expression.func.__name__}")


def _listed(numbers: list[float]) -> str:
    shown = ", ".join(f"{number:g}" for number in numbers[:6])
    return shown + (", ..." if len(numbers) > 6 else "")


def _holds(condition: sympy.Basic, values: Mapping[sympy.Symbol, float]) -> bool:
    left, right = (evaluate(side, values) for side in condition.args)
    if isinstance(condition, sympy.StrictGreaterThan):
        return left > right
    if isinstance(condition, sympy.GreaterThan):
        return left >= right
    if isinstance(condition, sympy.StrictLessThan):
        return left < right
    if isinstance(condition, sympy.LessThan):
        return left <= right
    raise EvaluationError(f"cannot test {condition}")
