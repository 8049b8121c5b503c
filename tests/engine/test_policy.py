"""Rounding as a person does it on paper, for every mode and rule."""

import pytest

from derive.engine.policy import Policy, format_number


@pytest.mark.parametrize(
    ("value", "policy", "expected"),
    [
        (0.5523079, Policy(digits=3), "0.552"),
        (-0.020355, Policy(digits=3), "-0.0204"),  # half_up away from zero, as in seed 000
        (0.5 + 0.0225, Policy(digits=3), "0.523"),  # float gives 0.52249999..., paper gives 0.5225
        (0.5 + 0.0225, Policy(digits=3, rounding="half_even"), "0.522"),
        (0.5817, Policy(digits=3, rounding="truncate"), "0.581"),
        (-0.5817, Policy(digits=3, rounding="truncate"), "-0.581"),
        (0.21, Policy(digits=4), "0.21"),  # exact: no padding zeros
        (0.70106, Policy(digits=4), "0.7011"),
        (0.56, Policy(digits=4), "0.56"),
        (0.559975, Policy(digits=4), "0.5600"),  # rounded: the zeros are significant
        (123.456, Policy(digits=2, mode="decimals"), "123.46"),
        (0.0004, Policy(digits=2, mode="decimals"), "0.00"),
        (-0.0004, Policy(digits=2, mode="decimals"), "0.00"),
        (1234.5, Policy(digits=2), "1200"),
        (0.0, Policy(digits=3), "0"),
    ],
)
def test_format_number(value: float, policy: Policy, expected: str) -> None:
    assert format_number(value, policy, "gradient") == expected


def test_per_kind_digits_override_the_default() -> None:
    policy = Policy(digits=4, per_kind={"activation": 3})
    assert policy.round(0.5523079, "activation") == 0.552
    assert policy.round(0.4946019, "output") == 0.4946


def test_given_numbers_print_as_given() -> None:
    assert format_number(0.3) == "0.3"
    assert format_number(0.1 + 0.2) == "0.3"
    assert format_number(-2.0) == "-2"


@pytest.mark.parametrize(
    ("digits", "mode", "right", "answer", "accepted"),
    [
        (3, "significant", 0.901, 0.902, True),  # one unit in the last digit
        (3, "significant", 0.901, 0.908, False),  # the learning rate left out of w3' in the class example
        (3, "significant", -0.0204, -0.0203, True),  # seed 000's dL/dw1 carried exactly
        (3, "significant", 0.123, 0.1237, False),  # 0.7 units on a leading 1: past half a unit of 0.1
        (2, "decimals", 0.55, 0.56, True),
        (2, "decimals", 0.55, 0.57, False),
    ],
)
def test_grading_tolerance_follows_the_policy(digits: int, mode: str, right: float, answer: float, accepted: bool) -> None:
    rtol, atol = Policy(digits=digits, mode=mode).tolerance("gradient")
    assert (abs(answer - right) <= atol + rtol * abs(right) + 1e-15) is accepted
