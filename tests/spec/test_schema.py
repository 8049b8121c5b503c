"""Spec validation: each kind of mistake, and the exact message the instructor reads.

The CLI tests check a few of these end to end (exit status 2, nothing written); this
table pairs every message form with the spec change that provokes it, in process."""

from __future__ import annotations

import copy

import pytest
import yaml

import derive
from derive.spec.schema import SpecError, as_plain_data, parse_spec

from ..conftest import EXAMPLES

SEED000 = yaml.safe_load((EXAMPLES / "2-2-1-linear-mse.yaml").read_text(encoding="utf-8"))


def _with(field: str, value: object) -> dict:
    spec = copy.deepcopy(SEED000)
    target = spec
    *path, last = field.split(".")
    for part in path:
        target = target[int(part)] if part.isdigit() else target[part]
    target[last] = value
    return spec


MESSAGES = [
    ("wieghts", {}, "wieghts: unknown field. Did you mean 'weights'? Known fields: title, language, inputs, targets, data, "
                    "weight_seed, layers, weights, weight_order, biases, loss, loss_symbol, learning_rate, steps, samples, "
                    "reduction, optimizer, chain, precision, latex, randomize, ask, graph."),
    ("layers.0.activation", "sigmod",
     "layers[0].activation: expected one of identity, sigmoid, tanh, relu, leaky_relu, softmax; got 'sigmod'. "
     "Did you mean 'sigmoid'?"),
    ("layers.0.activation", 3,
     "layers[0].activation: expected one of identity, sigmoid, tanh, relu, leaky_relu, softmax or a mapping with name, "
     "formula; got 3."),
    ("layers.0.activation", {"nam": "softsign", "formula": "z"},
     "layers[0].activation.nam: unknown field. Did you mean 'name'? Known fields: name, formula."),
    ("layers.0.activation", {"name": "softsign"}, "layers[0].activation.formula: required field is missing."),
    ("layers.0.activation", {"name": "9lives", "formula": "z"},
     "layers[0].activation.name: expected text that is a name: a letter, then letters, digits or _ (30 at most); "
     "got '9lives'."),
    ("inputs", {"x1": "abc", "x2": 0.3}, "inputs.x1: expected a number; got 'abc'."),
    ("inputs", {1: 0.5}, "inputs: names are text like x1 or w1; got the key 1."),
    ("inputs", [0.5, 0.3], "inputs: expected a mapping; got [0.5, 0.3]."),
    ("inputs", {"x1": float("nan"), "x2": 0.3}, "inputs.x1: must be a finite number, not NaN or infinity; got nan."),
    ("weights", {"w1": {"from": "x1", "too": "z1"}},
     "weights.w1.too: unknown field. Did you mean 'to'? Known fields: from, to, value."),
    ("weights", {"w1": "abc"}, "weights.w1: expected a number or a mapping with from, to, value; got 'abc'."),
    ("layers.0.units", 0, "layers[0].units: expected a whole number of at least 1; got 0."),
    ("layers.0.units", 2.5, "layers[0].units: expected a whole number; got 2.5."),
    ("layers.0.units", True, "layers[0].units: expected a whole number; got True."),
    ("layers.0.alpha", 1.5, "layers[0].alpha: expected a number below 1; got 1.5."),
    ("layers.0.pre", "z1", "layers[0].pre: expected a list; got 'z1'."),
    ("layers", [], "layers: expected a list with at least 1 item(s); got []."),
    ("learning_rate", 0, "learning_rate: expected a number above 0; got 0."),
    ("learning_rate", float("inf"), "learning_rate: must be a finite number, not NaN or infinity; got inf."),
    ("precision.digits", 99, "precision.digits: expected a whole number of at most 15; got 99."),
    ("precision.mode", "sig", "precision.mode: expected one of significant, decimals; got 'sig'."),
    ("title", "x" * 301, "title: expected text of at most 300 characters; got 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
                         "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...."),
    ("randomize.inputs", {"min": 1, "max": 0}, "randomize.inputs: min (1.0) must be below max (0.0)."),
    ("randomize.inputs", {"min": 0, "max": 1, "decimals": 1, "step": 0.1}, "randomize.inputs: give decimals or step, not both."),
    ("latex", {"yhat1": r"\input{x}"},
     r"latex.yhat1: \input is not an allowed math command; use e.g. \hat, \mathrm or a Greek letter; got '\\input{x}'."),
    ("weight_seed", 7, "weight_seed: draws the weights of a spec with data: files only; this spec has none, so give its "
                       "weights: (or draw fresh numbers per student with derive variants and randomize:)."),
    ("data", {"inputs": "x.txt", "targets": "y.npy"},
     "data.inputs: expected text that is a file name ending in .npy or .csv; got 'x.txt'."),
]


