"""A graph worksheet graded like a network's: the key scores full marks, and a gradient
that forgets the sum at a fork is named as that mistake. The residual block's numbers are
worked by hand: h = 0.8*1.5 - 0.2 = 1, r = relu(1) = 1, y = 1.5 + 1 = 2.5, and
dy/dx = 1 (the skip connection) + 1 * 0.8 (through relu) = 1.8."""

from __future__ import annotations

from typing import Any

import pytest

from derive.classroom.answers import Submission, parse_answer
from derive.classroom.grading import grade
from derive.classroom.reports import MISTAKES
from derive.engine.problem import build
from derive.views.key import asked_ids

RESIDUAL: dict[str, Any] = {
    "language": "en",
    "learning_rate": 0.1,
    "graph": {"inputs": {"x": 1.5}, "parameters": {"w": 0.8, "b": -0.2},
              "nodes": [{"h": "w*x + b"}, {"r": "relu(h)"}, {"y": "x + r"}]},
}


def _sheet(granularity: str) -> Any:
    return build({**RESIDUAL, "graph": {**RESIDUAL["graph"], "granularity": granularity}}).derivation


@pytest.mark.parametrize("granularity", ["gates", "nodes"])
def test_the_key_scores_full_marks_and_the_numbers_are_the_hand_ones(granularity: str) -> None:
    d = _sheet(granularity)
    assert (d["y"].value, d["dy/dx"].value, d["dy/dw"].value, d["dy/db"].value) == (2.5, 1.8, 1.5, 1.0)
    answers = {item: parse_answer(repr(d[item].value)) for item in asked_ids(d)}
    result = grade(d, Submission(2, "s", None, answers))
    assert {item.status for item in result.items.values()} == {"correct"}


@pytest.mark.parametrize("granularity", ["gates", "nodes"])
def test_a_forgotten_fork_sum_is_named(granularity: str) -> None:
    d = _sheet(granularity)
    answers = {item: parse_answer(repr(d[item].value)) for item in asked_ids(d)}
    answers["dy/dx"] = parse_answer("1")  # the skip connection only; the branch through relu is left out
    result = grade(d, Submission(2, "s", None, answers))
    assert result.items["dy/dx"].status == "wrong"
    assert result.items["dy/dx"].mistake == "fork_sum_missing"
    assert {item.status for key, item in result.items.items() if key != "dy/dx"} == {"correct"}
    assert "fork" in MISTAKES["en"]["fork_sum_missing"]


def test_a_sign_error_at_a_gate_is_named() -> None:
    d = _sheet("gates")
    answers = {item: parse_answer(repr(d[item].value)) for item in asked_ids(d)}
    answers["dy/dw"] = parse_answer("-1.5")
    assert grade(d, Submission(2, "s", None, answers)).items["dy/dw"].mistake == "sign_error"
