"""Rounding policy: how many digits each kind of quantity keeps, and whether later steps
see the rounded or the exact numbers.

Hand-made worked examples round every intermediate result and carry the rounded number
on (``carry: rounded``); that is why their last digits drift from a full-precision
computation. ``carry: exact`` keeps full precision underneath and rounds only for display.
"""

from __future__ import annotations

import decimal
from dataclasses import dataclass, field
from decimal import Decimal

from ..spec.vocabulary import KINDS
from .numeric import EvaluationError

_DECIMAL_ROUNDING = {
    "half_up": decimal.ROUND_HALF_UP,
    "half_even": decimal.ROUND_HALF_EVEN,
    "truncate": decimal.ROUND_DOWN,
}

# Floating-point arithmetic turns 0.5 + 0.0225 into 0.5224999999999999; a person
# computing by hand gets 0.5225. Cleaning to this many significant digits first makes
# half_up behave as it does on paper. The cleaning always keeps _GUARD_DIGITS more than
# the rounding asks for (15 significant digits, or 4 decimals of 12345678.90005, are
# rounded from the number itself, not from a 12-digit copy of it), and a float's repr has
# at most 17 significant digits, so from there on there is nothing to clean.
_FLOAT_NOISE_DIGITS = 12
_GUARD_DIGITS = 3
_FLOAT_DIGITS = 17


@dataclass(frozen=True)
class Policy:
    digits: int = 3
    mode: str = "significant"
    carry: str = "rounded"
    rounding: str = "half_up"
    per_kind: dict[str, int] = field(default_factory=dict)

    def digits_for(self, kind: str) -> int:
        return self.per_kind.get(kind, self.digits)

    def to_decimal(self, value: float, kind: str) -> Decimal:
        """The value as the document prints it, keeping the policy's trailing zeros."""
        digits = self.digits_for(kind)
        cleaned = self.cleaned(value, kind)
        if cleaned == 0:
            return Decimal(0)
        if not cleaned.is_finite():
            # The derivation refuses these before rounding, naming the step; this guards
            # every other path (the matrix form's arrays) from writing NaN or Infinity.
            raise EvaluationError(f"{value} cannot be rounded to {digits} {self.mode} digits: it is not a finite number")
        if self.mode == "significant":
            exponent = cleaned.adjusted() - digits + 1
        else:
            exponent = -digits
        quantum = Decimal(1).scaleb(exponent)
        with decimal.localcontext() as context:
            # 1e300 to 4 decimals has 305 digits: the context holds as many as the result.
            context.prec = max(60, cleaned.adjusted() - exponent + 2)
            return cleaned.quantize(quantum, rounding=_DECIMAL_ROUNDING[self.rounding])

    def cleaned(self, value: float, kind: str) -> Decimal:
        """The value freed of float noise below the digits this kind keeps (see _clean)."""
        exact = Decimal(repr(float(value)))
        if exact == 0 or not exact.is_finite():
            return exact
        digits = self.digits_for(kind)
        kept = digits if self.mode == "significant" else exact.adjusted() + 1 + digits
        return _clean(value, max(_FLOAT_NOISE_DIGITS, kept + _GUARD_DIGITS))

    def round(self, value: float, kind: str) -> float:
        return float(self.to_decimal(value, kind))

    def carried(self, exact: float, rounded: float) -> float:
        """The number that later steps compute with."""
        return rounded if self.carry == "rounded" else exact

    def tolerance(self, kind: str) -> tuple[float, float]:
        """(rtol, atol) for grading, |a - b| <= atol + rtol |b|. With d significant digits,
        rtol = 5 x 10^-d: half a unit of the d-th digit relative to a leading 1, so between
        half a unit and five units in the last digit, by the size of the leading digit. That
        absorbs a student's different rounding of intermediates but not a mistake: a learning
        rate left out moves 0.901 to 0.908. With d decimals, one unit of the last decimal.
        The grader also accepts anything between the rounded-carry and the exact value, so
        both ways of carrying pass."""
        digits = self.digits_for(kind)
        if self.mode == "significant":
            return 5 * 10.0**-digits, 1e-9
        return 0.0, 10.0**-digits

    def accepted_range(self, expected: float, exact: float, kind: str) -> tuple[float, float]:
        """The answers graded right: from the lower to the higher of the rounded-carry and
        exact values, widened by the tolerance on each side."""
        rtol, atol = self.tolerance(kind)
        low, high = min(expected, exact), max(expected, exact)
        slack = atol + rtol * max(abs(low), abs(high))
        return low - slack, high + slack

    def as_dict(self) -> dict[str, object]:
        return {
            "digits": self.digits,
            "mode": self.mode,
            "carry": self.carry,
            "rounding": self.rounding,
            "per_kind": {kind: self.digits_for(kind) for kind in KINDS},
        }


def _clean(value: float, digits: int = _FLOAT_NOISE_DIGITS) -> Decimal:
    """The float as a decimal, rounded (half even) to `digits` significant digits."""
    exact = Decimal(repr(float(value)))
    if exact == 0 or not exact.is_finite() or digits >= _FLOAT_DIGITS:
        return exact
    exponent = exact.adjusted() - digits + 1
    return exact.quantize(Decimal(1).scaleb(exponent), rounding=decimal.ROUND_HALF_EVEN)


def format_number(value: float, policy: Policy | None = None, kind: str | None = None) -> str:
    """A number as a person writes it: policy digits for computed values, and the
    shortest exact form for given ones (0.5, not 0.500). Trailing zeros are dropped
    when the rounded number is exact, so z1 = 0.21 is not shown as 0.2100."""
    if policy is None or kind is None:
        text = format(_clean(value).normalize(), "f")
    else:
        rounded = policy.to_decimal(value, kind)
        if policy.cleaned(value, kind) == rounded:
            rounded = rounded.normalize()
        text = format(abs(rounded) if rounded.is_zero() else rounded, "f")
    return "0" if text == "-0" else text
