"""Grading a teacher would sign: error carried forward from any upstream answer but not from
a degenerate one, acceptance intervals derived from the rounding policy through each step,
more named mistakes, every step gradable and the asked items chosen by the spec.

Every value asserted here is hand arithmetic written out below (or recomputed in plain
Python with the policy's rounding), never read from derive's own output. Seed 004 is
examples/2-2-1-sigmoid-mse.yaml (x = (0.5, 0.3), w = (0.7, 0.3, 0.4, 0.6, 0.55, 0.45),
y = 1, eta = 0.1, 3 significant digits, 4 for weights); seed 000 is
examples/2-2-1-linear-mse.yaml."""

from __future__ import annotations

import copy
import csv
import json
import math
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest

import derive
from derive.classroom.answers import Submission, parse_answer
from derive.classroom.export import moodle_xml
from derive.classroom.grading import GradingRules, StudentResult, grade
from derive.engine.problem import build
from derive.spec.files import read_spec_file
from derive.spec.schema import SpecError
from derive.views.key import GRADED_ROLES, grading_key

from ..conftest import EXAMPLES

SEED000 = EXAMPLES / "2-2-1-linear-mse.yaml"
SEED004 = EXAMPLES / "2-2-1-sigmoid-mse.yaml"


def _sigmoid(z: float) -> float:
    return 1 / (1 + math.exp(-z))


def _r(value: float, digits: int) -> float:
    """Rounded to significant digits, as a student does by hand."""
    return float(f"{value:.{digits}g}")


def _grade(problem: derive.Problem, answers: dict[str, str], rules: GradingRules | None = None) -> StudentResult:
    rules = rules or GradingRules()
    parsed = {item: parse_answer(text) for item, text in answers.items()}
    return grade(problem.derivation, Submission(2, "s", None, parsed), rules)


def _key_answers(problem: derive.Problem) -> dict[str, str]:
    """A right sheet to start from (the answers fed in, not values asserted)."""
    return {s.id: repr(s.value) for s in problem.derivation.steps if s.role in GRADED_ROLES}


def _spec(path: Path, **changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(read_spec_file(path))
    data.pop("randomize", None)
    data.update(changes)
    return data


# --- seed 004's own numbers, graded as a submission -----------------------------------------

# As the lecture prints them (/work/shared/seeds/004_*.txt), including the chain factors.
LECTURE = {
    "z1": "0.47", "z2": "0.33", "h1": "0.615", "h2": "0.582", "z3": "0.6", "o1": "0.645", "C": "0.126",
    "dC/do1": "-0.71", "do1/dz3": "0.229", "dz3/dh1": "0.55", "dh1/dz1": "0.237", "dz3/dh2": "0.45", "dh2/dz2": "0.243",
    "dC/dw5": "-0.1", "dC/dw6": "-0.095", "w5'": "0.56", "w6'": "0.4595",
    "dC/dw1": "-0.0106", "dC/dw2": "-0.009", "dC/dw3": "-0.011", "dC/dw4": "-0.005",
    "w1'": "0.7010", "w2'": "0.3009", "w3'": "0.4011", "w4'": "0.6005",
    "z1'": "0.4708", "z2'": "0.3306", "h1'": "0.6156", "h2'": "0.5819", "z3'": "0.6121", "o1'": "0.6484", "C'": "0.1236",
}


def test_seed_004_lecture_numbers_graded_as_a_submission_carry_w3_prime(tmp_path: Path) -> None:
    from ..test_cli import _run

    # Hand arithmetic: the lecture's dC/dw3 used x1 = 0.5 where x2 = 0.3 belongs, so
    # -0.71 * 0.229 * 0.55 * 0.237 * 0.5 = -0.0106 -> -0.011, against the right
    # -0.708 * 0.229 * 0.55 * 0.237 * 0.3 = -0.00633: 74% away, beyond the old 50% window.
    right_dw3 = -0.708 * 0.229 * 0.55 * 0.237 * 0.3
    assert _r(right_dw3, 3) == -0.00634 or _r(right_dw3, 3) == -0.00633
    assert abs(-0.011 - right_dw3) > 0.5 * abs(right_dw3)
    # w3' = w3 - eta * (its own dC/dw3) = 0.4 - 0.1 * (-0.011) = 0.4011, exactly the lecture's.
    assert 0.4 - 0.1 * -0.011 == pytest.approx(0.4011, abs=1e-12)
    # dC/do1 = -2 (1 - 0.645) = -0.71 from the lecture's o1; -2 (1 - 0.646) = -0.708 is right.
    assert -2 * (1 - 0.645) == pytest.approx(-0.71)

    key = tmp_path / "key.json"
    assert _run("key", str(SEED004), "-o", str(key)).returncode == 0
    submissions = tmp_path / "lecture.csv"
    with submissions.open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["student", *LECTURE])
        writer.writerow(["lecture", *LECTURE.values()])
    result = _run("grade", str(key), str(submissions), "-o", str(tmp_path / "g"), "--json")
    assert result.returncode == 0, result.stderr
    assert "not in the key" not in result.stderr  # the chain-factor columns are graded
    items = json.loads(result.stdout)["students"][0]["items"]
    assert set(items) >= set(LECTURE)
    assert items["w3'"]["status"] == "carried"
    assert items["dC/do1"]["status"] == "carried"
    assert items["do1/dz3"]["status"] == "correct"  # 0.645 * 0.355 = 0.22898 and 0.646 * 0.354 = 0.22868: both 0.229
    assert items["dC/dw3"]["status"] == "wrong"
    # -0.71 * 0.229 * 0.45 * 0.243 * 0.3 = -0.00533: right, but written with 1 digit of 3.
    assert items["dC/dw4"] == {"status": "wrong", "given": "-0.005", "expected": items["dC/dw4"]["expected"], "mistake": "too_few_digits"}
    grades = (tmp_path / "g" / "grades.csv").read_text(encoding="utf-8-sig").splitlines()[0].split(",")
    assert "dC/do1" in grades and "do1/dz3" in grades


