"""CSV cells are data: no student id, version or roster entry comes out of grades.csv or
versions.csv as something a spreadsheet would run as a formula (OWASP's rule: a cell that
starts with = + - @, tab or carriage return gets a leading single quote), and no trimming
of leading whitespace turns text into a formula. Every file is read back with Python's
csv module, as a spreadsheet would split it."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

import derive
from derive.views.escape import csv_cell

from ..conftest import EXAMPLES
from ..test_cli import _run

SEED000 = EXAMPLES / "2-2-1-linear-mse.yaml"
DANGEROUS = ["=1+1", "+1", "-1+1", "@SUM(A1)", "\t=1+1", "\r=1+1", " =1+1", "\n@SUM(A1)", "=HYPERLINK(\"http://x\",\"y\")", "＝1+1"]
FORMULA_STARTS = tuple("=+-@\t\r")


@pytest.mark.parametrize("text", DANGEROUS, ids=repr)
def test_a_formula_cell_gets_a_single_quote_in_front(text: str) -> None:
    assert csv_cell(text) == "'" + text.replace("\r", "\n")


def test_a_carriage_return_inside_a_cell_cannot_end_the_row() -> None:
    """csv.writer(lineterminator="\\n") writes a bare CR unquoted; a spreadsheet that ends
    rows at CR would start the next row, a formula, there. The cell keeps a quoted \\n."""
    for text in ("x\r=1+1", "x\r\n=1+1"):
        assert csv_cell(text) == "x\n=1+1"


@pytest.mark.parametrize("text", ["", "s1", "박지호", "O'Brien", "Kim, Ji-ho", "2026-01", "'=already quoted", "a=b", "0.21"], ids=repr)
def test_other_text_is_unchanged(text: str) -> None:
    assert csv_cell(text) == text


def _rows(text: str) -> list[list[str]]:
    assert text.startswith("\ufeff"), "the BOM that makes Excel read UTF-8 (and so open the file)"
    return list(csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline="")))


def _assert_no_formula(rows: list[list[str]], derive_numbers: int | None = None) -> None:
    """No cell starts as a formula, except derive's own number in column `derive_numbers`."""
    for row in rows:
        for column, cell in enumerate(row):
            if column != derive_numbers:
                assert not cell.lstrip().startswith(FORMULA_STARTS) and not cell.startswith(FORMULA_STARTS), (row, cell)


def test_grades_csv_quotes_formula_student_ids_and_versions(tmp_path: Path) -> None:
    key = tmp_path / "key.json"
    assert _run("key", str(SEED000), "-o", str(key)).returncode == 0
    items = [item["id"] for item in json.loads(key.read_text(encoding="utf-8"))["items"] if item.get("graded", True)]
    buffer = io.StringIO()
    writer = csv.writer(buffer)  # lineterminator \r\n, so a cell holding \r is quoted
    writer.writerow(["student", "version", *items])
    for text in DANGEROUS:
        writer.writerow([text, text, "-0.2"])  # a student's negative answer, among other cells
    writer.writerow([DANGEROUS[0], "", ""])  # a repeated id: the problems cell quotes it
    submissions = tmp_path / "submissions.csv"
    submissions.write_text(buffer.getvalue(), encoding="utf-8")
    result = _run("grade", str(key), str(submissions), "-o", str(tmp_path / "grades"))
    assert result.returncode == 0, result.stderr
    written = (tmp_path / "grades" / "grades.csv").read_bytes().decode("utf-8")
    assert "\r" not in written
    header, *rows = _rows(written)
    assert header[:3] == ["student", "version", "score"] and header[-1] == "problems"
    assert len(rows) == len(DANGEROUS) + 1
    for text, row in zip(DANGEROUS, rows, strict=False):
        # derive trims the cells it reads; the trimmed text is quoted, not left a formula.
        assert row[0] == row[1] == "'" + text.strip(), (text, row)
        assert float(row[2]) == 0.0  # the score is derive's own number and stays one
    assert rows[-1][0] == "'=1+1" and rows[-1][-1].startswith("student =1+1 also appears on row")
    # A line break inside a student or version cell ("x\r=1+1") is refused when the file is
    # read (test_class_files.py); csv_cell's handling of it is tested above.
    _assert_no_formula(rows, derive_numbers=2)


def test_versions_csv_quotes_formula_roster_ids_and_names(tmp_path: Path) -> None:
    from derive.classroom.batch import variant_files
    from derive.classroom.variants import make_variants, parse_roster

    buffer = io.StringIO()
    writer = csv.writer(buffer)  # lineterminator \r\n, so a cell holding \r is quoted
    writer.writerow(["student", "name"])
    for number, text in enumerate(DANGEROUS):
        writer.writerow([text + str(number), text])  # ids must differ; names may repeat
    roster = parse_roster(buffer.getvalue(), "roster.csv")
    variants = make_variants(derive.load(SEED000), len(roster), 1, roster=roster)
    files, _ = variant_files(variants, ["md"], None, echo=lambda _: None)
    assert b"\r" not in files["versions.csv"]
    header, *rows = _rows(files["versions.csv"].decode("utf-8"))
    assert header == ["version", "student", "name"]
    assert len(rows) == len(DANGEROUS)
    for number, (text, row) in enumerate(zip(DANGEROUS, rows, strict=True)):
        assert row == [f"v{number + 1:02d}", "'" + (text + str(number)).strip(), "'" + text.strip()], (text, row)
    _assert_no_formula(rows)


def test_csv_cell_runs_after_the_readers_trim_never_before() -> None:
    """A cell that is a formula only once trimmed is quoted even when nothing trims it first."""
    from derive.classroom.grading import StudentResult
    from derive.classroom.reports import grades_csv

    results = [StudentResult("\t=1+1", "\r=1+1", {})]
    (row,) = _rows(grades_csv(results, []))[1:]
    assert row[:2] == ["'\t=1+1", "'\n=1+1"]
