"""Per-student versions: fresh numbers drawn from the spec's `randomize:` section, each
version checked to be well-posed before it is kept.

A draw is rejected when a sigmoid or tanh unit saturates (its derivative is nearly 0 and
the exercise teaches nothing), a ReLU unit is dead at its input (every gradient through it
is 0), a gradient rounds to 0 at the chosen precision (nothing to grade), or it repeats an
earlier version. The same spec and seed always give the same versions."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal

import msgspec

from ..engine.derivation import Pass
from ..engine.numeric import EvaluationError
from ..engine.problem import Problem
from ..spec.files import csv_rows
from ..spec.keyfile import MAX_VERSIONS
from ..spec.schema import ExplicitWeight, RandomizeSpec, RandomRange, SpecError
from ..spec.vocabulary import shown, unprintable

ATTEMPTS_PER_VERSION = 200


@dataclass(frozen=True)
class Student:
    id: str
    name: str


@dataclass(frozen=True)
class Variant:
    number: int  # 1-based
    problem: Problem
    student: Student | None = None

    @property
    def id(self) -> str:
        return f"v{self.number:02d}"


def draw(rng: random.Random, bounds: RandomRange) -> float:
    """One number on the range's grid: exact decimals, so 0.30000000000000004 never appears."""
    if bounds.step is not None:
        step = Decimal(str(bounds.step))
        low, high = Decimal(str(bounds.min)), Decimal(str(bounds.max))
        count = int((high - low) / step)
        candidates = [low + step * k for k in range(count + 1)]
    else:
        unit = Decimal(1).scaleb(-(bounds.decimals if bounds.decimals is not None else 1))
        low = Decimal(str(bounds.min)).quantize(unit)
        high = Decimal(str(bounds.max)).quantize(unit)
        count = int((high - low) / unit)
        candidates = [low + unit * k for k in range(count + 1)]
    if not bounds.zero:
        candidates = [c for c in candidates if c != 0]
    if not candidates:
        raise SpecError(f"randomize: the range {bounds.min}..{bounds.max} holds no usable number.")
    return float(rng.choice(candidates))


def _redrawn(problem: Problem, rng: random.Random) -> Problem:
    spec = problem.spec
    plan = spec.randomize
    assert plan is not None
    update: dict[str, object] = {}
    if spec.graph is not None:  # a computational graph: weights are its parameters
        spans = (("inputs", plan.inputs), ("parameters", plan.weights), ("targets", plan.targets))
        fresh = {group: {name: draw(rng, span) for name in getattr(spec.graph, group)} for group, span in spans if span}
        return Problem(msgspec.structs.replace(spec, graph=msgspec.structs.replace(spec.graph, **fresh)), problem.origin, problem.name)
    if spec.samples is not None:  # a mini-batch: every sample's inputs and targets drawn
        update["samples"] = [
            msgspec.structs.replace(
                sample,
                inputs={name: draw(rng, plan.inputs) for name in sample.inputs} if plan.inputs else sample.inputs,
                targets={name: draw(rng, plan.targets) for name in sample.targets} if plan.targets else sample.targets,
            )
            for sample in spec.samples
        ]
    if plan.inputs and spec.samples is None:
        update["inputs"] = {name: draw(rng, plan.inputs) for name in spec.inputs}
    if plan.targets and spec.samples is None:
        update["targets"] = {name: draw(rng, plan.targets) for name in spec.targets}
    if plan.weights:
        update["weights"] = {
            name: msgspec.structs.replace(value, value=draw(rng, plan.weights)) if isinstance(value, ExplicitWeight) else draw(rng, plan.weights)
            for name, value in spec.weights.items()
        }
    if plan.biases:
        update["biases"] = {name: draw(rng, plan.biases) for name in spec.biases}
    return Problem(msgspec.structs.replace(spec, **update), problem.origin, problem.name)


