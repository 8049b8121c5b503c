"""The grading key: every step's id, kind, LaTeX, value under the policy, exact value,
dependencies and the interval of answers graded right, as JSON. The grader and the LMS
export read this and nothing else.

Which items a worksheet and a quiz ask for is the spec's `ask` (by default every step of
GRADED_ROLES); any other step is still graded when a submissions file has its column.

A step's interval is derived from the rounding policy through the step's own
expression: each input may lie anywhere in its rounding interval (half a unit of its last
kept digit around the printed number, stretched to reach the exact value, so students who
carry rounded or full-precision numbers both pass); the step is evaluated at each input's
two ends, one input at a time, and the spreads are added; the step's own rounding, half a
unit of its last digit, is added on both sides. An update w' = w - eta*g thus accepts only
values whose g lies within g's own interval."""

from __future__ import annotations

import difflib
import json
import math
from typing import TYPE_CHECKING, Any

import sympy

from .latex import to_latex
from ..engine.numeric import Compiled, EvaluationError, compiled
from ..spec.schema import SpecError, as_plain_data
from ..spec.vocabulary import shown

if TYPE_CHECKING:
    from ..engine.derivation import Derivation, Step
    from ..engine.policy import Policy
    from ..engine.problem import Problem


# The steps a worksheet leaves blank by default; chain factors and error signals are shown worked.
GRADED_ROLES = ("forward", "loss", "gradient", "batch", "state", "update", "after")

Interval = tuple[float, float]


def asked_ids(derivation: Derivation, origin: str = "spec") -> list[str]:
    """The item ids the worksheet and the quiz ask for, in the derivation's order: the spec's
    `ask`, or every step whose role is in GRADED_ROLES (and the error signals, when the
    backward pass is worked in signals), of a later iteration only those its compact form
    shows. An id that names no step is a
    SpecError naming the field."""
    asked = derivation.network.spec.ask
    if asked is None:
        # in the error-signal form the signals are the work itself: the worksheet blanks them
        # (a computational graph's node gradients are its own: derive/engine/graph.py)
        spec = derivation.network.spec
        layered_signals = derivation.chain == "signals" and (spec.graph is None or spec.chain == "signals")
        roles = GRADED_ROLES + (("signal",) if layered_signals else ())
        return [step.id for step in derivation.steps
                if step.role in roles and (step.iteration == 1 or in_compact_form(step))]
    ids = [step.id for step in derivation.steps]
    for index, item in enumerate(asked):
        if item not in derivation:
            close = difflib.get_close_matches(item, ids, n=1)
            hint = f" Did you mean {shown(close[0])}?" if close else ""
            listed = ", ".join(ids[:40]) + (", ..." if len(ids) > 40 else "")
            raise SpecError(f"{origin}: ask[{index}]: {shown(item)} is not an item of this problem.{hint} Its items are {listed}.")
    chosen = set(asked)
    return [item for item in ids if item in chosen]


# What a later iteration asks by default, as the documents show it compactly
# (derive/views/iterations.py): the batch's loss and gradients, the optimizer's state, the
# updates, and the pass after the last update.
COMPACT_ROLES = ("loss", "gradient", "batch", "state", "update")


def in_compact_form(step: Step) -> bool:
    return step.role == "after" or (step.role in COMPACT_ROLES and step.sample is None)


def rounding_radius(policy: Policy, value: float, kind: str) -> float:
    """How far the number a student computed may lie from `value` written under the policy:
    half a unit of its last kept digit (a whole unit when the policy truncates); 0 for 0 with
    significant digits, which only an exact 0 rounds to."""
    digits = policy.digits_for(kind)
    if not math.isfinite(value):
        return 0.0
    if policy.mode == "significant":
        if value == 0:
            return 0.0
        exponent = _leading_exponent(abs(value), digits)
        if exponent is None:
            rounded = policy.to_decimal(value, kind)
            if rounded == 0 or not rounded.is_finite():
                return 0.0
            exponent = rounded.adjusted()
        exponent = exponent - digits + 1
    else:
        exponent = -digits
    unit = 10.0**exponent
    return unit if policy.rounding == "truncate" else unit / 2


def _leading_exponent(magnitude: float, digits: int) -> int | None:
    """The power of ten of the leading digit of `magnitude` rounded to `digits` significant
    digits, by float arithmetic where that is certain: the grader asks this for every step
    of every sheet, and the Decimal rounding it stands in for was most of grading's time.
    None (ask the Decimal rounding) near a power of ten, where float noise or the rounding
    itself (0.99996 to 1.000) could move the leading digit, and for digits past float's."""
    if digits > 12 or not 1e-300 < magnitude < 1e300:
        return None
    exponent = math.floor(math.log10(magnitude))
    power = 10.0**exponent
    if power * (1 + 1e-9) <= magnitude <= 10 * power * (1 - 10.0**-digits):
        return exponent
    return None


