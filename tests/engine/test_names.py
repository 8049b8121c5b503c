"""Each name paired with the LaTeX it prints as: a name the patterns do not cover is set as
written, underscores included (n1_g1 was \\mathrm{n1_g1}, a g subscripted, and h_1_2 a
double subscript XeLaTeX refused)."""

from __future__ import annotations

import pytest

from derive.engine.names import default_latex


@pytest.mark.parametrize(
    ("name", "latex"),
    [
        ("z1", "z_{1}"),
        ("yhat1", r"\hat{y}_{1}"),
        ("net_h1", r"\mathrm{net}_{h1}"),
        ("eta", r"\eta"),
        ("w1'", "w_{1}'"),
        ("n1_g1", r"\mathrm{n1\_g1}"),
        ("h_1_2", r"\mathrm{h\_1\_2}"),
        ("n4_g2'", r"\mathrm{n4\_g2}'"),
    ],
)
def test_default_latex(name: str, latex: str) -> None:
    assert default_latex(name) == latex
