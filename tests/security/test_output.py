"""Output is never half-written: a failure or an interrupt leaves the previous files as
they were; numeric trouble is a clear message."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import derive
from derive.views import pdf
from derive.writer import write_documents

from ..conftest import EXAMPLES
from ..test_cli import _run

SEED000 = EXAMPLES / "2-2-1-linear-mse.yaml"


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.skipif(pdf.tex_engine() is None, reason="XeLaTeX is not installed")
def test_a_tex_failure_writes_nothing_and_keeps_the_previous_files(tmp_path: Path) -> None:
    assert _run("worksheet", "--format", "md,tex", "-o", str(tmp_path)).returncode == 0
    before = _snapshot(tmp_path)
    templates = tmp_path.parent / f"{tmp_path.name}-templates"
    (templates / "tex").mkdir(parents=True)
    (templates / "tex" / "body.tex.j2").write_text(r"\undefinedcommand", encoding="utf-8")
    result = _run("worksheet", "--format", "md,tex,pdf", "--templates", str(templates), "-o", str(tmp_path))
    assert result.returncode == 1 and "XeLaTeX could not compile handout" in result.stderr and "Nothing was written" in result.stderr
    assert _snapshot(tmp_path) == before


def test_an_interrupt_while_making_files_keeps_the_previous_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    problem = derive.load(SEED000)
    write_documents(problem, tmp_path, ["md"], ["handout", "worksheet", "key"], None, echo=lambda _: None)
    before = _snapshot(tmp_path)

    def interrupted(*args: object, **kwargs: object) -> bytes:
        raise KeyboardInterrupt

    monkeypatch.setattr(pdf, "compile_pdf", interrupted)
    spec = yaml.safe_load(SEED000.read_text(encoding="utf-8"))
    spec["inputs"]["x1"] = 0.9
    changed = derive.Problem(derive.load(spec).spec, str(SEED000), problem.name)
    with pytest.raises(KeyboardInterrupt):
        write_documents(changed, tmp_path, ["md", "pdf"], ["handout", "worksheet", "key"], None, echo=lambda _: None)
    assert _snapshot(tmp_path) == before
    assert not [p for p in tmp_path.rglob("*.part")]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"weights": {f"w{i}": -1000 for i in range(1, 7)}}, "e^800 overflows: the weights or inputs are too large"),
        ({"learning_rate": 0}, "learning_rate: expected a number above 0; got 0."),
        ({"learning_rate": -0.1}, "learning_rate: expected a number above 0; got -0.1."),
    ],
)
def test_numeric_trouble_is_a_clear_message(tmp_path: Path, changes: dict, message: str) -> None:
    spec = yaml.safe_load(SEED000.read_text(encoding="utf-8"))
    spec.update(changes)
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    result = _run("worksheet", str(path), "--format", "md", "-o", str(tmp_path / "out"))
    assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


def test_log_of_zero_in_cross_entropy_is_a_clear_message(tmp_path: Path) -> None:
    spec = yaml.safe_load((EXAMPLES / "1-1-sigmoid-xent.yaml").read_text(encoding="utf-8"))
    spec.update(weights={k: 100 for k in spec["weights"]}, inputs={k: 1 for k in spec["inputs"]}, loss="binary_cross_entropy",
                targets={k: 0.0 for k in spec["targets"]})
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    result = _run("key", str(path))
    assert result.returncode == 2 and "log of 0 is undefined: an output reached exactly 0 or 1" in result.stderr


def test_a_network_too_large_for_a_worksheet_is_refused_at_once(tmp_path: Path) -> None:
    sizes = [4, 12, 12, 3]
    spec = {"inputs": {f"x{i + 1}": 0.5 for i in range(4)}, "targets": {f"y{i + 1}": 0.5 for i in range(3)},
            "layers": [{"units": 12, "activation": "sigmoid"}, {"units": 12, "activation": "sigmoid"}, {"units": 3, "activation": "sigmoid"}],
            "weights": {f"w{i + 1}": 0.1 for i in range(sum(a * b for a, b in zip(sizes, sizes[1:])))},
            "loss": "squared_error", "learning_rate": 0.1}
    path = tmp_path / "big.yaml"
    path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    result = _run("worksheet", str(path), "-o", str(tmp_path / "out"))
    assert result.returncode == 2 and "228 parameters" in result.stderr and "derive cost 4 12 12 3" in result.stderr
    assert not (tmp_path / "out").exists()