def _terms(step: Step) -> tuple[list[Compiled], dict[sympy.Symbol, list[int]]]:
    """The step's terms, compiled, and which terms hold each symbol: worked out once per step
    (kept on it), since the grader spreads every step of every sheet."""
    cached = step.__dict__.get("_compiled_terms")
    if cached is None:
        terms = step.expression.args if step.expression.is_Add else (step.expression,)
        holding: dict[sympy.Symbol, list[int]] = {}
        for index, term in enumerate(terms):
            for symbol in term.free_symbols:
                holding.setdefault(symbol, []).append(index)  # type: ignore[arg-type]
        cached = step.__dict__["_compiled_terms"] = ([compiled(term) for term in terms], holding)
    return cached


def spread(step: Step, symbols: list[sympy.Symbol], values: dict[sympy.Symbol, float], boxes: dict[sympy.Symbol, Interval]) -> tuple[float, float, float]:
    """The step's value at `values` and the lowest and highest it reaches when each input in
    `symbols` moves to either end of its box, one input at a time, the spreads added (first
    order, and exact for the sums and products of a derivation; evaluating at the ends rather
    than along a derivative also handles ReLU's kink). `values` is restored afterwards.

    A sum is evaluated term by term, and moving one input re-evaluates only the terms that
    hold it: a hidden unit's signal sums over every unit above it, and evaluating the whole
    sum once per input made a key quadratic in the layer width."""
    terms, holding = _terms(step)
    term_values = [term(values) for term in terms]
    center = math.fsum(term_values)
    down = up = 0.0
    for symbol in symbols:
        box = boxes.get(symbol)
        if box is None:
            continue
        held = values[symbol]
        lowest = highest = 0.0
        for end in box:
            if end == held:
                continue
            values[symbol] = end
            try:
                moved = math.fsum(terms[i](values) - term_values[i] for i in holding.get(symbol, ()))
            except (EvaluationError, OverflowError, ZeroDivisionError, ValueError):
                continue
            finally:
                values[symbol] = held
            if math.isfinite(moved):
                lowest, highest = min(lowest, moved), max(highest, moved)
        down += lowest
        up += highest
    return center, center + down, center + up


def widened(policy: Policy, kind: str, low: float, high: float) -> Interval:
    """[low, high] and the step's own rounding on each side, with a hair for float noise."""
    radius = max(rounding_radius(policy, low, kind), rounding_radius(policy, high, kind))
    low, high = low - radius, high + radius
    noise = 1e-12 + 1e-9 * max(abs(low), abs(high))
    return low - noise, high + noise


def input_symbols(derivation: Derivation, step: Step) -> list[sympy.Symbol]:
    return [derivation[dep].symbol for dep in step.depends_on]


def acceptance_intervals(derivation: Derivation) -> dict[str, Interval]:
    """Each step's interval of answers graded right (see the module's docstring); empty for a
    symbolic spec. Computed once per derivation."""
    cached = derivation.__dict__.get("_acceptance_intervals")
    if cached is not None:
        return cached
    policy = derivation.policy
    values: dict[sympy.Symbol, float] = dict(derivation.primitive_values)
    boxes: dict[sympy.Symbol, Interval] = {}
    intervals: dict[str, Interval] = {}
    if derivation.is_numeric:
        for step in derivation.steps:
            assert step.value is not None and step.exact is not None
            try:
                _, low, high = spread(step, input_symbols(derivation, step), values, boxes)
            except (EvaluationError, OverflowError, ZeroDivisionError, ValueError):
                low = high = step.value
            # The rounded-carry value computed, then written with its own rounding; the exact
            # value written; and the key's printed value itself.
            own = rounding_radius(policy, step.exact, step.kind)
            low, high = widened(policy, step.kind, low, high)
            intervals[step.id] = (min(low, step.exact - own, step.value), max(high, step.exact + own, step.value))
            values[step.symbol] = step.value
            radius = rounding_radius(policy, step.value, step.kind)
            boxes[step.symbol] = (min(step.value - radius, step.exact), max(step.value + radius, step.exact))
    derivation.__dict__["_acceptance_intervals"] = intervals
    return intervals


def _tolerance(problem: Problem, kind: str) -> dict[str, dict[str, float]]:
    rtol, atol = problem.policy.tolerance(kind)
    return {"tolerance": {"rtol": rtol, "atol": atol}}


