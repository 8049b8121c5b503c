"""Every layered example spec written as a graph gives the same key items: the same ids and
the same values under the same rounding policy, carried the same way."""

from __future__ import annotations

from typing import Any

import pytest

from derive.api import load
from derive.engine.network import Network
from derive.engine.problem import build
from derive.views.key import asked_ids
from tests.conftest import EXAMPLES, OUTPUT_AND_LOSS, random_spec

# A graph is worked for one evaluation with plain gradient descent, so the Adam and mini-batch
# examples have no graph to be written as (a graph: spec refuses optimizer and samples).
LAYERED = sorted(path for path in EXAMPLES.glob("*.yaml")
                 if not path.name.startswith("graph-") and path.name not in ("2-2-1-adam.yaml", "2-3-2-minibatch.yaml"))
_ACTIVATIONS = {"identity": "{z}", "sigmoid": "sigmoid({z})", "tanh": "tanh({z})", "relu": "relu({z})"}


def _loss(network: Network) -> str:
    pairs = list(zip(network.targets, (unit.post for unit in network.outputs)))
    name, n = network.spec.loss, len(pairs)
    squares = " + ".join(f"({y} - {h})^2" for y, h in pairs)
    return {
        "squared_error": squares,
        "half_squared_error": " + ".join(f"({y} - {h})^2 / 2" for y, h in pairs),
        "mse": squares if n == 1 else f"({squares}) / {n}",
        "binary_cross_entropy": "-(" + " + ".join(f"{y}*log({h}) + (1 - {y})*log(1 - {h})" for y, h in pairs) + ")",
        "cross_entropy": "-(" + " + ".join(f"{y}*log({h})" for y, h in pairs) + ")",
    }[name]  # type: ignore[index]


def as_graph(network: Network, chain: str) -> dict[str, Any]:
    """The network's units as nodes: z = sum of weight x source (+ bias), a = g(z), the loss."""
    nodes: list[dict[str, str]] = []
    kinds: dict[str, str] = {}
    for unit in network.units:
        terms = [f"{p.name}*{p.source}" if p.source else p.name for p in network.incoming(unit)]
        nodes.append({unit.pre: " + ".join(terms)})
        nodes.append({unit.post: _ACTIVATIONS[unit.activation.name].format(z=unit.pre)})
        kinds[unit.pre], kinds[unit.post] = "weighted_sum", "output" if unit.is_output else "activation"
    nodes.append({network.loss_symbol: _loss(network)})
    kinds[network.loss_symbol] = "loss"
    spec = network.spec
    return {
        "title": spec.title, "language": spec.language, "learning_rate": spec.learning_rate, "steps": spec.steps,
        "precision": {name: getattr(spec.precision, name) for name in ("digits", "mode", "carry", "rounding")}
        | spec.per_kind_digits(), "chain": chain, "latex": dict(spec.latex),
        "graph": {"inputs": dict(network.inputs), "targets": dict(network.targets),
                  "parameters": {p.name: p.value for p in network.parameters}, "nodes": nodes, "kinds": kinds,
                  "wrt": [p.name for p in network.parameters], "granularity": "nodes"},
    }


@pytest.mark.parametrize("path", LAYERED, ids=lambda path: path.name)
def test_layered_example_as_graph_has_the_same_key_items(path: Any) -> None:
    layered = load(path).derivation
    data = as_graph(layered.network, layered.chain)
    if data["learning_rate"] is None:
        del data["learning_rate"]
    graph = build(data).derivation
    ids = asked_ids(layered)
    assert sorted(asked_ids(graph)) == sorted(ids)
    for step_id in ids:
        assert graph[step_id].value == layered[step_id].value, step_id
        if layered[step_id].exact is not None:
            assert graph[step_id].exact == pytest.approx(layered[step_id].exact, rel=1e-12), step_id


def test_the_examples_are_all_here() -> None:
    assert len(LAYERED) >= 4


RANDOM = [(seed, hidden, output, loss) for seed, (hidden, (output, loss)) in enumerate(
    (hidden, pair) for hidden in ("identity", "sigmoid", "tanh", "relu") for pair in OUTPUT_AND_LOSS if pair[0] != "softmax")]


@pytest.mark.parametrize(("seed", "hidden", "output", "loss"), RANDOM)
def test_random_networks_as_graphs_have_the_same_key_items(seed: int, hidden: str, output: str, loss: str) -> None:
    """Biases, several outputs and both chain forms; an output signal that cancels (sigmoid
    with binary cross-entropy: y-hat - y) is the one place the graph, which differentiates
    what it is given, rounds along another road, so there only the exact values are compared."""
    layered = build(random_spec(seed, hidden, output, loss, hidden_layers=1 + seed % 2)).derivation
    data = as_graph(layered.network, layered.chain)
    graph = build(data).derivation
    ids = asked_ids(layered)
    assert sorted(asked_ids(graph)) == sorted(ids)
    cancels = any(step.simplified for step in layered.steps)
    for step_id in ids:
        assert graph[step_id].exact == pytest.approx(layered[step_id].exact, rel=1e-9, abs=1e-12), step_id
        if not cancels:
            assert graph[step_id].value == layered[step_id].value, step_id
