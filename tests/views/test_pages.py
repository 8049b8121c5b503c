"""What a lecturer sees on the page, for networks one size and more past the seeds': every
line fits (XeLaTeX reports no overfull box), every line multiplies out (the printed
numbers give the printed result under the stated rule), the forward pass runs in
dependency order, softmax with cross-entropy shows y-hat - y, and the rounding rule is
written on every page."""

from __future__ import annotations

import math
import re

import pytest

import derive
from derive.engine.numeric import evaluate
from derive.views.blocks import Renderer
from derive.views.documents import render
from derive.views.key import in_compact_form
from derive.views.pdf import compile_with_log, overfull_boxes, tex_engine

from ..shapes import SHAPES, all_problems

PROBLEMS = all_problems()
NUMERIC = {name: problem for name, problem in PROBLEMS.items() if problem.derivation.is_numeric}


@pytest.mark.skipif(tex_engine() is None, reason="XeLaTeX is not installed")
@pytest.mark.parametrize("kind", ["handout", "worksheet", "key"])
@pytest.mark.parametrize("name", list(PROBLEMS))
def test_no_line_runs_off_the_page(name: str, kind: str) -> None:
    _, log = compile_with_log(render(PROBLEMS[name], kind, "tex"), kind)
    assert overfull_boxes(log) == []
    # A display taller than the page runs off its foot (the 46 updates of a 3-4-4-2 network
    # were one display, 841 pt too high): XeLaTeX reports it as an overfull vbox.
    assert "Overfull \\vbox" not in log


@pytest.mark.parametrize("name", list(NUMERIC))
def test_every_printed_result_is_what_its_printed_numbers_give(name: str) -> None:
    """Each step re-evaluated from the numbers the page prints for what it uses (under
    carry: rounded) gives the number the page prints for it, rounded by the policy."""
    problem = NUMERIC[name]
    d = problem.derivation
    renderer = Renderer(d, "handout")
    printed = {symbol: float(text) for symbol, text in renderer.numbers.items()}
    text = problem.document("handout", "md")
    for step in d.steps:
        worked = step.iteration == 1 or in_compact_form(step)  # a later iteration is shown compactly
        if worked and step.role != "factor" and not (step.role == "signal" and d.chain == "full"):
            assert renderer.number(step) in text, step.id  # a full-chain page shows factors, not signals
        if d.policy.carry != "rounded":
            continue
        again = d.policy.round(evaluate(step.expression, printed), step.kind)
        assert math.isclose(again, printed[step.symbol], rel_tol=1e-12, abs_tol=1e-15), (step.id, again, printed[step.symbol])


def test_a_full_chain_page_multiplies_its_printed_factors() -> None:
    """Seed 000's dL/dw1, by hand: (-0.4114)(1)(0.4)(0.2473)(0.5) = -0.020348 -> -0.0203."""
    text = PROBLEMS["2-2-1-linear-mse.yaml"].document("handout", "md")
    assert r"&= \left(-0.4114\right) \cdot 1 \cdot 0.4 \cdot 0.2473 \cdot 0.5 \\[10pt]" + "\n&= -0.0203" in text


def test_softmax_with_cross_entropy_shows_the_cancellation_to_yhat_minus_y() -> None:
    problem = PROBLEMS["2-3-2 tanh softmax cross-entropy, biases"]
    text = problem.document("handout", "md")
    for k in (1, 2):
        assert re.search(rf"= \\hat\{{y\}}_\{{{k}\}} - y_\{{{k}\}}(?: =| \\\\)", text), k
    d = problem.derivation
    yhat1 = d["yhat1"].value
    # dL/dz = yhat - y: with y1 = 1, the printed yhat1 minus 1, rounded to 3 digits
    assert d["dL/dz4"].value == pytest.approx(float(f"{yhat1 - 1:.3g}"))
    assert "+ -" not in text and r"\cdot -" not in text


def test_sigmoid_with_binary_cross_entropy_cancels_once() -> None:
    text = PROBLEMS["3-2-1 sigmoid binary cross-entropy"].document("handout", "md")
    assert len(re.findall(r"= \\hat\{y\}_\{1\} - y_\{1\}(?: =| \\\\)", text)) == 1


@pytest.mark.parametrize("name", list(PROBLEMS))
def test_the_forward_pass_runs_layer_by_layer_in_dependency_order(name: str) -> None:
    problem = PROBLEMS[name]
    text = problem.document("handout", "md")
    for layer_index, layer in enumerate(problem.network.layers):
        for unit in layer:
            z = text.index(f"\n{problem.derivation[unit.pre].latex} &= ")
            a = text.index(f"\n{problem.derivation[unit.post].latex} &= ")
            assert z < a
            if layer_index + 1 < len(problem.network.layers):
                next_z = text.index(f"\n{problem.derivation[problem.network.layers[layer_index + 1][0].pre].latex} &= ")
                assert a < next_z


@pytest.mark.parametrize("kind", ["handout", "worksheet", "key"])
@pytest.mark.parametrize("language", ["ko", "en"])
def test_the_rounding_rule_is_written_on_every_page(kind: str, language: str) -> None:
    problem = PROBLEMS["2-2-1-sigmoid-mse.yaml"]
    rule = {
        "ko": "모든 값은 유효숫자 3자리로 반올림합니다 (단, 가중치 4자리). 다음 단계는 반올림한 값으로 계산합니다.",
        "en": "Every value is rounded to 3 significant digits, half up (weights 4). Later steps use the rounded values.",
    }[language]
    for fmt in ("md", "tex", "html"):
        assert rule in render(problem, kind, fmt, language), fmt