# --- sigma' left out: carried credit downstream -------------------------------------------------


def _sigma_prime_left_out() -> dict[str, float]:
    """Seed 004 worked by a student who leaves every sigma' out, rounding as the policy says."""
    x1, x2, y, eta = 0.5, 0.3, 1.0, 0.1
    w = {1: 0.7, 2: 0.3, 3: 0.4, 4: 0.6, 5: 0.55, 6: 0.45}
    z1, z2 = _r(x1 * w[1] + x2 * w[3], 3), _r(x1 * w[2] + x2 * w[4], 3)
    h1, h2 = _r(_sigmoid(z1), 3), _r(_sigmoid(z2), 3)
    z3 = _r(h1 * w[5] + h2 * w[6], 3)
    o1 = _r(_sigmoid(z3), 3)
    c = _r((y - o1) ** 2, 3)
    d3 = _r(-2 * (y - o1), 3)  # no o1 (1 - o1)
    d1, d2 = _r(d3 * w[5], 3), _r(d3 * w[6], 3)  # no h (1 - h)
    g = {5: _r(d3 * h1, 3), 6: _r(d3 * h2, 3), 1: _r(d1 * x1, 3), 2: _r(d2 * x1, 3), 3: _r(d1 * x2, 3), 4: _r(d2 * x2, 3)}
    new = {i: _r(w[i] - eta * g[i], 4) for i in w}
    za, zb = _r(x1 * new[1] + x2 * new[3], 3), _r(x1 * new[2] + x2 * new[4], 3)
    ha, hb = _r(_sigmoid(za), 3), _r(_sigmoid(zb), 3)
    zc = _r(ha * new[5] + hb * new[6], 3)
    oc = _r(_sigmoid(zc), 3)
    return {
        "z1": z1, "z2": z2, "h1": h1, "h2": h2, "z3": z3, "o1": o1, "C": c,
        **{f"dC/dw{i}": g[i] for i in w}, **{f"w{i}'": new[i] for i in w},
        "z1'": za, "z2'": zb, "h1'": ha, "h2'": hb, "z3'": zc, "o1'": oc, "C'": _r((y - oc) ** 2, 3),
    }


