"""Mutated specs and submissions files: every run ends in complete output or in one clear
message with exit status 2; never a traceback, a hang or half-written files."""

from __future__ import annotations

import copy
import os
import csv
import io
import json
import time
from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from derive.cli import main
from derive.spec.schema import SpecError, parse_spec

from ..conftest import EXAMPLES

SEED000 = yaml.safe_load((EXAMPLES / "2-2-1-linear-mse.yaml").read_text(encoding="utf-8"))
FIELDS = list(SEED000)
junk = st.one_of(
    st.none(), st.booleans(), st.integers(-10**30, 10**30), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30), st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
)


@st.composite
def mutated_specs(draw: st.DrawFn) -> bytes:
    spec: dict[str, Any] = copy.deepcopy(SEED000)
    for _ in range(draw(st.integers(1, 3))):
        action = draw(st.sampled_from(["drop", "retype", "huge", "negative", "nested", "duplicate", "rename"]))
        field = draw(st.sampled_from(FIELDS))
        if action == "drop":
            spec.pop(field, None)
        elif action == "retype":
            spec[field] = draw(junk)
        elif action == "huge" and isinstance(spec.get(field), dict) and spec[field]:
            spec[field][draw(st.sampled_from(sorted(spec[field])))] = draw(st.sampled_from([1e308, 10**400, -1e308, 1e-320]))
        elif action == "negative" and isinstance(spec.get(field), (int, float)):
            spec[field] = -abs(spec[field])
        elif action == "nested" and isinstance(spec.get("layers"), list) and spec["layers"] and all(isinstance(x, dict) for x in spec["layers"]):
            layer = draw(st.integers(0, len(spec["layers"]) - 1))
            spec["layers"][layer][draw(st.sampled_from(["units", "activation", "pre", "bias", "alpha", "extra"]))] = draw(junk)
        elif action == "rename" and field in spec:
            spec[field + draw(st.sampled_from(["s", "_", "x"]))] = spec.pop(field)
    text = yaml.safe_dump(spec, allow_unicode=True)
    if draw(st.booleans()) and draw(st.integers(0, 4)) == 0:
        text += text.splitlines()[0] + "\n"  # a duplicated key
    data = text.encode("utf-8")
    if draw(st.integers(0, 9)) == 0:
        data = data.replace(b"x1", b"x\xff1")  # not UTF-8
    return data


def _expected_outputs(data: bytes) -> list[str]:
    """A spec that trains for more than one step also gets its loss plot."""
    steps = yaml.safe_load(data).get("steps", 1)
    plot = ["loss.svg"] if steps > 1 else []
    return sorted([".derive", "handout.html", "handout.md", "key.html", "key.json", "key.md", "network.svg", "network-worksheet.svg",
                   "worksheet.html", "worksheet.md", *plot])


