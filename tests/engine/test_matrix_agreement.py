"""The matrix form is the same network as the per-scalar derivation: on random specs that
both accept (every activation, custom ones, each layer's own alpha, biases none, shared
and per unit with their values, every loss with every output activation it suits,
custom losses, several steps), every quantity agrees to 1e-12 relative. The per-scalar
key itself is checked against sympy.diff and finite differences in test_gradients.py."""

from __future__ import annotations

import math
import random
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import derive
from derive.engine.matrix import parameter_names

HIDDEN = ["identity", "sigmoid", "tanh", "relu", "leaky_relu", {"name": "softsign", "formula": "z/(1+abs(z))"}]
OUTPUT_AND_LOSS = [
    ("identity", "squared_error"), ("identity", "mse"), ("tanh", "half_squared_error"),
    ("sigmoid", "binary_cross_entropy"), ("sigmoid", "mse"),
    ("softmax", "cross_entropy"), ("softmax", "mse"), ("softmax", "half_squared_error"),
    ({"name": "cube", "formula": "z^3/3 + z"}, "squared_error"),
    ("identity", {"name": "quartic", "formula": "(y - yhat)^4"}),
]


def _close(found: float, expected: float) -> bool:
    return math.isclose(found, expected, rel_tol=1e-12, abs_tol=1e-14)


def random_network_spec(seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    output, loss = rng.choice(OUTPUT_AND_LOSS)
    sizes = [rng.randint(1, 3) for _ in range(rng.randint(1, 3))]
    n_in = rng.randint(1, 3)
    n_out = rng.randint(2, 3) if output == "softmax" else rng.randint(1, 2)
    layers: list[dict[str, Any]] = []
    for size in sizes:
        activation = rng.choice(HIDDEN)
        layer: dict[str, Any] = {"units": size, "activation": activation, "bias": rng.choice(["none", "shared", "per_unit"])}
        if activation == "leaky_relu":
            layer["alpha"] = rng.choice([0.01, 0.1, 0.3])  # each layer its own
        layers.append(layer)
    layers.append({"units": n_out, "activation": output, "bias": rng.choice(["none", "shared", "per_unit"])})
    n_weights = sum(a * b for a, b in zip([n_in, *sizes], [*sizes, n_out]))
    n_biases = sum(1 if layer["bias"] == "shared" else layer["units"] for layer in layers if layer["bias"] != "none")

    def value() -> float:
        return round(rng.choice([-1, 1]) * rng.uniform(0.1, 0.9), 3)

    if loss == "cross_entropy":
        hot = rng.randrange(n_out)
        targets = {f"y{i + 1}": float(i == hot) for i in range(n_out)}
    elif loss == "binary_cross_entropy":
        targets = {f"y{i + 1}": round(rng.uniform(0.1, 0.9), 2) for i in range(n_out)}
    else:
        targets = {f"y{i + 1}": value() for i in range(n_out)}
    return {
        "inputs": {f"x{i + 1}": value() for i in range(n_in)},
        "targets": targets,
        "layers": layers,
        "weights": {f"w{i + 1}": value() for i in range(n_weights)},
        "weight_order": rng.choice(["by_source", "by_target"]),
        "biases": {f"b{i + 1}": value() for i in range(n_biases)},
        "loss": loss,
        "learning_rate": rng.choice([0.1, 0.5]),
        "steps": rng.randint(1, 3),
        "precision": {"digits": 12, "carry": "exact"},
    }


def assert_forms_agree(problem: derive.Problem) -> None:
    derivation, network, form = problem.derivation, problem.network, problem.matrix
    zs, activations = form.forward
    for depth, layer in enumerate(network.layers):
        for row, unit in enumerate(layer):
            assert _close(float(zs[depth][row, 0]), derivation[unit.pre].exact), unit.pre
            assert _close(float(activations[depth + 1][row, 0]), derivation[unit.post].exact), unit.post
    loss = network.loss_symbol
    assert _close(form.gradients.loss, derivation[loss].exact)
    for name, (kind, depth, place) in parameter_names(network).items():
        gradient = (form.gradients.weights if kind == "W" else form.gradients.biases)[depth]
        updated = (form.after.weights if kind == "W" else form.after.biases)[depth]
        assert gradient is not None and updated is not None, name
        assert _close(float(gradient[place]), derivation[f"d{loss}/d{name}"].exact), name
        assert _close(float(updated[place]), derivation[f"{name}'"].exact), name
    assert _close(form.loss_after, derivation[f"{loss}'"].exact)
    # carry: exact, so the per-scalar history is the exact one rounded to 12 digits
    assert [float(f"{v:.12g}") for v in form.loss_history] == pytest.approx(derivation.loss_history, rel=1e-11)


@settings(max_examples=120, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**32 - 1))
def test_every_quantity_agrees_between_the_matrix_and_the_per_scalar_form(seed: int) -> None:
    assert_forms_agree(derive.load(random_network_spec(seed)))


@pytest.mark.parametrize("bias", ["none", "shared", "per_unit"])
def test_only_the_parameters_the_spec_has_are_trained(bias: str) -> None:
    spec = random_network_spec(11)
    spec["layers"] = [{"units": 2, "activation": "sigmoid", "bias": bias}, {"units": 1, "activation": "identity", "bias": bias}]
    spec.update(inputs={"x1": 0.5, "x2": 0.3}, targets={"y1": 0.7}, loss="squared_error", steps=1,
                weights={f"w{i}": 0.1 * i for i in range(1, 7)})
    spec["biases"] = {"none": {}, "shared": {"b1": 0.25, "b2": -0.5}, "per_unit": {"b1": 0.25, "b2": -0.5, "b3": 0.1}}[bias]
    problem = derive.load(spec)
    form = problem.matrix
    if bias == "none":
        assert form.network.biases == [None, None] and form.after.biases == [None, None]
    else:
        assert float(form.network.biases[0][0, 0]) == 0.25  # the given value, not zero
        assert form.network.biases[0].shape == ((1, 1) if bias == "shared" else (2, 1))
    assert_forms_agree(problem)


def test_the_readme_example_in_matrix_form_has_the_spec_s_loss_after_the_update() -> None:
    from ..conftest import EXAMPLES

    problem = derive.load(EXAMPLES / "2-2-1-linear-mse.yaml")
    # bias: none; by hand: L' from the updated weights at full precision is 0.032469 (the
    # first version printed 0.01905, having trained biases the spec does not have)
    assert f"{problem.matrix.loss_after:.4g}" == "0.03247"
    assert problem.matrix.network.biases == [None, None]


def test_seed_004s_matrix_handout_shows_c_after_0_124() -> None:
    from derive.views.documents import render_matrix

    from ..conftest import EXAMPLES

    text = render_matrix(derive.load(EXAMPLES / "2-2-1-sigmoid-mse.yaml"), "md", "en")
    assert "C' &= 0.124" in text
    assert "b^{(1)}" not in text  # the layers have no biases, so no + b and no dC/db
