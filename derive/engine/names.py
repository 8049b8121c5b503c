"""Every quantity's name in LaTeX: z1 -> z_{1}, yhat1 -> \\hat{y}_{1}, dL/dw1 as a Leibniz
partial. The derivation stores each step's LaTeX name, so naming belongs to the engine;
printing whole expressions is the views' work (derive/views/latex.py)."""

from __future__ import annotations

import re

GREEK = {
    "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa",
    "lambda", "mu", "nu", "xi", "pi", "rho", "sigma", "tau", "upsilon", "phi", "chi", "psi",
    "omega", "Gamma", "Delta", "Theta", "Lambda", "Xi", "Pi", "Sigma", "Phi", "Psi", "Omega",
}


def _letters(base: str) -> str:
    if base in GREEK:
        return "\\" + base
    if len(base) == 1:
        return base
    return rf"\mathrm{{{base}}}"


def latex_of(name: str, latex_names: dict[str, str]) -> str:
    r"""A name as the spec's `latex:` writes it (an updated name keeps its primes after the
    override: w1' with w1 -> \omega_1 is \omega_1'), else by default_latex."""
    if name in latex_names:
        return latex_names[name]
    bare = name.rstrip("'")
    if bare in latex_names:
        return latex_names[bare] + name[len(bare):]
    return default_latex(name)


def default_latex(name: str) -> str:
    r"""z1 -> z_{1}, yhat1 -> \hat{y}_{1}, net_h1 -> \mathrm{net}_{h1}, eta -> \eta, n1_g1 -> \mathrm{n1\_g1}."""
    prime = name[len(name.rstrip("'")):]
    bare = name.rstrip("'")
    if bare in GREEK:
        return "\\" + bare + prime
    match = re.match(r"^([A-Za-z]+?)(hat)?(?:_([A-Za-z0-9]+)|(\d+))?$", bare)
    if not match:  # n1_g1 (a gate of n1), h_1_2: set as written, each _ a character, not a subscript
        return r"\mathrm{" + bare.replace("_", r"\_") + "}" + prime
    base, hat, word_sub, digit_sub = match.groups()
    if hat and base:
        head = rf"\hat{{{_letters(base)}}}"
    else:
        head = _letters(base + (hat or ""))
    sub = word_sub or digit_sub
    if sub:
        sub_latex = sub if (sub.isdigit() or len(sub) <= 2 or sub[0].isdigit()) else rf"\mathrm{{{sub}}}"
        if word_sub and re.fullmatch(r"[a-z]\d+", word_sub):
            sub_latex = word_sub
        return f"{head}_{{{sub_latex}}}{prime}"
    return head + prime


def partial(of_latex: str, wrt_latex: str) -> str:
    return rf"\frac{{\partial {of_latex}}}{{\partial {wrt_latex}}}"
