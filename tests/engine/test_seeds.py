"""The examples reproduce the seed documents' numbers where the documents are right.

Each number below was read off the seed in ../shared/seeds/. A printed number agrees when
it equals our value at the coarser of the two precisions (the seed's printed digits, or the
example's policy). Where a seed is wrong, the entry names the right value and the reason;
the test asserts both that the seed's number is not what the computation gives and that
ours is."""

from __future__ import annotations

from decimal import Decimal

import pytest

import derive
from derive.engine.policy import Policy
from derive.spec.schema import as_plain_data

from ..conftest import EXAMPLES, SEEDS

# (step id, as printed in the seed)
AGREES = {
    "2-2-1-linear-mse.yaml": [  # seed 000
        ("z1", "0.21"), ("z2", "0.19"), ("a1", "0.552"), ("a2", "0.547"), ("yhat1", "0.4943"),
        ("L", "0.04231"), ("dL/dw5", "-0.227"), ("dL/dw6", "-0.225"),
        ("dL/dw2", "-0.0255"), ("dL/dw3", "-0.0122"), ("dL/dw4", "-0.0153"),
        ("w1'", "0.302"), ("w2'", "0.203"), ("w3'", "0.201"), ("w4'", "0.302"), ("w5'", "0.423"), ("w6'", "0.523"),
    ],
    "2-2-1-sigmoid-mse.yaml": [  # seed 004
        ("z1", "0.47"), ("z2", "0.33"), ("h1", "0.615"), ("h2", "0.582"), ("z3", "0.6"),
        ("dC/do1", "-0.71"), ("do1/dz3", "0.229"), ("dh1/dz1", "0.237"), ("dh2/dz2", "0.243"),
        ("dC/dw5", "-0.1"), ("dC/dw1", "-0.0106"), ("dC/dw2", "-0.009"), ("dC/dw4", "-0.005"),
        ("w5'", "0.56"), ("w2'", "0.3009"), ("w4'", "0.6005"),
        ("h1'", "0.6156"), ("z2'", "0.3306"), ("h2'", "0.5819"), ("z3'", "0.6121"), ("o1'", "0.6484"), ("C'", "0.1236"),
    ],
    "1-1-sigmoid-xent.yaml": [  # seed 003
        ("z", "0.4"), ("yhat", "0.5987"), ("L", "0.513"), ("dL/dz", "-0.4013"), ("dL/dw", "-0.2007"),
    ],
}

# (step id, printed in the seed, right value under the example's policy, why)
ERRATA = {
    "2-2-1-linear-mse.yaml": [
        ("dL/dw1", "-0.0204", "-0.0203",
         "the factors the page prints, (-0.4114) * 1 * 0.4 * 0.2473 * 0.5 = -0.020348, give -0.0203, and so does "
         "the exact value -0.020315; -0.0204 comes from rounding intermediate products the page does not show."),
        ("yhat1'", "0.5199", "0.5205",
         "0.5199 is the full-precision result; the document's own rounded weights "
         "(0.302, 0.203, 0.201, 0.302, 0.423, 0.523) give 0.5205."),
    ],
    "2-2-1-sigmoid-mse.yaml": [
        ("o1", "0.645", "0.646", "sigmoid(0.600) = 0.6457, which rounds to 0.646, not 0.645."),
        ("C", "0.126", "0.125", "carried from o1: (1 - 0.646)^2 = 0.1253."),
        ("dC/dw6", "-0.095", "-0.0944",
         "-0.708 * 0.229 * 0.582 = -0.09436 gives -0.0944; the slide's -0.71 carries the o1 error."),
        ("dC/dw3", "-0.011", "-0.00634", "the slide multiplies by x2 = 0.5, but x2 = 0.3: -0.708 * 0.229 * 0.55 * 0.237 * 0.3 = -0.00634."),
        ("w1'", "0.7010", "0.7011", "0.7 + 0.1 * 0.0106 = 0.70106, which rounds to 0.7011."),
        ("w3'", "0.4011", "0.4006", "carried from dC/dw3: 0.4 + 0.1 * 0.00634 = 0.400634."),
        ("w6'", "0.4595", "0.4594", "carried from dC/dw6: 0.45 + 0.1 * 0.0944 = 0.45944."),
        ("z1'", "0.4708", "0.471", "at 3 digits the seed's 0.4708 agrees, but it came from the wrong w3' (0.4011): "
         "the right weights give 0.47072."),
    ],
}


