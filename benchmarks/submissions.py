"""A realistic class's submissions for the grading benchmark: every row a different answer
sheet, as students write them.

`python benchmarks/submissions.py KEYS_DIR ROWS OUT.csv` reads the keys.json that
`derive variants` wrote and writes ROWS rows over its versions in turn. Each student works
the derivation through from the given numbers, writing each answer rounded to the policy's
digits or to a few more (a calculator's), and carrying what they wrote onwards; a share of
them plants one common mistake at one step (a flipped sign, the 2 of (y - yhat)^2 dropped,
sigma' left out, the learning rate left out, the update's sign, too few digits, a last
digit one off, a given number copied) and carries it on, and a few leave a cell blank or
write junk. A sheet that repeats an earlier one is drawn again, so the grader's cache of
identical sheets never helps. The same arguments give the same file."""

from __future__ import annotations

import csv
import json
import random
import sys
from pathlib import Path

import derive
from functools import cache

import sympy

from derive.engine.numeric import Compiled, compiled

MISTAKES = ("sign", "factor_two", "no_sigma_prime", "no_eta", "update_sign", "few_digits", "last_digit", "copied", "blank", "junk")


@cache
def _step_function(expression: sympy.Basic) -> Compiled:
    return compiled(expression)


def evaluate(expression: sympy.Basic, values: dict[sympy.Basic, float]) -> float:
    """derive's own evaluation, compiled once per expression (100,000 sheets are drawn)."""
    return _step_function(expression)(values)


def _written(value: float, digits: int) -> str:
    return f"{value:.{digits}g}"


def student_sheet(problem: derive.Problem, items: list[str], rng: random.Random) -> dict[str, str]:
    """One student's answers: the derivation re-run on what they wrote, with at most one
    planted mistake carried on from the step where it is made."""
    derivation = problem.derivation
    policy = derivation.policy
    values = dict(derivation.primitive_values)
    asked = [step for step in derivation.steps if step.id in items]
    mistake = rng.choice(MISTAKES) if rng.random() < 0.6 else None
    target = rng.choice(asked).id if mistake else None
    habit = rng.choice((0, 0, 1, 2, 4))  # digits beyond the policy's the student usually writes: 0 is the rule, 4 a calculator
    sheet: dict[str, str] = {}
    for step in derivation.steps:
        value = evaluate(step.expression, values)
        here = step.id == target
        if here or mistake in ("factor_two", "no_sigma_prime", "no_eta", "update_sign"):
            if mistake == "factor_two" and step.role == "factor" and step.of == derivation.network.loss_symbol:
                value /= 2
            elif mistake == "no_sigma_prime" and step.role == "factor" and step.kind == "factor" and step.id.startswith("da"):
                value = 1.0
            elif mistake in ("no_eta", "update_sign") and step.role == "update":
                eta = derivation.primitives["eta"]
                value = evaluate(step.expression.xreplace({eta: 1 if mistake == "no_eta" else -eta}), values)
            elif here and mistake == "sign":
                value = -value
        extra = habit if rng.random() < 0.8 else rng.choice((0, 1, 2, 4))  # now and then one more or fewer
        digits = policy.digits_for(step.kind) + extra
        text = _written(policy.round(value, step.kind) if extra == 0 else value, digits)
        if here and mistake == "few_digits":
            text = _written(value, max(1, digits - 2))
        elif here and mistake == "last_digit":
            text = _written(float(text) * (1 + 10 ** -(digits - 1)), digits)
        elif here and mistake == "copied":
            text = _written(rng.choice(list(derivation.primitive_values.values())), 3)
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
    return sheet


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
            while True:
                sheet = student_sheet(versions[version], items, rng)
                signature = (version, *(sheet[item] for item in items))
                if signature not in seen:
                    break
            seen.add(signature)
            writer.writerow([f"s{row + 1:06d}", version, *(sheet[item] for item in items)])


if __name__ == "__main__":
    main(Path(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3]))
