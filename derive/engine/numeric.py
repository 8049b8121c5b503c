"""Evaluate a step's SymPy expression with plain floats.

The expressions are small (one step each), so walking the tree is faster than
compiling it with lambdify, and the same walker serves the grader, which re-evaluates a
step with a student's numbers in place of the key's.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

import sympy

from ..spec.graph import Maximum, Minimum


class EvaluationError(ArithmeticError):
    """A number that cannot be computed (log of 0, overflow); worded for the user. `step_id`
    is the derivation's step it arose in, once known, so a graph's message can name its node."""

    step_id: str | None = None


def _log(x: float) -> float:
    if x < 0:
        raise EvaluationError(f"log of {x:g} is undefined: log takes only positive numbers")
    if x == 0:
        raise EvaluationError("log of 0 is undefined: an output reached exactly 0 or 1; use smaller weights or inputs")
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


def _power(base: float, exponent: float) -> float:
    """base**exponent as both walkers take it: a real number, or the reason there is none."""
    if base == 0 and exponent < 0:
        raise EvaluationError("division by zero")
    try:
        result = base**exponent
    except OverflowError:
        raise EvaluationError("a power overflows") from None
    if isinstance(result, complex):
        raise EvaluationError(f"{base:g} to the power {exponent:g} is not a real number")
    return result


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
        return _power(evaluate(args[0], values), evaluate(args[1], values))
    if isinstance(expression, sympy.Piecewise):
        return evaluate(branch(expression, values), values)
    if isinstance(expression, (sympy.Max, Maximum)):
        return max(evaluate(a, values) for a in args)
    if isinstance(expression, (sympy.Min, Minimum)):
        return min(evaluate(a, values) for a in args)
    function = _FUNCTIONS.get(expression.func)
    if function is not None:
        return function(evaluate(args[0], values))
    raise EvaluationError(f"cannot evaluate {expression.func.__name__}")


Compiled = Callable[[Mapping[sympy.Symbol, float]], float]


def compiled(expression: sympy.Basic) -> Compiled:
    """`evaluate` for one expression, turned into nested closures once: the same operations
    in the same order (so the same floats, and the same errors when called), without
    walking SymPy's tree and testing its node types each time. The grader evaluates every
    step of every student's sheet several times over, and the walk was most of that."""
    if expression.is_Symbol:
        def symbol(values: Mapping[sympy.Symbol, float]) -> float:
            try:
                return values[expression]
            except KeyError:
                raise EvaluationError(f"no value for {expression}") from None
        return symbol
    if expression.is_Number:
        number = float(expression)
        return lambda values: number
    args = expression.args
    if expression.is_Add:
        addends = [compiled(a) for a in args]

        def add(values: Mapping[sympy.Symbol, float]) -> float:
            terms = [term(values) for term in addends]
            try:
                return math.fsum(terms)
            except OverflowError:
                raise EvaluationError(f"the sum of {_listed(terms)} overflows") from None
            except ValueError:
                raise EvaluationError(f"the sum of {_listed(terms)} is undefined") from None
        return add
    if expression.is_Mul:
        factors = [compiled(a) for a in args]

        def mul(values: Mapping[sympy.Symbol, float]) -> float:
            product = 1.0
            for factor in factors:
                product *= factor(values)
            return product
        return mul
    if expression.is_Pow:
        base_of, power_of = compiled(args[0]), compiled(args[1])

        def power(values: Mapping[sympy.Symbol, float]) -> float:
            return _power(base_of(values), power_of(values))
        return power
    function = _FUNCTIONS.get(expression.func)
    if function is not None and not isinstance(expression, (sympy.Piecewise, sympy.Max, sympy.Min)):
        inner = compiled(args[0])
        return lambda values: function(inner(values))  # type: ignore[operator]
    return lambda values: evaluate(expression, values)  # Piecewise, Max, Min and the unknown: rare


def _listed(numbers: list[float]) -> str:
    shown = ", ".join(f"{number:g}" for number in numbers[:6])
    return shown + (", ..." if len(numbers) > 6 else "")


def branch(piecewise: sympy.Piecewise, values: Mapping[sympy.Symbol, float]) -> sympy.Expr:
    """The piece of a piecewise expression whose condition holds at `values`."""
    for value, condition in piecewise.args:
        if condition == sympy.true or _holds(condition, values):
            return value
    raise EvaluationError("no branch of a piecewise function applies")


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