def _significant_digits(printed: str) -> int:
    return len(Decimal(printed).as_tuple().digits)


def _agree(printed: str, ours: float, policy: Policy, kind: str) -> bool:
    digits = min(_significant_digits(printed), policy.digits_for(kind))
    coarse = Policy(digits=digits, rounding=policy.rounding)
    return coarse.to_decimal(float(printed), kind) == coarse.to_decimal(ours, kind)


@pytest.mark.parametrize(
    ("example", "step_id", "printed"),
    [(example, step_id, printed) for example, rows in AGREES.items() for step_id, printed in rows],
)
def test_seed_number_is_reproduced(example: str, step_id: str, printed: str) -> None:
    problem = derive.load(EXAMPLES / example)
    step = problem.derivation[step_id]
    assert _agree(printed, step.value, problem.policy, step.kind), (step_id, printed, step.value)


@pytest.mark.parametrize(
    ("example", "step_id", "printed", "right", "why"),
    [(example, *row) for example, rows in ERRATA.items() for row in rows],
)
def test_seed_mistake_is_found_by_computation(example: str, step_id: str, printed: str, right: str, why: str) -> None:
    from derive.engine.policy import format_number

    problem = derive.load(EXAMPLES / example)
    step = problem.derivation[step_id]
    assert format_number(step.value, problem.policy, step.kind) == right
    if step_id != "z1'":
        assert not _agree(printed, step.value, problem.policy, step.kind)
    # The right value is also close to full precision (the policy only rounds).
    assert abs(step.exact - float(right)) < 2e-3 * max(1.0, abs(step.exact))


def test_seed_000_omits_the_learning_rate_in_its_worked_update() -> None:
    """Seed 000 writes w1' = 0.3 - (-0.0204) = 0.302: without eta that is 0.3204."""
    problem = derive.load(EXAMPLES / "2-2-1-linear-mse.yaml")
    step = problem.derivation["w1'"]
    assert step.value == 0.302
    assert round(0.3 - (-0.0204), 4) == 0.3204


def test_seed_003_shortcut_holds_only_because_the_target_is_one() -> None:
    """Seed 003 writes dL/dz = yhat - y for L = -y log(yhat). With a sigmoid output that
    derivative is -y(1 - yhat), which equals yhat - y only when y = 1."""
    problem = derive.load(EXAMPLES / "1-1-sigmoid-xent.yaml")
    d = problem.derivation
    yhat = d["yhat"].exact
    assert d["dL/dz"].exact == pytest.approx(yhat - 1)
    # y = 0.5 is no distribution, so a spec may not say it; the derivation's own expression,
    # inlined to the spec's numbers, is evaluated there instead.
    from derive.engine.numeric import evaluate

    values = {**d.primitive_values, d.primitives["y"]: 0.5}
    yhat, slope = evaluate(d.inline("yhat"), values), evaluate(d.inline("dL/dz"), values)
    assert slope == pytest.approx(-0.5 * (1 - yhat))
    assert slope != pytest.approx(yhat - 0.5)


def test_seed_004_cost_slide_arithmetic() -> None:
    """Seed 004 multiplies 4,767,000,000 by 79,511 but the line before is 4,764,000,000;
    the product it prints, 378,790,404,000,000, is the one for 4,764,000,000."""
    text = next(SEEDS.glob("004_*")).read_text(encoding="utf-8") if SEEDS.exists() else ""
    per_parameter = 79_400 * 60_000
    assert per_parameter == 4_764_000_000
    assert per_parameter * 79_511 == 378_790_404_000_000
    assert 4_767_000_000 * 79_511 != 378_790_404_000_000
    assert round(378_790_404_000_000 / 850_000_000 / 3600) == 124  # the slide says 123 hours
    if text:
        assert "4,767,000,000" in text
