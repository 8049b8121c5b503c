"""A symbol's LaTeX override (`latex: {yhat1: '\\hat{y}_1'}`), checked before use: it must be
safe (only a short list of math commands, no character that leaves math mode) and
well-formed, so that XeLaTeX and MathJax both typeset it.

The override is printed inside every formula that holds the name, and an updated name
gets a prime after it (`w_1` becomes `w_1'`), so a mistake breaks the whole build with a
TeX error far from the spec: `x_1_2` (a double subscript), `x^2'` (the prime is a second
superscript), a dangling `x_`, unbalanced braces, a command TeX does not know. This
module reads the override as TeX's math grammar does, on a small scale: atoms (a
character, a symbol command, a group `{...}`, an accent command with its argument), each
with at most one subscript and one superscript, primes counting as a superscript."""

from __future__ import annotations

import re

# Math commands a symbol's LaTeX override may use. Anything else (\input, \write18,
# \openout, \def, \catcode, ...) is refused, as are the characters that escape math or
# end a line early in TeX or Markdown: % # & $ and TeX's ^^ character codes.
ACCENTS = frozenset({"hat", "bar", "tilde", "vec", "dot", "ddot", "mathrm", "mathbf", "mathit", "mathsf", "mathcal", "boldsymbol"})
SYMBOLS = frozenset({
    "prime", "ell", "partial", "nabla", "top", "cdot", "star", "ast",
    "alpha", "beta", "gamma", "delta", "epsilon", "varepsilon", "zeta", "eta", "theta", "vartheta", "iota", "kappa",
    "lambda", "mu", "nu", "xi", "pi", "rho", "sigma", "tau", "upsilon", "phi", "varphi", "chi", "psi", "omega",
    "Gamma", "Delta", "Theta", "Lambda", "Xi", "Pi", "Sigma", "Upsilon", "Phi", "Psi", "Omega",
})
LATEX_COMMANDS = ACCENTS | SYMBOLS
MAX_LATEX = 80  # characters
_CHARACTERS = re.compile(r"^[A-Za-z0-9_^{}\\' ,.()\[\]+\-=|*/]*$")
_TOKEN = re.compile(r"\\([A-Za-z]+) *|\\(.)|([{}_^'])|( +)|(.)", re.DOTALL)


class _Malformed(Exception):
    """Why the override is not well-formed TeX math; the message is the user's."""


def latex_problem(text: str, primed: bool) -> str | None:
    """Why a symbol's LaTeX override is refused, or None when it is safe and well-formed.
    `primed`: the name is also printed with a prime after it (a unit, a parameter or the
    loss, in the pass after the update), so `text'` must be well-formed too."""
    if len(text) > MAX_LATEX:
        return f"a symbol's LaTeX is at most {MAX_LATEX} characters"
    if not _CHARACTERS.match(text) or "^^" in text:
        return "only letters, digits, _ ^ { } ' and math commands are allowed (no % # & $)"
    tokens = _tokens(text)
    for token in tokens:
        if token.startswith("\\") and token[1:] not in LATEX_COMMANDS:
            return f"{token} is not an allowed math command; use e.g. \\hat, \\mathrm or a Greek letter"
    if not tokens:
        return "the LaTeX is empty; write the symbol, e.g. \\hat{y}_1"
    try:
        _Reader(tokens).read_all()
    except _Malformed as error:
        return str(error)
    if primed:
        try:
            _Reader([*tokens, "'"]).read_all()
        except _Malformed:
            return (f"the updated name is printed with a prime after it ({text}'), a second superscript; "
                    f"put it in braces: {{{text}}}")
    return None


def _tokens(text: str) -> list[str]:
    """`\\name` (a command), `\\x` (a one-character command), { } _ ^ ' and single
    characters; spaces are dropped, as in TeX's math mode."""
    tokens = []
    for match in _TOKEN.finditer(text):
        command, symbol, structure, _, character = match.groups()
        if command is not None:
            tokens.append("\\" + command)
        elif symbol is not None:
            tokens.append("\\" + symbol)
        elif structure is not None or character is not None:
            tokens.append(structure or character)
    return tokens


class _Reader:
    """Reads a token list as a math list; raises _Malformed at the first mistake."""

    def __init__(self, tokens: list[str]) -> None:
        self.tokens = tokens
        self.position = 0

    def _next(self) -> str | None:
        token = self.tokens[self.position] if self.position < len(self.tokens) else None
        self.position += 1
        return token

    def _peek(self) -> str | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def read_all(self) -> None:
        self._read_list(closed_by_brace=False)

    def _read_list(self, closed_by_brace: bool) -> None:
        subscript = superscript = False  # of the atom just read
        while True:
            token = self._next()
            if token is None:
                if closed_by_brace:
                    raise _Malformed("a { is not closed (the braces { } do not balance)")
                return
            if token == "}":
                if not closed_by_brace:
                    raise _Malformed("a } closes no { (the braces { } do not balance)")
                return
            if token == "_":
                if subscript:
                    raise _Malformed("a second subscript on one symbol (like x_1_2); write x_{1,2} or {x_1}_2")
                self._read_argument("_")
                subscript = True
            elif token == "^":
                if superscript:
                    raise _Malformed("a second superscript on one symbol (like x^2^3 or x^2'); put the first in braces: {x^2}^3")
                self._read_argument("^")
                superscript = True
            elif token == "'":
                if superscript:
                    raise _Malformed("a prime after a superscript (like x^2') is a second superscript; write x'^2 or {x^2}'")
                while self._peek() == "'":
                    self._next()
                if self._peek() == "^":  # TeX joins x'^2 into one superscript
                    self._next()
                    self._read_argument("^")
                superscript = True
            else:
                self._read_atom(token)
                subscript = superscript = False

    def _read_atom(self, token: str) -> None:
        if token == "{":
            self._read_list(closed_by_brace=True)
        elif token[1:] in ACCENTS and token.startswith("\\"):
            self._read_argument(token)

    def _read_argument(self, after: str) -> None:
        """What `_`, `^` or an accent applies to: one character, a symbol or a group."""
        token = self._next()
        if token is None or token in ("}", "_", "^", "'"):
            what = "lower" if after == "_" else "raise" if after == "^" else "put the accent on"
            raise _Malformed(f"{after} has nothing to {what} right after it; write e.g. {after}{{1}}")
        if token.startswith("\\") and token[1:] in ACCENTS:
            raise _Malformed(f"{token} right after {after} needs braces around it: {after}{{{token}{{...}}}}")
        if token == "{":
            self._read_list(closed_by_brace=True)
