from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
SEEDS = ROOT.parent / "shared" / "seeds"

# Output activations with the losses that suit them (cross-entropy needs outputs in (0, 1)).
OUTPUT_AND_LOSS = [
    ("identity", "squared_error"),
    ("identity", "half_squared_error"),
    ("identity", "mse"),
    ("tanh", "squared_error"),
    ("sigmoid", "mse"),
    ("sigmoid", "binary_cross_entropy"),
    ("sigmoid", "cross_entropy"),
    ("softmax", "cross_entropy"),
    ("relu", "half_squared_error"),
]
HIDDEN_ACTIVATIONS = ["identity", "sigmoid", "tanh", "relu", "leaky_relu"]

# Seed 000's 2-2-1 with identity units, weight_order by_source: the connections are numbered
# 1: x1->z1, 2: x1->z2, 3: x2->z1, 4: x2->z2, 5: a1->z3, 6: a2->z3, so z1 = w1 x1 + w3 x2.
IDENTITY_221: dict[str, Any] = {
    "inputs": {"x1": 0.5, "x2": 0.3},
    "targets": {"y1": 0.7},
    "layers": [{"units": 2, "activation": "identity"}, {"units": 1, "activation": "identity"}],
    "weights": {"w1": 0.3, "w2": 0.2, "w3": 0.2, "w4": 0.3, "w5": 0.4, "w6": 0.5},
    "loss": "squared_error",
    "learning_rate": 0.1,
}


def random_spec(seed: int, hidden: str, output: str, loss: str, hidden_layers: int) -> dict[str, Any]:
    """A random, well-posed network: values away from ReLU's kink and from saturation."""
    rng = random.Random(seed)
    n_in = rng.randint(1, 3)
    sizes = [rng.randint(1, 3) for _ in range(hidden_layers)]
    n_out = rng.randint(2, 3) if output == "softmax" else rng.randint(1, 2)
    layers = [
        {"units": size, "activation": hidden, "bias": rng.choice(["none", "shared", "per_unit"])}
        for size in sizes
    ]
    layers.append({"units": n_out, "activation": output, "bias": rng.choice(["none", "per_unit"])})
    if hidden == "leaky_relu":
        for layer in layers[:-1]:
            layer["alpha"] = 0.1
    n_weights = sum(a * b for a, b in zip([n_in] + sizes, sizes + [n_out]))
    n_biases = sum(
        (1 if layer["bias"] == "shared" else layer["units"]) for layer in layers if layer["bias"] != "none"
    )
    value = lambda: round(rng.choice([-1, 1]) * rng.uniform(0.1, 0.9), 3)  # noqa: E731
    if loss == "cross_entropy" and output == "softmax":
        hot = rng.randrange(n_out)
        targets = {f"y{i + 1}": float(i == hot) for i in range(n_out)}
    elif loss == "cross_entropy":  # a distribution, as cross-entropy compares two
        shares = [round(rng.uniform(0.1, 0.9), 2) for _ in range(n_out - 1)]
        shares = [round(share / max(1.0, sum(shares) + 0.05), 2) for share in shares]
        targets = {f"y{i + 1}": share for i, share in enumerate(shares)} | {f"y{n_out}": round(1 - sum(shares), 2)}
    elif loss == "binary_cross_entropy":
        targets = {f"y{i + 1}": round(rng.uniform(0.1, 0.9), 2) for i in range(n_out)}
    else:
        targets = {f"y{i + 1}": value() for i in range(n_out)}
    return {
        "title": f"random {seed}",
        "inputs": {f"x{i + 1}": value() for i in range(n_in)},
        "targets": targets,
        "layers": layers,
        "weights": {f"w{i + 1}": value() for i in range(n_weights)},
        "weight_order": rng.choice(["by_source", "by_target"]),
        "biases": {f"b{i + 1}": value() for i in range(n_biases)},
        "loss": loss,
        "learning_rate": 0.1,
        "precision": {"digits": 15, "carry": "exact"},
    }


@pytest.fixture
def seed000():
    import derive

    return derive.load(EXAMPLES / "2-2-1-linear-mse.yaml")
