"""Grading with error carried forward. Expected values here are computed by hand from seed
000's numbers (x = (0.5, 0.3), w = (0.3, 0.2, 0.2, 0.3, 0.4, 0.5), y = 0.7, eta = 0.1),
not read from derive."""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import derive
from derive.classroom.answers import Submission, parse_answer, parse_submissions
from derive.classroom.grading import GradingRules, grade, grade_class, key_from_data
from derive.spec.files import read_key_file, read_text_any_encoding
from derive.views.key import GRADED_ROLES
from derive.classroom.variants import make_variants

from ..conftest import EXAMPLES

SEED000 = EXAMPLES / "2-2-1-linear-mse.yaml"
A1, A2 = 0.552, 0.547
DL_DYHAT = -2 * (0.7 - 0.4943)  # -0.4114
SIGMA_PRIME_1 = A1 * (1 - A1)  # 0.2473


def _key_answers(problem: derive.Problem, exact: bool = False) -> dict[str, str]:
    return {s.id: repr(s.exact if exact else s.value) for s in problem.derivation.steps if s.role in GRADED_ROLES}


def _grade(answers: dict[str, str], rules: GradingRules = GradingRules()):  # type: ignore[no-untyped-def]
    problem = derive.load(SEED000)
    parsed = {item: parse_answer(text) for item, text in answers.items()}
    return grade(problem.derivation, Submission(2, "s", None, parsed), rules)


@pytest.mark.parametrize(
    ("text", "value"),
    [("0.552", 0.552), (".552", 0.552), ("0,552", 0.552), ("5.52e-1", 0.552), ("1/2", 0.5), ("\u22120.2", -0.2),
     (" - 0.2 ", -0.2), ("+3", 3.0), ("−1 / 4", -0.25)],
)
def test_answers_as_students_write_them(text: str, value: float) -> None:
    assert parse_answer(text).value == pytest.approx(value)


@pytest.mark.parametrize("text", ["abc", "0.5.5", "1/0", "__import__('os')", "2**10", "1e5000x", "9" * 100])
def test_junk_is_reported_never_evaluated(text: str) -> None:
    answer = parse_answer(text)
    assert answer.value is None and answer.problem


def test_the_key_itself_and_exact_carry_both_score_full_marks() -> None:
    problem = derive.load(SEED000)
    for exact in (False, True):
        result = _grade(_key_answers(problem, exact))
        assert result.score == 100.0, {k: v for k, v in result.items.items() if v.status != "correct"}


@pytest.mark.parametrize(
    ("item", "answer", "mistake"),
    [
        ("dL/dw1", DL_DYHAT * 0.4 * 0.5, "sigma_prime_missing"),
        ("dL/dw1", DL_DYHAT * 0.4 * (1 / (1 + math.exp(-A1))) * (1 - 1 / (1 + math.exp(-A1))) * 0.5, "sigma_prime_at_activation"),
        ("dL/dw1", DL_DYHAT / 2 * 0.4 * SIGMA_PRIME_1 * 0.5, "factor_two_dropped"),
        ("dL/dw5", DL_DYHAT / 2 * A1, "factor_two_dropped"),
        ("dL/dw1", -DL_DYHAT * 0.4 * SIGMA_PRIME_1 * 0.5, "sign_error"),
        ("w1'", 0.3 - DL_DYHAT * 0.4 * SIGMA_PRIME_1 * 0.5, "learning_rate_missing"),
        ("dL/dw1", DL_DYHAT * (0.4 - 0.1 * DL_DYHAT * A1) * SIGMA_PRIME_1 * 0.5, "new_weight_in_backward"),
    ],
)
def test_common_mistakes_are_named(item: str, answer: float, mistake: str) -> None:
    answers = _key_answers(derive.load(SEED000))
    answers[item] = f"{answer:.3g}"
    result = _grade(answers)
    assert result.items[item].status == "wrong"
    assert result.items[item].mistake == mistake
    assert [i for i, r in result.items.items() if r.status != "correct"] == [item]


