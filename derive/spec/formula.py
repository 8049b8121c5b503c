"""Formulas that instructors type into a spec (a custom activation or loss), parsed by a
whitelist and never run.

Python's own parser (`ast.parse`, which builds a syntax tree and executes nothing) reads
the text; this module then accepts only numbers, the variables the context allows, + - * /
^ ** (both powers), parentheses and a fixed list of functions, and builds the SymPy
expression itself. No text reaches eval, exec, sympify or parse_expr. Limits on length,
depth and the size of constant powers keep hostile input (9**9**9**9, 10,000 nested
parentheses, a megabyte of text) to a quick, clear refusal."""

from __future__ import annotations

import ast
import math
from collections.abc import Callable, Mapping

import sympy

MAX_LENGTH = 500  # characters; a lecture's formula is a line
MAX_DEPTH = 40  # nesting of operations
MAX_CONSTANT_EXPONENT = 64  # 9**9**9**9 must not be computed
MAX_DECIMAL_EXPONENT = 308  # a constant beyond a double's range (about 1.8e308) is refused before it is computed

FUNCTIONS: dict[str, Callable[..., sympy.Expr]] = {
    "exp": sympy.exp,
    "log": sympy.log,
    "ln": sympy.log,
    "sqrt": sympy.sqrt,
    "abs": sympy.Abs,
    "tanh": sympy.tanh,
    "sinh": sympy.sinh,
    "cosh": sympy.cosh,
    "sin": sympy.sin,
    "cos": sympy.cos,
    "max": sympy.Max,
    "min": sympy.Min,
}
_OPERATORS: dict[type, Callable[[sympy.Expr, sympy.Expr], sympy.Expr]] = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
    ast.Pow: lambda a, b: a**b,
}


class FormulaError(ValueError):
    """The formula is refused; the message says what is allowed."""


def parse_formula(
    text: str, variables: Mapping[str, sympy.Symbol], functions: Mapping[str, Callable[..., sympy.Expr]] = FUNCTIONS,
    example: str = "z/(1+abs(z))", written: bool = False,
) -> sympy.Expr:
    """The formula as a SymPy expression; `functions` widens the list for a graph's nodes
    (sigmoid and relu, derive/spec/graph.py), whose unreadable formula is shown a node's
    `example` rather than an activation's.

    `written` keeps the formula as it was typed, for a circuit drawn from it: operands in
    their order (w*x + b, not b + w*x), x*x a product and y + y a sum (not x^2 and 2y), a
    chain written without parentheses (a + b + c) one operation and a parenthesised part
    (a + (b + c)) one of its own. SymPy's canonical form, the default, sorts and collects."""
    allowed = ", ".join(variables)
    if len(text) > MAX_LENGTH:
        raise FormulaError(f"the formula is {len(text):,} characters long; at most {MAX_LENGTH} are allowed")
    if not text.strip():
        raise FormulaError("the formula is empty")
    try:
        # ^ is a power on paper; in Python it is xor, with the wrong precedence for z^2 + 1.
        tree = ast.parse(text.strip().replace("^", "**"), mode="eval")
    except SyntaxError as error:
        raise FormulaError(f"the formula cannot be read ({error.msg}); write it like {example}") from None
    except (RecursionError, MemoryError):
        raise FormulaError(f"the formula nests too deeply; at most {MAX_DEPTH} levels are allowed") from None
    return _build(tree.body, variables, allowed, 0, functions, written)