def grading_key(problem: Problem) -> dict[str, Any]:
    derivation = problem.derivation
    asked = set(asked_ids(derivation, problem.origin))
    intervals = acceptance_intervals(derivation)
    items = [
        {
            "id": step.id,
            "kind": step.kind,
            "latex": step.latex,
            "expression": to_latex(step.expression, derivation.names),
            "value": step.value,
            "exact": step.exact,
            "depends_on": list(step.depends_on),
            "graded": step.id in asked,  # asked for on the worksheet and the quiz
            **(_tolerance(problem, step.kind) if step.id in asked else {}),
            **({"accept": list(intervals[step.id])} if step.id in intervals else {}),
        }
        for step in derivation.steps
    ]
    return {
        "title": problem.spec.title,
        "spec": as_plain_data(problem.spec),
        "policy": problem.policy.as_dict(),
        "loss_history": derivation.loss_history,
        "history": derivation.history,  # per iteration: each parameter's value after it
        "items": items,
    }


def key_json(problem: Problem) -> str:
    return json.dumps(grading_key(problem), ensure_ascii=False, indent=2) + "\n"


def matrix_arrays(problem: Problem) -> dict[str, Any]:
    """The layer-level key's quantities at full precision, by item id: L, L', and for each
    layer l (1 = the first hidden layer) W{l}, dL/dW{l}, W{l}' and, where the layer has
    biases, b{l}, dL/db{l}, b{l}' (rows: units of layer l; columns: units of layer l-1; a
    bias is a list over units, or one value for a shared bias)."""
    form = problem.matrix
    loss = problem.spec.loss_symbol
    arrays: dict[str, Any] = {loss: form.gradients.loss}
    for l, (weight, gradient, updated) in enumerate(zip(form.network.weights, form.gradients.weights, form.after.weights, strict=True), start=1):
        arrays.update({f"W{l}": weight, f"d{loss}/dW{l}": gradient, f"W{l}'": updated})
        bias, bias_gradient, bias_after = form.network.biases[l - 1], form.gradients.biases[l - 1], form.after.biases[l - 1]
        if bias is not None and bias_gradient is not None and bias_after is not None:
            arrays.update({f"b{l}": bias[:, 0], f"d{loss}/db{l}": bias_gradient[:, 0], f"b{l}'": bias_after[:, 0]})
    arrays[f"{loss}'"] = form.loss_after
    return arrays


_MATRIX_KIND = {"W": "weight", "b": "weight", "d": "gradient"}


def matrix_key(problem: Problem) -> dict[str, Any]:
    """The layer-level grading key: each item's exact value and its value under the
    policy, as nested lists."""
    import numpy as np

    loss = problem.spec.loss_symbol
    items = []
    for item_id, exact in matrix_arrays(problem).items():
        kind = "loss" if item_id in (loss, f"{loss}'") else _MATRIX_KIND[item_id[0]]
        exact_array = np.asarray(exact, dtype=float)
        rounded = np.vectorize(lambda v, kind=kind: problem.policy.round(float(v), kind), otypes=[float])(exact_array)
        items.append({"id": item_id, "kind": kind, "value": rounded.tolist(), "exact": exact_array.tolist()})
    form = problem.matrix
    return {
        "title": problem.spec.title,
        "notation": "matrix",
        "sizes": form.network.sizes,
        "samples": form.samples,
        "policy": problem.policy.as_dict(),
        "loss_history": form.loss_history,
        "history": [_layer_parameters(network) for network in form.trajectory[1:]],  # per iteration, exact
        "items": items,
    }


def _layer_parameters(network: Any) -> dict[str, Any]:
    """W{l} and b{l} of one iteration's network, as the items name them, exact."""
    arrays: dict[str, Any] = {}
    for l, (weight, bias) in enumerate(zip(network.weights, network.biases, strict=True), start=1):
        arrays[f"W{l}"] = weight.tolist()
        if bias is not None:
            arrays[f"b{l}"] = bias[:, 0].tolist()
    return arrays


def matrix_key_json(problem: Problem) -> str:
    return json.dumps(matrix_key(problem), ensure_ascii=False, indent=2) + "\n"


def matrix_key_npz(problem: Problem) -> bytes:
    """The same ids as NumPy arrays (exact values), as the bytes of an .npz file."""
    import io

    import numpy as np

    buffer = io.BytesIO()
    np.savez(buffer, **{item_id: np.asarray(value, dtype=float) for item_id, value in matrix_arrays(problem).items()})
    return buffer.getvalue()
