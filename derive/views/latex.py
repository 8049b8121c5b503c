"""LaTeX for names, expressions and substituted lines.

SymPy's printer is close to what the seed documents type, with three differences that
matter to a reader: it writes d/dw for a single symbol (we always want Leibniz partials),
it prints floats as 0.30000000000000004 and sums as ``+ -0.2``, and it knows nothing of
our names. So names come from a table, products use \\cdot, and a substituted line is the
step's own expression tree printed with each symbol replaced by its number.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping

import sympy
from sympy.printing.latex import LatexPrinter

from ..engine.names import default_latex


def partial_of_expression(expression_latex: str, wrt_latex: str) -> str:
    r"""\partial(w_5 a_1 + w_6 a_2) / \partial a_1, as seed 000 writes the factor's definition;
    the expression at display size, so a sigmoid's fraction inside it stays readable."""
    return rf"\frac{{\partial \left(\displaystyle {expression_latex}\right)}}{{\partial {wrt_latex}}}"


class DerivePrinter(LatexPrinter):
    """SymPy's LaTeX printer with our names, \\cdot products and numbers as the policy prints them."""

    def __init__(self, names: Mapping[sympy.Symbol, str], numbers: Mapping[sympy.Symbol, str] | None = None):
        super().__init__({"mul_symbol": "dot", "order": "none"})
        self._names = names
        self._numbers = numbers or {}

    def _print_Symbol(self, symbol: sympy.Symbol, style: str = "plain") -> str:
        if symbol in self._numbers:
            text = self._numbers[symbol]
            return rf"\left({text}\right)" if text.startswith("-") else text
        return self._names.get(symbol) or default_latex(symbol.name)

    def _print_Float(self, number: sympy.Float) -> str:
        text = format(float(number), ".12g")
        return text

    def _print_Mul(self, expression: sympy.Mul) -> str:
        """-2(y_1 - yhat_1), as written by hand, rather than - 2 \\cdot (y_1 - yhat_1)."""
        args = expression.args
        if len(args) == 2 and args[0].is_Number and args[1].is_Add:
            number = "-" if args[0] == -1 else self._print(args[0])
            return number + rf"\left({self._print(args[1])}\right)"
        return super()._print_Mul(expression)

    def _print_Pow(self, expression: sympy.Pow) -> str:
        """(dL/dw_1)^2, not a fraction with an exponent on its denominator's line."""
        base, power = expression.args
        if base.is_Symbol and base not in self._numbers and power.is_Integer and r"\frac" in self._print(base):
            return rf"\left({self._print(base)}\right)^{{{self._print(power)}}}"
        return super()._print_Pow(expression)

    def _print_Heaviside(self, expression: sympy.Heaviside, exp: str | None = None) -> str:
        return rf"H\left({self._print(expression.args[0])}\right)"

    def _print_Piecewise(self, expression: sympy.Piecewise) -> str:
        """Each case by its condition alone, with the last written out (z <= 0, z = w) where
        SymPy writes "otherwise": no English words in a Korean page."""
        rows, before = [], []
        for value, condition in expression.args:
            if condition == sympy.true:
                condition = _remaining(before)
            shown = self._print(condition) if condition is not None else r"\text{otherwise}"
            rows.append(f"{self._print(value)} & {shown}")
            before.append(condition)
        return r"\begin{cases} " + r" \\ ".join(rows) + r" \end{cases}"


def _remaining(conditions: list[sympy.Basic]) -> sympy.Basic | None:
    """The condition left when the listed ones fail: not z > 0 is z <= 0; neither a > b nor
    a < b is a = b. None where it has no short form."""
    if len(conditions) == 1 and isinstance(conditions[0], sympy.core.relational.Relational):
        return conditions[0].negated
    if len(conditions) == 2 and all(isinstance(c, (sympy.StrictGreaterThan, sympy.StrictLessThan)) for c in conditions):
        first, second = conditions
        if type(first) is not type(second) and first.args == second.args:
            return sympy.Eq(*first.args, evaluate=False)
    return None


def to_latex(
    expression: sympy.Expr,
    names: Mapping[sympy.Symbol, str],
    numbers: Mapping[sympy.Symbol, str] | None = None,
) -> str:
    """The expression in LaTeX, each symbol in `numbers` replaced by its number.

    Printing is the slow part of rendering, and a class's versions print the same
    expressions with different numbers, so the printed form is cached with a placeholder
    per number and the numbers are filled in afterwards. The printer's only dependence
    on a number's text is its sign (a negative one gets parentheses), applied at filling."""
    numbers = numbers or {}
    free = expression.free_symbols
    substituted = tuple(sorted((s for s in free if s in numbers), key=lambda s: s.name))
    names_used = tuple(sorted(((s, names[s]) for s in free if s in names), key=lambda pair: pair[0].name))
    text = _printed(expression, names_used, substituted)
    for index, symbol in enumerate(substituted):
        value = numbers[symbol]
        text = re.sub(f"(\\+ |\\\\left\\()?\x00{index}\x00(\\^)?", lambda match, value=value: _filled(match, value), text)
    return text.replace("+ -", "- ")


def _filled(match: re.Match[str], value: str) -> str:
    """A number in place of its placeholder, written as a lecturer writes a sum: a negative
    term after the first with a minus (0.1 - 0.2, not 0.1 + (-0.2)), a negative first term
    bare (-0.116 - 0.0519); parentheses only where the minus would otherwise bind wrongly,
    under a power ((-0.2)^2) or after a product sign."""
    before, power = match[1] or "", match[2] or ""
    if not value.startswith("-"):
        return before + value + power
    if before == "+ " and not power:
        return "- " + value[1:]
    if (before or match.start() == 0) and not power:
        return before + value
    return rf"{before}\left({value}\right){power}"


@functools.lru_cache(maxsize=16384)
def _printed(expression: sympy.Expr, names: tuple[tuple[sympy.Symbol, str], ...], substituted: tuple[sympy.Symbol, ...]) -> str:
    placeholders = {symbol: f"\x00{index}\x00" for index, symbol in enumerate(substituted)}
    return DerivePrinter(dict(names), placeholders).doprint(expression)
