"""Every number right on every path: a number that cannot be computed (NaN, infinity,
overflow) is refused with the step and the values that produced it, exit status 2 and
nothing written; a rounding policy is honoured exactly as written.

The right values here come from an independent computation (Python's decimal module,
or SymPy at 30 digits), never from the engine under test."""

from __future__ import annotations

import copy
import math
import json
import subprocess
import sys
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
import sympy
import yaml

import derive
from derive.engine.numeric import EvaluationError
from derive.engine.policy import Policy, format_number

from ..conftest import IDENTITY_221, ROOT

# A 2-2-1 identity network: z1 = w1 x1 + w3 x2, z3 = w5 a1 + w6 a2 (weight_order by_source).
BASE = {**IDENTITY_221, "precision": {"digits": 4}}


def _spec(**changes: object) -> dict:
    spec = copy.deepcopy(BASE)
    spec.update(copy.deepcopy(changes))
    return spec


def _key(tmp_path: Path, spec: dict) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return subprocess.run([sys.executable, "-m", "derive", "key", str(path), "-o", str(tmp_path / "key.json")],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)


def _refused(tmp_path: Path, spec: dict, message: str) -> None:
    result = _key(tmp_path, spec)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert not (tmp_path / "key.json").exists()


def _custom(formula: str) -> list[dict]:
    return [{"units": 2, "activation": {"name": "custom", "formula": formula}}, {"units": 1, "activation": "identity"}]


# --- NaN, infinity and overflow ---------------------------------------------------------

REFUSED = [
    (_spec(layers=_custom("0/0 + z")),
     "layers[0].activation.formula: the formula is undefined or infinite for every input (0/0, a division by 0 or log(0)); "
     "got '0/0 + z'."),
    (_spec(layers=_custom("z/0")), "layers[0].activation.formula: the formula is undefined or infinite"),
    (_spec(layers=_custom("1e309*z")),
     "layers[0].activation.formula: a number in the formula is too large for a float (at most about 1.8e308); got '1e309*z'."),
    # refused when the spec is read: the product of two constants is beyond a double's range
    (_spec(layers=_custom("1e300*1e300*z")), "layers[0].activation.formula: '1e+300 * 1e+300' is a constant beyond the range of a double"),
    (_spec(loss={"formula": "(y - yhat)^2 * 0/0"}), "loss.formula: the formula is undefined or infinite"),
    # 1e308 * 0.5 + 1e308 * 0.3 = 8e307 is a float; 1e308 * 8e307 is not.
    (_spec(weights={f"w{i}": 1e308 for i in range(1, 7)}),
     "error: the numbers cannot be computed: z3 = a1*w5 + a2*w6 with a1 = 8e+307, a2 = 8e+307, w5 = 1e+308, w6 = 1e+308 "
     "overflows to infinity."),
    # The update w' = w - 1e300 dL/dw is a finite 299-digit number (4 decimals of it are
    # written out exactly); the pass after it overflows.
    (_spec(learning_rate=1e300, precision={"digits": 4, "mode": "decimals"}), "error: the numbers cannot be computed: z3' = "),
    (_spec(learning_rate=1e300, precision={"digits": 4, "mode": "decimals"}), " overflows to infinity."),
    # A formula defined in general but not at this point: a1 = z1/(z1 - 0.21) with z1 = 0.21.
    (_spec(layers=_custom("z/(z - 0.21)")),
     "error: the numbers cannot be computed: a1 = z1/(z1 - 0.21) with z1 = 0.21: division by zero."),
    # z1 = 1e300 * 0.5 + 1e300 * 0.3 is a float; the activation 1e300 z1 is not.
    (_spec(layers=_custom("1e300*z"), weights={f"w{i}": 1e300 for i in range(1, 7)}),
     "error: the numbers cannot be computed: a1 = 1.0e+300*z1 with z1 = 8e+299 overflows to infinity."),
    # The largest float rounds up past itself: 1.7976931348623157e308 to 4 digits is 1.798e308.
    (_spec(inputs={"x1": 1.7976931348623157e308, "x2": 0.0}, weights={"w1": 1, "w2": 0, "w3": 0, "w4": 0, "w5": 0, "w6": 0}),
     "error: the numbers cannot be computed: z1 = 1.79769e+308 rounds to inf: it is beyond the largest float."),
]


@pytest.mark.parametrize(("spec", "message"), REFUSED, ids=[f"refused{i}" for i in range(len(REFUSED))])
def test_a_number_that_cannot_be_computed_is_refused(tmp_path: Path, spec: dict, message: str) -> None:
    _refused(tmp_path, spec, message)


def test_a_sum_that_overflows_names_its_step() -> None:
    spec = _spec(weights={"w1": 1.5e308, "w2": 0, "w3": 1.5e308, "w4": 0, "w5": 1, "w6": 1}, inputs={"x1": 1, "x2": 1})
    with pytest.raises(EvaluationError) as caught:
        derive.load(spec).derivation  # noqa: B018
    assert str(caught.value) == "z1 = w1*x1 + w3*x2 with w1 = 1.5e+308, w3 = 1.5e+308, x1 = 1, x2 = 1: the sum of 1.5e+308, 1.5e+308 overflows"