def test_a_student_who_leaves_sigma_prime_out_gets_carried_credit_downstream() -> None:
    sheet = _sigma_prime_left_out()
    result = _grade(derive.load(SEED004), {item: repr(value) for item, value in sheet.items()})
    gradients = [f"dC/dw{i}" for i in range(1, 7)]
    downstream = [f"w{i}'" for i in range(1, 7)] + ["z1'", "z2'", "h1'", "h2'", "z3'", "o1'", "C'"]
    assert {result.items[i].status for i in ("z1", "z2", "h1", "h2", "z3", "o1", "C")} == {"correct"}
    assert {(result.items[i].status, result.items[i].mistake) for i in gradients} == {("wrong", "sigma_prime_missing")}
    assert {result.items[i].status for i in downstream} == {"carried"}
    # 7 right + 13 carried of 26 items (it was 53.8 when the 50% window blocked the carry).
    assert result.score == round(100 * 20 / 26, 1)
    assert _grade(derive.load(SEED004), {k: repr(v) for k, v in sheet.items()}, GradingRules(carried_credit=0.5)).score == round(100 * 13.5 / 26, 1)


def test_near_zero_a_relu_unit_carries_a_slip_in_its_weighted_sum() -> None:
    # z1 = 0.3 * 0.5 + (-0.4) * 0.3 = 0.03; the student writes 0.13, 333% away, and then
    # a1 = ReLU(0.13) = 0.13 and z3 = 0.4 * 0.13 + 0.5 * a2, with a2 = ReLU(0.19) = 0.19.
    layers = [{"units": 2, "activation": "relu", "post": ["a1", "a2"]}, {"units": 1, "activation": "identity"}]
    problem = build(_spec(SEED000, layers=layers, weights={"w1": 0.3, "w2": 0.2, "w3": -0.4, "w4": 0.3, "w5": 0.4, "w6": 0.5}))
    answers = _key_answers(problem)
    answers.update({"z1": "0.13", "a1": "0.13", "z3": f"{0.4 * 0.13 + 0.5 * 0.19:.4g}", "yhat1": f"{0.4 * 0.13 + 0.5 * 0.19:.4g}"})
    assert answers["z3"] == "0.147"
    result = _grade(problem, answers)
    assert result.items["z1"].status == "wrong"
    assert [result.items[i].status for i in ("a1", "z3", "yhat1")] == ["carried"] * 3


# --- the update: its interval follows g's, and the sign is named ------------------------------------

# `derive variants examples/2-2-1-linear-mse.yaml --count 30 --seed 1`, version v27.
V27 = {"inputs": {"x1": 0.3, "x2": 0.6}, "targets": {"y1": 0.8}, "weights": {"w1": 0.4, "w2": 0.5, "w3": 0.2, "w4": 0.7, "w5": 0.9, "w6": 0.6}}
# By hand, carrying rounded numbers (activations, gradients, weights to 3 digits, the rest 4):
# z2 = 0.5 * 0.3 + 0.7 * 0.6 = 0.57, a2 = sigmoid(0.57) = 0.6388 -> 0.639; z1 = 0.24, a1 = 0.560
# yhat1 = z3 = 0.9 * 0.560 + 0.6 * 0.639 = 0.8874; dL/dyhat1 = -2 (0.8 - 0.8874) = 0.1748
# dL/da2 = 0.1748 * 0.6 = 0.1049; da2/dz2 = 0.639 * 0.361 = 0.2307; dL/dz2 = 0.02420
# dL/dw4 = 0.02420 * 0.6 = 0.01452 -> 0.0145; w4' = 0.7 - 0.1 * 0.0145 = 0.69855 -> 0.699
# dL/da1 = 0.1748 * 0.9 = 0.1573; da1/dz1 = 0.560 * 0.440 = 0.2464; dL/dz1 = 0.03876
# dL/dw1 = 0.03876 * 0.3 = 0.0116; w1' = 0.4 - 0.00116 = 0.39884 -> 0.399
G4, W4_NEW, G1, W1_NEW = 0.0145, 0.699, 0.0116, 0.399


def _v27() -> derive.Problem:
    return build(_spec(SEED000, **V27))


def test_hand_arithmetic_for_v27() -> None:
    a1, a2 = _r(_sigmoid(0.24), 3), _r(_sigmoid(0.57), 3)
    yhat = 0.9 * a1 + 0.6 * a2
    assert (a1, a2, round(yhat, 4)) == (0.56, 0.639, 0.8874)
    g4 = _r(_r(_r(-2 * (0.8 - yhat) * 0.6, 4) * _r(a2 * (1 - a2), 4), 4) * 0.6, 3)
    g1 = _r(_r(_r(-2 * (0.8 - yhat) * 0.9, 4) * _r(a1 * (1 - a1), 4), 4) * 0.3, 3)
    assert (g4, _r(0.7 - 0.1 * g4, 3), g1, _r(0.4 - 0.1 * g1, 3)) == (G4, W4_NEW, G1, W1_NEW)


