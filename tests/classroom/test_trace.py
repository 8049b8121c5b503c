"""The run on a student's own numbers remembers each step's value and interval by its
inputs' values and boxes (derive/classroom/trace.py). That is sound only if a step reads
nothing else that varies, and it must not change a grade: checked on every shape, and by
grading a varied class with the memory warm and with it emptied before every sheet."""

from __future__ import annotations

import random

import pytest

import derive
from derive.classroom.answers import Submission, parse_answer
from derive.classroom.grading import grade
from derive.views.key import asked_ids

from ..conftest import EXAMPLES
from ..shapes import SHAPES, all_problems
from .test_benchmark_class import _generator


def test_a_step_reads_only_its_inputs_and_the_given_numbers() -> None:
    for name, problem in all_problems().items():
        derivation = problem.derivation
        if not derivation.is_numeric:
            continue
        given = set(derivation.primitive_values)
        for step in derivation.steps:
            inputs = {derivation[dep].symbol for dep in step.depends_on}
            assert step.expression.free_symbols <= given | inputs, (name, step.id)


def _forget(problem: derive.Problem) -> None:
    for step in problem.derivation.steps:
        step.__dict__.pop("_intervals", None)


@pytest.mark.parametrize("source", [EXAMPLES / "2-2-1-sigmoid-mse.yaml", SHAPES["2-3-2 tanh softmax cross-entropy, biases"]])
def test_remembered_intervals_grade_as_fresh_ones(source: object) -> None:
    generator = _generator()
    warm, cold = derive.load(source), derive.load(source)  # type: ignore[arg-type]
    items = asked_ids(warm.derivation)
    rng = random.Random(5)
    for row in range(250):
        sheet, _ = generator.student_sheet(warm, items, rng)
        if row % 3 == 0:  # a sheet seen before, as in a class where students agree
            sheet = dict(sheet, **{items[0]: sheet[items[0]]})
        answers = {item: parse_answer(text) for item, text in sheet.items()}
        _forget(cold)
        remembered = grade(warm.derivation, Submission(row, "s", None, answers))
        fresh = grade(cold.derivation, Submission(row, "s", None, answers))
        assert repr(remembered.items) == repr(fresh.items), sheet
    assert sum(len(step.__dict__.get("_intervals", {})) for step in warm.derivation.steps) > 0
