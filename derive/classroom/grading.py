"""Grading a student's answers against a derivation, with error carried forward.

Every step on the sheet is checked twice: against the key's interval (the right value,
with the spread the policy's rounding allows, derive/views/key.py), and against the same
kind of interval around the value the step gives from the student's own upstream answers,
whatever their distance from the right ones. Right from the student's own numbers is
`carried` (right work on a wrong input) unless those numbers make the step trivial: an
upstream blank, an upstream answer that is one of the given numbers copied, or a 0 or 1
that removes a factor (the step then becomes a copy, a constant, or loses a term). Right
from right inputs, differing from the key only by rounding, is `correct`. A step that is
not on the sheet (an error signal nobody asked for) is recomputed from the student's
numbers and looked through.

For a wrong answer the grader re-runs the derivation once per common mistake (sigma'
left out, sigma' taken at the activation, the 2 of (y - yhat)^2 dropped, the learning
rate left out, w + eta*g instead of w - eta*g, the updated weight used in the backward
pass, the weights numbered in the other order, a fork's sum over its uses cut to one use, a graph's local gradient taken as another gate's) and names the mistake whose value the
student's answer matches; a sign error, a right value with too few digits and a last digit
rounded the wrong way are recognised directly."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import sympy

from .answers import Answer, Submission, find_version, written_digits
from ..engine.derivation import Derivation, Step
from .graph_mistakes import graph_mistakes, mistake_name
from ..engine.numeric import Compiled, compiled, evaluate
from ..views.key import Interval, acceptance_intervals, asked_ids, rounding_radius
from .trace import FAILED as _FAILED, Override, Trace, reach, tracing

STATUSES = ("correct", "carried", "wrong", "blank", "invalid")


@dataclass(frozen=True)
class GradingRules:
    carried_credit: float = 1.0  # share of an item's point for a right step on wrong inputs
    # Opt-in, off by default: an upstream answer farther than this share of the right value
    # from it is replaced by the value the student should have got (no carry from it).
    plausible_within: float | None = None
    sigfig: bool = False  # compare at the policy's significant digits instead of the intervals


@dataclass
class ItemResult:
    status: str
    given: str
    expected: float | None  # the right value
    carried_from: float | None = None  # what the step gives from the student's own inputs, for a carried answer
    mistake: str | None = None


@dataclass
class StudentResult:
    student: str
    version: str | None
    items: dict[str, ItemResult]
    problems: list[str] = field(default_factory=list)  # about the student's sheet: in their feedback
    rules: GradingRules = field(default_factory=GradingRules)
    name: str = ""
    row: int = 0
    notes: list[str] = field(default_factory=list)  # for the instructor only: grades.csv, the summary, stderr
    ungradable: str | None = None  # why the row could not be graded (a version the key lacks)
    counted: bool = True  # False for a student's other rows under --duplicates last or best

    @property
    def graded(self) -> bool:
        """A row that counts: gradable, and the row kept for its student."""
        return self.ungradable is None and self.counted

    @property
    def points(self) -> float:
        return sum(item_points(result, self.rules) for result in self.items.values())

    @property
    def score(self) -> float:
        """Percent of the items, carried-forward answers counting at the rules' credit."""
        return round(100 * self.points / len(self.items), 1) if self.items else 0.0

    @property
    def first_wrong(self) -> str | None:
        return next((item_id for item_id, result in self.items.items() if result.status in ("wrong", "invalid", "blank")), None)


def item_points(result: ItemResult, rules: GradingRules) -> float:
    return {"correct": 1.0, "carried": rules.carried_credit}.get(result.status, 0.0)


def _right(answer: Answer | None, step: Step, derivation: Derivation, rules: GradingRules) -> bool:
    """The answer is right as written: inside the key's interval (or, with --sigfig, the
    right value at the policy's digits), whatever the student's other answers."""
    if answer is None or answer.problem or answer.value is None:
        return False
    if rules.sigfig:
        assert step.value is not None and step.exact is not None
        return _same_rounded(answer.value, (step.value, step.exact), step, derivation)
    return _within(answer.value, acceptance_intervals(derivation)[step.id])


def _within(given: float, interval: Interval) -> bool:
    return interval[0] <= given <= interval[1]


