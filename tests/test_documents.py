"""Rendered documents: golden files for the seed-000 handout, and what each kind must hide or show."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import derive
from derive.documents import render_markdown, write_documents

from .conftest import EXAMPLES

GOLDEN = Path(__file__).parent / "golden"


@pytest.mark.parametrize("language", ["ko", "en"])
def test_seed_000_handout_matches_golden_file(seed000: derive.Problem, language: str) -> None:
    rendered = render_markdown(seed000, "handout", language)
    golden = GOLDEN / f"seed000-handout.{language}.md"
    if os.environ.get("DERIVE_UPDATE_GOLDEN"):
        golden.write_text(rendered, encoding="utf-8")
    assert rendered == golden.read_text(encoding="utf-8")


def test_handout_shows_the_seed_lines(seed000: derive.Problem) -> None:
    text = render_markdown(seed000, "handout")
    assert r"z_{1} &= w_{1} \cdot x_{1} + w_{3} \cdot x_{2} = 0.3 \cdot 0.5 + 0.2 \cdot 0.3 = 0.21" in text
    assert r"-2\left(y_{1} - \hat{y}_{1}\right)" in text
    assert r"w_{1}' &= w_{1} - \eta \cdot \frac{\partial L}{\partial w_{1}} = 0.3 - 0.1 \cdot \left(-0.0204\right) = 0.302" in text
    assert "+ -" not in text and "0.30000000000000004" not in text
    assert r"\boxed{\frac{\partial L}{\partial \hat{y}_{1}} \cdot \frac{\partial \hat{y}_{1}}{\partial z_{3}}}" in text


def test_worksheet_hides_every_answer_and_key_shows_them(seed000: derive.Problem) -> None:
    worksheet = render_markdown(seed000, "worksheet")
    key = render_markdown(seed000, "key")
    for answer in ("= 0.552", "= -0.0204", "= 0.04231", "= 0.423"):
        assert answer not in worksheet
    assert r"\boxed{-0.0204}_{\scriptsize (10)}" in key
    assert "| 10 | $\\frac{\\partial L}{\\partial w_{1}}$ | -0.0204 |" in key


def test_symbolic_spec_renders_without_numbers() -> None:
    problem = derive.load(EXAMPLES / "1-1-1-symbolic.yaml")
    text = render_markdown(problem, "handout")
    assert r"y_{\mathrm{pred}} \cdot \left(1 - y_{\mathrm{pred}}\right)" in text


def test_outputs_are_byte_identical_across_runs(seed000: derive.Problem, tmp_path: Path) -> None:
    first = write_documents(seed000, tmp_path / "a", ["md"], ["handout", "worksheet", "key"], None, echo=lambda _: None)
    again = derive.load(EXAMPLES / "2-2-1-linear-mse.yaml")
    second = write_documents(again, tmp_path / "b", ["md"], ["handout", "worksheet", "key"], None, echo=lambda _: None)
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in second]