def rejection(problem: Problem) -> str | None:
    """Why this version is not well-posed, or None when it is."""
    try:
        derivation = problem.derivation
    except (EvaluationError, OverflowError, ZeroDivisionError):
        return "the numbers cannot be computed"
    saturation = (problem.spec.randomize or RandomizeSpec()).saturation
    samples = range(1, len(problem.network.samples) + 1) if derivation.batched else [None]
    for unit in problem.network.units:
        for sample in samples:  # every sample's first forward pass
            pre = Pass(0, sample).node(unit.pre)
            z = derivation[pre].exact
            if unit.activation.name in ("sigmoid", "tanh") and abs(z) > saturation:
                return f"{unit.activation.name} unit {unit.post} saturates ({pre} = {z:.3g})"
            if unit.activation.name == "relu" and z <= 0:
                return f"ReLU unit {unit.post} is dead ({pre} = {z:.3g})"
    for step in derivation.with_role("gradient", iteration=1):
        if step.value == 0:
            return f"{step.id} rounds to 0"
    return None


def _fingerprint(problem: Problem) -> tuple[float | None, ...]:
    network = problem.network
    if problem.spec.graph is not None:  # a computational graph: its leaves are every given number
        return tuple(value for _, value in network.givens())
    given = [value for inputs, targets in network.samples for value in [*inputs.values(), *targets.values()]]
    return (*given, *(p.value for p in network.parameters))


def require_randomize(problem: Problem) -> None:
    """Versions need numbers to draw: refused before any work starts (the command line asks
    before it shows progress), with what to add."""
    if problem.spec.randomize is None:
        raise SpecError(f"{problem.origin}: randomize: this spec has no randomize section, so every version would be the same. "
                        "Add one, e.g. randomize: {inputs: {min: 0.1, max: 0.9}, weights: {min: -0.9, max: 0.9}}.")


@dataclass
class Drawing:
    """Versions being drawn: candidates come from the seed's one stream of numbers and are
    judged in that order, so whoever checks them (this process or workers, ahead of the
    judging), the same candidates become the same versions. A candidate is refused when its
    numbers repeat an earlier candidate's (a kept one, or one refused for a reason its
    repeat would share) or when `rejection` names a reason."""

    problem: Problem
    count: int
    rng: random.Random
    roster: list[Student] | None
    kept: list[Variant] = field(default_factory=list)
    judged: dict[tuple[float | None, ...], str | None] = field(default_factory=dict)  # fingerprint -> reason, None: kept
    attempts: int = 0  # candidates refused since the last one kept
    reasons: dict[str, int] = field(default_factory=dict)  # refusals by kind, for the message when none fits

    @classmethod
    def start(cls, problem: Problem, count: int, seed: int, roster: list[Student] | None = None) -> Drawing:
        require_randomize(problem)
        return cls(problem, max(count, len(roster or [])), random.Random(seed), roster)

    @property
    def done(self) -> bool:
        return len(self.kept) >= self.count

    def candidate(self) -> tuple[Problem, tuple[float | None, ...]]:
        """The next candidate from the stream and its numbers' fingerprint."""
        candidate = _redrawn(self.problem, self.rng)
        return candidate, _fingerprint(candidate)

    def known_reason(self, fingerprint: tuple[float | None, ...]) -> str | None:
        """Why a candidate with these numbers is refused, when that is known without checking it."""
        if fingerprint not in self.judged:
            return None
        return self.judged[fingerprint] or "it repeats an earlier version"

    def judge(self, candidate: Problem, fingerprint: tuple[float | None, ...], reason: str | None) -> Variant | None:
        """The next version, or None when the candidate (the next in the stream, with the
        reason `rejection` gave it) is refused; refusing too many in a row is an error."""
        reason = self.known_reason(fingerprint) or reason
        if reason is None:
            self.judged[fingerprint] = None
            self.attempts = 0
            number = len(self.kept) + 1
            student = self.roster[number - 1] if self.roster and number <= len(self.roster) else None
            self.kept.append(Variant(number, candidate, student))
            return self.kept[-1]
        self.judged.setdefault(fingerprint, reason)
        kind = reason.split(" (")[0]
        self.reasons[kind] = self.reasons.get(kind, 0) + 1
        self.attempts += 1
        if self.attempts >= ATTEMPTS_PER_VERSION:
            common = max(self.reasons, key=self.reasons.get)  # type: ignore[arg-type]
            raise SpecError(
                f"{self.problem.origin}: randomize: after {ATTEMPTS_PER_VERSION} draws no well-posed version {len(self.kept) + 1} was found "
                f"(most often: {common}). Narrow the ranges or loosen the precision."
            )
        return None