@pytest.mark.parametrize(("field", "value", "message"), MESSAGES, ids=[f"{m[0]}={m[1]!r}"[:40] for m in MESSAGES])
def test_each_mistake_gets_its_message(field: str, value: object, message: str) -> None:
    with pytest.raises(SpecError) as caught:
        parse_spec(_with(field, value), "spec.yaml")
    assert str(caught.value) == f"spec.yaml: {message}"


def test_a_missing_required_field_is_named() -> None:
    spec = copy.deepcopy(SEED000)
    del spec["loss"]
    with pytest.raises(SpecError, match=r"^spec: loss: required field is missing\.$"):
        parse_spec(spec)


def test_the_spec_reads_back_as_the_data_it_came_from() -> None:
    """The key JSON embeds the spec: every field the instructor wrote comes back unchanged,
    under the instructor's names (`from`, `to`), with the defaults filled in."""
    spec = copy.deepcopy(SEED000)
    spec["weights"]["w1"] = {"from": "x1", "to": "z1", "value": 0.3}
    plain = as_plain_data(parse_spec(spec))
    assert _holds(plain, spec)
    assert plain["biases"] == {} and plain["data"] is None and plain["layers"][0]["bias"] == "none"


def _holds(plain: object, given: object) -> bool:
    """Every value given is in `plain` at the same place; `plain` may add defaults."""
    if isinstance(given, dict):
        return isinstance(plain, dict) and all(k in plain and _holds(plain[k], v) for k, v in given.items())
    if isinstance(given, list):
        return isinstance(plain, list) and len(plain) == len(given) and all(map(_holds, plain, given))
    return plain == given


def test_derive_load_accepts_the_same_data_as_the_file() -> None:
    from_file = derive.load(EXAMPLES / "2-2-1-linear-mse.yaml")
    from_dict = derive.load(copy.deepcopy(SEED000))
    assert as_plain_data(from_file.spec) == as_plain_data(from_dict.spec)


# A spec that gives some numbers and leaves others out was worked wholly in symbols, the
# numbers it gave dropped without a word (a 3-4-4-2 spec without weights: printed x1, x2, ...
# with no values); it is refused, naming the first group with a value missing.
PARTLY_GIVEN = [
    ({"weights": {}}, "weights: this spec gives numbers (inputs), so every value needs one; it leaves out weights: w1, w2, "
                      "w3, w4 and 2 more (6 in all). Give them, or leave every number out for a symbolic derivation."),
    ({"targets": {"y": None}}, "targets: this spec gives numbers (inputs), so every value needs one; no value for y (1 in "
                               "all). Give them, or leave every number out for a symbolic derivation."),
    ({"inputs": {"x1": 0.5, "x2": None}}, "inputs: this spec gives numbers (inputs), so every value needs one; no value "
                                          "for x2 (1 in all). Give them, or leave every number out for a symbolic derivation."),
]


@pytest.mark.parametrize(("change", "message"), PARTLY_GIVEN, ids=[next(iter(c)) for c, _ in PARTLY_GIVEN])
def test_a_spec_with_some_numbers_left_out_is_refused(change: dict, message: str) -> None:
    spec = copy.deepcopy(SEED000) | change
    with pytest.raises(SpecError) as caught:
        derive.load(spec).key()
    assert str(caught.value) == f"spec: {message}"


def test_a_spec_with_no_numbers_at_all_is_still_worked_in_symbols() -> None:
    symbolic = yaml.safe_load((EXAMPLES / "1-1-1-symbolic.yaml").read_text(encoding="utf-8"))
    assert all(item["value"] is None for item in derive.load(symbolic).key()["items"])