def _same_rounded(given: float, values: tuple[float, ...], step: Step, derivation: Derivation) -> bool:
    policy = derivation.policy
    return any(math.isfinite(value) and policy.round(given, step.kind) == policy.round(value, step.kind) for value in values)


# --- the student's own numbers: derive/classroom/trace.py ------------------------------


def _trivialised(step: Step, degenerate: dict[sympy.Symbol, float]) -> bool:
    """A 0 or 1 that removes a factor: the input multiplies something in the step, or the
    step with it put in is a constant or a bare copy of another input (sigma(0) = 1/2)."""
    for node in sympy.preorder_traversal(step.expression):
        if node.is_Mul and any(argument in degenerate for argument in node.args):
            return True
    put_in = step.expression.xreplace({symbol: sympy.Integer(int(value)) for symbol, value in degenerate.items()})
    return bool(put_in.is_Number or put_in.is_Symbol)


def _no_carry(step: Step, trace: Trace, statuses: dict[str, str], derivation: Derivation) -> str | None:
    """Why the student's own upstream numbers earn no carried credit here, or None."""
    if trace.blanks[step.id]:
        return "upstream_blank"
    givens = [value for value in derivation.primitive_values.values()]
    for source in trace.sources[step.id]:
        value = trace.answered[source]
        if statuses.get(source) != "correct" and any(abs(value - given) <= 1e-12 + 1e-9 * abs(given) for given in givens):
            return "upstream_copied_given"
    intervals = acceptance_intervals(derivation)
    degenerate = {}
    for dep in step.depends_on:
        value = trace.used[dep]
        if value in (0.0, 1.0) and not _within(value, intervals[dep]):
            degenerate[derivation[dep].symbol] = value
    if degenerate and _trivialised(step, degenerate):
        return "upstream_zero_or_one"
    return None


# --- common mistakes ------------------------------------------------------------------

def _activation_factor(derivation: Derivation, step: Step) -> str | None:
    """The activation of a da/dz factor's unit, or None if the step is another factor."""
    if step.role != "factor":
        return None
    for unit in derivation.network.units:
        if unit.post == step.of and unit.pre == step.wrt:
            return unit.activation.name
    return None


def _mistakes(derivation: Derivation) -> dict[str, Override]:
    """Each common mistake as an override of the steps it changes; made once per derivation."""
    cached = derivation.__dict__.get("_mistakes")
    if cached is None:
        cached = derivation.__dict__["_mistakes"] = _mistake_overrides(derivation)
    return cached


def _mistake_overrides(derivation: Derivation) -> dict[str, Override]:
    d = derivation
    sym = {step.id: step.symbol for step in d.steps}
    loss = d.network.loss_symbol
    eta = d.primitives["eta"]
    weights = {p.name: p for p in d.network.weights}
    functions: dict[tuple[str, str], Compiled] = {}

    def computed(mistake: str, step: Step, expression: Callable[[], sympy.Basic], values: dict[sympy.Symbol, float]) -> float:
        """The step's (changed) expression at `values`, compiled once per step and mistake:
        it is asked for every wrong answer of every sheet."""
        function = functions.get((mistake, step.id))
        if function is None:
            function = functions[mistake, step.id] = compiled(expression())
        return function(values)

    def no_sigma_prime(step: Step, values: dict[sympy.Symbol, float]) -> float | None:
        return 1.0 if _activation_factor(d, step) in ("sigmoid", "tanh") else None

    def sigma_prime_at_activation(step: Step, values: dict[sympy.Symbol, float]) -> float | None:
        name = _activation_factor(d, step)
        a = values.get(sym.get(step.of or "", sympy.Symbol("_")), 0.0)
        if name == "sigmoid":
            s = 1 / (1 + math.exp(-a))
            return s * (1 - s)
        if name == "tanh":
            return 1 - math.tanh(a) ** 2
        return None

    def factor_two_dropped(step: Step, values: dict[sympy.Symbol, float]) -> float | None:
        if step.role == "factor" and step.of == loss and d.network.spec.loss in ("squared_error", "mse"):
            return computed("factor_two_dropped", step, lambda: step.expression, values) / 2
        return None

    def no_learning_rate(step: Step, values: dict[sympy.Symbol, float]) -> float | None:
        if step.role == "update":
            return computed("learning_rate_missing", step, lambda: step.expression.xreplace({eta: sympy.Integer(1)}), values)
        return None

    def update_sign(step: Step, values: dict[sympy.Symbol, float]) -> float | None:
        if step.role == "update":
            return computed("update_sign_flipped", step, lambda: step.expression.xreplace({eta: -eta}), values)
        return None

    def new_weight_in_backward(step: Step, values: dict[sympy.Symbol, float]) -> float | None:
        if step.role == "factor" and step.expression.is_Symbol and step.expression.name in weights:
            return d[step.expression.name + "'"].exact
        return None

    return {
        "sigma_prime_missing": no_sigma_prime,
        "sigma_prime_at_activation": sigma_prime_at_activation,
        "factor_two_dropped": factor_two_dropped,
        "learning_rate_missing": no_learning_rate,
        "update_sign_flipped": update_sign,
        "new_weight_in_backward": new_weight_in_backward,
        **graph_mistakes(d),
    }


