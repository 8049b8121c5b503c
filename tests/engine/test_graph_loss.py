"""`graph.loss:` over named outputs and targets: the layered networks' losses (one definition,
derive/engine/functions.py) applied to nodes of a graph, checked against sympy.diff of the
inlined loss written out here by hand and against PyTorch autograd in float64."""

from __future__ import annotations

import copy
import math
from typing import Any

import pytest
import sympy

from derive.engine.problem import build
from derive.spec.schema import SpecError, parse_spec

TWO_OUTPUTS: dict[str, Any] = {
    "language": "en",
    "precision": {"carry": "exact", "digits": 12},
    "graph": {
        "inputs": {"x": 0.5},
        "parameters": {"a": 0.8, "b": -0.3},
        "nodes": [{"y1": "sigmoid(a*x + b)"}, {"y2": "tanh(a*y1)"}],
        "loss": {"name": "mse", "outputs": ["y1", "y2"], "targets": {"y1": 0.5, "y2": 0.1}},
    },
}
X, A, B = sympy.symbols("x a b", real=True)
Y1 = 1 / (1 + sympy.exp(-(A * X + B)))
Y2 = sympy.tanh(A * Y1)
# Each loss written out by hand from its textbook definition, not from derive's functions.
INLINED = {
    "mse": ((Y1 - 0.5) ** 2 + (Y2 - 0.1) ** 2) / 2,
    "squared_error": (0.5 - Y1) ** 2 + (0.1 - Y2) ** 2,
    "half_squared_error": ((0.5 - Y1) ** 2 + (0.1 - Y2) ** 2) / 2,
    "binary_cross_entropy": -(0.5 * sympy.log(Y1) + 0.5 * sympy.log(1 - Y1) + 0.1 * sympy.log(Y2) + 0.9 * sympy.log(1 - Y2)),
}
POINT = {X: 0.5, A: 0.8, B: -0.3}


def _spec(name: str, granularity: str) -> dict[str, Any]:
    data = copy.deepcopy(TWO_OUTPUTS)
    data["graph"]["loss"]["name"] = name
    data["graph"]["granularity"] = granularity
    return data


@pytest.mark.parametrize("granularity", ["gates", "nodes"])
@pytest.mark.parametrize("name", sorted(INLINED))
def test_loss_gradients_match_sympy_diff_of_the_inlined_loss(name: str, granularity: str) -> None:
    d = build(_spec(name, granularity)).derivation
    inlined = INLINED[name]
    assert math.isclose(d["L"].value, float(inlined.subs(POINT)), rel_tol=1e-9)
    for leaf, symbol in (("x", X), ("a", A), ("b", B)):
        assert math.isclose(d[f"dL/d{leaf}"].value, float(sympy.diff(inlined, symbol).subs(POINT)), rel_tol=1e-9), leaf
    assert d["L"].kind == "loss"


def test_loss_gradients_match_pytorch() -> None:
    torch = pytest.importorskip("torch")
    x = torch.tensor(0.5, dtype=torch.float64, requires_grad=True)
    a = torch.tensor(0.8, dtype=torch.float64, requires_grad=True)
    b = torch.tensor(-0.3, dtype=torch.float64, requires_grad=True)
    y1 = torch.sigmoid(a * x + b)
    y2 = torch.tanh(a * y1)
    loss = torch.nn.functional.mse_loss(torch.stack([y1, y2]), torch.tensor([0.5, 0.1], dtype=torch.float64))
    loss.backward()
    d = build(_spec("mse", "gates")).derivation
    assert math.isclose(d["L"].value, loss.item(), rel_tol=1e-9)
    for leaf, tensor in (("x", x), ("a", a), ("b", b)):
        assert math.isclose(d[f"dL/d{leaf}"].value, tensor.grad.item(), rel_tol=1e-9), leaf


def test_loss_becomes_a_node_and_reads_back_the_same() -> None:
    """The loss is written out as the last node over target leaves t_y1, t_y2; the spec as
    stored in a key parses again to the same graph (no second loss node)."""
    import msgspec

    spec = parse_spec(_spec("mse", "nodes"))
    assert spec.graph is not None and spec.graph.loss is None
    assert spec.graph.output_name == "L" and spec.graph.targets == {"t_y1": 0.5, "t_y2": 0.1}
    again = parse_spec(msgspec.to_builtins(spec))
    assert again.graph == spec.graph


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"outputs": ["y1", "q"]}, "graph.loss.outputs[1]: 'q' is not a node"),
        ({"targets": {"y1": 0.5}}, "graph.loss.targets: no target for y2"),
        ({"targets": {"y1": 0.5, "y2": 0.1, "z": 1}}, "graph.loss.targets.z: 'z' is not one of the loss's outputs"),
        ({"name": "cross_entropy", "targets": {"y1": 0.5, "y2": 2}}, "graph.loss.targets.y2: cross_entropy compares with a probability"),
        ({"name": "hinge"}, "graph.loss.name"),
    ],
)
def test_bad_loss_is_one_message(change: dict[str, Any], message: str) -> None:
    data = copy.deepcopy(TWO_OUTPUTS)
    data["graph"]["loss"].update(change)
    with pytest.raises(SpecError, match="^spec: " + message.replace("[", r"\[").replace("]", r"\]").replace(".", r"\.")):
        parse_spec(data)


def test_loss_and_output_together_are_refused() -> None:
    data = copy.deepcopy(TWO_OUTPUTS)
    data["graph"]["output"] = "y2"
    with pytest.raises(SpecError, match="graph.output: a graph with loss: differentiates the loss L"):
        parse_spec(data)
