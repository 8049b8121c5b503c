"""The documents as a reader meets them: every .tex compiles with XeLaTeX, every formula of
every Markdown and HTML document typesets in headless Chromium without a MathJax error, and
user text comes out literally in every format.

These need XeLaTeX, Chromium and MathJax (tests/browser, from npm); `.ci/run` and
`make test` install them. Where one is missing locally the tests that need it are skipped
with the reason."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

import derive
from derive.views.documents import KINDS, render, render_matrix
from derive.views.pdf import compile_pdf, tex_engine

from ..conftest import EXAMPLES, ROOT

MATHJAX = ROOT / "tests" / "browser" / "node_modules" / "mathjax" / "es5" / "tex-svg.js"
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
HOSTILE_TITLE = r"50% off \input{x} <b>#1</b> $a$ & ~_^"
EXAMPLE_FILES = sorted(EXAMPLES.glob("*.yaml"))

needs_tex = pytest.mark.skipif(tex_engine() is None, reason="XeLaTeX is not installed (texlive-xetex)")
needs_browser = pytest.mark.skipif(
    CHROMIUM is None or not MATHJAX.exists(), reason="Chromium or tests/browser's MathJax is missing (make test installs it)"
)


def _chromium(url: str, tmp_path: Path, *extra: str) -> str:
    command = [
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}",
        "--virtual-time-budget=30000", *extra, url,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=True).stdout


def _typeset_dom(html: str, tmp_path: Path) -> str:
    """The page's DOM after MathJax ran in headless Chromium."""
    # MathJax's noerrors and noundefined packages would show a bad formula as red text
    # instead of an error node; the check turns them off so every mistake is an merror.
    strict = '<script>window.MathJax = {tex: {packages: {"[-]": ["noerrors", "noundefined"]}}};</script>'
    if "window.MathJax = {tex: {" in html:
        html = html.replace("window.MathJax = {tex: {", 'window.MathJax = {tex: {packages: {"[-]": ["noerrors", "noundefined"]}, ')
    else:
        html = html.replace("<head>", "<head>" + strict, 1)
    page = tmp_path / "page.html"
    page.write_text(html, encoding="utf-8")
    dom = _chromium(page.as_uri(), tmp_path, "--dump-dom")
    return dom


def _typeset(html: str, tmp_path: Path) -> tuple[int, list[str]]:
    """How many formulas MathJax typeset, and the error of each one it could not."""
    dom = _typeset_dom(html, tmp_path)
    errors = re.findall(r'data-mjx-error="([^"]*)"', dom)
    return dom.count("<mjx-container"), errors


def _formula_count(html: str) -> int:
    body = html[html.index("<body>") :]
    return len(re.findall(r"\\\[\n", body)) + body.count(r"\(")


def _mathml_count(html: str) -> int:
    """An HTML page's formulas, all MathML (derive/views/mathml.py refuses a formula it
    cannot convert): no TeX delimiter is left for a script, and the page loads none."""
    body = html[html.index("<body>") :]
    assert "<script" not in html and "\\(" not in body and "\\[" not in body
    return body.count("<math")


def _markdown_as_page(markdown: str) -> str:
    """Every $$ block and inline $ formula of a Markdown document, on one page for MathJax."""
    body = markdown.split("---", 2)[2]
    blocks = re.findall(r"\$\$\n(.*?)\n\$\$", body, flags=re.S)
    inline = re.findall(r"(?<!\$)\$([^$\n]+)\$(?!\$)", re.sub(r"\$\$\n.*?\n\$\$", "", body, flags=re.S))
    formulas = [f"<div>\\[\n{block}\n\\]</div>" for block in blocks] + [f"<p>\\({item}\\)</p>" for item in inline]
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8">'
        f'<script defer src="{MATHJAX.as_uri()}"></script></head><body>{"".join(formulas)}</body></html>'
    )


