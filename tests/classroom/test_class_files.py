"""Class files that just work: the version from versions.csv when the submissions have none,
`23`, `v23` and `V23` as one version, an unknown version reported to the instructor and left
out of the class's numbers, a repeated student counted once (--duplicates), the roster's
name in grades.csv, the blank submissions CSV from `derive template`, and a sentence for
every mistake the grader names."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

import derive
from derive.classroom.answers import Submission, class_list, find_version, parse_answer
from derive.classroom.grading import grade_class, key_from_data
from derive.classroom.reports import MISTAKES, feedback_context
from derive.cli import main
from derive.spec.files import read_key_file, read_versions_file

from ..conftest import EXAMPLES

SEED000 = EXAMPLES / "2-2-1-linear-mse.yaml"
ROSTER = [("2026001", "김민준"), ("2026002", "Park, Jiho"), ("=1+1", "@Lee")]


def _invoke(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def class_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`derive variants` with a three-student roster (one id a formula, quoted in versions.csv)."""
    root = tmp_path_factory.mktemp("class")
    roster = root / "roster.csv"
    with roster.open("w", encoding="utf-8", newline="") as file:
        csv.writer(file).writerows([("student", "name"), *ROSTER])
    result = _invoke("variants", str(SEED000), "--count", "3", "--seed", "5", "--roster", str(roster), "--format", "md", "-o", str(root))
    assert result.exit_code == 0, result.output
    return root / "2-2-1-linear-mse-variants"


def _keys(folder: Path) -> dict:
    return json.loads((folder / "keys.json").read_text(encoding="utf-8"))["versions"]


def _asked(folder: Path) -> list[str]:
    return [item["id"] for item in _keys(folder)["v01"]["items"] if item["graded"]]


def _right(folder: Path, version: str) -> dict[str, str]:
    return {item["id"]: repr(item["value"]) for item in _keys(folder)[version]["items"]}


def _write(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as file:
        csv.writer(file).writerows([header, *rows])
    return path


def _grades(out: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO((out / "grades.csv").read_text(encoding="utf-8-sig"))))


# --- the version from versions.csv ------------------------------------------------------


def test_without_a_version_column_versions_csv_gives_each_students_version_and_name(class_folder: Path, tmp_path: Path) -> None:
    ids = _asked(class_folder)
    # Each student answers their own version right, in an order unlike versions.csv's.
    rows = [[student, *(_right(class_folder, version)[i] for i in ids)]
            for student, version in (("2026002", "v02"), ("=1+1", "v03"), ("2026001", "v01"))]
    submissions = _write(tmp_path / "subs.csv", ["student", *ids], rows)
    out = tmp_path / "g"
    result = _invoke("grade", str(class_folder), str(submissions), "-o", str(out))
    assert result.exit_code == 0, result.output
    grades = _grades(out)
    assert [(g["student"], g["version"], g["score"], g["name"]) for g in grades] == [
        ("2026002", "v02", "100", "Park, Jiho"), ("'=1+1", "v03", "100", "'@Lee"), ("2026001", "v01", "100", "김민준")]


def test_without_a_version_column_or_a_versions_csv_grading_stops_with_one_message(class_folder: Path, tmp_path: Path) -> None:
    keys = tmp_path / "keys.json"
    shutil.copy(class_folder / "keys.json", keys)  # no versions.csv beside it
    ids = _asked(class_folder)
    submissions = _write(tmp_path / "subs.csv", ["student", *ids], [["2026001", *(_right(class_folder, "v01")[i] for i in ids)]])
    result = CliRunner().invoke(main, ["grade", str(keys), str(submissions), "-o", str(tmp_path / "g")])
    assert result.exit_code == 2
    assert result.output.count("error:") == 1 and "no 'version' column" in result.output and "versions.csv" in result.output
    assert not (tmp_path / "g" / "grades.csv").exists()


def test_versions_csv_reads_back_what_variants_wrote_quoted(class_folder: Path) -> None:
    loaded = read_versions_file(class_folder)
    assert loaded is not None
    entries = class_list(*loaded)
    assert [(e.version, e.student, e.name) for e in entries] == [("v01", "2026001", "김민준"), ("v02", "2026002", "Park, Jiho"), ("v03", "=1+1", "@Lee")]
    assert read_versions_file(class_folder / "keys.json") == loaded  # beside a key file too
    assert read_versions_file(class_folder / "v01") is None


@pytest.mark.parametrize(("written", "version"), [("23", "v23"), ("v23", "v23"), ("V23", "v23"), (" v023 ", "v23"), ("3", "v03"), ("v3", "v03"),
                                                   ("v04", None), ("x23", None), ("", None)])
