"""Rendered documents: golden files for the seed-000 handout, and what each kind must hide or show."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import derive
from derive.views.diagram import plain_text
from derive.spec.schema import as_plain_data
from derive.views.documents import render, render_diagram, render_markdown
from derive.writer import write_documents

from ..conftest import EXAMPLES

GOLDEN = Path(__file__).parent / "golden"


@pytest.mark.parametrize("fmt", ["md", "tex"])
@pytest.mark.parametrize("language", ["ko", "en"])
def test_seed_000_handout_matches_golden_file(seed000: derive.Problem, language: str, fmt: str) -> None:
    rendered = render(seed000, "handout", fmt, language)
    golden = GOLDEN / f"seed000-handout.{language}.{fmt}"
    if os.environ.get("DERIVE_UPDATE_GOLDEN"):
        golden.write_text(rendered, encoding="utf-8")
    assert rendered == golden.read_text(encoding="utf-8")


def test_handout_shows_the_seed_lines(seed000: derive.Problem) -> None:
    text = render_markdown(seed000, "handout")
    assert r"z_{1} &= w_{1} \cdot x_{1} + w_{3} \cdot x_{2} = 0.3 \cdot 0.5 + 0.2 \cdot 0.3 = 0.2100" in text  # 4 digits shown
    assert r"-2\left(y_{1} - \hat{y}_{1}\right)" in text
    assert r"w_{1}' &= w_{1} - \eta \cdot \frac{\partial L}{\partial w_{1}} = 0.3 - 0.1 \cdot \left(-0.0203\right) = 0.302" in text
    assert "+ -" not in text and "0.30000000000000004" not in text
    assert r"\boxed{\frac{\partial L}{\partial \hat{y}_{1}} \cdot \frac{\partial \hat{y}_{1}}{\partial z_{3}}}" in text
    # dL/dw1 reuses the two factors worked out for dL/dw5, as seed 004 boxes them, and says so.
    w1_chain = next(line for line in text.splitlines() if r"\partial z_{1}}{\partial w_{1}}" in line and "&=" in line)
    assert w1_chain.startswith(r"\frac{\partial L}{\partial w_{1}} &= \underbrace{\boxed{\frac{\partial L}{\partial \hat{y}_{1}} \cdot \frac{\partial \hat{y}_{1}}{\partial z_{3}}}}_{\substack{\text{앞에서 이미} \\ \text{계산한 값}}}")


def test_worksheet_hides_every_answer_and_key_shows_them(seed000: derive.Problem) -> None:
    worksheet = render_markdown(seed000, "worksheet")
    key = render_markdown(seed000, "key")
    for answer in ("= 0.552", "= -0.0203", "= 0.04231", "= 0.423", "0.03222"):
        assert answer not in worksheet
    assert r"\underset{\scriptstyle\mathtt{dL/dw1}}{\boxed{-0.0203}}" in key
    assert r"\underset{\scriptstyle\mathtt{dL/dw1}}{\boxed{\rule{0pt}{1.1em}\hspace{2.6cm}}}" in worksheet  # room to write
    assert "| `dL/dw1` | $$\\frac{\\partial L}{\\partial w_{1}}$$ | -0.0203 |" in key


def test_symbolic_spec_renders_without_numbers() -> None:
    problem = derive.load(EXAMPLES / "1-1-1-symbolic.yaml")
    text = render_markdown(problem, "handout")
    assert r"y_{\mathrm{pred}} \cdot \left(1 - y_{\mathrm{pred}}\right)" in text


def test_outputs_are_byte_identical_across_runs(seed000: derive.Problem, tmp_path: Path) -> None:
    first = write_documents(seed000, tmp_path / "a", ["md"], ["handout", "worksheet", "key"], None, echo=lambda _: None)
    again = derive.load(EXAMPLES / "2-2-1-linear-mse.yaml")
    second = write_documents(again, tmp_path / "b", ["md"], ["handout", "worksheet", "key"], None, echo=lambda _: None)
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in second]


@pytest.mark.parametrize(
    ("latex", "text"),
    [
        (r"\hat{y}_{1}", ("y\u0302", "1")),
        ("z_{3}", ("z", "3")),
        (r"\mathrm{net}_{h1}", ("net", "h1")),
        (r"\eta", ("η", "")),
        ("h_{1}", ("h", "1")),
        ("1", ("1", "")),
        (r"\mathrm{n1\_g1}", ("n1_g1", "")),
        (r"\mathrm{h\_1\_2}", ("h_1_2", "")),
    ],
)
def test_diagram_labels_in_plain_text(latex: str, text: tuple[str, str]) -> None:
    assert plain_text(latex) == text


def test_diagram_names_every_unit_and_weight_and_hides_values_on_worksheets(seed000: derive.Problem) -> None:
    handout = render_diagram(seed000, "handout")
    worksheet = render_diagram(seed000, "worksheet")
    assert handout.count("<circle") == 2 + 2 + 1
    assert handout.count("<line") == 6
    assert ">w<tspan" in handout and "= 0.4</tspan>" in handout
    assert "= 0." not in worksheet
    tex = render(seed000, "worksheet", "tex")
    assert r"node[weight] {$w_{5}$}" in tex and r"{$w_{5} = 0.4$}" not in tex
    assert r"node[weight] {$w_{5} = 0.4$}" in render(seed000, "key", "tex")


def test_biases_get_a_node_and_labelled_edges() -> None:
    problem = derive.load(EXAMPLES / "1-1-sigmoid-xent.yaml")
    spec = as_plain_data(problem.spec)
    spec["layers"][0]["bias"] = "per_unit"
    spec["biases"] = {"b1": 0.1}
    with_bias = derive.load(spec)
    svg = render_diagram(with_bias, "handout")
    assert svg.count("<circle") == render_diagram(problem, "handout").count("<circle") + 1
    assert ">b<tspan" in svg and "= 0.1</tspan>" in svg


def test_notebook_display_is_one_aligned_block(seed000: derive.Problem) -> None:
    latex = seed000._repr_latex_()
    assert latex.startswith("$$\\begin{aligned}") and latex.endswith("\\end{aligned}$$")
    for step in seed000.derivation.with_role("forward", "loss", "gradient", "update"):
        assert f"{step.latex} &= " in latex, step.id


@pytest.fixture
def fresh_template_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Compiled templates go to a cache folder of this test's own; the usual one after."""
    import tempfile

    from derive.views import documents

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    documents._environment.cache_clear()
    documents._template_cache.cache_clear()
    yield tmp_path
    documents._environment.cache_clear()
    documents._template_cache.cache_clear()


def test_compiled_templates_are_cached_and_change_nothing(seed000: derive.Problem, fresh_template_cache: Path) -> None:
    from derive.views import documents

    compiled_now = render(seed000, "handout", "html")
    cached = list(fresh_template_cache.glob("_jinja2-cache-*/*.cache"))
    assert cached
    documents._environment.cache_clear()
    assert render(seed000, "handout", "html") == compiled_now
    assert sorted(fresh_template_cache.glob("_jinja2-cache-*/*.cache")) == sorted(cached)


def test_a_cache_that_cannot_be_written_only_costs_time(
    seed000: derive.Problem, fresh_template_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import jinja2

    def disk_full(self: object, bucket: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(jinja2.FileSystemBytecodeCache, "dump_bytecode", disk_full)
    assert "\\frac{\\partial L}{\\partial w_{1}}" in render(seed000, "handout", "md")
    assert not list(fresh_template_cache.glob("_jinja2-cache-*/*.cache"))