def _other_weight_order(derivation: Derivation) -> Derivation | None:
    """The same spec with its weights numbered the other way (by_source <-> by_target): what a
    student computes who reads w2 as the other connection. None when the numbering cannot
    differ (weights given by from/to, or both orders name the same connections)."""
    cached = derivation.__dict__.get("_other_weight_order", False)
    if cached is not False:
        return cached
    from ..engine.problem import build
    from ..spec.schema import ExplicitWeight, SpecError, as_plain_data

    spec = derivation.network.spec
    other: Derivation | None = None
    if spec.weights and not any(isinstance(weight, ExplicitWeight) for weight in spec.weights.values()):
        data = as_plain_data(spec)
        data["weight_order"] = "by_target" if spec.weight_order == "by_source" else "by_source"
        try:
            other = build(data, "the other weight order").derivation
        except (SpecError, *_FAILED):
            other = None
        if other is not None and (_edges(other) == _edges(derivation) or not other.is_numeric):
            other = None
    derivation.__dict__["_other_weight_order"] = other
    return other


def _edges(derivation: Derivation) -> set[tuple[str, str | None, tuple[str, ...]]]:
    return {(p.name, p.source, p.targets) for p in derivation.network.weights}


def _run(derivation: Derivation, answers: dict[str, Answer], override: Override | None = None) -> dict[str, float]:
    """Every step under a mistake, computed from the student's written answers where there
    are some (so a mistake is recognised at the step where it is made)."""
    values: dict[sympy.Symbol, float] = dict(derivation.primitive_values)
    out: dict[str, float] = {}
    for step in derivation.steps:
        try:
            replaced = override(step, values) if override else None
            out[step.id] = replaced if replaced is not None else evaluate(step.expression, values)
        except _FAILED:
            out[step.id] = math.nan
        answer = answers.get(step.id)
        given = answer.value if answer is not None else None
        values[step.symbol] = given if given is not None else out[step.id]
    return out


class _Mistaken:
    """One sheet's runs under each common mistake, in a fixed order, each made only when a
    wrong answer first asks for it (the first match names the mistake, so most sheets need
    only a few): through the student's own answers, with the rounding intervals around
    them, and at full precision from the given numbers, since calculators keep more digits
    than students write. The full-precision runs do not depend on the sheet, so they are
    made once per derivation."""

    def __init__(
        self, derivation: Derivation, answers: dict[str, Answer], sheet: set[str], rules: GradingRules, base: Trace, settled: frozenset[str]
    ) -> None:
        self.derivation, self.answers, self.sheet, self.rules, self.base = derivation, answers, sheet, rules, base
        self.settled = settled
        self._runs: dict[str, tuple[Trace, Iterator[None], dict[str, float]]] = {}

    def through(self, step_id: str) -> Iterator[tuple[str, Trace, dict[str, float]]]:
        """Each mistake's name, its run through the student's answers (made as far as
        `step_id`) and its full-precision run."""
        d = self.derivation
        exact_runs: dict[str, dict[str, float]] = d.__dict__.setdefault("_mistaken_exactly", {})
        for name, override in _mistakes(d).items():
            if name not in self._runs:
                if name not in exact_runs:
                    exact_runs[name] = _run(d, {}, override)
                made = Trace()
                self._runs[name] = (made, tracing(made, d, self.answers, self.sheet, self.rules.plausible_within, override, self.base, self.settled),
                                   exact_runs[name])
            yield self._made(name, step_id)
        other = _other_weight_order(d)
        if other is not None:
            name = "weight_order_swapped"
            if name not in self._runs:
                exact = {step.id: step.exact for step in other.steps if step.exact is not None}
                made = Trace()
                self._runs[name] = (made, tracing(made, other, self.answers, self.sheet & set(exact), self.rules.plausible_within,
                                                       settled=self.settled), exact)
            yield self._made(name, step_id)

    def _made(self, name: str, step_id: str) -> tuple[str, Trace, dict[str, float]]:
        trace, steps, exact = self._runs[name]
        reach(trace, steps, step_id)
        return name, trace, exact


