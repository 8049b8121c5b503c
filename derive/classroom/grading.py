"""Grading a student's answers against a derivation, with error carried forward.

Each graded step is re-evaluated from its defining expression with the student's own
upstream answers, so a student who slipped at a1 but did everything after it right gets
credit downstream. An upstream answer is only carried when it is plausible (within a
bound of the right value); a wild guess is replaced by the value the student should have
got, so nobody earns credit for consistency with nonsense.

For a wrong answer the grader re-runs the derivation once per common mistake (sigma'
left out, sigma' taken at the activation, the 2 of (y - yhat)^2 dropped, the learning
rate left out, the updated weight used in the backward pass) and names the mistake whose
value the student's answer matches; a sign error is recognised directly."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import sympy

from .answers import Answer, Submission
from ..engine.derivation import Derivation, Step
from ..views.key import GRADED_ROLES
from ..engine.numeric import EvaluationError, evaluate

STATUSES = ("correct", "carried", "wrong", "blank", "invalid")


@dataclass(frozen=True)
class GradingRules:
    carried_credit: float = 1.0  # share of an item's point for a right step on wrong inputs
    plausible_within: float = 0.5  # an upstream answer is carried if |given - right| <= this * |right|
    sigfig: bool = False  # compare at the policy's significant digits instead of rtol/atol


@dataclass
class ItemResult:
    status: str
    given: str
    expected: float | None  # the right value
    carried_from: float | None = None  # what the step gives from the student's own inputs
    mistake: str | None = None


@dataclass
class StudentResult:
    student: str
    version: str | None
    items: dict[str, ItemResult]
    problems: list[str] = field(default_factory=list)
    rules: GradingRules = field(default_factory=GradingRules)

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


def accepts(given: float, expected: float, exact: float, step: Step, derivation: Derivation, rules: GradingRules) -> bool:
    """Right under the policy's tolerance, or anywhere between the rounded-carry and the
    exact value (a student may carry either, or a mixture)."""
    if rules.sigfig:
        policy = derivation.policy
        return any(policy.round(given, step.kind) == policy.round(value, step.kind) for value in (expected, exact))
    low, high = derivation.policy.accepted_range(expected, exact, step.kind)
    return low <= given <= high


# --- common mistakes ------------------------------------------------------------------

Override = Callable[[Step, dict[sympy.Symbol, float]], float | None]


def _activation_factor(derivation: Derivation, step: Step) -> str | None:
    """The activation of a da/dz factor's unit, or None if the step is another factor."""
    if step.role != "factor":
        return None
    for unit in derivation.network.units:
        if unit.post == step.of and unit.pre == step.wrt:
            return unit.activation.name
    return None


def _mistakes(derivation: Derivation) -> dict[str, Override]:
    d = derivation
    sym = {step.id: step.symbol for step in d.steps}
    loss = d.network.loss_symbol
    eta = d.primitives["eta"]
    weights = {p.name: p for p in d.network.weights}

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
            return evaluate(step.expression, values) / 2
        return None

    def no_learning_rate(step: Step, values: dict[sympy.Symbol, float]) -> float | None:
        if step.role == "update":
            return evaluate(step.expression.xreplace({eta: sympy.Integer(1)}), values)
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
        "new_weight_in_backward": new_weight_in_backward,
    }


# --- grading ---------------------------------------------------------------------------


def _own_values(
    derivation: Derivation, answers: dict[str, Answer], rules: GradingRules, override: Override | None = None
) -> dict[str, float]:
    """Each step's value computed from the student's plausible answers upstream."""
    values: dict[sympy.Symbol, float] = dict(derivation.primitive_values)
    own: dict[str, float] = {}
    for step in derivation.steps:
        replaced = override(step, values) if override else None
        try:
            own[step.id] = replaced if replaced is not None else evaluate(step.expression, values)
        except (EvaluationError, OverflowError, ZeroDivisionError, ValueError):
            own[step.id] = math.nan
        answer = answers.get(step.id)
        given = answer.value if answer is not None else None
        right = step.exact if step.exact is not None else math.nan
        plausible = given is not None and abs(given - right) <= rules.plausible_within * abs(right) + 1e-12
        values[step.symbol] = given if plausible else own[step.id]
    return own


