"""A crafted key.json or keys.json handed to `derive grade`: one message naming the field,
exit status 2, no traceback, nothing written; and derive's own keys still pass."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from derive.cli import main

from ..conftest import EXAMPLES
from ..test_cli import _run

SEED000 = EXAMPLES / "2-2-1-linear-mse.yaml"


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], dict[str, Any]]:
    """derive's own key.json and keys.json (two versions) of seed 000."""
    folder = tmp_path_factory.mktemp("keys")
    runner = CliRunner()
    assert runner.invoke(main, ["key", str(SEED000), "-o", str(folder / "key.json")]).exit_code == 0
    made = runner.invoke(main, ["variants", str(SEED000), "--count", "2", "--format", "md", "-o", str(folder)])
    assert made.exit_code == 0, made.output
    single = json.loads((folder / "key.json").read_text(encoding="utf-8"))
    class_keys = json.loads((folder / "2-2-1-linear-mse-variants" / "keys.json").read_text(encoding="utf-8"))
    return single, class_keys


def _item(key: dict[str, Any], **changes: Any) -> dict[str, Any]:
    crafted = copy.deepcopy(key)
    crafted["items"][0].update(changes)
    return crafted


def _without(key: dict[str, Any], field: str) -> dict[str, Any]:
    crafted = copy.deepcopy(key)
    del crafted["items"][0][field]
    return crafted


# (name, how to make the key's JSON text from derive's key.json and keys.json, the field
# the message must name, a word of what it says)
CRAFTED = [
    ("versions-list", lambda k, c: json.dumps({"title": "x", "versions": []}), "versions:", "mapping"),
    ("versions-empty", lambda k, c: json.dumps({"title": "x", "versions": {}}), "versions:", "at least 1"),
    ("spec-number", lambda k, c: json.dumps({**k, "spec": 5}), "spec:", "mapping"),
    ("spec-path", lambda k, c: json.dumps({**k, "spec": "/etc/passwd"}), "spec:", "'/etc/passwd'"),
    ("spec-data-file", lambda k, c: json.dumps({**k, "spec": {**k["spec"], "data": {"inputs": "/etc/x.npy", "targets": "t.csv"}}}),
     "spec.data:", "never names a file"),
    ("item-empty", lambda k, c: json.dumps({**k, "items": [{}]}), "items[0].id:", "missing"),
    ("item-no-value", lambda k, c: json.dumps(_without(k, "value")), "items[0].value:", "missing"),
    ("items-text", lambda k, c: json.dumps({**k, "items": "x"}), "items:", "list"),
    ("item-id-number", lambda k, c: json.dumps(_item(k, id=5)), "items[0].id:", "text"),
    ("item-kind", lambda k, c: json.dumps(_item(k, kind="bogus")), "items[0].kind:", "weighted_sum"),
    ("item-accept-three", lambda k, c: json.dumps(_item(k, accept=[1, 2, 3])), "items[0].accept:", "length 2"),
    ("item-twice", lambda k, c: json.dumps({**k, "items": k["items"] + k["items"][:1]}), ".id:", "earlier item"),
    ("item-depends-on-nothing", lambda k, c: json.dumps(_item(k, depends_on=["nope"])), "items[0].depends_on:", "'nope'"),
    ("item-control-id", lambda k, c: json.dumps(_item(k, id="z\x001")), "items[0].id:", "control"),
    ("item-extra-field", lambda k, c: json.dumps(_item(k, evil=1)), "items[0].evil:", "unknown field"),
    ("title-number", lambda k, c: json.dumps({**k, "title": 5}), "title:", "text"),
    ("title-control", lambda k, c: json.dumps({**k, "title": "quiz\x01\x0b"}), "title:", "U+0001 (a control character)"),
    ("format-field", lambda k, c: json.dumps({**k, "format": 2}), "format:", "unknown field"),
    ("policy-text", lambda k, c: json.dumps({**k, "policy": "x"}), "policy:", "mapping"),
    ("policy-digits-huge", lambda k, c: json.dumps({**k, "policy": {**k["policy"], "digits": 10**6}}), "policy.digits:", "at most 15"),
    ("value-huge-int", lambda k, c: json.dumps(_item(k, value=10**400)), "items[0].value:", "finite"),
    ("value-nan", lambda k, c: json.dumps(k).replace('"value": 0.21', '"value": NaN', 1), "items[0].value:", "finite"),
    ("loss-infinity", lambda k, c: json.dumps({**k, "loss_history": [1e400]}), "loss_history[0]:", "finite"),
    ("spec-input-huge", lambda k, c: json.dumps({**k, "spec": {**k["spec"], "inputs": {"x1": 10**400, "x2": 0.3}}}), "inputs.x1:", "range"),
    ("spec-input-infinity", lambda k, c: json.dumps(k).replace('"x1": 0.5', '"x1": Infinity', 1), "inputs.x1:", "finite"),
    ("integer-5000-digits", lambda k, c: json.dumps(k).replace('"x1": 0.5', '"x1": ' + "9" * 5000, 1), "key.json:", "4,300 digits"),
    ("duplicate-key", lambda k, c: json.dumps(k)[:-1] + ', "title": "again"}', "key.json:", "duplicate key 'title'"),
    ("top-list", lambda k, c: json.dumps([1, 2]), "(top level):", "list"),
    ("version-number", lambda k, c: json.dumps({"title": "x", "versions": {"v01": 7}}), "versions.v01:", "mapping"),
    ("version-id-path", lambda k, c: json.dumps({"title": "x", "versions": {"../x": c["versions"]["v01"]}}), "versions['../x']:", "v01, v02"),
    ("version-filed-wrongly", lambda k, c: json.dumps({"title": "x", "versions": {"v02": c["versions"]["v01"]}}), "versions.v02.version:", "'v02'"),
    ("version-spec-number", lambda k, c: json.dumps({"title": "x", "versions": {"v01": {**c["versions"]["v01"], "spec": 1}}}),
     "versions.v01.spec:", "mapping"),
    ("matrix-key", lambda k, c: json.dumps({"title": "x", "notation": "matrix", "items": []}), "notation:", "layer-level"),
]