@needs_tex
@pytest.mark.parametrize("language", ["ko", "en"])
@pytest.mark.parametrize("example", EXAMPLE_FILES, ids=lambda path: path.stem)
def test_every_tex_document_compiles_with_xelatex(example: Path, language: str) -> None:
    problem = derive.load(example)
    for kind in KINDS:
        pdf = compile_pdf(render(problem, kind, "tex", language), kind)
        assert pdf.startswith(b"%PDF")
    if problem.derivation.is_numeric and problem.spec.graph is None:  # a graph has no matrix form
        assert compile_pdf(render_matrix(problem, "tex", language), "matrix").startswith(b"%PDF")


@needs_browser
@pytest.mark.parametrize("language", ["ko", "en"])
@pytest.mark.parametrize("example", EXAMPLE_FILES, ids=lambda path: path.stem)
def test_every_formula_typesets_in_mathjax(example: Path, language: str, tmp_path: Path) -> None:
    problem = derive.load(example)
    for kind in KINDS:
        assert _mathml_count(render(problem, kind, "html", language)) > 5, (kind, "html")
        page = _markdown_as_page(render(problem, kind, "md", language))
        typeset, errors = _typeset(page, tmp_path)
        assert errors == [], (kind, "md", errors)
        assert typeset == _formula_count(page) > 5, (kind, "md")
    if problem.derivation.is_numeric and problem.spec.graph is None:  # a graph has no matrix form
        page = _markdown_as_page(render_matrix(problem, "md", language))
        typeset, errors = _typeset(page, tmp_path)
        assert errors == [] and typeset == _formula_count(page) > 5, ("matrix", errors)
        assert _mathml_count(render_matrix(problem, "html", language)) > 5, ("matrix", "html")


@needs_browser
def test_the_mathjax_check_does_catch_a_broken_formula(tmp_path: Path) -> None:
    page = f'<html><head><script defer src="{MATHJAX.as_uri()}"></script></head><body>\\[ \\frac{{1}}{{2}} \\notacommand \\]</body></html>'
    typeset, errors = _typeset(page, tmp_path)
    assert typeset == 1 and set(errors) == {"Undefined control sequence \\notacommand"}


def test_feedback_pages_show_their_formulas_as_mathml(tmp_path: Path) -> None:
    import json

    from ..test_cli import _run

    key = tmp_path / "key.json"
    assert _run("key", str(EXAMPLES / "2-2-1-linear-mse.yaml"), "-o", str(key)).returncode == 0
    items = [item for item in json.loads(key.read_text(encoding="utf-8"))["items"] if item["graded"]]
    right = {item["id"]: str(item["value"]) for item in items}
    flipped = {**right, "dL/dw1": str(-items[[i["id"] for i in items].index("dL/dw1")]["value"])}
    rows = [["student", *right], ["all_right", *right.values()], ["sign", *flipped.values()], ["blank", *[""] * len(right)]]
    submissions = tmp_path / "subs.csv"
    submissions.write_text("\n".join(",".join(row) for row in rows) + "\n", encoding="utf-8")
    result = _run("grade", str(key), str(submissions), "-o", str(tmp_path / "g"))
    assert result.returncode == 0, result.stderr
    for student in ("all_right", "sign", "blank"):
        html = (tmp_path / "g" / "feedback" / f"{student}.html").read_text(encoding="utf-8")
        assert _mathml_count(html) >= len(right), student


@needs_browser
def test_screenshot_of_the_seed_000_handout(tmp_path: Path) -> None:
    """Kept in tests/artifacts for a person to look at; the assertion is only that it exists."""
    problem = derive.load(EXAMPLES / "2-2-1-linear-mse.yaml")
    page = tmp_path / "handout.html"
    page.write_text(render(problem, "handout", "html", "ko", MATHJAX.as_uri()), encoding="utf-8")
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "seed000-handout.png"
    _chromium(page.as_uri(), tmp_path, f"--screenshot={shot}", "--window-size=1000,2600", "--hide-scrollbars")
    assert shot.stat().st_size > 20_000


def _hostile_problem() -> derive.Problem:
    spec = yaml.safe_load((EXAMPLES / "2-2-1-linear-mse.yaml").read_text(encoding="utf-8"))
    spec["title"] = HOSTILE_TITLE
    return derive.load(spec)