def test_a_wrong_sign_update_is_wrong_and_named_and_the_update_interval_follows_g() -> None:
    problem = _v27()
    key = {item["id"]: item for item in grading_key(problem)["items"]}
    assert (key["dL/dw4"]["value"], key["w4'"]["value"]) == (G4, W4_NEW)
    # w + eta g = 0.7 + 0.00145 = 0.70145, written 0.7014: the old window |a - b| <= 0.005 |b|
    # (0.0024 <= 0.0035) marked it right.
    assert abs(0.7014 - W4_NEW) <= 0.005 * W4_NEW
    low, high = key["w4'"]["accept"]
    assert low <= W4_NEW <= high and not low <= 0.7014 <= high
    # Every accepted w4', rounded back by half a unit of its 3rd digit (0.0005), implies a g
    # within g's own interval: g = (w4 - w4') / eta.
    g_low, g_high = key["dL/dw4"]["accept"]
    assert (0.7 - (high - 0.0005)) / 0.1 >= g_low - 1e-9
    assert (0.7 - (low + 0.0005)) / 0.1 <= g_high + 1e-9
    answers = _key_answers(problem)
    answers["w4'"] = "0.7014"
    result = _grade(problem, answers)
    assert (result.items["w4'"].status, result.items["w4'"].mistake) == ("wrong", "update_sign_flipped")
    assert [i for i, r in result.items.items() if r.status != "correct"] == ["w4'"]


def test_an_update_from_a_gradient_four_times_too_big_is_carried_only_from_that_gradient() -> None:
    problem = _v27()
    wrong_g, from_it = 4 * G1, 0.4 - 0.1 * 4 * G1  # 0.0464 and 0.39536 -> 0.395
    answers = _key_answers(problem)
    answers["w1'"] = f"{from_it:.3g}"
    assert answers["w1'"] == "0.395"
    assert _grade(problem, answers).items["w1'"].status == "wrong"  # the student's g is right
    answers["dL/dw1"] = f"{wrong_g:.3g}"
    result = _grade(problem, answers)
    assert (result.items["dL/dw1"].status, result.items["w1'"].status) == ("wrong", "carried")


# --- degenerate upstream answers earn no carried credit ------------------------------------------

A1, A2 = 0.552, 0.547  # seed 000's activations


@pytest.mark.parametrize(
    ("upstream", "z3", "status", "mistake"),
    [
        ({"a1": "0.35"}, 0.4 * 0.35 + 0.5 * A2, "carried", None),  # far but honest: 0.14 + 0.2735 = 0.4135
        ({"a1": "0.3"}, 0.4 * 0.3 + 0.5 * A2, "wrong", "upstream_copied_given"),  # x2 = w1 = 0.3: 0.3935
        ({"a1": "0"}, 0.4 * 0 + 0.5 * A2, "wrong", "upstream_zero_or_one"),  # the 0 removes w5 * a1: 0.2735
        ({"a1": "1"}, 0.4 * 1 + 0.5 * A2, "wrong", "upstream_zero_or_one"),  # the 1 removes a product: 0.6735
        ({"a1": "0.5"}, 0.4 * 0.5 + 0.5 * A2, "wrong", "upstream_copied_given"),  # x1 = 0.5 copied: 0.4735
        ({"a1": "", "a2": "0.6"}, 0.4 * A1 + 0.5 * 0.6, "wrong", "upstream_blank"),  # 0.2208 + 0.3 = 0.5208
        ({"a1": f"{A1}", "a2": "0.6"}, 0.4 * A1 + 0.5 * 0.6, "carried", None),  # the same, a1 written
    ],
)
def test_degenerate_upstream_answers_earn_no_carried_credit(upstream: dict[str, str], z3: float, status: str, mistake: str | None) -> None:
    problem = derive.load(SEED000)
    answers = _key_answers(problem)
    answers.update(upstream)
    answers["z3"] = f"{z3:.4g}"
    result = _grade(problem, answers)
    assert (result.items["z3"].status, result.items["z3"].mistake) == (status, mistake)


