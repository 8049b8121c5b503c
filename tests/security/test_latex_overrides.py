"""A spec's `latex:` override of a name is refused unless it is well-formed TeX math that
XeLaTeX typesets, also with the prime an updated name gets (`a_b_c` and `x_` were
accepted and broke the build). XeLaTeX itself is the independent judge here."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from derive.spec.texmath import latex_problem

from ..conftest import EXAMPLES
from ..test_cli import _run

SEED000 = EXAMPLES / "2-2-1-linear-mse.yaml"

# (override, printed with a prime too, what the message says)
REFUSED = [
    ("a_b_c", False, "a second subscript"),
    ("x^1^2", False, "a second superscript"),
    ("x_1^2_3", False, "a second subscript"),
    ("x_", False, "_ has nothing to lower"),
    ("x^", False, "^ has nothing to raise"),
    ("x_}", False, "_ has nothing to lower"),
    ("x__1", False, "_ has nothing to lower"),
    ("{x", False, "a { is not closed"),
    ("x}", False, "a } closes no {"),
    (r"\hat", False, r"\hat has nothing to put the accent on"),
    (r"\hat_1", False, r"\hat has nothing to put the accent on"),
    (r"x_\hat{y}", False, r"\hat right after _ needs braces"),
    ("x^2'", False, "a prime after a superscript"),
    ("x'^2'", False, "a prime after a superscript"),
    ("w^2", True, "printed with a prime after it (w^2'), a second superscript; put it in braces: {w^2}"),
    ("a^{[2]}_{3}", True, "printed with a prime after it"),
    ("", False, "the LaTeX is empty"),
    (r"x\,y", False, r"\, is not an allowed math command"),
    (r"\input{a}", False, r"\input is not an allowed math command"),
    ("x_1%", False, "no % # & $"),
    ("x^^5c", False, "no % # & $"),
    ("x" * 81, False, "at most 80 characters"),
]
ACCEPTED = [
    (r"\hat{y}_1", True), ("x_{1,2}", True), ("x'", True), ("x''", True), ("x'^2", False), ("x_1'", True),
    (r"\hat y", True), (r"\mathrm{out}_{1}", True), (r"\alpha", True), ("{w^2}", True), (r"\boldsymbol{\theta}_1", True),
    ("{a^{[2]}_{3}}", True), (r"\hat{\hat{y}}", True), (r"x_\alpha", True), (r"E_{\mathrm{total}}", True),
    ("x^{(1)}_1", False), ("x_1^2", False), (r"\bar{x}_1^{2}", False), ("L", True), ("z _ 1", True), ("{}", True),
]


@pytest.mark.parametrize(("text", "primed", "words"), REFUSED, ids=[case[0][:20] or "empty" for case in REFUSED])
def test_a_malformed_override_is_refused_with_what_is_wrong(text: str, primed: bool, words: str) -> None:
    problem = latex_problem(text, primed)
    assert problem is not None and words in problem, problem


@pytest.mark.parametrize(("text", "primed"), ACCEPTED, ids=[case[0] for case in ACCEPTED])
def test_a_well_formed_override_is_accepted(text: str, primed: bool) -> None:
    assert latex_problem(text, primed) is None


def _typesets(tmp_path: Path, formulas: list[str]) -> bool:
    """Whether XeLaTeX, with derive's math packages, typesets these formulas without error."""
    body = " ".join(f"${formula}$" for formula in formulas)
    (tmp_path / "t.tex").write_text(rf"\documentclass{{article}}\usepackage{{amsmath,amssymb}}\begin{{document}}{body}\end{{document}}",
                                    encoding="utf-8")
    run = subprocess.run(["xelatex", "-interaction=batchmode", "-halt-on-error", "-no-shell-escape", "t.tex"],
                         cwd=tmp_path, capture_output=True, timeout=60, check=False)
    return run.returncode == 0


@pytest.mark.skipif(shutil.which("xelatex") is None, reason="needs xelatex")
def test_xelatex_agrees(tmp_path: Path) -> None:
    """Every accepted override typesets, primed where the name gets a prime; every override
    refused for its form (not for a forbidden command or character) is a TeX error."""
    accepted = [formula for text, primed in ACCEPTED for formula in ([text, text + "'"] if primed else [text])]
    assert _typesets(tmp_path, accepted)
    for text, primed, words in REFUSED:
        if "not an allowed" in words or "no %" in words or "at most" in words or not text:
            continue
        assert not _typesets(tmp_path, [text + "'" if primed else text]), text


def test_a_malformed_override_in_a_spec_is_one_message(tmp_path: Path) -> None:
    spec = yaml.safe_load(SEED000.read_text(encoding="utf-8"))
    for name, text, words in [("z1", "z_1_2", "latex.z1: a second subscript"), ("w1", "w^2", "latex.w1: the updated name"),
                              ("x1", "x_", "latex.x1: _ has nothing to lower")]:
        path = tmp_path / f"{name}.yaml"
        path.write_text(yaml.safe_dump({**spec, "latex": {name: text}}, allow_unicode=True), encoding="utf-8")
        result = _run("worksheet", str(path), "--format", "md", "-o", str(tmp_path / "out"))
        assert result.returncode == 2 and "Traceback" not in result.stderr and result.stderr.count("\n") == 1, result.stderr
        assert words in result.stderr, result.stderr
        assert not (tmp_path / "out").exists()


def test_an_input_may_carry_a_superscript_it_is_never_primed(tmp_path: Path) -> None:
    spec = yaml.safe_load(SEED000.read_text(encoding="utf-8"))
    path = tmp_path / "input.yaml"
    path.write_text(yaml.safe_dump({**spec, "latex": {"x1": "x^{(1)}_1"}}, allow_unicode=True), encoding="utf-8")
    result = _run("worksheet", str(path), "--format", "md", "-o", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    assert "x^{(1)}_1" in (tmp_path / "out" / "input" / "handout.md").read_text(encoding="utf-8")