def test_a_slip_upstream_with_right_work_downstream_is_carried() -> None:
    answers = _key_answers(derive.load(SEED000))
    answers["a1"] = "0.56"
    z3 = 0.4 * 0.56 + 0.5 * A2  # 0.4975, from the student's own a1
    answers.update({"z3": f"{z3:.4g}", "yhat1": f"{z3:.4g}", "L": f"{(0.7 - z3) ** 2:.4g}"})
    result = _grade(answers)
    assert result.items["a1"].status == "wrong"
    assert [result.items[i].status for i in ("z3", "yhat1", "L")] == ["carried"] * 3
    assert result.items["z3"].carried_from == pytest.approx(z3)
    assert result.first_wrong == "a1"
    half = _grade(answers, GradingRules(carried_credit=0.5))
    assert half.score == pytest.approx(100 * (len(half.items) - 1 - 1.5) / len(half.items), abs=0.05)


def test_a_far_upstream_answer_is_carried_unless_plausible_within_is_asked_for() -> None:
    answers = _key_answers(derive.load(SEED000))
    answers["a1"] = "5"
    answers["z3"] = f"{0.4 * 5 + 0.5 * A2:.4g}"  # right work from the student's own a1, however far it is
    assert _grade(answers).items["z3"].status == "carried"
    # The old window, now opt-in: a1 is 9 times the right value, so nothing is carried from it.
    assert _grade(answers, GradingRules(plausible_within=0.5)).items["z3"].status == "wrong"


def test_blank_and_invalid_cells() -> None:
    answers = _key_answers(derive.load(SEED000))
    answers["z1"] = ""
    answers["z2"] = "zero point one nine"
    result = _grade(answers)
    assert (result.items["z1"].status, result.items["z2"].status) == ("blank", "invalid")
    assert result.items["z2"].mistake == "not a number"


@settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 10**6))
def test_every_version_graded_against_its_own_key_scores_full_marks(seed: int) -> None:
    variant = make_variants(derive.load(SEED000), 1, seed)[0]
    derivation = variant.problem.derivation
    for exact in (False, True):
        parsed = {k: parse_answer(v) for k, v in _key_answers(variant.problem, exact).items()}
        assert grade(derivation, Submission(2, "s", variant.id, parsed)).score == 100.0


def _submissions_file(tmp_path: Path, encoding: str) -> tuple[Path, list[str]]:
    problem = derive.load(SEED000)
    ids = [s.id for s in problem.derivation.steps if s.role in GRADED_ROLES]
    right = _key_answers(problem)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["student", *ids, "comment"])
    writer.writerow(["김민준", *(right[i] for i in ids), "ok"])
    writer.writerow(["이서연", *(right[i] for i in ids[:3])])  # ragged: the rest blank
    writer.writerow(["박지호", "abc", *(right[i] for i in ids[1:]), "", "extra"])
    writer.writerow(["김민준", *(right[i] for i in ids)])  # twice
    path = tmp_path / f"submissions-{encoding}.csv"
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path, ids


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp949"])
def test_every_row_of_any_encoding_is_graded_and_nothing_is_dropped(tmp_path: Path, encoding: str) -> None:
    path, ids = _submissions_file(tmp_path, encoding)
    rows, notes = parse_submissions(read_text_any_encoding(path), str(path), set(ids))
    assert notes == ["columns not in the key were ignored: comment"]
    results = grade_class(load_key_for(tmp_path), rows)
    assert [r.student for r in results] == ["김민준", "이서연", "박지호", "김민준"]
    assert results[0].score == 100.0
    assert sum(r.status == "blank" for r in results[1].items.values()) == len(ids) - 3
    assert results[2].items["z1"].status == "invalid"
    assert any("extra cells" in p for p in results[2].problems)
    # A repeated student is the instructor's business (grades.csv, stderr), not the sheet's.
    assert any("also appears on row 2" in note for note in results[3].notes)
    assert [r.counted for r in results] == [False, True, True, True]


def load_key_for(tmp_path: Path):  # type: ignore[no-untyped-def]
    from derive.views.key import key_json

    path = tmp_path / "key.json"
    path.write_text(key_json(derive.load(SEED000)), encoding="utf-8")
    return key_from_data(*read_key_file(path))


