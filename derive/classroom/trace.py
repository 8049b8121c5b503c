"""The derivation re-run on one student's numbers, for grading with error carried forward
(derive/classroom/grading.py): what each step gives from the student's own upstream answers,
the interval around it that rounding allows, and which written answers and blanks it rests
on. A common mistake's run is the same walk with an override of the steps it changes.

Each step's value and interval depend only on its inputs' values and boxes, and in a class
many sheets agree on them (students who round as the policy says write the same numbers),
so each step remembers the last few thousand it was asked: grading a course's 100,000 rows
spent most of its time redoing the same interval arithmetic."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import sympy

from .answers import Answer
from ..engine.derivation import Derivation, Step
from ..engine.numeric import EvaluationError
from ..views.key import Interval, input_symbols, rounding_radius, spread, widened

FAILED = (EvaluationError, OverflowError, ZeroDivisionError, ValueError)
REMEMBERED = 8_192  # inputs remembered per step, and written numbers per derivation; more start afresh

Override = Callable[[Step, dict[sympy.Symbol, float]], float | None]  # a mistake: a step's value, or None


@dataclass
class Trace:
    """The derivation run on a student's numbers: what each step gives from them (`own`)
    and the interval around it, which written answers it rests on (through steps that are
    not on the sheet), and which blanks."""

    own: dict[str, float] = field(default_factory=dict)
    interval: dict[str, Interval] = field(default_factory=dict)
    used: dict[str, float] = field(default_factory=dict)  # the value later steps compute with
    answered: dict[str, float] = field(default_factory=dict)
    sources: dict[str, frozenset[str]] = field(default_factory=dict)
    blanks: dict[str, frozenset[str]] = field(default_factory=dict)
    box: dict[str, Interval] = field(default_factory=dict)  # where later steps let it move


SetAside = Callable[[str], bool]  # an answer too far from the right value to carry (--plausible-within)


def trace_sheet(derivation: Derivation, answers: dict[str, Answer], sheet: set[str], plausible_within: float | None = None) -> Trace:
    """The whole run on one sheet's answers, every step worked out (the grader's own run
    skips what it does not read; the check page's tests compare the page with this)."""
    made = Trace()
    for _ in tracing(made, derivation, answers, sheet, plausible_within):
        pass
    return made


def reach(made: Trace, steps: Iterator[None], step_id: str) -> None:
    """Runs the walk `steps` that fills `made` until it has recorded `step_id` (or ends)."""
    while step_id not in made.own and next(steps, StopIteration) is not StopIteration:
        pass


def tracing(
    made: Trace, derivation: Derivation, answers: dict[str, Answer], sheet: set[str], plausible_within: float | None = None,
    override: Override | None = None, base: Trace | None = None, settled: frozenset[str] = frozenset(),
) -> Iterator[None]:
    """Fills `made` one step at a time, pausing after each, so a mistake's run goes only as
    far as the step being checked. `base`, the same sheet's trace without the override, is
    followed for as long as the override leaves the steps alone (the two agree until it
    first changes one), so a mistake made in the updates does not redo the forward pass.
    A mistake's run records only what each step gives (`own`, `interval`): what the steps
    rest on and the values carried are the sheet's, in its trace without the override.

    `settled` are the steps the grader has already found right as written: later steps
    compute with the written answer, and nothing reads what the step gives from its inputs,
    so that is not worked out (its `own` and interval are NaN). In a class most answers
    are right, and this is most of the evaluation a sheet would need."""
    policy = derivation.policy
    values: dict[sympy.Symbol, float] = dict(derivation.primitive_values)
    boxes: dict[sympy.Symbol, Interval] = {}
    inputs = _input_symbols(derivation)
    radii: dict[tuple[str, float], float] = derivation.__dict__.setdefault("_written_radii", {})
    set_aside = _set_aside(derivation, answers, plausible_within)
    for step in derivation.steps:
        answer = answers.get(step.id)
        given = answer.value if answer is not None else None
        answered = given is not None and math.isfinite(given) and not (set_aside and set_aside(step.id))
        try:
            replaced = override(step, values) if override else None
            if base is not None and replaced is None:
                made.own[step.id], made.interval[step.id] = base.own[step.id], base.interval[step.id]
                values[step.symbol], boxes[step.symbol] = base.used[step.id], base.box[step.id]
                yield None
                continue
            base = None
            if replaced is not None:
                finite = math.isfinite(replaced)
                center, interval = replaced, widened(policy, step.kind, replaced, replaced) if finite else (math.nan, math.nan)
            elif answered and step.id in settled:
                center, interval = math.nan, (math.nan, math.nan)
            else:
                center, interval = _interval(derivation, step, inputs[step.id], values, boxes)
        except FAILED:
            base = None
            center, interval = math.nan, (math.nan, math.nan)
        made.own[step.id], made.interval[step.id] = center, interval
        if override is None:
            _record_inputs(made, step, sheet, set_aside)
        if answered:
            assert given is not None
            if override is None:
                made.answered[step.id] = given
            radius = radii.get((step.kind, given), -1.0)
            if radius < 0:  # the same written numbers come back sheet after sheet (0.0 and -0.0 share one radius)
                if len(radii) >= REMEMBERED:
                    radii.clear()
                radius = radii[step.kind, given] = rounding_radius(policy, given, step.kind)
            values[step.symbol], boxes[step.symbol] = given, (given - radius, given + radius)
        else:
            values[step.symbol], boxes[step.symbol] = center, interval
        if override is None:
            made.used[step.id], made.box[step.id] = values[step.symbol], boxes[step.symbol]
        yield None


