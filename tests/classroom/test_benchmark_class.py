"""The grading benchmark's class (benchmarks/submissions.py) tells the truth about itself:
a student who works every step from the given numbers, rounding as the policy says or
keeping more digits, scores 100, and a sheet with a planted mistake scores less. A class
whose "mistakes" were graded right (too few digits counted against a calculator's extra
digits, a last digit off among them) made the grader look wrong at scale."""

from __future__ import annotations

import importlib.util
import random
from pathlib import Path
from types import ModuleType

import pytest

import derive
from derive.classroom.answers import Submission, parse_answer
from derive.classroom.grading import grade
from derive.views.key import asked_ids

from ..conftest import EXAMPLES
from ..shapes import SHAPES

ROOT = Path(__file__).resolve().parents[2]


def _generator() -> ModuleType:
    found = importlib.util.spec_from_file_location("benchmark_submissions", ROOT / "benchmarks" / "submissions.py")
    assert found is not None and found.loader is not None
    module = importlib.util.module_from_spec(found)
    found.loader.exec_module(module)
    return module


# Significant digits only: the generator writes numbers as a student does under that mode.
PROBLEMS = {
    "2-2-1-linear-mse": EXAMPLES / "2-2-1-linear-mse.yaml",
    "2-2-1-sigmoid-mse": EXAMPLES / "2-2-1-sigmoid-mse.yaml",
    "2-3-2 softmax, biases": SHAPES["2-3-2 tanh softmax cross-entropy, biases"],
    "3-4-4-2 tanh mse": SHAPES["3-4-4-2 tanh mse"],
}


@pytest.mark.parametrize("name", sorted(PROBLEMS))
def test_unmistaken_sheets_score_100_and_planted_mistakes_less(name: str) -> None:
    generator = _generator()
    problem = derive.load(PROBLEMS[name])
    derivation = problem.derivation
    items = asked_ids(derivation)
    rng = random.Random(11)
    scores: dict[bool, list[float]] = {True: [], False: []}
    for row in range(300):
        sheet, mistake = generator.student_sheet(problem, items, rng)
        submission = Submission(row, f"s{row}", None, {item: parse_answer(text) for item, text in sheet.items()})
        result = grade(derivation, submission)
        if mistake not in ("few_digits", "last_digit", "copied"):
            scores[mistake is None].append(result.score)
            assert mistake is None or result.score < 100, (mistake, sheet)
        if mistake is None:
            assert result.score == 100, (sheet, {k: (r.status, r.given, r.expected) for k, r in result.items.items() if r.status != "correct"})
    assert len(scores[True]) > 50 and len(scores[False]) > 80  # both kinds were drawn
    # Every other planted mistake costs points (above). Fewer digits, a last digit off, or a
    # given number copied (0.5 for 0.501) can fall inside the spread that rounded upstream
    # numbers allow, and is then graded right.
