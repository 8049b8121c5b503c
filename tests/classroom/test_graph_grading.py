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


@pytest.mark.parametrize("kept", ["1", "0.8"])  # the skip connection only, or the branch through relu only
@pytest.mark.parametrize("granularity", ["gates", "nodes"])
def test_a_forgotten_fork_sum_is_named(granularity: str, kept: str) -> None:
    """Whichever use the student kept: the relu path alone (0.8) had been graded wrong with
    no mistake named, as only the first use was tried."""
    d = _sheet(granularity)
    answers = {item: parse_answer(repr(d[item].value)) for item in asked_ids(d)}
    answers["dy/dx"] = parse_answer(kept)
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


def test_the_key_json_round_trip_grades_a_graph() -> None:
    """The grader rebuilds the derivation from the spec inside the key JSON."""
    import json

    from derive.classroom.grading import key_from_data
    from derive.views.key import key_json

    problem = build(RESIDUAL)
    key = key_from_data(json.loads(key_json(problem)), "key.json")
    d = key.versions[None]
    answers = {item: parse_answer(repr(d[item].value)) for item in asked_ids(d)}
    answers["dy/dx"] = parse_answer("1")  # the skip connection only
    assert grade(d, Submission(2, "s", None, answers)).items["dy/dx"].mistake == "fork_sum_missing"


def test_variants_of_a_graph_draw_fresh_numbers_each_with_its_own_key() -> None:
    """f = (x + y) z: each version's df/dx is its own z and df/dz its own x + y."""
    from derive.api import load
    from derive.classroom.variants import make_variants
    from tests.conftest import EXAMPLES

    variants = make_variants(load(EXAMPLES / "graph-sum-times-product.yaml"), 4, seed=1)
    givens = {tuple(v.problem.spec.graph.inputs.values()) for v in variants}  # type: ignore[union-attr]
    assert len(givens) == 4
    for variant in variants:
        inputs = variant.problem.spec.graph.inputs  # type: ignore[union-attr]
        d = variant.problem.derivation
        assert d["df/dx"].value == inputs["z"] and d["df/dz"].value == inputs["x"] + inputs["y"]


@pytest.mark.parametrize(("item", "answer"), [("df/dz", "1"), ("dq/dx", "5")])
def test_a_local_gradient_of_the_wrong_gate_is_named(item: str, answer: str) -> None:
    """f = (x + y) z with x = -2, y = 5, z = -4: df/dz is q = 3, but a student who treats
    the multiply gate as an add gate writes 1; dq/dx is 1, but one who treats the add gate
    as a multiply gate writes y = 5."""
    d = build({"language": "en", "graph": {"inputs": {"x": -2, "y": 5, "z": -4}, "nodes": [{"q": "x + y"}, {"f": "q * z"}],
                                           "granularity": "gates"}}).derivation
    answers = {step: parse_answer(repr(d[step].value)) for step in asked_ids(d)}
    answers[item] = parse_answer(answer)
    result = grade(d, Submission(2, "s", None, answers))
    assert (result.items[item].status, result.items[item].mistake) == ("wrong", "wrong_gate_local")