@pytest.mark.parametrize("language", ["ko", "en"])
def test_a_rule_without_exceptions_is_a_sentence_of_its_own(language: str) -> None:
    problem = PROBLEMS["2-3-2 tanh softmax cross-entropy, biases"]  # 3 digits for every kind
    rule = {
        "ko": "모든 값은 유효숫자 3자리로 반올림합니다. 다음 단계는 반올림한 값으로 계산합니다.",
        "en": "Every value is rounded to 3 significant digits, half up. Later steps use the rounded values.",
    }[language]
    assert rule in render(problem, "handout", "md", language)


def test_numbers_keep_the_trailing_zeros_their_digits_call_for() -> None:
    text = PROBLEMS["2-2-1-sigmoid-mse.yaml"].document("handout", "md")
    assert "= 0.600" in text  # seed 004's z3, at 3 significant digits
    w5 = next(line for line in text.splitlines() if line.startswith("w_{5}' &= "))
    assert w5.endswith(r"= 0.5600 \\[10pt]")  # weights at 4: 0.55 + 0.1 * 0.0997 = 0.55997


def test_a_symbolic_spec_lists_its_symbols_not_x_equals_x() -> None:
    from ..conftest import EXAMPLES

    text = derive.load(EXAMPLES / "1-1-1-symbolic.yaml").document("handout", "md")
    assert not re.search(r"\b(x|w_{1}) = (x|w_{1})\b", text)
    assert "#####  \n" not in text and "##### \n" not in text


def test_every_shape_is_checked() -> None:
    assert len(SHAPES) + 4 == len(PROBLEMS) >= 12


@pytest.mark.parametrize("name", ["2-2-1-linear-mse.yaml", "2-2-1-sigmoid-mse.yaml"])
def test_the_reuse_note_is_math_mathjax_and_tex_both_read(name: str) -> None:
    """MathJax (the Markdown's blog) prints \\scriptsize inside \\text as letters; the note
    must not use it. The HTML page has it as MathML text under the boxed factors."""
    text = render(PROBLEMS[name], "handout", "md")
    assert r"\substack{\text{" in text and r"\scriptsize" not in text
    page = render(PROBLEMS[name], "handout", "html")
    assert "scriptsize" not in page and re.search(r"<munder>.*?<mstyle scriptlevel=\"1\"><mtable>.*?<mtext>", page, flags=re.S)


# Once the page has loaded (the browser lays out its MathML itself), the .math blocks whose
# formula is wider than the block (the block scrolls, so overflow would be hidden) are
# listed on <body>, after the count of blocks holding a laid-out <math> (so an empty or
# unrendered page cannot pass).
WIDTH_PROBE = """<script>
window.addEventListener("load", () => {
  const blocks = [...document.querySelectorAll(".math")];
  const wide = blocks
    .filter((block) => block.scrollWidth > block.clientWidth + 1)
    .map((block) => block.scrollWidth + ">" + block.clientWidth + ": " + block.textContent.slice(0, 40));
  const laidOut = blocks.filter((block) => block.querySelector("math")?.getBoundingClientRect().height > 10).length;
  document.body.setAttribute("data-wide", JSON.stringify([laidOut, blocks.length, wide]));
});
</script></body>"""


@pytest.mark.parametrize("kind", ["handout", "worksheet"])
@pytest.mark.parametrize("name", ["2-3-2 tanh softmax cross-entropy, biases", "6-10-8-4 near 200 parameters", "2-2-1-linear-mse.yaml"])
def test_no_formula_is_wider_than_its_column_in_the_html_page_at_800_px(name: str, kind: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import html as html_module
    import json

    from .test_rendering import CHROMIUM, _chromium

    if CHROMIUM is None:
        pytest.skip("Chromium is not installed")
    page = tmp_path / "page.html"
    page.write_text(render(PROBLEMS[name], kind, "html").replace("</body>", WIDTH_PROBE), encoding="utf-8")
    dom = _chromium(page.as_uri(), tmp_path, "--dump-dom", "--window-size=800,1200")
    found = re.search(r'<body[^>]*data-wide="([^"]*)"', dom)
    assert found, "the page did not load"
    laid_out, blocks, wide = json.loads(html_module.unescape(found.group(1)))
    assert laid_out == blocks > 5
    assert wide == []


@pytest.mark.skipif(tex_engine() is None or __import__("shutil").which("pdftotext") is None, reason="needs XeLaTeX and poppler-utils")
@pytest.mark.parametrize(("language", "student"), [("en", "김민준 (2026001)"), ("ko", "Park, Jiho (2026002)")])
def test_every_character_prints_in_either_language(language: str, student: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """An English handout with seed 000's Korean title and a Korean name, and a Korean one
    with a Latin name: XeLaTeX reports no missing character (compile_with_log would raise),
    and the text is in the PDF."""
    import subprocess

    problem = PROBLEMS["2-2-1-linear-mse.yaml"]
    pdf, log = compile_with_log(render(problem, "worksheet", "tex", language, version="v01", student=student), "page")
    assert "Missing character" not in log
    (tmp_path / "page.pdf").write_bytes(pdf)
    text = subprocess.run(["pdftotext", str(tmp_path / "page.pdf"), "-"], capture_output=True, text=True, check=True).stdout
    assert "순전파/역전파 예제로 이해하기" in text and student.split(" ")[0].rstrip(",") in text


def test_a_missing_character_stops_the_pdf(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from derive.views.pdf import TexFailure

    if tex_engine() is None:
        pytest.skip("XeLaTeX is not installed")
    with pytest.raises(TexFailure, match="no font in the document has"):
        compile_with_log(r"\documentclass{article}\begin{document}" + "\u0e01" + r"\end{document}", "thai")  # Thai: no loaded font has it
