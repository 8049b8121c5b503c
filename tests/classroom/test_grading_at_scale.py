"""Grading a large class: rows streamed, graded in chunks on several processes, feedback
pages optional. None of it may change a grade: the files are compared byte for byte with
the ones written one row at a time in one process, with every kind of row (right, a
planted mistake, blank, junk, an unknown version, a student on two rows) in the class.
The fast paths behind it (compiled expressions, the leading digit by float) are checked
against the slow ones they replace, on many values."""

from __future__ import annotations

import csv
import json
import math
import random
from functools import cache
from decimal import Decimal
from pathlib import Path

import pytest
import sympy
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from derive import cli
from derive.classroom import gradebook
from derive.engine.numeric import EvaluationError, compiled, evaluate
from derive.engine.policy import Policy
from derive.output import write_all
from derive.views.key import rounding_radius

from ..conftest import EXAMPLES
from ..shapes import all_problems

SEED000 = EXAMPLES / "2-2-1-linear-mse.yaml"


def _class(tmp_path: Path, rows: int = 60) -> tuple[Path, Path]:
    """Three versions and a class of `rows` rows answering them with planted slips."""
    runner = CliRunner()
    made = runner.invoke(cli.main, ["variants", str(SEED000), "--count", "3", "--seed", "7", "--format", "md", "-o", str(tmp_path)])
    assert made.exit_code == 0, made.output
    folder = tmp_path / "2-2-1-linear-mse-variants"
    keys = json.loads((folder / "keys.json").read_text(encoding="utf-8"))["versions"]
    items = [item["id"] for item in next(iter(keys.values()))["items"] if item.get("graded")]
    rng = random.Random(3)
    path = tmp_path / "class.csv"
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["student", "version", *items])
        for row in range(rows):
            version = ("v01", "v02", "v03", "v09")[row % 4] if row % 13 else "v09"  # v09: not in the key
            values = {item["id"]: item["value"] for item in keys.get(version, keys["v01"])["items"]}
            cells = [repr(values[item]) for item in items]
            slip = rng.randrange(len(items))
            cells[slip] = rng.choice(["", "?", repr(-values[items[slip]]), repr(values[items[slip]] * 2), "1/0"])
            student = f"s{row % 50:03d}"  # the last ten rows repeat students
            writer.writerow([student, version, *cells])
    return folder, path


def _grade(folder: Path, submissions: Path, out: Path, *options: str) -> None:
    result = CliRunner().invoke(cli.main, ["grade", str(folder), str(submissions), "-o", str(out), *options])
    assert result.exit_code == 0, result.output


def _files(folder: Path) -> dict[str, bytes]:
    return {str(path.relative_to(folder)): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


def test_feedback_none_writes_the_same_grades_as_feedback_md(tmp_path: Path) -> None:
    folder, submissions = _class(tmp_path)
    for feedback in ("none", "md", "md,html"):
        _grade(folder, submissions, tmp_path / feedback, "--feedback", feedback)
    none, md, both = (_files(tmp_path / name) for name in ("none", "md", "md,html"))
    for name in ("grades.csv", "grades.json", "summary.md", "histogram.svg"):
        assert none[name] == md[name] == both[name]
    assert not any(name.startswith("feedback") for name in none)
    md_pages = {name for name in md if name.startswith("feedback/")}
    assert md_pages and all(name.endswith(".md") for name in md_pages)
    assert {name: both[name] for name in md_pages} == {name: md[name] for name in md_pages}
    grades = list(csv.DictReader(md["grades.csv"].decode("utf-8-sig").splitlines()))
    counted = [row for row in grades if row["counted"] == "yes"]
    assert len(md_pages) == len(counted) < len(grades)  # the unknown version and the repeated rows get no page


def test_grades_are_the_same_on_several_processes_in_small_chunks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder, submissions = _class(tmp_path, rows=90)
    for duplicates in ("last", "best", "all"):
        monkeypatch.setattr(gradebook, "PARALLEL_FROM", 10**9)
        _grade(folder, submissions, tmp_path / f"one-{duplicates}", "--duplicates", duplicates)
        monkeypatch.setattr(gradebook, "PARALLEL_FROM", 1)
        monkeypatch.setattr(gradebook, "CHUNK", 7)
        _grade(folder, submissions, tmp_path / f"many-{duplicates}", "--duplicates", duplicates)
        monkeypatch.undo()
        assert _files(tmp_path / f"one-{duplicates}") == _files(tmp_path / f"many-{duplicates}")


def test_a_large_class_gets_no_pages_unless_asked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder, submissions = _class(tmp_path, rows=30)
    monkeypatch.setattr(cli, "FEEDBACK_BY_DEFAULT_UP_TO", 20)
    result = CliRunner().invoke(cli.main, ["grade", str(folder), str(submissions), "-o", str(tmp_path / "g")])
    assert result.exit_code == 0 and "--feedback md,html writes them" in result.output
    assert not (tmp_path / "g" / "feedback").exists()
    refused = CliRunner().invoke(cli.main, ["grade", str(folder), str(submissions), "-o", str(tmp_path / "h"), "--feedback", "none,md"])
    assert refused.exit_code == 2 and "--feedback" in refused.output and not (tmp_path / "h").exists()


def test_a_producer_that_fails_leaves_the_old_set(tmp_path: Path) -> None:
    folder = tmp_path / "out"
    write_all(folder, {"a.txt": b"old"})

    def failing(open_new):  # type: ignore[no-untyped-def]
        with open_new("grades.csv") as file:
            file.write(b"half")
        raise OSError(28, "No space left on device")

    with pytest.raises(Exception, match="No space left"):
        write_all(folder, failing)
    assert _files(folder) == {".derive": b"", "a.txt": b"old"}
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "mine.txt").write_bytes(b"mine")
    with pytest.raises(Exception, match="No space left"):
        write_all(shared, failing)
    assert _files(shared) == {"mine.txt": b"mine"}

    def producer(open_new):  # type: ignore[no-untyped-def]
        with open_new("sub/streamed.txt") as file:
            file.write(b"one ")
            file.write(b"two")
        return {"rest.txt": b"rest"}

    write_all(shared, producer)
    assert _files(shared) == {".derive": b"shared\n", "mine.txt": b"mine", "rest.txt": b"rest", "sub/streamed.txt": b"one two"}