def _record_inputs(made: Trace, step: Step, sheet: set[str], set_aside: SetAside | None) -> None:
    """Which written answers and which blanks the step rests on, through the steps before it
    that are not on the sheet."""
    sources: set[str] = set()
    blanks: set[str] = set()
    for dep in step.depends_on:
        if dep in made.answered:
            sources.add(dep)
        elif dep in sheet and not (set_aside and set_aside(dep)):
            blanks.add(dep)
        else:
            sources |= made.sources[dep]
            blanks |= made.blanks[dep]
    made.sources[step.id], made.blanks[step.id] = frozenset(sources), frozenset(blanks)


def _interval(
    derivation: Derivation, step: Step, inputs: list[sympy.Symbol], values: dict[sympy.Symbol, float], boxes: dict[sympy.Symbol, Interval]
) -> tuple[float, Interval]:
    """The step's value from `values` and its widened interval, remembered by its inputs'
    values and boxes (the other symbols of a step are the given numbers, fixed per
    derivation). A 0 among them is not remembered: 0.0 and -0.0 are one key but can give
    results that print differently."""
    memo: dict[tuple[object, ...], tuple[float, Interval] | None] = step.__dict__.setdefault("_intervals", {})
    key = tuple([values[symbol] for symbol in inputs] + [boxes.get(symbol) for symbol in inputs])
    found = memo.get(key, False)
    if found is False:
        try:
            center, low, high = spread(step, inputs, values, boxes)
            policy = derivation.policy
            interval = widened(policy, step.kind, low, high) if math.isfinite(low) and math.isfinite(high) else (math.nan, math.nan)
            found = center, interval
        except FAILED:
            found = None
        if not _has_zero(key):
            if len(memo) >= REMEMBERED:
                memo.clear()
            memo[key] = found
    if found is None:
        raise EvaluationError(f"{step.id} cannot be evaluated from these inputs")
    return found


def _has_zero(key: tuple[object, ...]) -> bool:
    for part in key:
        if part == 0.0 or (isinstance(part, tuple) and 0.0 in part):
            return True
    return False


def _input_symbols(derivation: Derivation) -> dict[str, list[sympy.Symbol]]:
    """Each step's inputs, listed once per derivation for every trace of every sheet."""
    cached = derivation.__dict__.get("_input_symbols")
    if cached is None:
        cached = derivation.__dict__["_input_symbols"] = {step.id: input_symbols(derivation, step) for step in derivation.steps}
    return cached


def _set_aside(derivation: Derivation, answers: dict[str, Answer], plausible_within: float | None) -> SetAside | None:
    """Only with --plausible-within: an answer too far from the right value is not carried."""
    if plausible_within is None:
        return None

    def too_far(step_id: str) -> bool:
        answer = answers.get(step_id)
        if answer is None or answer.value is None:
            return False
        right = derivation[step_id].exact
        return right is not None and abs(answer.value - right) > plausible_within * abs(right) + 1e-12

    return too_far
