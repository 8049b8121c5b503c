"""Constant subexpressions are bounded by the size of their result, not only by their
exponent: a tower of powers is refused within a second, with one message."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import sympy
import yaml

from derive.spec.formula import FormulaError, parse_formula

from ..conftest import EXAMPLES
from ..test_cli import _run

Z = {"z": sympy.Symbol("z", real=True)}
TOWERS = [
    "((((2^64)^64)^64)^64)*z",
    "((((((2^64)^64)^64)^64)^64)^64)*z",
    "(2^64)^64*z",
    "z/((10^60)^6)",
    "z*(0.5^64)^64",
    "z + 9" + "9" * 320,
    "z*1e400",
    "(((((10^60*10^60)*10^60)*10^60)*10^60)*10^60)*z",
]


@pytest.mark.parametrize("text", TOWERS)
def test_a_constant_beyond_a_double_is_refused_within_a_second(text: str) -> None:
    start = time.perf_counter()
    with pytest.raises(FormulaError, match="beyond the range of a double"):
        parse_formula(text, Z)
    assert time.perf_counter() - start < 1.0


@pytest.mark.parametrize("text", ["z*2^64", "z/((10^60)^5)", "(2^32)^8*z", "z*1e300", "z*(1/2)^64"])
def test_constants_a_double_holds_are_accepted(text: str) -> None:
    assert parse_formula(text, Z).free_symbols == {Z["z"]}


@pytest.mark.parametrize("text", TOWERS[:2])
def test_a_tower_in_a_spec_is_one_message(tmp_path: Path, text: str) -> None:
    spec = yaml.safe_load((EXAMPLES / "2-2-1-linear-mse.yaml").read_text(encoding="utf-8"))
    spec["layers"][0]["activation"] = {"name": "tower", "formula": text}
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    start = time.perf_counter()
    result = _run("key", str(path), "-o", str(tmp_path / "key.json"))
    assert time.perf_counter() - start < 20
    assert result.returncode == 2 and "beyond the range of a double" in result.stderr and "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1 and not (tmp_path / "key.json").exists()
