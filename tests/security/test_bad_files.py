"""Every bad file is one message, exit status 2, no traceback, nothing written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from ..conftest import EXAMPLES
from ..test_cli import _run

SEED000 = EXAMPLES / "2-2-1-linear-mse.yaml"


def _one_message(result, *fragments: str) -> None:  # type: ignore[no-untyped-def]
    assert result.returncode == 2, (result.returncode, result.stderr[-2000:])
    assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1, result.stderr[-2000:]
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr


def _spec(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text)
    return path


def _worksheet(tmp_path: Path, spec: Path):  # type: ignore[no-untyped-def]
    return _run("worksheet", str(spec), "--format", "md", "-o", str(tmp_path / "out"))


SEED = yaml.safe_load(SEED000.read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("name", "text", "fragment"),
    [
        ("deep.yaml", "a: " + "[" * 100_000 + "]" * 100_000, "nests too deeply"),
        ("deep.json", "[" * 100_000 + "]" * 100_000, "nests too deeply"),
        ("deep.toml", "a = " + "[" * 100_000 + "]" * 100_000, "deep.toml"),
        ("key.yaml", "? [1, 2]\n: 3\n", "a key must be a name"),
        ("surrogate.json", json.dumps({**SEED, "title": "x"}).replace('"title": "x"', '"title": "\\ud800"'), "lone surrogate"),
        ("dup.json", json.dumps(SEED)[:-1] + ', "title": "again"}', "duplicate key"),
        ("control.json", json.dumps({**SEED, "title": "quiz\x01\x0b"}), "title: a title holds no control characters; it holds U+0001"),
    ],
    ids=["yaml-depth", "json-depth", "toml-depth", "unhashable-key", "surrogate", "json-duplicate", "title-control"],
)
def test_a_bad_spec_is_one_message(tmp_path: Path, name: str, text: str, fragment: str) -> None:
    result = _worksheet(tmp_path, _spec(tmp_path, name, text))
    _one_message(result, fragment)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("suffix", [".json", ".yaml"])
def test_a_bom_is_accepted_in_every_spec_format(tmp_path: Path, suffix: str) -> None:
    text = json.dumps(SEED) if suffix == ".json" else SEED000.read_text(encoding="utf-8")
    result = _worksheet(tmp_path, _spec(tmp_path, f"bom{suffix}", "\ufeff" + text))
    assert result.returncode == 0, result.stderr


def test_a_bom_is_accepted_in_toml(tmp_path: Path) -> None:
    from derive.spec.files import read_spec_file

    assert read_spec_file(_spec(tmp_path, "bom.toml", "\ufefftitle = 'x'\n")) == {"title": "x"}


def test_a_control_character_in_a_title_never_reaches_the_quiz_xml(tmp_path: Path) -> None:
    """It made the Moodle and QTI XML ill-formed; now the spec is refused."""
    spec = _spec(tmp_path, "control.yaml", yaml.safe_dump({**SEED, "title": "quiz\x01"}))  # written "quiz\x01"
    for lms, suffix in (("moodle", "xml"), ("qti", "zip")):
        result = _run("export", lms, str(spec), "-o", str(tmp_path / f"quiz.{suffix}"))
        _one_message(result, "title:", "U+0001")
        assert not (tmp_path / f"quiz.{suffix}").exists()


def test_a_huge_or_endless_key_file_is_one_message(tmp_path: Path) -> None:
    submissions = tmp_path / "s.csv"
    submissions.write_text("student,version\n", encoding="utf-8")
    result = _run("grade", "/dev/zero", str(submissions), "-o", str(tmp_path / "g"))
    _one_message(result, "larger than")
    assert not (tmp_path / "g").exists()


def test_a_huge_spec_is_one_message(tmp_path: Path) -> None:
    result = _run("worksheet", "/dev/zero", "--format", "md", "-o", str(tmp_path / "out"))
    assert result.returncode == 2 and "Traceback" not in result.stderr