@pytest.mark.parametrize(("make", "field", "words"), [case[1:] for case in CRAFTED], ids=[case[0] for case in CRAFTED])
def test_a_crafted_key_is_one_message_naming_the_field(tmp_path: Path, keys: tuple[dict[str, Any], dict[str, Any]],
                                                       make: Any, field: str, words: str) -> None:
    key = tmp_path / "key.json"
    key.write_text(make(*keys), encoding="utf-8")
    submissions = tmp_path / "subs.csv"
    submissions.write_text("student,version,z1\ns1,v01,0.21\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["grade", str(key), str(submissions), "-o", str(tmp_path / "grades")])
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit), result.output
    assert result.output.count("error:") == 1 and result.output.count("\n") == 1, result.output
    message = result.output.removeprefix("error: ")
    assert message.startswith((f"{key}: ", f"{key} (")), message
    assert field in message and words in message, message
    assert not (tmp_path / "grades").exists()


@pytest.mark.parametrize("case", ["spec-path", "versions-list", "value-huge-int"])
def test_through_the_command_line_there_is_no_traceback(tmp_path: Path, keys: tuple[dict[str, Any], dict[str, Any]], case: str) -> None:
    make = next(entry[1] for entry in CRAFTED if entry[0] == case)
    key = tmp_path / "key.json"
    key.write_text(make(*keys), encoding="utf-8")
    submissions = tmp_path / "subs.csv"
    submissions.write_text("student,version,z1\ns1,v01,0.21\n", encoding="utf-8")
    result = _run("grade", str(key), str(submissions), "-o", str(tmp_path / "grades"))
    assert result.returncode == 2 and "Traceback" not in result.stderr and result.stderr.count("\n") == 1, result.stderr
    assert "root:" not in result.stderr  # /etc/passwd is never read, so nothing of it is echoed
    assert not (tmp_path / "grades").exists()


def test_derives_own_keys_of_every_example_pass(tmp_path: Path) -> None:
    """The check refuses nothing derive writes: each example's key grades a submission."""
    from derive.spec.files import read_key_file

    for spec in sorted(EXAMPLES.glob("*.yaml")):
        key = tmp_path / f"{spec.stem}.json"
        made = CliRunner().invoke(main, ["key", str(spec), "-o", str(key)])
        assert made.exit_code == 0, made.output
        data, origin = read_key_file(key)
        assert origin == str(key) and data == json.loads(key.read_text(encoding="utf-8"))