def make_variants(
    problem: Problem,
    count: int,
    seed: int,
    roster: list[Student] | None = None,
    progress: Callable[[Iterable[int]], Iterable[int]] = lambda numbers: numbers,
) -> list[Variant]:
    """The versions, checked here one after another (`batch.drawn_variant_files` checks
    them on every core while it renders them)."""
    drawing = Drawing.start(problem, count, seed, roster)
    for _ in progress(range(1, drawing.count + 1)):
        variant = None
        while variant is None:
            candidate, fingerprint = drawing.candidate()
            known = drawing.known_reason(fingerprint)
            variant = drawing.judge(candidate, fingerprint, known or rejection(candidate))
    return drawing.kept


MAX_ROSTER_ID = 64  # characters; a student number or a login
MAX_ROSTER_NAME = 100  # characters; the name is printed in a one-line page header


def parse_roster(text: str, path: str) -> list[Student]:
    """A roster CSV's text (read at the edge, in any encoding): a header row with the columns
    student (or id) and name, then one student a row; blank rows are skipped and other
    columns ignored. Each student gets a version, a page header and a row in versions.csv
    that `derive grade` looks them up by, so a row that cannot be all of those is refused,
    naming the row as the spreadsheet numbers it: a missing cell, an empty or repeated id,
    a character no page can print, an id or name too long for its place, or cells beyond
    the header (a name with an unquoted comma). `path` names the file in messages."""
    rows = csv_rows(text, path)
    if not rows or not any(cell.strip() for cell in rows[0]):
        raise SpecError(f"{path}: row 1: expected the header student, name; got {'an empty row' if rows else 'an empty file'}.")
    header = [cell.strip().lower() for cell in rows[0]]
    for column in ("student", "id", "name"):
        if header.count(column) > 1:
            raise SpecError(f"{path}: row 1: the column {column!r} appears {header.count(column)} times; keep one.")
    id_column = header.index("student") if "student" in header else header.index("id") if "id" in header else None
    if id_column is None or "name" not in header:
        raise SpecError(f"{path}: row 1: expected the header to name the columns 'student' (or 'id') and 'name'; "
                        f"it has {', '.join(map(shown, rows[0]))}.")
    name_column = header.index("name")
    students: list[Student] = []
    seen: dict[str, int] = {}
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) <= max(id_column, name_column):
            raise SpecError(f"{path}: row {number}: expected {len(header)} cells (student id and name); the row has {len(row)}.")
        if any(cell.strip() for cell in row[len(header):]):
            raise SpecError(f"{path}: row {number}: expected {len(header)} cells, as the header has; the row has {len(row)} "
                            "(a name with a comma must be in double quotes: \"Kim, Minsu\").")
        student = Student(row[id_column].strip(), row[name_column].strip())
        for field, value, limit in (("student id", student.id, MAX_ROSTER_ID), ("name", student.name, MAX_ROSTER_NAME)):
            character = unprintable(value)
            if character is not None:
                raise SpecError(f"{path}: row {number}: the {field} holds {character}, which no page can print; got {shown(value)}.")
            if len(value) > limit:
                raise SpecError(f"{path}: row {number}: a {field} is at most {limit} characters; this one has {len(value)}.")
        if not student.id:
            raise SpecError(f"{path}: row {number}: expected a student id; the cell is empty.")
        if student.id in seen:
            raise SpecError(f"{path}: row {number}: student id {shown(student.id)} is also on row {seen[student.id]}; "
                            "each student gets one version.")
        seen[student.id] = number
        students.append(student)
    if not students:
        raise SpecError(f"{path}: the roster has no students, only its header.")
    if len(students) > MAX_VERSIONS:
        raise SpecError(f"{path}: the roster has {len(students):,} students; derive makes at most {MAX_VERSIONS:,} versions.")
    return students