def _likely_mistake(
    given: float, written: tuple[int, int] | None, step: Step, trace: Trace, mistaken: _Mistaken, derivation: Derivation
) -> str | None:
    key = acceptance_intervals(derivation)[step.id]
    own, interval = trace.own[step.id], trace.interval[step.id]
    has_own = math.isfinite(own) and all(math.isfinite(end) for end in interval)
    if given and (_within(-given, key) or (has_own and _within(-given, interval))):
        return "sign_error"
    policy = derivation.policy
    digits = policy.digits_for(step.kind)
    if written is not None and written[0 if policy.mode == "significant" else 1] < digits:
        coarser = dataclasses.replace(policy, digits=written[0 if policy.mode == "significant" else 1], per_kind={})
        right = [value for value in (step.value, step.exact, own if has_own else math.nan) if math.isfinite(value)]
        if any(abs(given - coarser.round(value, step.kind)) <= 1e-12 * max(1.0, abs(given)) for value in right):
            return "too_few_digits"
    for name, through_answers, through_exact in mistaken.through(step.id):
        candidate, (low, high) = through_answers.own.get(step.id, math.nan), through_answers.interval.get(step.id, (math.nan, math.nan))
        exact_candidate = through_exact.get(step.id, math.nan)
        if not all(math.isfinite(number) for number in (candidate, low, high, exact_candidate)):
            continue
        differs = not _within(candidate, interval if has_own else key)
        radius = rounding_radius(policy, exact_candidate, step.kind)
        if differs and min(low, exact_candidate - radius) <= given <= max(high, exact_candidate + radius):
            return mistake_name(name)
    # One unit off in the last kept digit, beyond what rounding allows: rounded the wrong way.
    unit = 2 * rounding_radius(policy, given, step.kind)
    written_out = policy.rounding != "truncate" and unit and policy.round(given, step.kind) == given
    if written_out and any(math.isfinite(low) and low - unit <= given <= high + unit for low, high in (key, interval)):
        return "last_digit_off"
    return None


# --- grading ---------------------------------------------------------------------------


def _asked(derivation: Derivation) -> frozenset[str]:
    """The items the spec asks for, worked out once per derivation, not once per sheet."""
    cached = derivation.__dict__.get("_asked")
    if cached is None:
        cached = derivation.__dict__["_asked"] = frozenset(asked_ids(derivation))
    return cached


