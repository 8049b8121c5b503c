"""Hostile formulas are refused quickly and nothing in them runs."""

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


def _hostile(marker: Path) -> list[str]:
    return [
        f"__import__('os').system('touch {marker}')",
        "().__class__.__bases__[0].__subclasses__()",
        "lambda: 0",
        "9**9**9**9",
        "2^2^2^2^2^2",
        "(" * 10_000 + "z" + ")" * 10_000,
        "z+" * 500_000 + "z",
        "exec('import os')",
        "eval('1')",
        "z.__class__",
        "[z for z in ()]",
        "open('/etc/passwd').read()",
        "z if z else 0",
        "f'{z}'",
        "z; import os",
        "exp(z, z)",
        "sigmoid(z)",
    ]


def test_each_hostile_formula_is_refused_within_a_second_and_runs_nothing(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    for text in _hostile(marker):
        start = time.perf_counter()
        with pytest.raises(FormulaError):
            parse_formula(text, Z)
        assert time.perf_counter() - start < 1.0, text[:40]
    assert not marker.exists()


def test_hostile_formula_in_a_spec_ends_in_one_message_and_no_output(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    spec = yaml.safe_load((EXAMPLES / "2-2-1-linear-mse.yaml").read_text(encoding="utf-8"))
    for text in _hostile(marker)[:5]:
        spec["layers"][0]["activation"] = {"name": "evil", "formula": text}
        path = tmp_path / "spec.yaml"
        path.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
        start = time.perf_counter()
        result = _run("key", str(path), "-o", str(tmp_path / "key.json"))
        assert time.perf_counter() - start < 5
        assert result.returncode == 2 and "layers[0].activation.formula:" in result.stderr and "Traceback" not in result.stderr
        assert not (tmp_path / "key.json").exists()
    assert not marker.exists()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("z/(1+abs(z))", "z/(Abs(z) + 1)"),
        ("z^2 + 2**z", "2**z + z**2"),
        ("max(0, z) - 0.5*min(0, z)", "Max(0, z) - Min(0, z)/2"),
        ("z^2 + 1", "z**2 + 1"),
        ("ln(1+exp(z))", "log(exp(z) + 1)"),
    ],
)
def test_allowed_formulas_build_the_expected_expression(text: str, expected: str) -> None:
    assert str(parse_formula(text, Z)) == expected


def test_parsing_hostile_formulas_opens_no_socket_and_starts_no_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os
    import socket
    import subprocess

    calls: list[str] = []

    def forbidden(name: str):  # type: ignore[no-untyped-def]
        def record(*args: object, **kwargs: object) -> None:
            calls.append(name)
            raise AssertionError(f"{name} was called")

        return record

    monkeypatch.setattr(socket, "socket", forbidden("socket"))
    monkeypatch.setattr(subprocess, "Popen", forbidden("Popen"))
    monkeypatch.setattr(os, "system", forbidden("os.system"))
    monkeypatch.setattr(os, "popen", forbidden("os.popen"))
    import builtins

    real_open = builtins.open
    monkeypatch.setattr(builtins, "open", lambda *a, **k: calls.append("open") or real_open(*a, **k))
    monkeypatch.setattr(builtins, "__import__", _guarded_import(builtins.__import__, calls))
    for text in _hostile(tmp_path / "ran"):
        with pytest.raises(FormulaError):
            parse_formula(text, Z)
    assert calls == []


def _guarded_import(real_import, calls: list[str]):  # type: ignore[no-untyped-def]
    def guarded(name: str, *args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        if name in ("os", "subprocess", "socket", "shutil"):
            calls.append(f"import {name}")
        return real_import(name, *args, **kwargs)

    return guarded