def grade(derivation: Derivation, submission: Submission, rules: GradingRules = GradingRules()) -> StudentResult:
    own = _own_values(derivation, submission.answers, rules)
    mistaken: dict[str, tuple[dict[str, float], dict[str, float]]] = {}

    def mistakes() -> dict[str, tuple[dict[str, float], dict[str, float]]]:
        """Each mistake re-run twice: through the student's own (rounded) answers, and at
        full precision, since calculators keep more digits than students write. Only for
        students with a wrong answer, so a right sheet costs one pass."""
        if not mistaken:
            for name, override in _mistakes(derivation).items():
                mistaken[name] = (_own_values(derivation, submission.answers, rules, override), _own_values(derivation, {}, rules, override))
        return mistaken

    items: dict[str, ItemResult] = {}
    for step in derivation.steps:
        if step.role not in GRADED_ROLES:
            continue
        answer = submission.answers.get(step.id, Answer(""))
        assert step.value is not None and step.exact is not None
        carried_from = derivation.policy.round(own[step.id], step.kind) if math.isfinite(own[step.id]) else None
        result = ItemResult("blank", answer.text.strip(), step.value, carried_from)
        if answer.problem:
            result.status = "invalid"
            result.mistake = answer.problem
        elif answer.value is not None:
            given = answer.value
            if accepts(given, step.value, step.exact, step, derivation, rules):
                result.status = "correct"
            elif math.isfinite(own[step.id]) and accepts(given, own[step.id], own[step.id], step, derivation, rules):
                result.status = "carried"
            else:
                result.status = "wrong"
                result.mistake = _likely_mistake(given, step, own, mistakes(), derivation, rules)
        items[step.id] = result
    return StudentResult(submission.student, submission.version, items, list(submission.problems), rules)


def _likely_mistake(
    given: float,
    step: Step,
    own: dict[str, float],
    mistaken: dict[str, tuple[dict[str, float], dict[str, float]]],
    derivation: Derivation,
    rules: GradingRules,
) -> str | None:
    if step.value and accepts(-given, step.value, step.exact or step.value, step, derivation, rules):
        return "sign_error"
    if math.isfinite(own[step.id]) and own[step.id] and accepts(-given, own[step.id], own[step.id], step, derivation, rules):
        return "sign_error"
    for name, (through_answers, through_exact) in mistaken.items():
        candidate, exact_candidate = through_answers[step.id], through_exact[step.id]
        if not (math.isfinite(candidate) and math.isfinite(exact_candidate)):
            continue
        differs = not accepts(candidate, own[step.id], own[step.id], step, derivation, rules)
        if differs and accepts(given, candidate, exact_candidate, step, derivation, rules):
            return name
    return None


# --- keys and a class ------------------------------------------------------------------


@dataclass(frozen=True)
class GradingKey:
    """The derivation of each version, rebuilt from the spec inside the key JSON, so each
    step can be re-evaluated from its defining expression with a student's values."""

    title: str
    language: str
    versions: dict[str | None, Derivation]  # None: the only version of a key without variants

    @property
    def item_ids(self) -> list[str]:
        first = next(iter(self.versions.values()))
        return [step.id for step in first.steps if step.role in GRADED_ROLES]

    @property
    def latex(self) -> dict[str, str]:
        first = next(iter(self.versions.values()))
        return {step.id: step.latex for step in first.steps}


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
        versions[version] = build(spec, f"{origin} ({version or 'key'})").derivation
    first = next(iter(versions.values()))
    return GradingKey(str(data.get("title", "")), first.network.spec.language, versions)


def grade_class(key: GradingKey, submissions: list[Submission], rules: GradingRules = GradingRules()) -> list[StudentResult]:
    """One result per submission, in order; an unknown version is reported, not skipped."""
    results = []
    graded: dict[tuple[object, ...], StudentResult] = {}
    for submission in submissions:
        version = submission.version if None not in key.versions else None
        derivation = key.versions.get(version)
        if derivation is None:
            known = ", ".join(str(v) for v in key.versions)
            result = StudentResult(submission.student, submission.version, {}, list(submission.problems), rules)
            result.problems.append(f"version {submission.version or '(empty)'} is not in the key (known: {known})")
            result.items = {item_id: ItemResult("invalid", "", None) for item_id in key.item_ids}
            results.append(result)
            continue
        # Identical answer sheets (blank ones, copies) are graded once.
        sheet = (version, tuple(sorted((item, answer.text) for item, answer in submission.answers.items())))
        if sheet not in graded:
            graded[sheet] = grade(derivation, submission, rules)
        first = graded[sheet]
        results.append(StudentResult(submission.student, submission.version, first.items, list(submission.problems), rules))
    return results
