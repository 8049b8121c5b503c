"""Every name means one thing: the learning rate's symbol (eta), the loss symbol and every
input, target, unit and parameter name are distinct; a custom function may not take a
built-in one's name; numbered weights are bound to connections by their numbers.

Each mistake is a pair of a spec change and the exact message (in process), and a few
are checked end to end (exit status 2, nothing written, no traceback). The values of the
networks that are accepted come from a hand computation or from sympy.diff of the
inlined loss, never from the engine's own numbers."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path

import pytest
import sympy
import yaml

import derive
from derive.spec.schema import SpecError

from ..conftest import IDENTITY_221, ROOT

BASE = {**IDENTITY_221, "precision": {"digits": 4, "carry": "exact"}}  # connections numbered as conftest says
SPARSE = {"p": {"from": "x1", "to": "z1", "value": 0.3}, "q": {"from": "x1", "to": "z2", "value": 0.2},
          "r": {"from": "a1", "to": "z3", "value": 0.4}}


def _with(**changes: object) -> dict:
    spec = copy.deepcopy(BASE)
    for dotted, value in changes.items():
        target = spec
        *path, last = dotted.split("__")
        for part in path:
            target = target[int(part)] if part.isdigit() else target[part]
        target[int(last) if last.isdigit() else last] = copy.deepcopy(value)
    return spec


def _custom_layer(name: str, units: int = 2) -> dict:
    return {"units": units, "activation": {"name": name, "formula": "z^2"}}


MESSAGES = [
    # The learning rate's symbol, wherever a name is written.
    (_with(inputs={"eta": 0.5, "x2": 0.3}), "inputs.eta: the name 'eta' is the learning rate's symbol; choose another name."),
    (_with(targets={"eta": 0.7}), "targets.eta: the name 'eta' is the learning rate's symbol; choose another name."),
    (_with(weights={"w1": 0.3, "w2": 0.2, "eta": 0.2, "w4": 0.3, "w5": 0.4, "w6": 0.5}),
     "weights.eta: the name 'eta' is the learning rate's symbol; choose another name."),
    (_with(layers__0__bias="shared", biases={"eta": 0.1}),
     "biases.eta: the name 'eta' is the learning rate's symbol; choose another name."),
    (_with(layers__0__pre=["z1", "eta"]), "layers[0].pre[1]: the name 'eta' is the learning rate's symbol; choose another name."),
    (_with(layers__1__post=["eta"]), "layers[1].post[0]: the name 'eta' is the learning rate's symbol; choose another name."),
    (_with(loss_symbol="eta"), "loss_symbol: the name 'eta' is the learning rate's symbol; choose another name."),
    # Two written names, and a written name against a default one.
    (_with(targets={"x1": 0.7}), "targets.x1: the name 'x1' is already used in inputs.x1; choose another name."),
    (_with(layers__0__post=["a1", "x2"]), "layers[0].post[1]: the name 'x2' is already used in inputs.x2; choose another name."),
    (_with(inputs={"a1": 0.5, "x2": 0.3}),
     "inputs.a1: the name 'a1' is also the default name of layers[0].post[0]; choose another name, or name the default "
     "ones in the spec."),
    (_with(targets={"z3": 0.7}),
     "targets.z3: the name 'z3' is also the default name of layers[1].pre[0]; choose another name, or name the default "
     "ones in the spec."),
    (_with(loss_symbol="yhat1"),
     "loss_symbol: the name 'yhat1' is also the default name of layers[1].post[0]; choose another name, or name the "
     "default ones in the spec."),
    (_with(inputs={"w1": None, "x2": None}, targets={"y1": None}, weights={}, learning_rate=None),
     "inputs.w1: the name 'w1' is also the default name of weights; choose another name, or name the default ones in "
     "the spec."),
    (_with(layers__0__bias="per_unit", biases={}, inputs={"b2": 0.5, "x2": 0.3}),
     "inputs.b2: the name 'b2' is also the default name of biases; choose another name, or name the default ones in the spec."),
    # A custom function with a built-in one's name would be computed as the built-in one.
    (_with(layers__0=_custom_layer("relu")),
     "layers[0].activation.name: 'relu' is a built-in activation's name; give the custom activation another name "
     "(or write activation: relu for the built-in one)."),
    (_with(layers__1=_custom_layer("softmax", 1)),
     "layers[1].activation.name: 'softmax' is a built-in activation's name; give the custom activation another name "
     "(or write activation: softmax for the built-in one)."),
    (_with(layers__0=_custom_layer("identity")), "layers[0].activation.name: 'identity' is a built-in activation's name"),
    (_with(loss={"name": "mse", "formula": "(y - yhat)^2"}),
     "loss.name: 'mse' is a built-in loss's name; give the custom loss another name (or write loss: mse for the built-in one)."),
    (_with(loss={"name": "cross_entropy", "formula": "-y*log(yhat)"}), "loss.name: 'cross_entropy' is a built-in loss's name"),
    # Numbered weights are placed by number; what cannot be placed is refused.
    (_with(weights={"w1": 0.3, "w2": 0.2, "w3": 0.2, "w4": 0.3, "w5": 0.4, "w7": 0.5}),
     "weights.w7: this network has 6 connections (2x2 + 2x1), so its numbered weights are w1 to w6."),
    (_with(weights={"w0": 0.3, "w2": 0.2, "w3": 0.2, "w4": 0.3, "w5": 0.4, "w6": 0.5}),
     "weights.w0: numbered weights start at w1 (w1 is the first connection)."),
    (_with(weights={"w1": 0.3, "w01": 0.2, "w3": 0.2, "w4": 0.3, "w5": 0.4, "w6": 0.5}),
     "weights.w01: the number 1 is already taken by weights.w1."),
    (_with(weights={"w1": 0.3, "w2": 0.2, "v": 0.2, "w4": 0.3, "w5": 0.4, "w6": 0.5}),
     "weights.v: numbered weights (w1, w2, ...) are placed by their numbers and other names by the order written, so the "
     "two cannot be mixed; name it w<k>, or pin it with {from, to, value}."),
    (_with(weights={"w1": 0.3, "w2": 0.2, "w3": 0.2}), "weights: expected 6 weights for this network (2x2 + 2x1); got 3."),
    (_with(weights={**SPARSE, "s": {"from": "x1", "to": "z1", "value": 0.9}}),
     "weights.s: the connection from 'x1' to 'z1' already has weights.p; each connection has one weight."),
    # Explicit weights only: the network has just the listed connections.
    (_with(weights=SPARSE), "layers[0]: unit a2 feeds nothing; give it a weight to the next layer."),
    (_with(weights={"p": SPARSE["p"], "r": SPARSE["r"], "s": {"from": "a2", "to": "z3", "value": 0.5}}),
     "layers[0]: unit z2 has no incoming weight or bias; give it a weight from the layer before."),
    (_with(weights={"p": SPARSE["p"], "q": SPARSE["q"], "r": SPARSE["r"], "s": {"from": "a2", "to": "z3", "value": 0.5}}),
     "inputs.x2: the input feeds nothing; give it a weight to the first layer."),
]


@pytest.mark.parametrize(("spec", "message"), MESSAGES, ids=[m[1].split(":")[0] + f"#{i}" for i, m in enumerate(MESSAGES)])
def test_each_name_mistake_gets_its_message(spec: dict, message: str) -> None:
    with pytest.raises(SpecError) as caught:
        derive.load(spec)
    assert str(caught.value).startswith(f"spec: {message}"), str(caught.value)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"inputs": {"eta": 0.5, "x2": 0.3}}, "inputs.eta: the name 'eta' is the learning rate's symbol; choose another name."),
        ({"layers": [_custom_layer("softmax"), {"units": 1, "activation": "identity"}]},
         "layers[0].activation.name: 'softmax' is a built-in activation's name"),
        ({"weights": SPARSE}, "layers[0]: unit a2 feeds nothing; give it a weight to the next layer."),
    ],
)
def test_a_name_mistake_ends_in_one_message_and_exit_status_2(tmp_path: Path, change: dict, message: str) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump({**copy.deepcopy(BASE), **change}, sort_keys=False), encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "derive", "key", str(path), "-o", str(tmp_path / "key.json")],
                            capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 2 and message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "key.json").exists()


def test_the_learning_rate_keeps_its_own_symbol_and_latex() -> None:
    derivation = derive.load(_with(latex={"eta": r"\alpha"})).derivation
    assert derivation.names[derivation.primitives["eta"]] == r"\alpha"
    # w1' = w1 - eta dL/dw1 with dL/dw1 = -2 (y1 - yhat1) w5 x1 by hand.
    yhat = 0.4 * (0.3 * 0.5 + 0.2 * 0.3) + 0.5 * (0.2 * 0.5 + 0.3 * 0.3)
    assert derivation["w1'"].exact == pytest.approx(0.3 - 0.1 * (-2 * (0.7 - yhat) * 0.4 * 0.5), rel=1e-12)


# --- weights bound by name ---------------------------------------------------------------


def _connections(spec: dict) -> dict[str, tuple[str, str, float]]:
    network = derive.load(spec).network
    return {w.name: (w.source, w.targets[0], w.value) for w in network.weights}  # type: ignore[misc]


def test_numbered_weights_written_out_of_order_take_their_own_connections() -> None:
    """{w2: 0.2, w1: 0.3, ...} is the same network as {w1: 0.3, w2: 0.2, ...}: z1 = w1 x1 +
    w3 x2 = 0.3 * 0.5 + 0.2 * 0.3 = 0.21 (it was 0.16, w2 taking the first connection)."""
    shuffled = _with(weights={"w2": 0.2, "w6": 0.5, "w1": 0.3, "w4": 0.3, "w3": 0.2, "w5": 0.4})
    assert _connections(shuffled) == _connections(BASE)
    assert _connections(shuffled)["w1"] == ("x1", "z1", 0.3)
    assert derive.load(shuffled).derivation["z1"].value == 0.21
    values = lambda spec: {s.id: s.value for s in derive.load(spec).derivation.steps}  # noqa: E731
    assert values(shuffled) == values(BASE)


def test_numbered_weights_follow_weight_order_by_target() -> None:
    # by_target: 1: x1->z1, 2: x2->z1, 3: x1->z2, 4: x2->z2, 5: a1->z3, 6: a2->z3.
    spec = _with(weight_order="by_target", weights={"w6": 0.6, "w3": 0.3, "w5": 0.5, "w1": 0.1, "w4": 0.4, "w2": 0.2})
    assert _connections(spec) == {"w1": ("x1", "z1", 0.1), "w2": ("x2", "z1", 0.2), "w3": ("x1", "z2", 0.3),
                                  "w4": ("x2", "z2", 0.4), "w5": ("a1", "z3", 0.5), "w6": ("a2", "z3", 0.6)}
    assert derive.load(spec).derivation["z2"].value == pytest.approx(0.3 * 0.5 + 0.4 * 0.3)


def test_explicit_weights_keep_their_connection_and_numbered_ones_fill_the_rest_by_number() -> None:
    """w7 pinned to x2->z1 (connection 3); w1..w5, written in any order, take the
    remaining connections 1, 2, 4, 5, 6 in the order of their numbers."""
    spec = _with(weights={"w5": 0.5, "w7": {"from": "x2", "to": "z1", "value": 0.7}, "w3": 0.3, "w1": 0.1, "w4": 0.4, "w2": 0.2})
    assert _connections(spec) == {"w1": ("x1", "z1", 0.1), "w2": ("x1", "z2", 0.2), "w7": ("x2", "z1", 0.7),
                                  "w3": ("x2", "z2", 0.3), "w4": ("a1", "z3", 0.4), "w5": ("a2", "z3", 0.5)}
    assert derive.load(spec).derivation["z1"].value == pytest.approx(0.1 * 0.5 + 0.7 * 0.3)


def test_weights_with_other_names_keep_the_order_written() -> None:
    spec = _with(weights={"u": 0.3, "p": 0.2, "k": 0.2, "b": 0.3, "s": 0.4, "a": 0.5})
    assert [name for name, _ in sorted(_connections(spec).items(), key=lambda item: list(spec["weights"]).index(item[0]))] \
        == ["u", "p", "k", "b", "s", "a"]
    assert _connections(spec)["u"] == ("x1", "z1", 0.3) and _connections(spec)["k"] == ("x2", "z1", 0.2)


def test_explicit_weights_only_make_a_sparse_network_whose_gradients_are_right() -> None:
    """z1 = p x1, z2 = q x2, z3 = r a1 + s a2 (no x1->z2, no x2->z1): each gradient is
    sympy.diff of the loss written out by hand, at the spec's numbers."""
    spec = _with(weights={"p": {"from": "x1", "to": "z1", "value": 0.3}, "q": {"from": "x2", "to": "z2", "value": 0.2},
                          "r": {"from": "a1", "to": "z3", "value": 0.4}, "s": {"from": "a2", "to": "z3", "value": 0.5}},
                 layers=[{"units": 2, "activation": "sigmoid"}, {"units": 1, "activation": "identity"}])
    derivation = derive.load(spec).derivation
    p, q, r, s, x1, x2, y1 = sympy.symbols("p q r s x1 x2 y1", real=True)
    sigmoid = lambda z: 1 / (1 + sympy.exp(-z))  # noqa: E731
    loss = (y1 - (r * sigmoid(p * x1) + s * sigmoid(q * x2))) ** 2
    at = {p: 0.3, q: 0.2, r: 0.4, s: 0.5, x1: 0.5, x2: 0.3, y1: 0.7}
    assert derivation["L"].exact == pytest.approx(float(loss.subs(at)), rel=1e-12)
    for name, symbol in (("p", p), ("q", q), ("r", r), ("s", s)):
        assert derivation[f"dL/d{name}"].exact == pytest.approx(float(sympy.diff(loss, symbol).subs(at)), rel=1e-12), name
    assert {step.id for step in derivation.steps} >= {"dL/dp", "dL/dq", "dL/dr", "dL/ds"}