def _outputs(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


# `make test` draws the same examples on every run, so CI is reproducible; a hunt
# (DERIVE_FUZZ_EXAMPLES=600) draws fresh ones each time.
HUNT = "DERIVE_FUZZ_EXAMPLES" in os.environ


@settings(max_examples=int(os.environ.get("DERIVE_FUZZ_EXAMPLES", "60")), derandomize=not HUNT, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=mutated_specs())
def test_a_mutated_spec_gives_full_output_or_one_clear_error(tmp_path_factory: Any, data: bytes) -> None:
    folder = tmp_path_factory.mktemp("fuzz")
    spec = folder / "spec.yaml"
    spec.write_bytes(data)
    out = folder / "out"
    start = time.perf_counter()
    result = CliRunner().invoke(main, ["worksheet", str(spec), "--format", "md,html", "-o", str(out)])
    assert time.perf_counter() - start < 5
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
    if result.exit_code == 0:
        assert _outputs(out / "spec") == _expected_outputs(data)
    else:
        assert result.exit_code == 2, result.output
        assert result.output.count("error:") == 1 and "Traceback" not in result.output
        assert _outputs(out) == []


def _places(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a nested spec where a value could be swapped for junk."""
    inner: list[tuple[Any, ...]] = []
    if isinstance(value, dict):
        inner = [p for key, item in value.items() for p in _places(item, (*path, key))]
    elif isinstance(value, list):
        inner = [p for index, item in enumerate(value) for p in _places(item, (*path, index))]
    return [path, *inner] if path else inner


def _holds_place(container: Any, part: Any) -> bool:
    if isinstance(container, dict):
        return part in container
    return isinstance(container, list) and isinstance(part, int) and part < len(container)


def _swap(spec: Any, path: tuple[Any, ...], value: Any) -> None:
    """Put `value` at `path`, unless an earlier swap already changed the way there."""
    target = spec
    for part in path[:-1]:
        if not _holds_place(target, part):
            return
        target = target[part]
    if _holds_place(target, path[-1]):
        target[path[-1]] = value


PLACES = _places(SEED000)
deep_junk = st.recursive(junk, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
                         max_leaves=8)


@settings(max_examples=int(os.environ.get("DERIVE_FUZZ_EXAMPLES", "300")), derandomize=not HUNT, deadline=None)
@given(swaps=st.lists(st.tuples(st.sampled_from(PLACES), deep_junk), min_size=1, max_size=3))
def test_junk_anywhere_in_a_spec_is_a_spec_error_naming_a_field(swaps: list[tuple[tuple[Any, ...], Any]]) -> None:
    """In process and without deriving, so it can try every nesting level many times: the
    validator and its messages never crash, whatever sits where."""
    spec = copy.deepcopy(SEED000)
    for path, value in swaps:
        _swap(spec, path, value)
    try:
        parse_spec(spec, "spec.yaml")
    except SpecError as error:
        message = str(error)
        assert message.startswith("spec.yaml: ") and "\n" not in message and "Traceback" not in message


ROWS = st.lists(st.lists(st.one_of(st.text(max_size=8), st.sampled_from(["0.21", ".19", "0,552", "−0.0204", "1/2", ""])), max_size=40), max_size=30)


@settings(max_examples=int(os.environ.get("DERIVE_FUZZ_EXAMPLES", "40")), derandomize=not HUNT, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=ROWS, encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp949"]))
def test_every_row_of_a_ragged_submissions_file_is_graded(tmp_path_factory: Any, rows: list[list[str]], encoding: str) -> None:
    folder = tmp_path_factory.mktemp("subs")
    key = folder / "key.json"
    assert CliRunner().invoke(main, ["key", str(EXAMPLES / "2-2-1-linear-mse.yaml"), "-o", str(key)]).exit_code == 0
    ids = [i["id"] for i in json.loads(key.read_text(encoding="utf-8"))["items"] if i["graded"]]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["student", *ids])
    for number, row in enumerate(rows):
        writer.writerow([f"s{number}", *row])
    path = folder / "subs.csv"
    path.write_bytes(buffer.getvalue().encode(encoding, errors="replace"))
    result = CliRunner().invoke(main, ["grade", str(key), str(path), "-o", str(folder / "g"), "--json"])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
    assert result.exit_code == 0, result.output
    graded = list(csv.reader(io.StringIO((folder / "g" / "grades.csv").read_text(encoding="utf-8-sig"))))
    assert [row[0] for row in graded[1:]] == [f"s{n}" for n in range(len(rows))]


def test_a_hundred_thousand_rows_are_all_graded(tmp_path: Path) -> None:
    key = tmp_path / "key.json"
    assert CliRunner().invoke(main, ["key", str(EXAMPLES / "2-2-1-linear-mse.yaml"), "-o", str(key)]).exit_code == 0
    items = [i for i in json.loads(key.read_text(encoding="utf-8"))["items"] if i["graded"]]
    patterns = [
        [str(i["value"]) for i in items],
        [""] * len(items),
        ["junk"] * 3,
        [str(i["value"]) for i in items[:10]] + ["0.5"] * 5,
    ]
    lines = ["student," + ",".join(i["id"] for i in items)]
    lines += [f"s{n}," + ",".join(patterns[n % len(patterns)]) for n in range(100_000)]
    path = tmp_path / "subs.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["grade", str(key), str(path), "-o", str(tmp_path / "g")])
    assert result.exit_code == 0, result.output
    graded = (tmp_path / "g" / "grades.csv").read_text(encoding="utf-8-sig").splitlines()
    assert len(graded) == 100_001 and graded[-1].startswith("s99999,")
