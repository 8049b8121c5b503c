"""A realistic class's submissions for the grading benchmark: every row a different answer
sheet, as students write them.

`python benchmarks/submissions.py KEYS_DIR ROWS OUT.csv` reads the keys.json that
`derive variants` wrote and writes ROWS rows over its versions in turn. Each student works
the derivation through from the given numbers, writing each answer rounded to the policy's
digits or to a few more (a calculator's), and carrying what they wrote onwards; a share of
them plants one common mistake at one step (a flipped sign, the 2 of (y - yhat)^2 dropped,
sigma' left out, the learning rate left out, the update's sign, fewer digits than the
policy's, its last digit one off, a given number copied) and carries it on, and a few leave a cell blank or
write junk. A sheet that repeats an earlier one is drawn again, so the grader's cache of
identical sheets never helps (a problem too small for ROWS different sheets stops with
status 2, not loop forever). The same arguments give the same file."""

from __future__ import annotations

import csv
import json
import math
import random
import sys
from pathlib import Path

import derive
from functools import cache

import sympy

from derive.engine.numeric import Compiled, EvaluationError, compiled

REDRAWS = 10_000  # draws of one row before a small problem is taken to have no new sheet left (a graph of 3 gates ran forever)
MISTAKES = ("sign", "factor_two", "no_sigma_prime", "no_eta", "update_sign", "few_digits", "last_digit", "copied", "blank", "junk")


@cache
def _step_function(expression: sympy.Basic) -> Compiled:
    return compiled(expression)


def evaluate(expression: sympy.Basic, values: dict[sympy.Basic, float]) -> float:
    """derive's own evaluation, compiled once per expression (100,000 sheets are drawn)."""
    return _step_function(expression)(values)


def _written(value: float, digits: int) -> str:
    return f"{value:.{digits}g}"


def student_sheet(problem: derive.Problem, items: list[str], rng: random.Random) -> tuple[dict[str, str], str | None]:
    """One student's answers and the mistake planted in them (None: worked correctly): the
    derivation re-run on what they wrote, the mistake carried on from the step where it is
    made. A planted mistake that leaves the sheet as correct work would write it (too few
    digits where they still round to the right value, sigma' left out where there is none)
    is reported as none."""
    derivation = problem.derivation
    policy = derivation.policy
    values = dict(derivation.primitive_values)
    asked = [step for step in derivation.steps if step.id in items]
    mistake = rng.choice(MISTAKES) if rng.random() < 0.6 else None
    target = rng.choice(asked).id if mistake else None
    squashing = [step for step in derivation.steps if step.role == "factor" and any(
        unit.post == step.of and unit.pre == step.wrt and unit.activation.name in ("sigmoid", "tanh") for unit in derivation.network.units)]
    planted = mistake not in ("factor_two", "no_sigma_prime", "no_eta", "update_sign", "sign")  # the others always change a cell
    habit = rng.choice((0, 0, 1, 2, 4))  # digits beyond the policy's the student usually writes: 0 is the rule, 4 a calculator
    sheet: dict[str, str] = {}
    for step in derivation.steps:
        try:
            value = evaluate(step.expression, values)
        except EvaluationError:  # a planted sign under a log: the student cannot go on either
            value = math.nan
        here = step.id == target
        if here or mistake in ("factor_two", "no_sigma_prime", "no_eta", "update_sign"):
            squared = derivation.network.spec.loss in ("squared_error", "mse")
            if mistake == "factor_two" and squared and step.role == "factor" and step.of == derivation.network.loss_symbol:
                value, planted = value / 2, True
            elif mistake == "no_sigma_prime" and step in squashing:
                value, planted = 1.0, True
            elif mistake in ("no_eta", "update_sign") and step.role == "update":
                eta = derivation.primitives["eta"]
                value, planted = evaluate(step.expression.xreplace({eta: 1 if mistake == "no_eta" else -eta}), values), True
            elif here and mistake == "sign":
                value, planted = -value, True
        extra = habit if rng.random() < 0.8 else rng.choice((0, 1, 2, 4))  # now and then one more or fewer
        digits = policy.digits_for(step.kind) + extra
        if not math.isfinite(value):
            text = ""
        else:
            text = _written(policy.round(value, step.kind) if extra == 0 else value, digits)
        # Too few digits and a last digit off are counted against the policy's digits, not
        # the student's extra ones: one of four extra digits off is still right.
        kept = policy.digits_for(step.kind)
        if not text:
            pass
        elif here and mistake == "few_digits":
            text = _written(value, max(1, kept - 1))
            if float(text) == policy.round(value, step.kind):
                mistake = None  # 0.600 written 0.6: nothing wrong
        elif here and mistake == "last_digit":
            rounded = policy.round(value, step.kind)
            unit = 10.0 ** (math.floor(math.log10(abs(rounded))) - kept + 1) if rounded else 10.0 ** -kept
            text = _written(rounded + unit, kept)
        elif here and mistake == "copied":
            text = _written(rng.choice(list(derivation.primitive_values.values())), 3)
            if float(text) == policy.round(value, step.kind):
                mistake = None  # the given number copied is the answer
        elif here and mistake == "blank":
            text = ""
        elif here and mistake == "junk":
            text = rng.choice(("?", "모름", "0.5x", "1/0", "=1+1"))
        if step.id in items:
            sheet[step.id] = text
        try:
            values[step.symbol] = float(text.replace(",", "."))
        except ValueError:  # a blank or junk cell: the student carries on with what they computed
            values[step.symbol] = value
    return sheet, mistake if planted else None  # sigma' left out of a network without sigma: nothing wrong


def main(keys_dir: Path, rows: int, out: Path, seed: int = 2026) -> None:
    data = json.loads((keys_dir / "keys.json").read_text(encoding="utf-8"))
    versions = {version: derive.load(key["spec"]) for version, key in data["versions"].items()}
    first = next(iter(data["versions"].values()))
    items = [item["id"] for item in first["items"] if item.get("graded")]
    rng = random.Random(seed)
    seen: set[tuple[str, ...]] = set()
    with out.open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file, lineterminator="\n")
        writer.writerow(["student", "version", *items])
        names = list(versions)
        for row in range(rows):
            version = names[row % len(names)]
            for _ in range(REDRAWS):
                sheet, _ = student_sheet(versions[version], items, rng)
                signature = (version, *(sheet[item] for item in items))
                if signature not in seen:
                    break
            else:
                print(f"{keys_dir}: after {row:,} rows, {REDRAWS:,} sheets in a row of version {version} repeated earlier ones; "
                      "a problem this small has no more different sheets: ask for fewer rows", file=sys.stderr)
                sys.exit(2)
            seen.add(signature)
            writer.writerow([f"s{row + 1:06d}", version, *(sheet[item] for item in items)])


if __name__ == "__main__":
    main(Path(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3]))