def test_title_is_literal_in_markdown_front_matter_and_body() -> None:
    text = render(_hostile_problem(), "handout", "md")
    front_matter = yaml.safe_load(text.split("---")[1])
    assert front_matter["title"] == HOSTILE_TITLE
    assert "<b>" not in text.split("---", 2)[2]


@needs_tex
def test_title_is_literal_in_the_pdf(tmp_path: Path) -> None:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    pdf = tmp_path / "handout.pdf"
    pdf.write_bytes(compile_pdf(render(_hostile_problem(), "handout", "tex", "en"), "handout"))
    text = subprocess.run(["pdftotext", "-l", "1", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert HOSTILE_TITLE.replace("~", "˜") in text or HOSTILE_TITLE in text, text[:200]


@needs_browser
def test_title_is_literal_in_html(tmp_path: Path) -> None:
    html = render(_hostile_problem(), "handout", "html", "en", MATHJAX.as_uri())
    dom = _typeset_dom(html, tmp_path)
    heading = re.search(r"<h1>(.*?)</h1>", dom, flags=re.S).group(1)
    assert "<b>" not in heading and "mjx-container" not in heading
    assert heading.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&") == HOSTILE_TITLE


@needs_tex
def test_several_steps_give_a_loss_plot_and_table(tmp_path: Path) -> None:
    spec = yaml.safe_load((EXAMPLES / "2-2-1-sigmoid-mse.yaml").read_text(encoding="utf-8"))
    spec["steps"] = 5
    problem = derive.load(spec)
    history = problem.derivation.loss_history
    assert len(history) == 6 and history[-1] < history[0]
    markdown = render(problem, "handout", "md")
    assert "![" in markdown and "(loss.svg)" in markdown
    assert markdown.count("\n| ") >= 6
    assert compile_pdf(render(problem, "key", "tex", "ko"), "key").startswith(b"%PDF")


@needs_browser
def test_notebook_display_typesets_in_mathjax(tmp_path: Path) -> None:
    latex = derive.load(EXAMPLES / "2-2-1-sigmoid-mse.yaml")._repr_latex_()
    page = f'<html><head><script defer src="{MATHJAX.as_uri()}"></script></head><body>\\[{latex[2:-2]}\\]</body></html>'
    assert _typeset(page, tmp_path) == (1, [])


def test_a_negative_term_after_the_first_is_written_with_a_minus() -> None:
    """Sums of values as a lecturer writes them (the mean of the samples' gradients, a
    weighted sum, a fork sum): 0.1 - 0.2, not 0.1 + (-0.2); a negative first term bare;
    parentheses kept under a power and after a product sign, where the minus binds otherwise."""
    import sympy

    from derive.views.latex import to_latex

    a, b, c = sympy.symbols("a b c")
    names = {a: "a", b: "b", c: "c"}
    mean = sympy.Mul(sympy.Rational(1, 2), sympy.Add(a, b, evaluate=False), evaluate=False)
    assert to_latex(mean, names, {a: "0.1", b: "-0.2"}) == r"\frac{1}{2}\left(0.1 - 0.2\right)"
    assert to_latex(mean, names, {a: "-0.116", b: "-0.0519"}) == r"\frac{1}{2}\left(-0.116 - 0.0519\right)"
    weighted = sympy.Add(sympy.Mul(a, b, evaluate=False), sympy.Mul(c, b, evaluate=False), evaluate=False)
    assert to_latex(weighted, names, {a: "0.4", b: "-0.2", c: "-0.5"}) == r"0.4 \cdot \left(-0.2\right) - 0.5 \cdot \left(-0.2\right)"
    assert to_latex(a**2 + b, names, {a: "-0.2", b: "0.3"}) == r"0.3 + \left(-0.2\right)^{2}"
    assert to_latex(b + a**2, names, {a: "0.2", b: "-0.3"}) == r"-0.3 + 0.2^{2}"