def test_grade_command_writes_grades_feedback_and_summary(tmp_path: Path) -> None:
    from ..test_cli import _run

    path, ids = _submissions_file(tmp_path, "cp949")
    load_key_for(tmp_path)
    out = tmp_path / "grades"
    result = _run("grade", str(tmp_path / "key.json"), str(path), "-o", str(out), "--json", "--duplicates", "all")
    assert result.returncode == 0, result.stderr
    students = json.loads(result.stdout)["students"]
    assert [s["student"] for s in students] == ["김민준", "이서연", "박지호", "김민준"]
    assert students[2]["items"]["z1"] == {"status": "invalid", "given": "abc", "expected": 0.21, "mistake": "not a number"}
    grades = list(csv.reader(io.StringIO((out / "grades.csv").read_text(encoding="utf-8-sig"))))
    assert len(grades) == 1 + 4 and grades[0][:3] == ["student", "version", "score"]
    names = {p.name for p in (out / "feedback").iterdir()}
    assert names == {f"{name}.{fmt}" for name in ("김민준", "이서연", "박지호", "김민준_") for fmt in ("md", "html")}
    feedback = (out / "feedback" / "박지호.md").read_text(encoding="utf-8")
    assert "`z1`" in feedback and "0.21" in feedback
    assert (out / "histogram.svg").read_text(encoding="utf-8").count("<svg") == 1
    assert "| $z_{1}$ | 75 |" in (out / "summary.md").read_text(encoding="utf-8")


def test_variants_key_folder_grades_each_row_against_its_version(tmp_path: Path) -> None:
    from ..test_cli import _run

    assert _run("variants", str(SEED000), "--count", "2", "--seed", "1", "--format", "md", "-o", str(tmp_path)).returncode == 0
    folder = tmp_path / "2-2-1-linear-mse-variants"
    keys = json.loads((folder / "keys.json").read_text(encoding="utf-8"))["versions"]
    ids = [i["id"] for i in keys["v01"]["items"] if i["graded"]]
    submissions = tmp_path / "subs.csv"
    with submissions.open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["student", "version", *ids])
        for version in ("v02", "v01", "v99"):
            values = {i["id"]: i["value"] for i in keys.get(version, keys["v01"])["items"]}
            writer.writerow([f"s-{version}", version, *(values[i] for i in ids)])
    result = _run("grade", str(folder), str(submissions), "-o", str(tmp_path / "g"), "--json")
    assert result.returncode == 0, result.stderr
    students = json.loads(result.stdout)["students"]
    # v99 is not gradable: no score (left out of the mean), the reason for the instructor only.
    assert [s["score"] for s in students] == [100.0, 100.0, None]
    assert "version v99 is not in the key" in students[2]["notes"][0] and students[2]["problems"] == []


EXPECTED_BY_COMMENT = {
    "perfect": {}, "exact carry": {}, "comma and Unicode minus": {},
    "sign": {"dL/dw1": ("wrong", "sign_error")},
    "sigma' missing": {"dL/dw2": ("wrong", "sigma_prime_missing")},
    "2 dropped": {"dL/dw5": ("wrong", "factor_two_dropped")},
    "no eta": {"w3'": ("wrong", "learning_rate_missing")},
    "slip a1, carried": {"a1": ("wrong", None), "z3": ("carried", None), "yhat1": ("carried", None), "L": ("carried", None)},
    "updates blank": {f"w{i}'": ("blank", None) for i in range(1, 7)},
    "junk z1": {"z1": ("invalid", "not a number")},
    "new weight": {"dL/dw1": ("wrong", "new_weight_in_backward")},
    "sigma' at a": {"dL/dw3": ("wrong", "sigma_prime_at_activation")},
}


def test_the_readme_class_example_grades_as_its_comments_say(tmp_path: Path) -> None:
    """examples/class-submissions.csv answers the 30 versions of `derive variants
    examples/2-2-1-linear-mse.yaml --count 30 --seed 2026`, one injected mistake per row."""
    from ..test_cli import _run

    assert _run("variants", str(SEED000), "--count", "30", "--seed", "2026", "--format", "md", "-o", str(tmp_path)).returncode == 0
    submissions = EXAMPLES / "class-submissions.csv"
    result = _run("grade", str(tmp_path / "2-2-1-linear-mse-variants"), str(submissions), "-o", str(tmp_path / "g"), "--json")
    assert result.returncode == 0, result.stderr
    comments = [row["comment"] for row in csv.DictReader(submissions.open(encoding="utf-8"))]
    students = json.loads(result.stdout)["students"]
    assert len(students) == len(comments) == 30
    for student, comment in zip(students, comments, strict=True):
        found = {item: (r["status"], r.get("mistake")) for item, r in student["items"].items() if r["status"] != "correct"}
        assert found == EXPECTED_BY_COMMENT[comment], (student["student"], comment)
