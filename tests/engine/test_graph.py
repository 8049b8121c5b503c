"""Graph specs: the messages for a bad graph, and hand-checked circuits (CS231n's board
examples) at both granularities."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from derive.engine.problem import build
from derive.spec.schema import SpecError, parse_spec

SUM_TIMES_PRODUCT: dict[str, Any] = {
    "language": "en",
    "graph": {"inputs": {"x": -2, "y": 5, "z": -4}, "nodes": [{"q": "x + y"}, {"f": "q * z"}]},
}
# CS231n's sigmoid neuron: f = sigma(w0 x0 + w1 x1 + w2) = 0.73, gradients -0.2, 0.39, -0.39, -0.59, 0.2.
NEURON: dict[str, Any] = {
    "language": "en",
    "precision": {"digits": 2, "mode": "decimals", "carry": "exact"},
    "graph": {
        "inputs": {"x0": -1, "x1": -2},
        "parameters": {"w0": 2, "w1": -3, "w2": -3},
        "nodes": [{"f": "sigmoid(w0*x0 + w1*x1 + w2)"}],
    },
}


def _with(base: dict[str, Any], **graph: Any) -> dict[str, Any]:
    data = copy.deepcopy(base)
    data["graph"].update(graph)
    return data


@pytest.mark.parametrize("granularity", ["gates", "nodes"])
def test_sum_times_product_by_hand(granularity: str) -> None:
    d = build(_with(SUM_TIMES_PRODUCT, granularity=granularity)).derivation
    values = {step.id: step.value for step in d.steps}
    assert values["q"] == 3 and values["f"] == -12
    assert (values["df/dx"], values["df/dy"], values["df/dz"], values["df/dq"]) == (-4, -4, 3, -4)


@pytest.mark.parametrize("granularity", ["gates", "nodes"])
def test_sigmoid_neuron_by_hand(granularity: str) -> None:
    d = build(_with(NEURON, granularity=granularity)).derivation
    got = {name: d[f"df/d{name}"].value for name in ("x0", "x1", "w0", "w1", "w2")}
    assert d["f"].value == 0.73
    assert got == {"x0": 0.39, "x1": -0.59, "w0": -0.2, "w1": -0.39, "w2": 0.2}
    # The fused gate's local gradient is written sigma(1 - sigma) in the node's own value.
    if granularity == "nodes":
        assert str(d["df/dw2"].expression) == "f*(1 - f)"
    else:
        assert {gate.op for gate in d.network.gates} == {"multiply", "add", "sigmoid"}  # type: ignore[attr-defined]


def test_fork_sums_both_uses() -> None:
    """x is used by q and by f: df/dx is written as the sum over its two uses."""
    d = build({"language": "en", "graph": {"inputs": {"x": 3, "y": -1}, "nodes": [{"q": "x * y"}, {"f": "q + x"}]}}).derivation
    step = d["df/dx"]
    assert len(step.terms) == 2 and step.value == -1 + 1  # y + 1
    assert "df/dx.local" in d and d["df/dx.local"].value == 1


def test_update_and_pass_after() -> None:
    data = _with(SUM_TIMES_PRODUCT, parameters={"z": -4}, inputs={"x": -2, "y": 5}, wrt=["z"])
    data["learning_rate"] = 0.1
    d = build(data).derivation
    assert d["z'"].value == pytest.approx(-4 - 0.1 * 3)
    assert d["f'"].value == pytest.approx(3 * -4.3)
    assert "df/dx" not in d  # only the asked leaves' gradients
    assert d.loss_history == [-12, pytest.approx(-12.9)]


@pytest.mark.parametrize("granularity", ["gates", "nodes"])
@pytest.mark.parametrize("formula", ["max(x, y) * z", "min(x, y) * z", "max(z, y) * x"])
@pytest.mark.parametrize(("conventions", "first"), [({}, 0.5), ({"max_tie": 1}, 1.0), ({"max_tie": 0}, 0.0), ({"max_tie": 0.25}, 0.25)])
def test_a_tie_splits_the_gradient_into_shares_that_add_to_one(conventions: dict[str, float], first: float, formula: str,
                                                                granularity: str) -> None:
    """The first tied argument as written (z in max(z, y), which SymPy would sort after y)
    gets the stated share and the other the rest: max_tie: 1 had given both tied inputs 1, a
    gradient of 2 in all."""
    tied = ("z", "y") if formula.startswith("max(z") else ("x", "y")
    other = ({"x", "y", "z"} - set(tied)).pop()
    data = {"language": "en", "graph": {"inputs": {tied[0]: 2, tied[1]: 2, other: 3}, "nodes": [{"f": formula}],
                                        "conventions": conventions, "granularity": granularity}}
    d = build(data).derivation
    assert (d[f"df/d{tied[0]}"].value, d[f"df/d{tied[1]}"].value) == (3 * first, 3 * (1 - first))


def test_the_stated_tie_says_which_input_gets_which_share() -> None:
    from derive.views.documents import render

    data = {"language": "en", "graph": {"inputs": {"x": 2, "y": 2}, "nodes": [{"f": "max(x, y)"}], "conventions": {"max_tie": 0.25}}}
    text = render(build(data), "handout", "md")
    assert "the first input as written in the formula receives $$0.25$$ of the gradient and the second $$0.75$$" in text


@pytest.mark.parametrize("granularity", ["gates", "nodes"])
@pytest.mark.parametrize(("formula", "winner"), [("max(p, q) * z", "p"), ("min(p, q) * z", "q"), ("relu(p - q) * z", "p")])
def test_the_branch_is_taken_at_the_exact_values_not_the_rounded_ones(formula: str, winner: str, granularity: str) -> None:
    """p = 0.24682 and q = 0.24676 both print as 0.247, but they do not tie: the key had split
    max's gradient 3 and 3 where it is 6 and 0 (and set ReLU's slope at 0)."""
    data = {"language": "en", "precision": {"digits": 3}, "graph": {
        "inputs": {"a": 0.24682, "b": 0.24676, "z": 6}, "nodes": [{"p": "a * 1"}, {"q": "b * 1"}, {"f": formula}],
        "granularity": granularity}}  # p and q are nodes, each rounded to 0.247
    d = build(data).derivation
    assert d["p"].value == d["q"].value == 0.247
    loser = "q" if winner == "p" else "p"
    assert d[f"df/d{winner}"].value == 6 and d[f"df/d{loser}"].value == (-6 if formula.startswith("relu") else 0)


@pytest.mark.parametrize(("formula", "field", "value"), [("relu(x)", "relu_at_zero", 1.0), ("abs(x)", "abs_at_zero", -1.0)])
def test_kink_conventions(formula: str, field: str, value: float) -> None:
    base = {"language": "en", "graph": {"inputs": {"x": 0}, "nodes": [{"f": formula}]}}
    assert build(base).derivation["df/dx"].value == 0
    stated = _with(base, conventions={field: value})
    assert build(stated).derivation["df/dx"].value == value


def _refused(data: dict[str, Any]) -> str:
    with pytest.raises(SpecError) as caught:
        parse_spec(data, "g.yaml")
    return str(caught.value)


@pytest.mark.parametrize(
    ("graph", "message"),
    [
        ({"nodes": [{"q": "q + x"}, {"f": "q"}]}, "g.yaml: graph.nodes[0].q: q uses itself; a graph has no cycles"),
        ({"nodes": [{"q": "f + x"}, {"f": "q * y"}]}, "g.yaml: graph.nodes[0].q: uses f, which is defined later (graph.nodes[1]); a graph has no cycles"),
        ({"nodes": [{"q": "x + yy"}, {"f": "q"}]}, "g.yaml: graph.nodes[0].q: 'yy' is not an input, parameter, target or earlier node. Did you mean 'y'?"),
        ({"nodes": [{"q": "x + y"}, {"p": "x * y"}, {"f": "q"}]}, "g.yaml: graph.nodes[1].p: the node p is not used on the way to the output f"),
        ({"nodes": [{"f": "x * 2"}]}, "g.yaml: graph.inputs.y: y is not used by any node on the way to the output f."),
        ({"nodes": [{"q": "x + y", "f": "q"}]}, "g.yaml: graph.nodes[0]: each node is one `name: formula` pair"),
        ({"nodes": [{"f": "x + y"}], "output": "g"}, "g.yaml: graph.output: 'g' is not a node; the output is one of f."),
        ({"nodes": [{"q": "x + y"}, {"f": "q"}], "wrt": ["q"]}, "g.yaml: graph.wrt[0]: 'q' is a node"),
        ({"nodes": [{"x": "y"}, {"f": "x"}]}, "g.yaml: graph.nodes[0]: the name 'x' is already used in graph.inputs.x"),
        ({"nodes": [{"f": "x + __import__(y)"}]}, "g.yaml: graph.nodes[0].f: '__import__(y)' is not allowed"),
        ({"nodes": [{"f": "x / 0 + y"}]}, "g.yaml: graph.nodes[0].f: the formula is undefined or infinite"),
        # a formula that does not parse is worded as such, not as a constant with no input
        ({"nodes": [{"f": "x +* y"}]}, "g.yaml: graph.nodes[0].f: the formula cannot be read (invalid syntax); write it like (x + y) * sigmoid(w*z); got 'x +* y'."),
        ({"nodes": [{"f": "2x + y"}]}, "g.yaml: graph.nodes[0].f: the formula cannot be read (invalid decimal literal)"),
        ({"nodes": [{"f": "2 + 3"}]}, "g.yaml: graph.nodes[0].f: the formula uses no input, parameter or earlier node; a constant is no node"),
        ({"inputs": {"x": 1, "y": None}, "nodes": [{"f": "x * y"}]},
         "g.yaml: graph.inputs.y: the other leaves have numbers, so this one needs one too (or leave every number out for a "
         "symbolic derivation)."),
    ],
)
def test_each_graph_mistake_has_its_message(graph: dict[str, Any], message: str) -> None:
    data = {"language": "en", "graph": {"inputs": {"x": 1, "y": 2}, **graph}}
    assert _refused(data).startswith(message)


@pytest.mark.parametrize(
    ("graph", "message"),
    [
        ({"inputs": {"x": -1}, "nodes": [{"f": "log(x)"}]},
         "g.yaml: graph.nodes[0].f: the numbers cannot be computed: f = log(x) with x = -1: log of -1 is undefined: "
         "log takes only positive numbers."),
        ({"inputs": {"x": 0.5}, "parameters": {"w": -0.874}, "nodes": [{"y": "w*x"}], "granularity": "gates",
          "loss": {"name": "binary_cross_entropy", "outputs": ["y"], "targets": {"y": 1}}},
         "g.yaml: graph.loss: the numbers cannot be computed: L_g1 = log(y) with y = -0.437: log of -0.437 is undefined"),
        ({"inputs": {"x": 0.5}, "parameters": {"w": 0.9}, "nodes": [{"q": "w*x"}, {"y": "sqrt(q - 0.45)"}], "granularity": "gates"},
         "g.yaml: graph.nodes[1].y: the numbers cannot be computed: dy/dy_g1 = "),
    ],
)
def test_a_number_that_cannot_be_computed_names_its_node(graph: dict[str, Any], message: str) -> None:
    """The node's field and why, not a network's hint about outputs of exactly 0 or 1."""
    with pytest.raises(SpecError) as caught:
        build({"language": "en", "graph": graph}, "g.yaml").derivation
    assert str(caught.value).startswith(message), str(caught.value)


def test_layers_beside_a_graph_refused() -> None:
    data = {**SUM_TIMES_PRODUCT, "layers": [{"units": 1, "activation": "identity"}]}
    assert _refused(data) == (
        "g.yaml: layers: a spec with graph: describes its circuit in graph.nodes; leave out the top-level layers."
    )


@pytest.mark.parametrize(("field", "value"), [("steps", 3), ("samples", [{"inputs": {"x": 1}, "targets": {}}]),
                                           ("optimizer", {"name": "adam"}), ("reduction", "sum")])
def test_training_beyond_one_step_is_refused_for_a_graph(field: str, value: Any) -> None:
    """A graph is worked for one update; `steps: 3` had reached the evaluation and crashed."""
    data = {**SUM_TIMES_PRODUCT, field: value, "learning_rate": 0.1}
    assert _refused(data) == (f"g.yaml: {field}: a graph: spec is worked for one evaluation with plain gradient descent; "
                              f"leave {field} out (or write the network as layers:).")


def test_neither_layers_nor_graph() -> None:
    assert _refused({"inputs": {"x": 1}, "targets": {"y": 1}, "loss": "mse"}) == "g.yaml: layers: required field is missing."


def test_a_name_that_cancels_out_is_refused() -> None:
    data = {"language": "en", "graph": {"inputs": {"x": 1, "y": 2}, "nodes": [{"f": "x - x + y"}]}}
    assert _refused(data) == ("g.yaml: graph.nodes[0].f: x cancels out of the formula (it has no effect on f); "
                              "write the formula without it; got 'x - x + y'.")