problems = cache(all_problems)


def _outcome(function, *args):  # type: ignore[no-untyped-def]
    try:
        return function(*args)
    except (EvaluationError, OverflowError, ZeroDivisionError, ValueError) as error:
        return type(error).__name__


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_compiled_steps_give_the_walkers_floats_bit_for_bit(seed: int) -> None:
    rng = random.Random(seed)
    for problem in problems().values():
        derivation = problem.derivation
        values = {symbol: rng.uniform(-3, 3) for symbol in derivation.primitive_values}
        values |= {step.symbol: rng.choice([rng.uniform(-3, 3), 0.0, 1.0]) for step in derivation.steps}
        for step in derivation.steps:
            walked, fast = _outcome(evaluate, step.expression, values), _outcome(compiled(step.expression), values)
            assert walked == fast or (math.isnan(walked) and math.isnan(fast)), step.id


def test_compiled_expressions_raise_what_the_walker_raises() -> None:
    x, y = sympy.symbols("x y")
    for expression, values in [(sympy.log(x), {x: 0.0}), (1 / x, {x: 0.0}), (sympy.exp(x), {x: 1e6}), (x + y, {x: 1.0})]:
        with pytest.raises(EvaluationError) as walked:
            evaluate(expression, values)
        with pytest.raises(EvaluationError) as fast:
            compiled(expression)(values)
        assert str(walked.value) == str(fast.value)


def _decimal_radius(policy: Policy, value: float, kind: str) -> float:
    """rounding_radius as it was: the leading digit from the Decimal rounding itself."""
    if value == 0 or not math.isfinite(value):
        return 0.0
    rounded = policy.to_decimal(value, kind)
    if rounded == 0:
        return 0.0
    unit = 10.0 ** (rounded.adjusted() - policy.digits_for(kind) + 1)
    return unit if policy.rounding == "truncate" else unit / 2


near_powers = st.builds(lambda e, d, s: s * float(Decimal(10) ** e) * (1 + d), st.integers(-12, 12), st.sampled_from(
    [0.0, 1e-16, -1e-16, 1e-12, -1e-12, 1e-9, -1e-9, -5e-5, -4.9999e-5, -5.0001e-5, -5e-4, -5e-3, -1e-4, -1e-3]), st.sampled_from([1, -1]))


@settings(max_examples=600, deadline=None)
@given(value=st.one_of(st.floats(allow_nan=False, allow_infinity=False), near_powers),
       digits=st.integers(1, 15), rounding=st.sampled_from(["half_up", "half_even", "truncate"]))
def test_the_leading_digit_by_float_is_the_decimal_roundings(value: float, digits: int, rounding: str) -> None:
    policy = Policy(digits=digits, rounding=rounding)
    assert rounding_radius(policy, value, "activation") == _decimal_radius(policy, value, "activation")