# --- the policy as written ----------------------------------------------------------------


def _by_hand(text: str, places: str, rounding: str) -> str:
    return str(Decimal(text).quantize(Decimal(places), rounding=rounding))


@pytest.mark.parametrize("rounding", ["half_up", "half_even"])
def test_a_product_exactly_half_way_at_four_decimals_rounds_as_written(tmp_path: Path, rounding: str) -> None:
    """z1 = w1 x1 + w3 x2 = 6172839.450025 * 2 + 0 = 12345678.90005, 13 significant digits:
    half way between 12345678.9000 and 12345678.9001 at 4 decimals. A 12-digit copy
    (12345678.9000) would round down under half_up."""
    spec = _spec(inputs={"x1": 2, "x2": 0}, weights={"w1": 6172839.450025, "w2": 0.2, "w3": 0.2, "w4": 0.3, "w5": 0.4, "w6": 0.5},
                 precision={"digits": 4, "mode": "decimals", "rounding": rounding})
    result = _key(tmp_path, spec)
    assert result.returncode == 0, result.stderr
    items = {item["id"]: item for item in json.loads((tmp_path / "key.json").read_text(encoding="utf-8"))["items"]}
    by_hand = _by_hand(str(Decimal("6172839.450025") * 2), "0.0001", ROUND_HALF_UP if rounding == "half_up" else ROUND_HALF_EVEN)
    assert by_hand == ("12345678.9001" if rounding == "half_up" else "12345678.9000")
    assert items["z1"]["value"] == float(by_hand)
    problem = derive.load(spec)
    assert format_number(problem.derivation["z1"].value, problem.policy, "weighted_sum") == by_hand.rstrip("0").rstrip(".")


@pytest.mark.parametrize(
    ("value", "policy", "kind", "expected"),
    [
        (12345678.90005, Policy(4, "decimals"), "weighted_sum", "12345678.9001"),
        (12345678.90005, Policy(4, "decimals", rounding="half_even"), "weighted_sum", "12345678.9000"),
        (12345678.90005, Policy(4, "decimals", rounding="truncate"), "weighted_sum", "12345678.9000"),
        (0.1234567890123455, Policy(3, per_kind={"factor": 15}), "factor", "0.123456789012346"),
        (0.1234567890123455, Policy(3, per_kind={"factor": 15}, rounding="truncate"), "factor", "0.123456789012345"),
        (123456.789012345, Policy(15), "factor", "123456.789012345"),
        (0.5 + 0.0225, Policy(3), "factor", "0.523"),  # the float noise is still cleaned: 0.52249999... is 0.5225 on paper
        (0.5 + 0.0225, Policy(4, "decimals"), "factor", "0.5225"),
        (1e300, Policy(4, "decimals"), "weight", "1" + "0" * 300 + ".0000"),
        (-2.5e299, Policy(2, "decimals"), "weight", "-25" + "0" * 298 + ".00"),
    ],
)
def test_every_digit_the_policy_asks_for_is_honoured(value: float, policy: Policy, kind: str, expected: str) -> None:
    assert format(policy.to_decimal(value, kind), "f") == expected


def test_fifteen_significant_digits_are_fifteen_right_digits() -> None:
    """precision {factor: 15} with carry: exact: every chain factor of a sigmoid network,
    written to 15 significant digits, is the value SymPy computes at 30 digits, rounded to
    15 (a 12-digit copy would be off from the 13th digit on)."""
    spec = _spec(layers=[{"units": 2, "activation": "sigmoid"}, {"units": 1, "activation": "sigmoid"}],
                 precision={"digits": 4, "carry": "exact", "factor": 15})
    derivation = derive.load(spec).derivation
    values = {sympy.Symbol(name, real=True): sympy.Rational(str(value)) for name, value in
              [*spec["inputs"].items(), *spec["weights"].items(), *spec["targets"].items()]}
    checked = 0
    for step in derivation.with_role("factor", "signal"):
        if step.kind != "factor":
            continue
        exact = sympy.N(derivation.inline(step.id).xreplace(values), 30)
        right = Decimal(str(exact))
        fifteen = right.quantize(Decimal(1).scaleb(right.adjusted() - 14), rounding=ROUND_HALF_UP)
        assert abs(Decimal(repr(step.value)) - fifteen) <= Decimal(1).scaleb(right.adjusted() - 14), step.id
        checked += 1
    assert checked >= 10


# --- targets that a cross-entropy loss can compare ----------------------------------------

SIGMOID_2_2 = {"layers": [{"units": 2, "activation": "sigmoid"}, {"units": 2, "activation": "sigmoid"}],
               "weights": {f"w{i}": 0.1 * i for i in range(1, 9)}}
SOFTMAX_2_2 = {"layers": [{"units": 2, "activation": "sigmoid"}, {"units": 2, "activation": "softmax"}],
               "weights": {f"w{i}": 0.1 * i for i in range(1, 9)}}

