"""HTML pages' math as MathML (derive/views/mathml.py): what the converter's tree becomes on
the page, checked against hand-written MathML, and that Chromium lays it out as math."""

from __future__ import annotations

from pathlib import Path

import pytest

from derive.views import mathml


def test_a_fraction_and_a_subscript_are_mathml_elements() -> None:
    assert mathml.inline(r"\frac{1}{2} + x_{1}") == (
        "<math><mrow><mfrac><mrow><mn>1</mn></mrow><mrow><mn>2</mn></mrow></mfrac><mo>+</mo>"
        "<msub><mi>x</mi><mrow><mn>1</mn></mrow></msub></mrow></math>"
    )


def test_a_sign_after_an_operator_or_a_fence_is_a_prefix_sign() -> None:
    out = mathml.inline(r"= -2 \left( -0.708 \right) - 1")
    assert out.count('<mo form="prefix">−</mo>') == 2
    assert out.endswith("<mo>−</mo><mn>1</mn></mrow></math>")  # the binary minus keeps its spacing


@pytest.mark.parametrize("latex", [r"\href{javascript:alert()}{X}", r"\style{position:fixed}{X}", r"\text{<b>&amp;</b>}"])
def test_links_styles_and_markup_in_a_formula_are_dropped_or_escaped(latex: str) -> None:
    out = mathml.inline(latex)
    assert "href" not in out and "style" not in out and "<b>" not in out and "javascript" not in out


@pytest.mark.parametrize("latex", [r"\notacommand x", r"\cssId{a}{x}", r"\require{html}"])
def test_a_command_with_no_mathml_form_is_refused(latex: str) -> None:
    with pytest.raises(ValueError, match="has no MathML form"):
        mathml.inline(latex)


def test_aligned_rows_are_a_table_split_at_their_ampersands_but_not_a_matrix_s() -> None:
    out = mathml.block([r"z_{1} &= 1 + 2", r"&= \begin{pmatrix} 1 & 2 \end{pmatrix}"], "aligned", "6pt", r"a &= 3")
    rows = out.split("<mtr><mtd columnalign")[1:]  # the table's own rows (the pmatrix's cells have no alignment)
    assert len(rows) == 3
    assert [row.count("<mtd columnalign") for row in rows] == [1, 1, 1]  # the row's second cell; the pmatrix keeps its own
    assert rows[0].count("padding: 0.1em 0 6pt 0") == 2 and rows[2].count("padding: 0.1em 0 0 0") == 2
    # Chromium honours only the -webkit- alignment in a cell; Firefox and Safari read columnalign
    assert rows[1].startswith('="right" style="text-align: right; text-align: -webkit-right;')
    assert '<mtd columnalign="left" style="text-align: left; text-align: -webkit-left;' in rows[1]
    assert "<mtable><mtr><mtd><mn>1</mn></mtd><mtd><mn>2</mn></mtd></mtr></mtable>" in rows[1]


def test_gathered_rows_are_centred_and_other_environments_refused() -> None:
    out = mathml.block(["a = 1", "b = 2"], "gathered", "")
    assert out.count("text-align: -webkit-center") == 2 and out.count('columnalign="center"') == 2
    with pytest.raises(ValueError):
        mathml.block(["a"], "split")


def test_chromium_lays_the_math_out_natively(tmp_path: Path) -> None:
    """MathML Core in Chromium: a displayed fraction is taller than a line of text, and a
    subscript sits below its base."""
    from .test_rendering import CHROMIUM, _chromium

    if CHROMIUM is None:
        pytest.skip("Chromium is not installed")
    page = tmp_path / "m.html"
    formula = mathml.line(r"\frac{a}{b} + x_{1}")
    page.write_text(
        '<!DOCTYPE html><html><head><meta charset="utf-8"></head><body><p id="t">x</p>'
        f'{formula}<script>addEventListener("load", () => {{'
        'const f = document.querySelector("mfrac").getBoundingClientRect(), t = document.querySelector("#t").getBoundingClientRect();'
        'const [base, sub] = document.querySelector("msub").children;'
        'document.body.dataset.r = [f.height > 1.5 * t.height, sub.getBoundingClientRect().bottom > base.getBoundingClientRect().bottom].join();'
        "});</script></body></html>",
        encoding="utf-8",
    )
    dom = _chromium(page.as_uri(), tmp_path, "--dump-dom")
    assert 'data-r="true,true"' in dom


def test_primes_before_a_superscript_are_one_superscript_as_tex_reads_them() -> None:
    """A later iteration's loss on sample 1, L''^{(1)}: TeX's reading, not a double superscript."""
    out = mathml.inline(r"L''^{(1)} + x'^2")
    assert out.count("<msup>") == 2 and out.count("′") == 3
    assert "<mi>L</mi><mrow><mi>′</mi><mi>′</mi><mo" in out


def test_parentheses_stretch_only_around_what_is_taller_than_a_line() -> None:
    around_a_number = mathml.inline(r"0.5 \cdot \left(-0.8\right)")
    assert around_a_number.count('fence="true"') == 2 and around_a_number.count('stretchy="false"') == 2
    around_a_fraction = mathml.inline(r"\left(\frac{1}{2}\right)")
    assert around_a_fraction.count('stretchy="true"') == 2


def test_chromium_sets_parentheses_around_a_number_tight(tmp_path: Path) -> None:
    """Chromium set stretched parentheses around -0.8 with a gap each side, `( -0.8 )`: each
    parenthesis's box was 17.5 px wide at 20 px; a parenthesis is under half an em."""
    from .test_rendering import CHROMIUM, _chromium

    if CHROMIUM is None:
        pytest.skip("Chromium is not installed")
    page = tmp_path / "p.html"
    formula = mathml.line(r"0.06858 \cdot \left(-0.8\right)")
    page.write_text(
        '<!DOCTYPE html><html><head><meta charset="utf-8"></head><body style="font-size:20px">'
        f'{formula}<script>addEventListener("load", () => {{'
        'const [open, , , close] = [...document.querySelectorAll("mrow > mrow > *")].map(e => e.getBoundingClientRect());'
        'document.body.dataset.r = [open.width < 10, close.width < 10].join();'
        "});</script></body></html>",
        encoding="utf-8",
    )
    dom = _chromium(page.as_uri(), tmp_path, "--dump-dom")
    assert 'data-r="true,true"' in dom
