"""Worksheets as a student gets them: no blank's answer printed anywhere on the page, in
any format, for the examples and a 2-3-2 softmax network over one and three steps; and
`--blank steps` for an exam, which blanks the derivative lines too."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import derive
from derive.cli import main
from derive.engine.policy import format_number
from derive.views.documents import document_context, render

from ..conftest import EXAMPLES
from ..shapes import network_spec

SOFTMAX_232 = network_spec("2-3-2 softmax", [2, 3, 2], "sigmoid", "softmax", "cross_entropy", bias="per_unit", seed=3)
# Graph specs' worksheets are checked the same way in tests/views/test_circuit.py.
LAYERED = [path for path in sorted(EXAMPLES.glob("*.yaml")) if not path.name.startswith("graph-")]
SPECS: list[Any] = [*LAYERED, {**SOFTMAX_232, "steps": 1}, {**SOFTMAX_232, "steps": 3}]


def _name(spec: Any) -> str:
    return spec.stem if isinstance(spec, Path) else f"softmax-232-steps{spec['steps']}"


def _givens(problem: derive.Problem) -> set[str]:
    network = problem.network
    values = [*network.inputs.values(), *network.targets.values(), *(p.value for p in network.parameters), network.learning_rate]
    return {format_number(value) for value in values if value is not None}


def _printed(number: str, text: str) -> bool:
    """The number as a number of its own in the text (not the digits of a longer one)."""
    return re.search(rf"(?<![\d.]){re.escape(number)}(?![\d])", text) is not None


@pytest.mark.parametrize("blank", ["numbers", "steps"])
@pytest.mark.parametrize("language", ["ko", "en"])
@pytest.mark.parametrize("spec", SPECS, ids=_name)
def test_no_worksheet_shows_the_answer_to_any_of_its_blanks(spec: Any, language: str, blank: str) -> None:
    problem = derive.load(spec)
    if not problem.derivation.is_numeric:
        pytest.skip("a symbolic spec has no numbers to give away")
    key = document_context(problem, "key", language)
    worksheet = document_context(problem, "worksheet", language, blank)
    answers = {step_id: value for step_id, _, value in key["answers"]}  # type: ignore[attr-defined]
    assert answers, "the key lists every blank with its value as printed"
    givens = _givens(problem)
    for fmt in ("md", "tex", "html"):
        text = render(problem, "worksheet", fmt, language, blank=blank)
        shown = {step_id: value for step_id, value in answers.items() if value not in givens and _printed(value, text)}
        assert shown == {}, (fmt, shown)
    assert worksheet["verdict"] == "" and worksheet["history"] == [] and worksheet["prose"]["closing"] == []  # type: ignore[index]


def test_the_check_would_see_an_answer_on_the_page() -> None:
    problem = derive.load(EXAMPLES / "2-2-1-linear-mse.yaml")
    handout = render(problem, "handout", "md", "en")
    key = document_context(problem, "key", "en")
    leaked = [value for _, _, value in key["answers"] if value not in _givens(problem) and _printed(value, handout)]  # type: ignore[attr-defined]
    assert len(leaked) > len(key["answers"]) / 2  # type: ignore[arg-type]  # the handout shows its answers


def test_blank_steps_blanks_the_derivative_lines(tmp_path: Path) -> None:
    problem = derive.load(EXAMPLES / "2-2-1-linear-mse.yaml")
    numbers = render(problem, "worksheet", "md", "en")
    steps = render(problem, "worksheet", "md", "en", blank="steps")
    chain = r"\frac{\partial L}{\partial \hat{y}_{1}} \cdot \frac{\partial \hat{y}_{1}}{\partial z_{3}}"
    assert chain in numbers and chain not in steps
    assert r"\partial \left(\displaystyle w_{5} \cdot a_{1}" in numbers and r"\partial \left(\displaystyle w_{5} \cdot a_{1}" not in steps  # the definitions
    assert steps.count(r"\hspace{7cm}") == len(problem.derivation.with_role("gradient"))
    # the same items are blanks either way, so the grading key and the sheet's columns hold
    assert re.findall(r"mathtt\{([^}]*)\}", numbers) == re.findall(r"mathtt\{([^}]*)\}", steps)
    # the handout and the key are unchanged by it
    assert render(problem, "key", "md", "en", blank="steps") == render(problem, "key", "md", "en")


def test_blank_steps_on_the_command_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["worksheet", str(EXAMPLES / "2-2-1-sigmoid-mse.yaml"), "--blank", "steps",
                                       "--format", "md", "--kind", "worksheet", "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output
    [sheet] = tmp_path.glob("*/worksheet.md")
    assert r"\hspace{7cm}" in sheet.read_text(encoding="utf-8")
    result = CliRunner().invoke(main, ["worksheet", "--blank", "everything", "-o", str(tmp_path / "x")])
    assert result.exit_code != 0 and "--blank" in result.output