def test_an_update_copied_from_the_given_weight_carries_nothing() -> None:
    problem = derive.load(SEED000)
    answers = _key_answers(problem)
    # w1' left at w1 = 0.3; z1' = 0.3 * 0.5 + 0.201 * 0.3 = 0.2103 from it.
    answers.update({"w1'": "0.3", "z1'": f"{0.3 * 0.5 + 0.201 * 0.3:.4g}"})
    assert answers["z1'"] == "0.2103"
    result = _grade(problem, answers)
    assert (result.items["z1'"].status, result.items["z1'"].mistake) == ("wrong", "upstream_copied_given")
    # An honest slip instead: w1' = 0.31 gives 0.155 + 0.0603 = 0.2153, carried.
    answers.update({"w1'": "0.31", "z1'": f"{0.31 * 0.5 + 0.201 * 0.3:.4g}"})
    assert _grade(problem, answers).items["z1'"].status == "carried"


# --- more named mistakes --------------------------------------------------------------------------


def test_right_but_too_few_digits_is_named() -> None:
    problem = derive.load(SEED000)
    answers = _key_answers(problem)
    # dL/dw1 = -0.4114 * 0.4 * 0.2473 * 0.5 = -0.02035 -> -0.0204 with 3 digits; -0.02 has 1.
    assert _r(-0.4114 * 0.4 * 0.2473 * 0.5, 1) == -0.02
    answers["dL/dw1"] = "-0.02"
    result = _grade(problem, answers)
    assert (result.items["dL/dw1"].status, result.items["dL/dw1"].mistake) == ("wrong", "too_few_digits")


def test_weights_numbered_in_the_other_order_are_named() -> None:
    problem = derive.load(SEED004)  # weight_order: by_source, so w2 is x1 -> h2
    answers = _key_answers(problem)
    # Read by_target, w2 is x2 -> h1: z1 = w1 x1 + w2 x2 = 0.7 * 0.5 + 0.3 * 0.3 = 0.44 (right: 0.47).
    answers["z1"] = f"{0.7 * 0.5 + 0.3 * 0.3:.3g}"
    assert answers["z1"] == "0.44"
    result = _grade(problem, answers)
    assert (result.items["z1"].status, result.items["z1"].mistake) == ("wrong", "weight_order_swapped")


# --- ask: which items the key, the quiz and the grader ask for ------------------------------------


def test_ask_chooses_the_items_of_the_key_and_the_quiz() -> None:
    asked = ["z1", "dL/dyhat1", "dL/dz1", "w1'"]
    problem = build(_spec(SEED000, ask=asked))
    items = grading_key(problem)["items"]
    assert [item["id"] for item in items if item["graded"]] == asked
    assert all("accept" in item for item in items)
    quiz = ElementTree.fromstring(moodle_xml("t", {None: problem.derivation}, "en", style="items"))
    assert [q.findtext("name/text") for q in quiz if q.get("type") == "numerical"] == asked
    (cloze,) = [q for q in ElementTree.fromstring(moodle_xml("t", {None: problem.derivation}, "en")) if q.get("type") == "cloze"]
    assert cloze.findtext("questiontext/text").count("{1:NUMERICAL:") == len(asked)
    # A sheet answers what is asked: -2 (0.7 - 0.4943) = -0.4114 for dL/dyhat1.
    result = _grade(problem, {"z1": "0.21", "dL/dyhat1": "-0.4114"})
    assert list(result.items) == asked
    assert [r.status for r in result.items.values()] == ["correct", "correct", "blank", "blank"]


@pytest.mark.parametrize(
    ("ask", "message"),
    [
        (["z1", "dL/dyhat2"], "ask[1]: 'dL/dyhat2' is not an item of this problem. Did you mean 'dL/dyhat1'?"),
        (["z1", "z1"], "ask[1]: 'z1' is listed twice."),
        ([], "ask: list at least one item id"),
    ],
)
def test_an_unknown_or_repeated_ask_id_is_a_spec_error_naming_the_field(ask: list[str], message: str) -> None:
    with pytest.raises(SpecError) as caught:
        problem = build(_spec(SEED000, ask=ask), "spec.yaml")
        grading_key(problem)
    assert str(caught.value).startswith(f"spec.yaml: {message}")
