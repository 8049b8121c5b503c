"""Rosters and submissions files: a row derive cannot use is one message naming the row as
the spreadsheet numbers it (row 1 is the header) and what was expected; through the
command line, exit status 2, no traceback and nothing written."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from click.testing import CliRunner

from derive.classroom.answers import parse_submissions
from derive.classroom.variants import Student, parse_roster
from derive.cli import main
from derive.spec.schema import SpecError

from ..conftest import EXAMPLES
from ..test_cli import _run

SEED000 = EXAMPLES / "2-2-1-linear-mse.yaml"


def _csv(*rows: list[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)  # quotes cells holding a comma, a quote or a line break
    return buffer.getvalue()


BAD_ROSTERS = [
    ("missing-cell", "student,name\ns1,Kim\ns2\n", "row 3: expected 2 cells"),
    ("empty-id", "student,name\ns1,Kim\n,Lee\n", "row 3: expected a student id"),
    ("duplicate-id", "student,name\ns1,Kim\n\ns2,Lee\ns1,Park\n", "row 5: student id 's1' is also on row 2"),
    ("nul-in-name", "student,name\ns1,Ki\x00m\n", "row 2: the name holds U+0000 (NUL)"),
    ("del-in-name", "student,name\ns1,Kim\ns2,Le\x7fe\n", "row 3: the name holds U+007F (DEL)"),
    ("blank-line-in-name", _csv(["student", "name"], ["s1", "Kim\n\nMinsu"]), "row 2: the name holds U+000A (a line break)"),
    ("tab-in-id", "student,name\ns\t1,Kim\n", "row 2: the student id holds U+0009 (a tab)"),
    ("escape-in-name", "student,name\ns1,\x1b[31mKim\n", "row 2: the name holds U+001B (a control character)"),
    ("direction-override", "student,name\ns1,Kim\u202enimda\n", "row 2: the name holds U+202E"),
    ("line-separator", "student,name\ns1,Kim\u2028Lee\n", "row 2: the name holds U+2028"),
    ("wrong-header", "number,full name\ns1,Kim\n", "row 1: expected the header to name the columns 'student' (or 'id') and 'name'"),
    ("header-twice", "student,name,name\ns1,Kim,Lee\n", "row 1: the column 'name' appears 2 times"),
    ("empty-header", "\nstudent,name\ns1,Kim\n", "row 1: expected the header student, name; got an empty row"),
    ("empty-file", "", "row 1: expected the header student, name; got an empty file"),
    ("unquoted-comma", "student,name\ns1,Kim\ns2,Lee, Minsu\n", "row 3: expected 2 cells, as the header has; the row has 3"),
    ("unclosed-quote", 'student,name\ns1,Kim\ns2,"Lee\ns3,Park\n', "row 3: cannot be read as CSV"),
    ("name-too-long", "student,name\ns1," + "K" * 101 + "\n", "row 2: a name is at most 100 characters"),
    ("id-too-long", "student,name\n" + "1" * 65 + ",Kim\n", "row 2: a student id is at most 64 characters"),
    ("cell-too-long", "student,name\ns1," + "K" * 200_000 + "\n", "row 2: cannot be read as CSV: a cell is longer than 131,072"),
    ("header-only", "student,name\n\n,\n", "the roster has no students"),
    ("too-many", "student,name\n" + "".join(f"s{n},N\n" for n in range(10_001)), "10,001 students; derive makes at most 10,000"),
]


@pytest.mark.parametrize(("text", "expected"), [case[1:] for case in BAD_ROSTERS], ids=[case[0] for case in BAD_ROSTERS])
def test_a_bad_roster_row_is_one_message_with_its_row(text: str, expected: str) -> None:
    with pytest.raises(SpecError) as caught:
        parse_roster(text, "roster.csv")
    message = str(caught.value)
    assert message.startswith("roster.csv: ") and expected in message and "\n" not in message, message


def test_blank_rows_trailing_cells_other_columns_and_line_ends_are_fine() -> None:
    text = "Name,Student,email\r\r\ns1,Kim,a@x\r,,\r\n\n2026002 , Park Jiho ,,\r\"s3\",\"Lee, Minsu\",\n"
    assert parse_roster(text, "roster.csv") == [Student("Kim", "s1"), Student("Park Jiho", "2026002"), Student("Lee, Minsu", "s3")]
    assert parse_roster("id,name\n7,\n", "roster.csv") == [Student("7", "")]  # a name may be left out


def test_a_roster_name_with_a_blank_line_stops_before_tex(tmp_path: Path) -> None:
    """It reached XeLaTeX, which failed, and the run ended with status 1."""
    roster = tmp_path / "roster.csv"
    roster.write_text(_csv(["student", "name"], ["s1", "Kim"], ["s2", "Lee\n\n\\end{document}"]), encoding="utf-8")
    result = _run("variants", str(SEED000), "--count", "2", "--roster", str(roster), "--format", "pdf", "-o", str(tmp_path / "out"))
    assert result.returncode == 2 and "Traceback" not in result.stderr and result.stderr.count("\n") == 1, result.stderr
    assert f"{roster}: row 3: the name holds U+000A (a line break)" in result.stderr
    assert not (tmp_path / "out").exists()


ITEMS = {"z1", "z2", "a1"}
BAD_SUBMISSIONS = [
    ("nul-in-student", "student,version,z1\ns1,v01,0.2\ns\x002,v01,0.2\n", "row 3: the student cell holds U+0000 (NUL)"),
    ("line-break-in-student", _csv(["student", "version", "z1"], ["x\r=1+1", "v01", ""]), "row 2: the student cell holds U+000D"),
    ("line-break-in-version", _csv(["student", "version", "z1"], ["s1", "v01", ""], ["s2", "y\r\n@SUM(A1)", ""]), "row 3: the version cell"),
    ("escape-in-name", "student,name,z1\ns1,\x1b]0;x\x07Kim,0.2\n", "row 2: the name cell holds U+001B"),
    ("item-twice", "student,z1,z2,z1\ns1,0.2,0.3,0.4\n", "row 1: the column 'z1' appears twice (columns 2 and 4)"),
    ("student-twice", "Student,version,student\ns1,v01,s2\n", "row 1: the column 'student' appears twice (columns 1 and 3)"),
    ("no-student-column", "id,z1\ns1,0.2\n", "row 1: the header has no 'student' column; it has id, z1"),
    ("unclosed-quote", 'student,z1\ns1,0.2\ns2,"0.3\ns3,0.4\n', "row 3: cannot be read as CSV"),
    ("cell-too-long", "student,z1\ns1,0.2\ns2," + "1" * 200_000 + "\n", "row 3: cannot be read as CSV: a cell is longer than 131,072"),
]


@pytest.mark.parametrize(("text", "expected"), [case[1:] for case in BAD_SUBMISSIONS], ids=[case[0] for case in BAD_SUBMISSIONS])
def test_a_submissions_row_that_would_grade_the_wrong_student_is_one_message(text: str, expected: str) -> None:
    with pytest.raises(SpecError) as caught:
        parse_submissions(text, "subs.csv", ITEMS)
    message = str(caught.value)
    assert message.startswith("subs.csv: ") and expected in message and "\n" not in message, message


def test_short_and_long_rows_are_graded() -> None:
    """Answers are never a reason to drop a student: the cells a short row lacks are blank
    answers (a spreadsheet may leave trailing empty cells out), and a row with extra cells
    is graded with a problem naming its row. Bare CRs end rows (old Macs)."""
    text = "student,z1,z2,comment,comment\rs1,0.2\rs2,0.2,0.3,,,9\r\rs3,x,0.3,ok,ok\r"
    submissions, notes = parse_submissions(text, "subs.csv", ITEMS)
    assert [(s.row, s.student) for s in submissions] == [(2, "s1"), (3, "s2"), (5, "s3")]
    assert submissions[0].problems == []
    assert submissions[0].answers["z2"].is_blank and submissions[0].answers["z1"].value == 0.2
    assert submissions[1].problems == ["row 3 has 6 cells for 5 columns; the extra cells were ignored"]
    assert submissions[2].problems == [] and submissions[2].answers["z1"].problem == "not a number"
    assert notes == ["columns not in the key were ignored: comment, comment"]


def test_a_bad_submissions_file_through_grade_writes_nothing(tmp_path: Path) -> None:
    key = tmp_path / "key.json"
    assert CliRunner().invoke(main, ["key", str(SEED000), "-o", str(key)]).exit_code == 0
    submissions = tmp_path / "subs.csv"
    submissions.write_bytes(b"student,version,z1\ns1,v01,0.21\ns\x002,v01,0.2\n")
    result = _run("grade", str(key), str(submissions), "-o", str(tmp_path / "grades"))
    assert result.returncode == 2 and "Traceback" not in result.stderr and result.stderr.count("\n") == 1, result.stderr
    assert f"{submissions}: row 3: the student cell holds U+0000 (NUL)" in result.stderr
    assert not (tmp_path / "grades").exists()


def test_a_versions_csv_with_a_control_character_is_one_message(tmp_path: Path) -> None:
    from derive.spec.files import read_versions_file

    (tmp_path / "versions.csv").write_text("version,student,name\nv01,s1,Kim\nv02,s2,Le\x00e\n", encoding="utf-8")
    with pytest.raises(SpecError, match=r"versions.csv: row 3: the name cell holds U\+0000 \(NUL\)"):
        read_versions_file(tmp_path)