def grade(derivation: Derivation, submission: Submission, rules: GradingRules = GradingRules()) -> StudentResult:
    """The items asked for (the spec's `ask`, by default the graded roles) and every other
    step whose column the submission has. The run on the student's own numbers goes only as
    far as the last answer that is not right as written, and skips what the right ones give
    from their inputs (derive/classroom/trace.py): a sheet without a wrong answer needs none."""
    sheet = _asked(derivation) | set(submission.answers)
    settled = frozenset(step.id for step in derivation.steps if step.id in sheet and _right(submission.answers.get(step.id), step, derivation, rules))
    trace = Trace()
    walk = tracing(trace, derivation, submission.answers, sheet, rules.plausible_within, settled=settled)
    mistakes = _Mistaken(derivation, submission.answers, sheet, rules, trace, settled)  # runs only for a wrong answer

    items: dict[str, ItemResult] = {}
    statuses: dict[str, str] = {}
    for step in derivation.steps:
        if step.id not in sheet:
            continue
        answer = submission.answers.get(step.id, Answer(""))
        assert step.value is not None and step.exact is not None
        result = ItemResult("blank", answer.text.strip(), step.value)
        if answer.problem:
            result.status = "invalid"
            result.mistake = answer.problem
        elif step.id in settled:
            result.status = "correct"
        elif answer.value is not None:
            given = answer.value
            reach(trace, walk, step.id)
            own = trace.own[step.id]
            if rules.sigfig:
                consistent = _same_rounded(given, (own,), step, derivation)
            else:
                consistent = math.isfinite(own) and _within(given, trace.interval[step.id])
            upstream_right = not trace.blanks[step.id] and all(statuses.get(s) == "correct" for s in trace.sources[step.id])
            blocked = _no_carry(step, trace, statuses, derivation) if consistent and not upstream_right else None
            if consistent and upstream_right:
                result.status = "correct"  # right from right inputs that differ only by rounding
            elif consistent and blocked is None:
                result.status = "carried"
                result.carried_from = derivation.policy.round(own, step.kind)  # finite: consistent
            else:
                result.status = "wrong"
                # Right from the student's own numbers but blocked: the block is the reason.
                result.mistake = blocked or _likely_mistake(given, written_digits(answer.text), step, trace, mistakes, derivation)
        statuses[step.id] = result.status
        items[step.id] = result
    return StudentResult(submission.student, submission.version, items, list(submission.problems), rules)


# --- keys and a class ------------------------------------------------------------------


@dataclass(frozen=True)
class GradingKey:
    """The derivation of each version, rebuilt from the spec inside the key JSON, so each
    step can be re-evaluated from its defining expression with a student's values."""

    title: str
    language: str
    versions: dict[str | None, Derivation]  # None: the only version of a key without variants
    columns: frozenset[str] = frozenset()  # steps graded besides the asked ones: the submissions file has them

    @property
    def step_ids(self) -> list[str]:
        first = next(iter(self.versions.values()))
        return [step.id for step in first.steps]

    @property
    def item_ids(self) -> list[str]:
        """The items graded: those asked for, and any other step the submissions have."""
        first = next(iter(self.versions.values()))
        graded = set(asked_ids(first)) | self.columns
        return [step.id for step in first.steps if step.id in graded]

    @property
    def latex(self) -> dict[str, str]:
        first = next(iter(self.versions.values()))
        return {step.id: step.latex for step in first.steps}

    def with_columns(self, columns: set[str] | frozenset[str]) -> GradingKey:
        """The key grading these submission columns too (chain factors, error signals)."""
        return dataclasses.replace(self, columns=frozenset(columns) & set(self.step_ids))


def key_from_data(data: object, origin: str) -> GradingKey:
    """A key.json or a keys.json written by `derive variants`, already parsed as JSON (at the
    edge); each version's derivation is rebuilt from the spec it carries."""
    from ..engine.problem import build
    from ..spec.schema import SpecError

    if not isinstance(data, dict) or not ("versions" in data or "spec" in data):
        raise SpecError(f"{origin}: not a key written by derive (it has no 'spec' or 'versions').")
    keys = data["versions"] if "versions" in data else {None: data}
    if not isinstance(keys, dict) or not keys:
        raise SpecError(f"{origin}: versions: expected a mapping of version ids to keys, with at least one.")
    versions = {}
    for version, key in keys.items():
        spec = key.get("spec") if isinstance(key, dict) else None
        if not isinstance(spec, dict):
            where = f"versions.{version}.spec" if version is not None else "spec"
            raise SpecError(f"{origin}: {where}: expected the spec as a mapping of fields; got {type(spec).__name__}.")
        where = f"{origin} ({version or 'key'})"
        versions[version] = build(spec, where).derivation
        asked_ids(versions[version], where)  # an unknown id in ask: is reported now
    first = next(iter(versions.values()))
    return GradingKey(str(data.get("title", "")), first.network.spec.language, versions)


DUPLICATES = ("last", "best", "all")


def grade_class(
    key: GradingKey, submissions: list[Submission], rules: GradingRules = GradingRules(), duplicates: str = "last"
) -> list[StudentResult]:
    """One result per submission, in order (derive/classroom/gradebook.py grades a class)."""
    from .gradebook import grade_class as graded

    return graded(key, submissions, rules, duplicates)