def test_23_v23_and_V23_are_one_version(written: str, version: str | None) -> None:
    assert find_version(written, [f"v{n:02d}" for n in (1, 2, 3, 23)]) == version


def test_a_bare_number_is_graded_against_its_version(class_folder: Path) -> None:
    key = key_from_data(*read_key_file(class_folder))
    right = {item: parse_answer(text) for item, text in _right(class_folder, "v02").items() if item in _asked(class_folder)}
    results = grade_class(key, [Submission(2, "a", "2", right), Submission(3, "b", "V02", right), Submission(4, "c", "v2", right)])
    assert [(r.version, r.score) for r in results] == [("v02", 100.0)] * 3


# --- an unknown version -----------------------------------------------------------------


def test_an_unknown_version_is_reported_to_the_instructor_and_left_out_of_the_mean(class_folder: Path, tmp_path: Path) -> None:
    ids = _asked(class_folder)
    rows = [["2026001", "v01", *(_right(class_folder, "v01")[i] for i in ids)], ["2026002", "v99", *(_right(class_folder, "v02")[i] for i in ids)]]
    submissions = _write(tmp_path / "subs.csv", ["student", "version", *ids], rows)
    out = tmp_path / "g"
    result = _invoke("grade", str(class_folder), str(submissions), "-o", str(out))
    assert result.exit_code == 0
    assert "row 3, student 2026002: not graded: version v99 is not in the key" in result.stderr
    assert "graded 1 students (mean 100.0); 1 row not graded" in result.stdout
    summary = (out / "summary.md").read_text(encoding="utf-8")
    assert "평균 점수: 100" in summary and "학생 수: 1" in summary  # the spec's language is Korean
    assert "2026002 (row 3): version v99 is not in the key" in summary
    # No feedback page for the row: it would have only an instructor's message to say.
    assert sorted(p.name for p in (out / "feedback").iterdir()) == ["2026001.html", "2026001.md"]
    grades = _grades(out)
    assert (grades[1]["score"], grades[1]["counted"]) == ("", "no") and "v99 is not in the key" in grades[1]["problems"]


def test_the_feedback_never_says_the_right_value_is_nothing(class_folder: Path) -> None:
    key = key_from_data(*read_key_file(class_folder))
    (result,) = grade_class(key, [Submission(2, "s", "v42", {})])
    assert result.ungradable and not result.problems and not result.graded
    context = feedback_context(result, key.latex, "en")
    assert context["problems"] == []


# --- a repeated student ------------------------------------------------------------------


def _twice(folder: Path, tmp_path: Path) -> Path:
    ids = _asked(folder)
    right = _right(folder, "v01")
    half = [right[i] if n % 2 else "" for n, i in enumerate(ids)]
    rows = [["2026001", "v01", *(right[i] for i in ids)], ["2026002", "v02", *(_right(folder, "v02")[i] for i in ids)], ["2026001", "v01", *half]]
    return _write(tmp_path / "subs.csv", ["student", "version", *ids], rows)


@pytest.mark.parametrize(("how", "counted", "feedback"), [
    ("last", ["no", "yes", "yes"], 2), ("best", ["yes", "yes", "no"], 2), ("all", ["yes", "yes", "yes"], 3)])
def test_a_repeated_student_counts_once_by_duplicates(class_folder: Path, tmp_path: Path, how: str, counted: list[str], feedback: int) -> None:
    out = tmp_path / "g"
    result = _invoke("grade", str(class_folder), str(_twice(class_folder, tmp_path)), "-o", str(out), "--duplicates", how)
    assert result.exit_code == 0
    assert "2026001 (rows 2, 4)" in result.stderr or how == "all"
    assert "warning:" in result.stderr and "2026001" in result.stderr
    grades = _grades(out)
    assert len(grades) == 3 and [g["counted"] for g in grades] == counted  # every row is kept in grades.csv
    assert len(list((out / "feedback").glob("*.md"))) == feedback
    page = (out / "feedback" / "2026001.md").read_text(encoding="utf-8")
    # With every row counted, each page says there are others; otherwise that is the instructor's.
    assert ("also appears on row 4" in page) == (how == "all")
    scores = [float(g["score"]) for g in grades]  # 100, 100 and the half sheet's
    expected = {"last": (scores[1] + scores[2]) / 2, "best": 100.0, "all": sum(scores) / 3}[how]
    assert f"graded {feedback} students (mean {expected:.1f})" in result.stdout