TARGETS = [
    (_spec(**SIGMOID_2_2, loss="binary_cross_entropy", targets={"y1": 1.7, "y2": 0.0}),
     "targets.y1: binary cross-entropy compares each output with a probability, so a target lies between 0 and 1; got 1.7."),
    (_spec(**SIGMOID_2_2, loss="binary_cross_entropy", targets={"y1": 0.5, "y2": -0.25}),
     "targets.y2: binary cross-entropy compares each output with a probability, so a target lies between 0 and 1; got -0.25."),
    (_spec(**SIGMOID_2_2, loss="cross_entropy", targets={"y1": 0.5, "y2": 0.7}),
     "targets: cross-entropy compares two distributions, so the targets sum to 1; y1 = 0.5, y2 = 0.7 sum to 1.2."),
    (_spec(**SIGMOID_2_2, loss="cross_entropy", targets={"y1": 2, "y2": 0.5}),
     "targets.y1: cross-entropy compares each output with a probability, so a target lies between 0 and 1; got 2."),
    (_spec(**SOFTMAX_2_2, loss="cross_entropy", targets={"y1": 0.7, "y2": 0.7}),
     "targets: cross-entropy compares two distributions, so the targets sum to 1; "
     "y1 = 0.7, y2 = 0.7 sum to 1.4."),
    (_spec(**SOFTMAX_2_2, loss="cross_entropy", targets={"y1": 1.5, "y2": -0.5}),
     "targets.y1: cross-entropy compares each output with a probability, so a target lies between 0 and 1; got 1.5."),
    (_spec(**SOFTMAX_2_2, loss="cross_entropy", targets={"y1": 1, "y2": 0}, randomize={"targets": {"min": 0, "max": 1}}),
     "randomize.targets: cross-entropy targets sum to 1, so they cannot be drawn one by one; leave "
     "targets out of randomize."),
    (_spec(**SIGMOID_2_2, loss="binary_cross_entropy", targets={"y1": 1, "y2": 0}, randomize={"targets": {"min": 0.5, "max": 2}}),
     "randomize.targets: binary cross-entropy targets lie between 0 and 1; the range 0.5..2 goes outside it."),
]


@pytest.mark.parametrize(("spec", "message"), TARGETS, ids=[f"targets{i}" for i in range(len(TARGETS))])
def test_a_target_the_loss_cannot_compare_is_refused(tmp_path: Path, spec: dict, message: str) -> None:
    _refused(tmp_path, spec, message)


def _outputs(spec: dict) -> tuple[list[float], list[float], float]:
    derivation = derive.load(spec).derivation
    outputs = [derivation[unit.post].exact for unit in derivation.network.outputs]
    return list(spec["targets"].values()), outputs, derivation["L"].exact  # type: ignore[return-value]


@pytest.mark.parametrize(
    ("spec", "by_hand"),
    [
        # mse: the mean over the outputs of (y - yhat)^2.
        (_spec(**SIGMOID_2_2, loss="mse", targets={"y1": 0.9, "y2": 0.2}),
         lambda y, h: sum((yi - hi) ** 2 for yi, hi in zip(y, h)) / len(y)),
        # binary cross-entropy: summed over the outputs, not averaged.
        (_spec(**SIGMOID_2_2, loss="binary_cross_entropy", targets={"y1": 1, "y2": 0.25}),
         lambda y, h: -sum(yi * math.log(hi) + (1 - yi) * math.log(1 - hi) for yi, hi in zip(y, h))),
        # cross-entropy: -sum y log yhat, on a distribution.
        (_spec(**SOFTMAX_2_2, loss="cross_entropy", targets={"y1": 0.25, "y2": 0.75}),
         lambda y, h: -sum(yi * math.log(hi) for yi, hi in zip(y, h))),
        (_spec(**SIGMOID_2_2, loss="cross_entropy", targets={"y1": 1, "y2": 0}),
         lambda y, h: -sum(yi * math.log(hi) for yi, hi in zip(y, h))),
    ],
    ids=["mse", "binary_cross_entropy", "cross_entropy-softmax", "cross_entropy-sigmoid"],
)
def test_each_loss_is_the_formula_the_readme_states(spec: dict, by_hand) -> None:  # type: ignore[no-untyped-def]
    targets, outputs, loss = _outputs(spec)
    assert loss == pytest.approx(by_hand(targets, outputs), rel=1e-12)


def test_the_matrix_form_writes_no_infinity_either(tmp_path: Path) -> None:
    """The matrix key rounds numpy's arrays with the same policy: an overflow there is the
    same refusal (exit status 2, nothing written), not Infinity in the JSON."""
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(_spec(weights={f"w{i}": 1e308 for i in range(1, 7)}), sort_keys=False), encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "derive", "key", str(path), "--notation", "matrix", "-o", str(tmp_path / "key.json")],
                            capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert "error: the numbers cannot be computed: z^(2) is not finite (entry 1, 1)" in result.stderr  # the matrix form names the quantity
    assert not (tmp_path / "key.json").exists()


@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan])
def test_the_policy_refuses_to_round_what_is_not_a_number(value: float) -> None:
    with pytest.raises(EvaluationError, match="it is not a finite number"):
        Policy(3).round(value, "loss")
