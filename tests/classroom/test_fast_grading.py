"""The grader's shortcuts change no grade. A sheet's run on the student's own numbers now
stops at the last answer that is not right as written and skips what right answers give
from their inputs, a mistake's run records only what each step gives, and the mistakes'
changed expressions are compiled once: every item of a varied class (a softmax 2-3-2 with
biases, two training runs, two computational graphs, sigmoid networks; planted mistakes,
blanks and junk from benchmarks/submissions.py; the default rules, --sigfig and
--plausible-within) is compared with the grades the grader gave before those shortcuts
(commit c4bf2c6, which ran every step of every sheet), stored in grades_before_shortcuts.json.

A grade that changes on purpose makes this fail too: regenerate the file from the new
code only after checking the changed grades by hand."""

from __future__ import annotations

import importlib.util
import json
import random
from pathlib import Path
from types import ModuleType

import pytest

import derive
from derive.classroom.answers import Submission, parse_answer
from derive.classroom.grading import GradingRules, StudentResult, grade
from derive.views.key import asked_ids

from ..conftest import EXAMPLES
from ..shapes import SHAPES

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).with_name("grades_before_shortcuts.json")
ROWS = 20

PROBLEMS = {
    "2-3-2 softmax, biases": SHAPES["2-3-2 tanh softmax cross-entropy, biases"],
    "2-3-2 mini-batch, momentum, 2 steps": EXAMPLES / "2-3-2-minibatch.yaml",
    "2-2-1 adam": EXAMPLES / "2-2-1-adam.yaml",
    "2-2-1 sigmoid mse": EXAMPLES / "2-2-1-sigmoid-mse.yaml",
    "1-1 sigmoid cross-entropy": EXAMPLES / "1-1-sigmoid-xent.yaml",
    "graph residual block": EXAMPLES / "graph-residual-block.yaml",
    "graph shared weight": EXAMPLES / "graph-shared-weight.yaml",
}
RULES = {
    "default": GradingRules(),
    "sigfig": GradingRules(sigfig=True),
    "plausible within 0.3, carried credit 0.5": GradingRules(carried_credit=0.5, plausible_within=0.3),
}


def _generator() -> ModuleType:
    found = importlib.util.spec_from_file_location("benchmark_submissions", ROOT / "benchmarks" / "submissions.py")
    assert found is not None and found.loader is not None
    module = importlib.util.module_from_spec(found)
    found.loader.exec_module(module)
    return module


def sheets(problem: derive.Problem) -> list[Submission]:
    """ROWS sheets as benchmarks/submissions.py writes them, the same ones every run."""
    generator = _generator()
    items = asked_ids(problem.derivation)
    rng = random.Random(2026)
    made = []
    for row in range(ROWS):
        cells, _ = generator.student_sheet(problem, items, rng)
        made.append(Submission(row + 2, f"s{row:03d}", None, {item: parse_answer(text) for item, text in cells.items()}))
    return made


def shown(result: StudentResult) -> str:
    """Every item not graded correct: its status, its mistake and the value it was carried
    from (the item ids are listed once, the class's sheets are mostly right)."""
    return " ".join(
        item_id + "=" + item.status + (f":{item.mistake}" if item.mistake else "") + (f"@{item.carried_from!r}" if item.carried_from is not None else "")
        for item_id, item in result.items.items() if item.status != "correct"
    )


@pytest.mark.parametrize("name", list(PROBLEMS))
def test_every_item_is_graded_as_before_the_shortcuts(name: str) -> None:
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))
    problem = derive.load(PROBLEMS[name])
    class_ = sheets(problem)
    for rules_name, rules in RULES.items():
        expected = golden[f"{name} | {rules_name}"]
        results = [grade(problem.derivation, submission, rules) for submission in class_]
        assert all(list(result.items) == golden[f"{name} | items"] for result in results)
        got = [shown(result) for result in results]
        assert got == expected, f"{name}, {rules_name}: row {next(i for i, (a, b) in enumerate(zip(got, expected)) if a != b)}"


def test_the_class_has_every_status() -> None:
    """The comparison means something only if the class has carried and wrong answers and
    named mistakes, not only right ones."""
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))
    text = " ".join(" ".join(rows) for rows in golden.values())
    for status in ("=carried@", "=wrong:", "=blank", "=invalid:"):
        assert status in text
    for mistake in ("sign_error", "factor_two_dropped", "learning_rate_missing", "upstream_copied_given"):
        assert f":{mistake}" in text