def test_the_default_is_last_with_a_warning(class_folder: Path, tmp_path: Path) -> None:
    result = _invoke("grade", str(class_folder), str(_twice(class_folder, tmp_path)), "-o", str(tmp_path / "g"))
    assert "warning: 1 student on several rows, only the last row of each counted (--duplicates): 2026001 (rows 2, 4)" in result.stderr


# --- derive template -----------------------------------------------------------------------


def test_template_writes_the_blank_submissions_csv_that_grade_reads(class_folder: Path, tmp_path: Path) -> None:
    target = tmp_path / "class.csv"
    result = _invoke("template", str(class_folder), "-o", str(target))
    assert result.exit_code == 0, result.output
    text = target.read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    ids = _asked(class_folder)
    assert rows[0] == ["student", "name", "version", *ids]
    assert [row[:3] for row in rows[1:]] == [["2026001", "김민준", "v01"], ["2026002", "Park, Jiho", "v02"], ["'=1+1", "'@Lee", "v03"]]
    assert all(cell == "" for row in rows[1:] for cell in row[3:])
    # Refused the second time, so a filled-in file is never overwritten by accident.
    again = CliRunner().invoke(main, ["template", str(class_folder), "-o", str(target)])
    assert again.exit_code == 2 and "--force" in again.output
    # The class fills it in (the formula id and name as the spreadsheet shows them: quoted).
    filled = [rows[0], *[[*row[:3], *(_right(class_folder, row[2])[i] for i in ids)] for row in rows[1:]]]
    _write(target, filled[0], filled[1:])
    out = tmp_path / "g"
    graded = _invoke("grade", str(class_folder), str(target), "-o", str(out))
    assert graded.exit_code == 0 and "ignored" not in graded.stderr
    assert [g["score"] for g in _grades(out)] == ["100"] * 3


def test_template_writes_beside_the_folder_by_default(class_folder: Path) -> None:
    """Not inside it: `derive variants --force` replaces the folder, answers and all."""
    target = class_folder.parent / "2-2-1-linear-mse-variants-submissions.csv"
    result = _invoke("template", str(class_folder))
    assert result.exit_code == 0 and target.exists() and str(target) in result.output
    assert not (class_folder / "submissions.csv").exists()
    target.unlink()


def test_template_without_versions_csv_is_one_message(tmp_path: Path) -> None:
    key = tmp_path / "key.json"
    assert _invoke("key", str(SEED000), "-o", str(key)).exit_code == 0
    result = CliRunner().invoke(main, ["template", str(tmp_path)])
    assert result.exit_code == 2 and "no versions.csv" in result.output


# --- wording ------------------------------------------------------------------------------

NAMED = ["sign_error", "sigma_prime_missing", "sigma_prime_at_activation", "factor_two_dropped", "learning_rate_missing",
         "update_sign_flipped", "new_weight_in_backward", "weight_order_swapped", "too_few_digits", "last_digit_off",
         "upstream_blank", "upstream_copied_given", "upstream_zero_or_one", "fork_sum_missing",
         "wrong_gate_local"]


def test_every_named_mistake_and_carry_block_has_a_sentence_in_both_languages() -> None:
    from derive.classroom.grading import _mistakes
    from derive.classroom.graph_mistakes import mistake_name

    runs = [*_mistakes(derive.load(SEED000).derivation), *_mistakes(derive.load(EXAMPLES / "graph-residual-block.yaml").derivation)]
    names = {mistake_name(run) for run in runs} | {"weight_order_swapped"}
    assert names <= set(NAMED)
    source = "".join((Path(derive.__file__).parent / "classroom" / name).read_text(encoding="utf-8")
                     for name in ("grading.py", "graph_mistakes.py"))
    for name in NAMED:
        assert f'"{name}"' in source  # the grader still returns this name
        for language in ("ko", "en"):
            sentence = MISTAKES[language].get(name, "")
            assert sentence.endswith(".") and "_" not in sentence, (language, name)
    assert MISTAKES["ko"].keys() == MISTAKES["en"].keys()


@pytest.mark.parametrize("language", ["ko", "en"])
def test_the_feedback_shows_the_sentence_not_the_name(language: str) -> None:
    from derive.classroom.grading import ItemResult, StudentResult

    result = StudentResult("s", None, {"z1": ItemResult("wrong", "0.2", 0.21, None, "upstream_copied_given")})
    row = feedback_context(result, {"z1": "z_1"}, language)["first_wrong"]
    assert row["mistake"] == MISTAKES[language]["upstream_copied_given"]
