"""The formula blocks of a document, built from the derivation's steps: the forward pass
layer by layer, the loss, the backward pass (every path in full, or each error signal once
and each gradient as one line), the updates and the forward pass after them.

Every block is a list of rows for an `aligned` environment (`head &= ...`). A row that
would not fit the page is broken at its sums' + and -, and each alternative of a long
equation chain goes on its own row, so nothing runs off a page or a phone's screen.
Under `carry: rounded` every number a row multiplies is printed where it is used, so
the printed factors give the printed result with a calculator."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING

import sympy

from ..engine.policy import format_number
from .latex import partial_of_expression, to_latex

if TYPE_CHECKING:
    from ..engine.derivation import Derivation, Step

# Rows are at most this many characters of visible math: an A4 page with 2 cm margins at
# 11 pt holds about 80; the HTML page at 800 px about 55 (MathJax sets math larger).
ROW_WIDTH = 50

# A display never breaks across a page, so a block of more rows (a layer of many units, the
# updates of 46 parameters) is set as several displays, which a page may break between.
ROWS_PER_DISPLAY = 10


def displays(rows: Sequence[str], limit: int = ROWS_PER_DISPLAY) -> list[list[str]]:
    """A block's rows as consecutive displays of at most `limit` rows, split only where a
    step begins (its continuation rows begin with &), so a step is never cut in two; a
    longer step is a display of its own."""
    parts: list[list[str]] = [[]]
    step: list[str] = []
    for row in [*rows, ""]:
        if row.startswith("&"):
            step.append(row)
            continue
        if parts[-1] and len(parts[-1]) + len(step) > limit:
            parts.append([])
        parts[-1] += step
        step = [row]
    return [part for part in parts if part]


def packed_rows(items: Sequence[str], width: float = ROW_WIDTH) -> list[str]:
    """Items joined by commas into aligned rows of at most `width` visible characters (the
    given numbers of a 13-leaf circuit had run 330 pt past the page on one line)."""
    rows: list[list[str]] = []
    for item in items:
        if rows and visible_width(r",\quad ".join([*rows[-1], item])) <= width:
            rows[-1].append(item)
        else:
            rows.append([item])
    return ["&" + r",\quad ".join(row) for row in rows]


_SPACING = re.compile(r"\\(left|right|big|Big|bigg|Bigg)\b|\\[,;!]|\\quad|\\qquad")


@lru_cache(maxsize=65_536)
def visible_width(latex: str) -> float:
    r"""A rough count of the characters a reader sees: commands count as one symbol, a
    fraction as its wider part, sub- and superscripts at two thirds. Remembered: a row
    being wrapped asks again for the terms it has already measured, a class's versions
    share most of their rows' pieces, and measuring was half of rendering a Markdown
    worksheet."""
    text = _SPACING.sub("", latex)
    width = 0.0
    index = 0
    while index < len(text):
        char = text[index]
        if text.startswith(r"\frac", index):
            numerator, after = _group(text, index + 5)
            denominator, after = _group(text, after)
            width += max(visible_width(numerator), visible_width(denominator)) + 0.5
            index = after
        elif char in "_^":
            group, after = _group(text, index + 1)
            width += 0.66 * visible_width(group)
            index = after
        elif char == "\\":
            match = re.match(r"\\([A-Za-z]+|.)", text[index:])
            name = match.group(1) if match else ""
            index += len(name) + 1
            if name in ("mathrm", "text", "mathtt", "texttt", "operatorname"):
                group, index = _group(text, index)
                width += len(re.sub(r"\\[A-Za-z]+|[{}]", "", group))
            elif name in ("hat", "boxed", "underbrace", "phantom", "sqrt"):
                continue
            elif name == "hspace":
                group, index = _group(text, index)
                width += float(re.sub(r"[^0-9.]", "", group) or 0) * 2.2  # cm to characters
            else:
                width += 1
        elif char in "{} ":
            index += 1
        else:
            width += 1
            index += 1
    return width


def _group(text: str, index: int) -> tuple[str, int]:
    """The braced group (or single character) starting at index, and the index after it."""
    while index < len(text) and text[index] == " ":
        index += 1
    if index >= len(text):
        return "", index
    if text[index] != "{":
        if text[index] == "\\":
            match = re.match(r"\\([A-Za-z]+|.)", text[index:])
            length = len(match.group(0)) if match else 1
            return text[index:index + length], index + length
        return text[index], index + 1
    depth = 0
    for end in range(index, len(text)):
        depth += {"{": 1, "}": -1}.get(text[end], 0)
        if depth == 0:
            return text[index + 1:end], end + 1
    return text[index + 1:], len(text)


_NEGATIVE_NUMBER = re.compile(r"\\left\((-[0-9.]+)\\right\)")


def joined(terms: Sequence[str]) -> str:
    """Terms as a sum: a - b, never a + -b or a + (-b)."""
    text = terms[0] if terms else "0"
    for term in terms[1:]:
        bare = _NEGATIVE_NUMBER.fullmatch(term)
        term = bare.group(1) if bare else term
        text += f" - {term[1:].lstrip()}" if term.startswith("-") else f" + {term}"
    return text


def _split_top(text: str, separator: str) -> list[str]:
    """text split at separator where it is not inside braces."""
    pieces, depth, start, index = [], 0, 0, 0
    while index < len(text):
        char = text[index]
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth == 0 and text.startswith(separator, index):
            pieces.append(text[start:index])
            index += len(separator)
            start = index
            continue
        index += 1
    return [*pieces, text[start:]]


_APPLIED = re.compile(r"(\\[A-Za-z]+)(?:\{\\left\((?P<braced>.*)\\right\)\}|\\left\((?P<bare>.*)\\right\))", re.S)


def _sum_terms(text: str) -> list[str]:
    """text's terms at its top-level + and - (outside braces and \\left( ... \\right)), each
    minus kept on its term, as `joined` takes them; [] where the parentheses do not pair."""
    terms, depth, start, index = [], 0, 0, 0
    while index < len(text):
        if text.startswith(r"\left", index) or text[index] == "{":
            depth += 1
        elif text.startswith(r"\right", index) or text[index] == "}":
            depth -= 1
            if depth < 0:
                return []
        elif depth == 0 and text.startswith((" + ", " - "), index):
            terms.append(text[start:index].strip())
            start = index + (3 if text[index + 1] == "+" else 1)
        index += 1
    return [*terms, text[start:].strip()] if depth == 0 else []


def _applied(term: str, width: float) -> list[str] | None:
    """f(a + b + ...) too wide for a row (tanh of a node's whole weighted sum) broken inside
    its parentheses, which become \\bigl( and \\bigr): a \\left( cannot span rows."""
    match = _APPLIED.fullmatch(term)
    terms = _sum_terms(match.group("braced") or match.group("bare") or "") if match else []
    if len(terms) < 2:
        return None
    rows = _wrapped(terms, width - 3)
    return [rf"{match.group(1)}\bigl({rows[0]}", *rows[1:-1], rf"{rows[-1]} \bigr)"] if len(rows) > 1 else None  # type: ignore[union-attr]


def _wrapped(terms: Sequence[str], width: float) -> list[str]:
    """A sum broken into rows at + and -: the first row as is, the others continued. A
    single product too wide for a row is broken at its dots, a function of a sum inside
    its parentheses."""
    if len(terms) == 1 and visible_width(terms[0]) > width and (inside := _applied(terms[0], width)):
        return inside
    if len(terms) == 1 and visible_width(terms[0]) > width:
        factors = _split_top(terms[0], r" \cdot ")
        rows = [""]
        for factor in factors:
            candidate = f"{rows[-1]} \\cdot {factor}" if rows[-1] else factor
            if rows[-1] and visible_width(candidate) > width:
                rows.append(f"\\cdot {factor}")
            else:
                rows[-1] = candidate
        return rows
    rows: list[list[str]] = [[]]
    for term in terms:
        candidate = joined([*rows[-1], term])
        if rows[-1] and visible_width(candidate) > width:
            rows.append([term])
        else:
            rows[-1].append(term)
    lines = [joined(rows[0])]
    for row in rows[1:]:
        text = joined(row)
        lines.append(text if text.startswith("-") else f"+ {text}")
    return lines


def equation_rows(head: str, alternatives: Sequence[Sequence[str]], width: float = ROW_WIDTH) -> list[str]:
    """head = alternative 1 = alternative 2 = ..., each alternative given as its terms.

    One row when it fits; otherwise each alternative on its own row under the first, and
    an alternative too long for a row broken at its + and -, continued indented."""
    texts = [joined(terms) for terms in alternatives]
    one_row = f"{head} &= " + " = ".join(dict.fromkeys(texts))
    if visible_width(one_row) <= width:
        return [one_row]
    rows: list[str] = []
    seen: set[str] = set()
    for terms, text in zip(alternatives, texts):
        if text in seen:
            continue
        seen.add(text)
        lead = f"{head} &= " if not rows else "&= "
        pieces = _wrapped(terms, width - visible_width(head) - 2)
        rows.append(lead + pieces[0])
        rows += [rf"&\quad {piece}" for piece in pieces[1:]]
    return rows


@dataclass
class Renderer:
    """Turns steps into formula rows for one kind of document (handout, worksheet, key)."""

    derivation: Derivation
    kind: str
    reused_note: str = ""  # "already computed above", under a boxed shared factor
    blanks: list[str] = field(default_factory=list)  # item ids in the order the blanks appear
    blank: str = "numbers"  # on a worksheet, "steps" also blanks the derivative lines (an exam)
    # the item ids asked for (views/key.py asked_ids): blanked on a worksheet, boxed on a key;
    # every other value is printed as on the handout. None: every value a row ends with.
    asked: frozenset[str] | None = None
    width: float = ROW_WIDTH  # visible characters a row may take (a slide's column holds fewer than a page)

    # numbers ---------------------------------------------------------------------------

    def number(self, step: Step) -> str:
        """The step's value as the policy prints it, trailing zeros kept (0.600, 0.0740):
        the digits a number shows are the digits it has."""
        return self.numbers[step.symbol] if step.value is not None else step.latex

    def _number(self, step: Step, printed: dict[sympy.Symbol, str]) -> str:
        if step.role == "factor" and step.expression.is_Number:
            return format_number(step.value)  # a local factor of 1
        if step.role == "factor" and step.expression.is_Symbol and step.expression in printed:
            return printed[step.expression]  # a weight, an input or an activation, as printed where it is given
        rounded = self.derivation.policy.to_decimal(step.value, step.kind)  # type: ignore[arg-type]
        text = format(abs(rounded) if rounded.is_zero() else rounded, "f")
        return "0" if text in ("-0", "0.0") else text

    def answer(self, step: Step) -> str:
        """The step's value, a blank labelled with its item id (the grading sheet's column),
        or the value boxed, by document kind."""
        if self.kind == "handout" or step.value is None or (self.asked is not None and step.id not in self.asked):
            return self.number(step)
        if step.id not in self.blanks:
            self.blanks.append(step.id)
        label = rf"\scriptstyle\mathtt{{{item_id_latex(step.id)}}}"
        if self.kind == "worksheet":
            return rf"\underset{{{label}}}{{\boxed{{\rule{{0pt}}{{1.1em}}\hspace{{2.6cm}}}}}}"
        return rf"\underset{{{label}}}{{\boxed{{{self.number(step)}}}}}"

    @cached_property
    def numbers(self) -> dict[sympy.Symbol, str]:
        d = self.derivation
        values = {sym: format_number(v) for sym, v in d.primitive_values.items()}
        for s in d.steps:  # in order, so a factor finds the number of the symbol it is
            if s.value is not None:
                values[s.symbol] = self._number(s, values)
        return values

    def _printed(self, expression: sympy.Expr, numbers: bool = False) -> list[str]:
        """The expression's terms in LaTeX, symbols or numbers."""
        d = self.derivation
        substitute = self.numbers if numbers else None
        terms = expression.args if expression.is_Add else (expression,)
        return [to_latex(term, d.names, substitute) for term in terms]

    @property
    def shows_numbers(self) -> bool:
        """Substituted numbers would give away earlier answers on a worksheet."""
        return self.derivation.is_numeric and self.kind != "worksheet"

    def _value_alternatives(self, step: Step, numbers: list[str]) -> list[list[str]]:
        tail: list[list[str]] = []
        if self.derivation.is_numeric:
            if self.shows_numbers:
                tail.append(numbers)
            tail.append([self.answer(step)])
        return tail

    @property
    def blanks_steps(self) -> bool:
        return self.kind == "worksheet" and self.blank == "steps"

    @staticmethod
    def work_space() -> str:
        """Room to write the chain and its factors by hand: no label, nothing graded."""
        return r"\boxed{\rule{0pt}{2.2em}\hspace{7cm}}"

    # forward, loss, updates -----------------------------------------------------------

    def definition_rows(self, step: Step) -> list[str]:
        """z_1 = w_1 x_1 + w_3 x_2 = 0.3 . 0.5 + 0.2 . 0.3 = 0.210"""
        alternatives = [self._printed(step.expression)]
        alternatives += self._value_alternatives(step, self._printed(step.expression, numbers=True))
        return equation_rows(step.latex, alternatives, self.width)

    # backward ---------------------------------------------------------------------------

    def _form(self, step_id: str) -> str:
        """A factor in its lecture form (w_5, a_1(1 - a_1)); an error signal by its name."""
        step = self.derivation[step_id]
        if step.role != "factor":
            return step.latex
        text = to_latex(step.expression, self.derivation.names)
        return rf"\left({text}\right)" if step.expression.is_Add else text

    @staticmethod
    def _wrap(text: str) -> str:
        return rf"\left({text}\right)" if text.startswith("-") else text

    def _product(self, factors: Sequence[str]) -> str:
        """a . b . c, a negative factor after the first in parentheses (never . -b)."""
        return r" \cdot ".join([factors[0], *(self._wrap(f) for f in factors[1:])]) if factors else ""

    def signal_rows(self, step: Step) -> list[str]:
        """An error signal or a gradient from the signals above it: sum of upstream signal
        times local factor, in symbols, in lecture form, the cancellation where the loss
        and the output activation cancel, then the numbers."""
        d = self.derivation
        if self.blanks_steps:
            return equation_rows(step.latex, [[self.work_space()], [self.answer(step)]], self.width)
        symbols = [self._product([d[up].latex, d[f].latex]) for up, f in step.terms]
        forms = [self._product([self._form(up), self._form(f)]) for up, f in step.terms]
        alternatives = [symbols, forms]
        if step.simplified:
            alternatives.append(self._printed(step.expression))
            numbers = self._printed(step.expression, numbers=True)
        else:
            numbers = [self._product([self._wrap(self.number(d[up])), self._wrap(self.number(d[f]))]) for up, f in step.terms]
        alternatives += self._value_alternatives(step, numbers)
        return equation_rows(step.latex, alternatives, self.width)

    def full_chain_rows(self, step: Step, shown_signals: set[str]) -> list[str]:
        """Seed 000's derivation of one gradient: the chain, each factor's definition, the
        factors in lecture form, their numbers and the result."""
        d = self.derivation
        asked_factors = self.asked_factor_rows(step)
        if self.blanks_steps:
            for up, _ in step.terms:
                shown_signals.add(up)
            return asked_factors + equation_rows(step.latex, [[self.work_space()], [self.answer(step)]], self.width)
        chains = d.chains(step.id)
        products = []
        for chain in chains:
            factors = [d[f].latex for f in chain]
            # The longest run of factors an earlier gradient already worked out (seed 004
            # boxes dC/do1 . do1/dz3 in every gradient below it).
            done = [len(d.chains(s)[0]) for s in shown_signals if len(d.chains(s)) == 1 and chain[: len(d.chains(s)[0])] == d.chains(s)[0]]
            prefix = max(done, default=0)
            if prefix and len(chains) == 1:
                boxed = r"\boxed{" + self._product(factors[:prefix]) + "}"
                if self.reused_note:
                    # the note on two short lines, so it is no wider than the box it labels
                    # \text takes the subscript's size by itself (MathJax knows no \scriptsize)
                    lines = r" \\ ".join(rf"\text{{{half}}}" for half in _halves(self.reused_note))
                    boxed = rf"\underbrace{{{boxed}}}_{{\substack{{{lines}}}}}"
                factors = [boxed] + factors[prefix:]
            products.append(self._product(factors))
        definitions = [
            self._product([partial_of_expression(to_latex(d[f].definition, d.names), d.latex_of(d[f].wrt)) for f in chain])
            for chain in chains
        ]
        forms = [self._product([self._form(f) for f in chain]) for chain in chains]
        numbers = [self._product([self._wrap(self.number(d[f])) for f in chain]) for chain in chains]
        for up, _ in step.terms:
            shown_signals.add(up)
        return asked_factors + equation_rows(step.latex, [products, definitions, forms, *self._value_alternatives(step, numbers)], self.width)

    def asked_factor_rows(self, step: Step) -> list[str]:
        """A chain factor the spec's `ask` names (seed 004 asks for dC/do1 and do1/dz3) is a
        blank on the worksheet and boxed on the key, on its own row (its lecture form, then
        the answer) above the first gradient whose chain holds it; the handout shows it
        in the chain as always."""
        if self.kind == "handout" or self.asked is None or not self.derivation.is_numeric:
            return []
        d = self.derivation
        rows: list[str] = []
        for chain in d.chains(step.id):
            for factor in chain:
                if factor in self.asked and factor not in self.blanks:
                    rows += equation_rows(d[factor].latex, [[self._form(factor)], [self.answer(d[factor])]], self.width)
        return rows

    def asked_elsewhere_rows(self) -> list[str]:
        """Asked items no row of the document ended with (a chain factor in the signals
        form, say): each defined and answered here, so every asked item has its blank."""
        if self.kind == "handout" or self.asked is None or not self.derivation.is_numeric:
            return []
        d = self.derivation
        rows: list[str] = []
        for step in d.steps:
            if step.id in self.asked and step.id not in self.blanks and step.value is not None:
                rows += equation_rows(step.latex, [[self._form(step.id)], [self.answer(step)]], self.width)
        return rows


def _halves(text: str) -> list[str]:
    """Words in two lines of about equal length (one line for a single word)."""
    words = text.split()
    if len(words) < 2:
        return [text]
    split = min(range(1, len(words)), key=lambda i: abs(len(" ".join(words[:i])) - len(" ".join(words[i:]))))
    return [" ".join(words[:split]), " ".join(words[split:])]


def item_id_latex(step_id: str) -> str:
    r"""dL/dw1 as typed into a grading sheet, for \mathtt."""
    return step_id.replace("_", r"\_")
