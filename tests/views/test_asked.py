"""A spec's `ask:` chooses what a worksheet asks: exactly those items are blanks (labelled with
their grading-sheet column), the key boxes exactly those, and every other value is printed as on
the handout. Seed 004 asks for chain factors (dC/do1 = -0.71, do1/dz3 = 0.229); the values below
are worked by hand from its spec (3 significant digits, weights 4)."""

from __future__ import annotations

import html
import math
import re

import pytest
import yaml

import derive
from derive.views.documents import document_context, render

from ..conftest import EXAMPLES
from ..shapes import network_spec

SEED004 = yaml.safe_load((EXAMPLES / "2-2-1-sigmoid-mse.yaml").read_text(encoding="utf-8"))
ASKED = ["dC/do1", "do1/dz3", "dC/dw5", "w5'"]
LABEL = re.compile(r"\\mathtt\{([^}]*)\}")


def _sig(value: float, digits: int = 3) -> float:
    return float(f"{value:.{digits}g}")


def _by_hand() -> dict[str, float]:
    sigmoid = lambda z: 1 / (1 + math.exp(-z))  # noqa: E731
    h1 = _sig(sigmoid(_sig(0.7 * 0.5 + 0.4 * 0.3)))
    h2 = _sig(sigmoid(_sig(0.3 * 0.5 + 0.6 * 0.3)))
    o1 = _sig(sigmoid(_sig(0.55 * h1 + 0.45 * h2)))
    dc_do1 = _sig(-2 * (1 - o1))
    do1_dz3 = _sig(o1 * (1 - o1))
    dc_dw5 = _sig(dc_do1 * do1_dz3 * h1)
    return {"dC/do1": dc_do1, "do1/dz3": do1_dz3, "dC/dw5": dc_dw5, "w5'": _sig(0.55 - 0.1 * dc_dw5, 4)}


@pytest.mark.parametrize("language", ["ko", "en"])
def test_a_worksheet_blanks_exactly_what_the_spec_asks(language: str) -> None:
    problem = derive.load({**SEED004, "ask": ASKED})
    for fmt in ("md", "tex", "html"):
        page = render(problem, "worksheet", fmt, language)
        labels = {html.unescape(label).replace(r"\_", "_") for label in LABEL.findall(page)}
        assert labels == set(ASKED), fmt
    key = document_context(problem, "key", language)
    answers = {step_id: float(value) for step_id, _, value in key["answers"]}  # type: ignore[attr-defined]
    assert answers == _by_hand()
    assert _by_hand()["dC/do1"] == -0.708 and _by_hand()["do1/dz3"] == 0.229  # seed 004's -0.71 and 0.229
    # what is not asked is printed: z1 = 0.47 is given away on purpose
    assert "0.470" in render(problem, "worksheet", "md", language)


def test_without_ask_the_worksheet_blanks_what_the_key_grades() -> None:
    """The default: every value a row ends with is a blank, and the key grades those same items;
    in the error-signal form that includes the signals."""
    spec = {**network_spec("2-3-2 softmax", [2, 3, 2], "sigmoid", "softmax", "cross_entropy", bias="per_unit", seed=3), "chain": "signals"}
    problem = derive.load(spec)
    page = render(problem, "worksheet", "md", "en")
    blanks = {label.replace(r"\_", "_") for label in LABEL.findall(page)}
    graded = {item["id"] for item in problem.key()["items"] if item["graded"]}
    assert blanks == graded
    assert {step.id for step in problem.derivation.with_role("signal")} <= graded


def test_an_asked_factor_the_signals_form_never_prints_still_gets_a_blank() -> None:
    problem = derive.load({**SEED004, "chain": "signals", "ask": ["dz3/dw5", "dC/dw5"]})
    page = render(problem, "worksheet", "md", "en")
    assert {label.replace(r"\_", "_") for label in LABEL.findall(page)} == {"dz3/dw5", "dC/dw5"}
    assert "Also asked" in page
