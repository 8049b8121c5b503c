"""Rosters, submissions files and keys made of any bytes: the loaders give a result that
keeps their promises or one single-line SpecError naming the file, never another
exception; a few go through the command line too, where they end in the complete output
or one message with exit status 2. `make test` runs the same examples every time
(derandomized); DERIVE_FUZZ_EXAMPLES hunts longer with fresh ones, as in test_fuzz.py."""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from derive.classroom.answers import parse_submissions
from derive.classroom.grading import key_from_data
from derive.classroom.variants import parse_roster
from derive.cli import main
from derive.engine.numeric import EvaluationError
from derive.spec.files import read_key_file, read_text_any_encoding
from derive.spec.schema import SpecError
from derive.spec.vocabulary import unprintable

from ..conftest import EXAMPLES

SEED000 = EXAMPLES / "2-2-1-linear-mse.yaml"
HUNT = "DERIVE_FUZZ_EXAMPLES" in os.environ


def _examples(default: int) -> int:
    return int(os.environ.get("DERIVE_FUZZ_EXAMPLES", str(default)))


def _fuzz(default: int) -> Any:
    return settings(max_examples=_examples(default), derandomize=not HUNT, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


# Cells a spreadsheet, a damaged export or an attacker might put in a CSV, joined by hand
# (not by csv.writer) so that quotes may be left open and line ends mixed.
HOSTILE_CELLS = ["", " ", "s1", "s2", "v01", "V2", "0.21", "1/2", "Kim", "Kim, Minsu", '"', '""', '"a,b"', '"x\n\ny"', "\x00",
                 "\x7f", "\x1b[2J", "\t", "\u202e", "\u2028", "=1+1", "\ufeff", "\ud7a3\u3131", "z1", "name", "student"]
cell = st.one_of(st.sampled_from(HOSTILE_CELLS), st.text(max_size=6))
row = st.lists(cell, max_size=6)
HEADERS = ["student,name", "id,name", "Name,Student,email", "student,version,z1,a1", "student,z1,z1", "student,version,name,z1", ""]


@st.composite
def csv_bytes(draw: st.DrawFn) -> bytes:
    if draw(st.integers(0, 5)) == 0:
        return draw(st.binary(max_size=200))
    header = draw(st.one_of(st.sampled_from(HEADERS), row.map(",".join)))
    ends = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    lines = [header, *(",".join(cells) for cells in draw(st.lists(row, max_size=8)))]
    text = ends.join(lines) + draw(st.sampled_from(["", ends]))
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp949", "utf-16"]))
    return text.encode(encoding, errors="replace")


def _single_line(error: SpecError, path: Path) -> None:
    message = str(error)
    assert message.startswith(f"{path}: ") and "\n" not in message and "\r" not in message, message


def _text_or_message(path: Path, data: bytes) -> str | None:
    path.write_bytes(data)
    try:
        return read_text_any_encoding(path)
    except SpecError as error:
        _single_line(error, path)
        return None


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz-class")


@_fuzz(300)
@given(data=csv_bytes())
def test_any_roster_is_students_or_one_message(folder: Path, data: bytes) -> None:
    path = folder / "roster.csv"
    text = _text_or_message(path, data)
    if text is None:
        return
    try:
        students = parse_roster(text, str(path))
    except SpecError as error:
        _single_line(error, path)
        return
    ids = [student.id for student in students]
    assert students and len(set(ids)) == len(ids) and all(ids)
    assert all(unprintable(student.id) is None and unprintable(student.name) is None for student in students)


ITEM_IDS = {"z1", "a1", "z2"}


@_fuzz(300)
@given(data=csv_bytes())
def test_any_submissions_file_is_every_row_or_one_message(folder: Path, data: bytes) -> None:
    path = folder / "subs.csv"
    text = _text_or_message(path, data)
    if text is None:
        return
    try:
        submissions, notes = parse_submissions(text, str(path), ITEM_IDS)
    except SpecError as error:
        _single_line(error, path)
        return
    rows = [submission.row for submission in submissions]
    assert rows == sorted(set(rows)) and all(row >= 2 for row in rows)
    for submission in submissions:
        assert all(unprintable(part) is None for part in (submission.student, submission.version or "", submission.name))
        assert set(submission.answers) <= ITEM_IDS
    assert all("\n" not in note for note in notes)


@pytest.fixture(scope="module")
def derives_key(folder: Path) -> dict[str, Any]:
    path = folder / "seed-key.json"
    assert CliRunner().invoke(main, ["key", str(SEED000), "-o", str(path)]).exit_code == 0
    return json.loads(path.read_text(encoding="utf-8"))


def _places(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    inner: list[tuple[Any, ...]] = []
    if isinstance(value, dict):
        inner = [p for key, item in value.items() for p in _places(item, (*path, key))]
    elif isinstance(value, list):
        inner = [p for index, item in enumerate(value[:3]) for p in _places(item, (*path, index))]
    return [path, *inner] if path else inner


junk = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-10**400, 10**400), st.floats(allow_nan=True, allow_infinity=True),
              st.text(max_size=12), st.sampled_from(["/etc/passwd", "v01", "z1", "../x", "\x00", "\ud800"])),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)


