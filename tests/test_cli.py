"""Bad input ends in one clear message naming the field, exit status 2, no traceback,
and no output file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from .conftest import EXAMPLES, ROOT

SEED000 = yaml.safe_load((EXAMPLES / "2-2-1-linear-mse.yaml").read_text(encoding="utf-8"))


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "derive", *args], capture_output=True, text=True, cwd=ROOT, timeout=120)


def _with(**changes: object) -> dict:
    spec = json.loads(json.dumps(SEED000))
    for dotted, value in changes.items():
        target = spec
        *path, last = dotted.split("__")
        for part in path:
            target = target[int(part)] if part.isdigit() else target[part]
        if value is None:
            del target[last]
        else:
            target[last] = value
    return spec


BAD_SPECS = [
    ({"wieghts": {}}, "wieghts: unknown field. Did you mean 'weights'?"),
    ({"layers__0__activation": "sigmod"}, "layers[0].activation: expected one of identity, sigmoid"),
    ({"layers__0__activation": "sigmod"}, "Did you mean 'sigmoid'?"),
    ({"weights": {"w1": 0.3, "w2": 0.2}}, "weights: expected 6 weights for this network (2x2 + 2x1); got 2."),
    ({"targets": {"y1": 0.7, "y2": 0.1}}, "targets: expected 1 target(s)"),
    ({"layers__0__pre": ["z1"]}, "layers[0].pre: expected 2 names"),
    ({"inputs": {"x1": "abc", "x2": 0.3}}, "inputs.x1: expected a number; got 'abc'."),
    ({"inputs": {"x1": float("nan"), "x2": 0.3}}, "inputs.x1: must be a finite number"),
    ({"learning_rate": float("inf")}, "learning_rate: must be a finite number"),
    ({"layers__0__post": ["a1", "z1"]}, "the name 'z1' is already used"),
    ({"layers__0__units": 0}, "layers[0].units: expected a whole number of at least 1; got 0."),
    ({"loss": None}, "loss: required field is missing."),
    ({"loss": "binary_cross_entropy"}, "needs outputs between 0 and 1"),
    ({"layers__0__activation": "leaky_relu", "layers__0__alpha": 1.5}, "layers[0].alpha: expected a number below 1; got 1.5."),
]


@pytest.mark.parametrize(("changes", "message"), BAD_SPECS)
def test_bad_spec_is_refused_with_one_clear_message(tmp_path: Path, changes: dict, message: str) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(_with(**changes), allow_unicode=True), encoding="utf-8")
    result = _run("key", str(path), "-o", str(tmp_path / "key.json"))
    assert result.returncode == 2
    assert message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "key.json").exists()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("inputs: {x1: 1\n", "cannot be parsed as yaml"),
        ("inputs: {x1: 1}\ninputs: {x1: 2}\n", "duplicate key 'inputs'"),
        ("- just\n- a list\n", "a spec is a mapping of fields"),
        ("date: 2001-13-45\n", "cannot be parsed as yaml: month must be in 1..12"),
    ],
)
def test_unreadable_spec_is_refused(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text(text, encoding="utf-8")
    result = _run("key", str(path))
    assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr


def test_missing_file_is_refused() -> None:
    result = _run("key", "no/such/spec.yaml")
    assert result.returncode == 2
    assert "no/such/spec.yaml: no such file" in result.stderr


def test_key_prints_every_item_with_the_documented_fields() -> None:
    result = _run("key", str(EXAMPLES / "2-2-1-linear-mse.yaml"))
    assert result.returncode == 0, result.stderr
    key = json.loads(result.stdout)
    items = {item["id"]: item for item in key["items"]}
    for item_id in ("z1", "a1", "yhat1", "L", "dL/dyhat1", "dyhat1/dz3", "dL/dw5", "dL/dw1", "w5'", "yhat1'", "L'"):
        assert set(items[item_id]) >= {"id", "kind", "latex", "value", "exact", "depends_on"}
    # seed 000 works each gradient as the product of its chain's printed factors:
    # (-0.4114) * 1 * 0.4 * 0.2473 * 0.5 = -0.020348, by hand
    assert items["dL/dw1"]["value"] == -0.0203
    assert items["z1"]["depends_on"] == []
    assert items["dL/dw1"]["depends_on"] == ["dL/dyhat1", "dyhat1/dz3", "dz3/da1", "da1/dz1", "dz1/dw1"]
    assert key["policy"]["per_kind"]["activation"] == 3


@pytest.mark.parametrize("suffix", [".json", ".toml"])
def test_json_and_toml_specs_give_the_same_key_as_yaml(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"seed000{suffix}"
    if suffix == ".json":
        path.write_text(json.dumps(SEED000, ensure_ascii=False), encoding="utf-8")
    else:
        import tomllib  # noqa: F401 - the loader side; writing TOML by hand keeps tests dependency-free

        lines = [f'title = "{SEED000["title"]}"', 'language = "ko"', 'weight_order = "by_source"', 'loss = "squared_error"',
                 'loss_symbol = "L"', "learning_rate = 0.1", "steps = 1",
                 "inputs = { x1 = 0.5, x2 = 0.3 }", "targets = { y1 = 0.7 }",
                 "weights = { w1 = 0.3, w2 = 0.2, w3 = 0.2, w4 = 0.3, w5 = 0.4, w6 = 0.5 }",
                 'precision = { digits = 4, mode = "significant", carry = "rounded", rounding = "half_up", activation = 3, gradient = 3, weight = 3 }',
                 "[[layers]]", "units = 2", 'activation = "sigmoid"', 'pre = ["z1", "z2"]', 'post = ["a1", "a2"]',
                 "[[layers]]", "units = 1", 'activation = "identity"', 'pre = ["z3"]', 'post = ["yhat1"]',
                 "[randomize]", "inputs = { min = 0.1, max = 0.9, decimals = 1 }", "weights = { min = 0.1, max = 0.9, decimals = 1 }",
                 "targets = { min = 0.5, max = 0.9, decimals = 1 }"]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert _run("key", str(path)).stdout == _run("key", str(EXAMPLES / "2-2-1-linear-mse.yaml")).stdout


def test_worksheet_writes_every_format_kind_and_picture(tmp_path: Path) -> None:
    result = _run("worksheet", "-o", str(tmp_path), "--format", "md,tex,html")
    assert result.returncode == 0, result.stderr
    names = sorted(p.name for p in (tmp_path / "2-2-1-linear-mse").iterdir())
    expected = [f"{kind}.{fmt}" for kind in ("handout", "key", "worksheet") for fmt in ("html", "md", "tex")]
    assert names == sorted([".derive", "key.json", "network.svg", "network-worksheet.svg", *expected])


def test_without_tex_the_pdf_is_skipped_with_a_note(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "derive", "worksheet", "-o", str(tmp_path), "--format", "md,pdf", "--kind", "handout"],
        capture_output=True, text=True, cwd=ROOT, timeout=120, env={"PATH": "/nonexistent"},
    )
    assert result.returncode == 0, result.stderr
    assert "note: PDFs skipped: no XeLaTeX found" in result.stderr
    assert sorted(p.name for p in (tmp_path / "2-2-1-linear-mse").iterdir()) == [".derive", "handout.md", "key.json", "network.svg"]


def test_a_foreign_non_empty_folder_is_refused_unless_forced(tmp_path: Path) -> None:
    folder = tmp_path / "2-2-1-linear-mse"
    folder.mkdir()
    (folder / "thesis.tex").write_text("mine", encoding="utf-8")
    refused = _run("worksheet", "-o", str(tmp_path), "--format", "md")
    assert refused.returncode == 2 and "not empty and was not made by derive" in refused.stderr
    assert sorted(p.name for p in folder.iterdir()) == ["thesis.tex"]
    forced = _run("worksheet", "-o", str(tmp_path), "--format", "md", "--force")
    assert forced.returncode == 0, forced.stderr
    assert (folder / "thesis.tex").read_text(encoding="utf-8") == "mine"
    again = _run("worksheet", "-o", str(tmp_path), "--format", "md")  # derive's own folder now
    assert again.returncode == 0, again.stderr


def test_chain_on_the_command_line_chooses_the_form_and_the_key_records_it(tmp_path: Path) -> None:
    """--chain full works dC/dw5 as the product of its printed factors, --chain signals as the
    printed error signal times the printed input; the numbers below are those products done by
    hand from seed 001's printed values, rounded to 3 significant digits."""
    spec = EXAMPLES / "2-2-1-sigmoid-mse.yaml"
    keys = {}
    for chain in ("full", "signals"):
        done = _run("key", str(spec), "--chain", chain)
        assert done.returncode == 0, done.stderr
        keys[chain] = json.loads(done.stdout)
        assert keys[chain]["spec"]["chain"] == chain  # a key embeds the form it was graded in
    full = {item["id"]: item["value"] for item in keys["full"]["items"]}
    signals = {item["id"]: item["value"] for item in keys["signals"]["items"]}
    assert full["dC/do1"] * full["do1/dz3"] * full["dz3/dw5"] == pytest.approx(-0.09971, abs=1e-5)
    assert full["dC/dw5"] == -0.0997
    assert signals["dC/dz3"] * signals["dz3/dw5"] == pytest.approx(-0.09963, abs=1e-5)
    assert signals["dC/dw5"] == -0.0996

    written = _run("worksheet", str(spec), "--chain", "signals", "--format", "md", "--kind", "handout", "-o", str(tmp_path / "out"))
    assert written.returncode == 0, written.stderr
    (handout,) = (tmp_path / "out").rglob("handout.md")
    assert "-0.162 \\cdot 0.615" in handout.read_text(encoding="utf-8").replace("\\left(", "").replace("\\right)", "")

    refused = _run("key", str(spec), "--chain", "partial")
    assert refused.returncode == 2 and "'partial' is not one of 'auto', 'full', 'signals'" in refused.stderr
    assert "Traceback" not in refused.stderr


@pytest.mark.parametrize("args", [
    ["examples/2-2-1-sigmoid-mse.yaml", "--notation", "matrix"],
    ["thirty-gates.json"],  # a circuit drawn in four rows: no picture a slide could hold
])
def test_slides_where_there_are_none_to_make_is_one_message_not_a_silent_nothing(args: list[str], tmp_path: Path) -> None:
    if args[0] == "thirty-gates.json":
        from .views.test_circuit import thirty_gates

        args = [str(tmp_path / args[0])]
        Path(args[0]).write_text(json.dumps(thirty_gates()), encoding="utf-8")
    done = _run("worksheet", *args, "--format", "slides", "-o", str(tmp_path / "out"))
    assert done.returncode == 2 and "--format slides:" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "out").exists()


def test_variants_of_a_spec_with_nothing_to_draw_are_refused_before_any_progress(tmp_path: Path) -> None:
    """One message naming randomize, exit status 2, no progress bar shown first, no folder."""
    result = _run("variants", "examples/graph-shared-weight.yaml", "--count", "3", "-o", str(tmp_path / "out"))
    assert result.returncode == 2
    assert "randomize: this spec has no randomize section" in result.stderr
    assert "writing versions" not in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()