def _build(
    node: ast.AST, variables: Mapping[str, sympy.Symbol], allowed: str, depth: int,
    functions: Mapping[str, Callable[..., sympy.Expr]] = FUNCTIONS, written: bool = False,
) -> sympy.Expr:
    if depth > MAX_DEPTH:
        raise FormulaError(f"the formula nests too deeply; at most {MAX_DEPTH} levels are allowed")
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        if isinstance(node.value, float) and not math.isfinite(node.value):
            raise FormulaError(f"the number {ast.unparse(node)[:40]} is beyond the range of a double (about 1.8e308)")
        number = sympy.Rational(str(node.value)) if isinstance(node.value, float) else sympy.Integer(node.value)
        if _log10(number) > MAX_DECIMAL_EXPONENT:
            raise FormulaError(f"the number {ast.unparse(node)[:40]}... is beyond the range of a double (about 1.8e308)")
        return number
    if isinstance(node, ast.Name):
        if node.id in variables:
            return variables[node.id]
        raise FormulaError(f"unknown name '{node.id}'; the formula may use {allowed} and the functions {', '.join(functions)}")
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        operand = _build(node.operand, variables, allowed, depth + 1, functions, written)
        if isinstance(node.op, ast.UAdd):
            return operand
        return _negated(operand) if written else -operand
    if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
        left = _build(node.left, variables, allowed, depth + 1, functions, written)
        right = _build(node.right, variables, allowed, depth + 1, functions, written)
        if isinstance(node.op, ast.Pow) and right.is_Number and left.is_Number and abs(right) > MAX_CONSTANT_EXPONENT:
            raise FormulaError(f"a constant power with an exponent above {MAX_CONSTANT_EXPONENT} is refused")
        if left.is_Number and right.is_Number:
            _check_size(type(node.op), left, right, node)
        elif written:
            return _as_written(node, left, right)
        return _OPERATORS[type(node.op)](left, right)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in functions and not node.keywords:
        arguments = [_build(argument, variables, allowed, depth + 1, functions, written) for argument in node.args]
        arity = 2 if node.func.id in ("max", "min") else 1
        if len(arguments) != arity:
            raise FormulaError(f"{node.func.id} takes {arity} argument{'s' if arity > 1 else ''}")
        return functions[node.func.id](*arguments)
    raise FormulaError(
        f"'{ast.unparse(node)[:40]}' is not allowed; a formula may use numbers, {allowed}, + - * / ^, parentheses "
        f"and the functions {', '.join(functions)}"
    )


def _negated(operand: sympy.Expr) -> sympy.Expr:
    """-x as written: a number's sign, or a negation of its own."""
    return -operand if operand.is_Number else sympy.Mul(-1, operand, evaluate=False)


_SUMS, _PRODUCTS = (ast.Add, ast.Sub), (ast.Mult, ast.Div)


def _as_written(node: ast.BinOp, left: sympy.Expr, right: sympy.Expr) -> sympy.Expr:
    """One operation of a `written` formula, unevaluated. A subtraction is a sum with a
    negated term and a division a product with a reciprocal, as the gates are drawn; the
    operation continues the chain to its left (a - b + c, a*b/c), not a parenthesised one,
    and a product's leading minus is its factor -1."""
    operator = type(node.op)
    if operator is ast.Pow:
        return sympy.Pow(left, right, evaluate=False)
    chain = _SUMS if operator in _SUMS else _PRODUCTS
    continued = isinstance(node.left, ast.BinOp) and type(node.left.op) in chain and (left.is_Add if chain is _SUMS else left.is_Mul)
    signed = isinstance(node.left, ast.UnaryOp) and isinstance(node.left.op, ast.USub) and chain is _PRODUCTS and left.is_Mul
    before = list(left.args) if continued or signed else [left]  # -t*log(y): the sign is a factor of the product
    if operator is ast.Add:
        return sympy.Add(*before, right, evaluate=False)
    if operator is ast.Sub:
        return sympy.Add(*before, _negated(right), evaluate=False)
    if operator is ast.Mult:
        return sympy.Mul(*before, right, evaluate=False)
    reciprocal = sympy.Pow(right, -1, evaluate=False)
    return reciprocal if before == [sympy.Integer(1)] else sympy.Mul(*before, reciprocal, evaluate=False)


def _log10(number: sympy.Expr) -> float:
    """log10 of a rational constant's magnitude, from its integers' sizes (nothing big is
    computed); 0 for zero and for a number that is not rational (such as sqrt(2))."""
    if not number.is_Rational or number == 0:
        return 0.0
    numerator, denominator = abs(int(number.p)), int(number.q)
    return _int_log10(numerator) - _int_log10(denominator)


def _int_log10(value: int) -> float:
    bits = value.bit_length()
    if bits < 1000:
        return math.log10(value)
    return math.log10(value >> (bits - 64)) + (bits - 64) * math.log10(2)


def _check_size(operator: type, left: sympy.Expr, right: sympy.Expr, node: ast.AST) -> None:
    """Refuse a constant subexpression whose value would be too large or too small for a
    double, judged from its operands' sizes before it is computed: ((2^64)^64)^64 would
    otherwise be an integer of millions of digits."""
    a, b = _log10(left), _log10(right)
    if operator is ast.Pow:
        size = abs(float(right)) * abs(a) if right.is_Rational else 0.0
    elif operator is ast.Mult:
        size = max(abs(a + b), abs(a), abs(b))
    elif operator is ast.Div:
        size = max(abs(a - b), abs(a), abs(b))
    else:
        size = max(abs(a), abs(b)) + 1
    if size > MAX_DECIMAL_EXPONENT:
        raise FormulaError(
            f"'{ast.unparse(node)[:40]}' is a constant beyond the range of a double (about 1.8e308 in size, either way); refused"
        )