def _holds(container: Any, part: Any) -> bool:
    if isinstance(container, dict):
        return part in container
    return isinstance(container, list) and isinstance(part, int) and part < len(container)


def _swap(data: Any, path: tuple[Any, ...], value: Any) -> Any:
    """`data` with `value` at `path`, unless an earlier swap changed the way there."""
    if not path:
        return value
    target = data
    for part in path[:-1]:
        if not _holds(target, part):
            return data
        target = target[part]
    if _holds(target, path[-1]):
        target[path[-1]] = value
    return data


def _at(data: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        if not _holds(data, part):
            return None
        data = data[part]
    return data


def _alike(value: Any) -> st.SearchStrategy[Any]:
    """Another value of the same type, so that many crafted keys pass the check and are
    rebuilt: odd but valid numbers, titles, names."""
    if isinstance(value, bool):
        return st.booleans()
    if isinstance(value, (int, float)):
        return st.one_of(st.floats(-1e6, 1e6), st.integers(-5, 2000), st.sampled_from([0.0, 1e-300, 1e300, -0.0]))
    if isinstance(value, str):
        return st.one_of(st.text(max_size=12), st.sampled_from(["z1", "w1'", "sigmoid", "relu", "mse", "v01", ""]))
    return junk


@st.composite
def key_bytes(draw: st.DrawFn, key: dict[str, Any]) -> bytes:
    kind = draw(st.integers(0, 9))
    if kind == 0:
        return draw(st.binary(max_size=200))
    data: Any = copy.deepcopy(key)
    if kind == 1:
        data = {"title": "x", "versions": {draw(st.sampled_from(["v01", "v1", "1", "../x", ""])): data}}
    places = _places(data)
    for _ in range(draw(st.integers(1, 3))):
        place = draw(st.sampled_from(places))
        data = _swap(data, place, draw(junk if draw(st.booleans()) else _alike(_at(data, place))))
    text = json.dumps(data, ensure_ascii=draw(st.booleans()))
    if draw(st.integers(0, 4)) == 0:
        cut = draw(st.integers(0, len(text)))
        text = text[:cut]  # a key cut short
    return text.encode("utf-8", errors="surrogatepass")


@_fuzz(150)
@given(data=st.data())
def test_any_key_is_a_key_or_one_message(folder: Path, derives_key: dict[str, Any], data: st.DataObject) -> None:
    """In process, through the loader and the rebuild the grader does (each rebuild derives
    the spec again, so fewer examples than for the CSV files)."""
    path = folder / "key.json"
    path.write_bytes(data.draw(key_bytes(derives_key)))
    try:
        key = key_from_data(*read_key_file(path))
    except SpecError as error:
        message = str(error)
        assert message.startswith(str(path)) and "\n" not in message, message
        event("a message")
        return
    except EvaluationError:
        event("numbers that cannot be computed")
        return  # the command line's one message for numbers that cannot be computed
    event("a key")
    assert key.versions and key.step_ids


@_fuzz(10)
@given(roster=csv_bytes(), submissions=csv_bytes(), key=st.data())
def test_the_class_commands_end_in_output_or_one_message(folder: Path, derives_key: dict[str, Any],
                                                          roster: bytes, submissions: bytes, key: st.DataObject) -> None:
    """`derive variants --roster` and `derive grade` with fuzzed files: exit status 0 with
    the complete output, or 2 with one line and nothing written."""
    runner = CliRunner()
    (folder / "r.csv").write_bytes(roster)
    (folder / "s.csv").write_bytes(submissions)
    (folder / "k.json").write_bytes(key.draw(key_bytes(derives_key)) if key.draw(st.booleans()) else
                                    json.dumps(derives_key).encode("utf-8"))
    for name, arguments, outputs in [
        ("variants", ["variants", str(SEED000), "--count", "1", "--roster", str(folder / "r.csv"), "--format", "md"], "keys.json"),
        ("grade", ["grade", str(folder / "k.json"), str(folder / "s.csv")], "grades.csv"),
    ]:
        out = folder / f"out-{name}"
        result = runner.invoke(main, [*arguments, "-o", str(out), "--force"])
        assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
        if result.exit_code == 0:
            assert any(path.name == outputs for path in out.rglob("*")), result.output
        else:
            assert result.exit_code == 2 and result.output.count("error:") == 1, result.output
            assert "Traceback" not in result.output
        if out.exists():
            import shutil

            shutil.rmtree(out)
