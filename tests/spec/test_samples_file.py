"""A mini-batch from a CSV file (`samples: {file: ..., inputs: [...], targets: [...]}`):
the same key as the samples written inline, and every bad file one message, exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import derive
from derive.engine.problem import build
from derive.spec.vocabulary import SpecError

from ..conftest import EXAMPLES
from ..test_cli import _run

MINIBATCH = yaml.safe_load((EXAMPLES / "2-3-2-minibatch.yaml").read_text(encoding="utf-8"))
FROM_FILE = {**MINIBATCH, "samples": {"file": "batch.csv", "inputs": ["x1", "x2"], "targets": ["y1", "y2"]}}


def _write(tmp_path: Path, csv_text: str) -> Path:
    (tmp_path / "batch.csv").write_text(csv_text, encoding="utf-8")
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump(FROM_FILE, sort_keys=False), encoding="utf-8")
    return spec


@pytest.mark.parametrize("csv_text", [
    "x1,x2,y1,y2\n0.5,-0.2,1,0\n-0.3,0.8,0,1\n",
    # columns in another order, spaces, a blank row and Windows line ends read the same
    "y2, x2 ,x1,y1\r\n0,-0.2,0.5,1\r\n\r\n1,0.8,-0.3,0\r\n",
])
def test_a_samples_file_gives_the_key_of_the_inline_samples(tmp_path: Path, csv_text: str) -> None:
    from_file = derive.load(_write(tmp_path, csv_text))
    inline = derive.load(EXAMPLES / "2-3-2-minibatch.yaml")
    assert from_file.key() == inline.key()
    # the key holds the samples themselves, so the grader rebuilds it without the file
    assert from_file.key()["spec"]["samples"][1] == {"inputs": {"x1": -0.3, "x2": 0.8}, "targets": {"y1": 0.0, "y2": 1.0}}


def test_the_cli_reads_it_beside_the_spec(tmp_path: Path) -> None:
    result = _run("key", str(_write(tmp_path, "x1,x2,y1,y2\n0.5,-0.2,1,0\n-0.3,0.8,0,1\n")))
    inline = _run("key", str(EXAMPLES / "2-3-2-minibatch.yaml"))
    assert result.returncode == 0, result.stderr
    assert result.stdout == inline.stdout


@pytest.mark.parametrize(("csv_text", "fragment"), [
    ("x1,x2,y1,y2\n0.5,abc,1,0\n", "batch.csv: row 2, column x2: expected a number; got 'abc'."),
    ("x1,x2,y1,y2\n0.5,0.1,1,0\n0.5,,1,0\n", "row 3, column x2: expected a number; got ''."),
    ("x1,x2,y1,y2\n0.5,1e309,1,0\n", "row 2, column x2: expected a finite number; got '1e309'."),
    ("x1,x2,y1\n0.5,0.1,1\n", "row 1: the header has no column y2"),
    ("x1,x2,y1,y2,y3\n", "row 1, column 5: 'y3' is neither an input nor a target"),
    ("x1,x1,y1,y2\n", "row 1: the column 'x1' is named twice."),
    ("x1,x2,y1,y2\n0.5,0.1,1\n", "row 2: expected 4 cells (x1, x2, y1, y2); got 3."),
    ("x1,x2,y1,y2\n", "batch.csv: no samples"),
    ("", "batch.csv: the first row is the header"),
    ("x1,x2,y1,y2\n" + "0.5,0.1,1,0\n" * 65, "more than 64 samples"),
    ('x1,x2,y1,y2\n"0.5,0.1,1,0\n', "cannot be read as CSV"),
])
def test_a_bad_samples_file_is_one_message(tmp_path: Path, csv_text: str, fragment: str) -> None:
    out = tmp_path / "out"
    result = _run("worksheet", str(_write(tmp_path, csv_text)), "--format", "md", "-o", str(out))
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1, result.stderr
    assert "spec.yaml: samples.file:" in result.stderr and fragment in result.stderr, result.stderr
    assert not out.exists()


def test_a_missing_or_misnamed_file_is_one_message(tmp_path: Path) -> None:
    spec = _write(tmp_path, "")
    (tmp_path / "batch.csv").unlink()
    result = _run("key", str(spec))
    assert result.returncode == 2 and "samples.file: " in result.stderr and "batch.csv: no such file." in result.stderr
    spec.write_text(yaml.safe_dump({**FROM_FILE, "samples": {**FROM_FILE["samples"], "file": "batch.xlsx"}}), encoding="utf-8")
    result = _run("key", str(spec))
    assert result.returncode == 2 and "samples.file: expected text that is a file name ending in .csv; got 'batch.xlsx'." in result.stderr


def test_a_spec_built_from_data_does_not_read_files() -> None:
    with pytest.raises(SpecError, match="samples.file: the samples file was not read; load the spec with derive.load"):
        build(FROM_FILE)
