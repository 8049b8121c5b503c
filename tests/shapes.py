"""Networks one size and more past the seeds', as a lecturer would try them: each shape a
spec with fixed, unremarkable numbers. The page tests compile their documents, the
arithmetic test re-multiplies their lines, and the worksheet test looks for answers."""

from __future__ import annotations

import random
from typing import Any

from .conftest import EXAMPLES


def network_spec(name: str, sizes: list[int], hidden: str, output: str, loss: str, *, bias: str = "none",
                 seed: int = 0, language: str = "en", **extra: Any) -> dict[str, Any]:
    rng = random.Random(seed)
    layers = [{"units": n, "activation": hidden, "bias": bias} for n in sizes[1:-1]]
    layers.append({"units": sizes[-1], "activation": output, "bias": bias})
    n_weights = sum(a * b for a, b in zip(sizes, sizes[1:]))
    n_biases = sum(layer["units"] if bias == "per_unit" else 1 for layer in layers) if bias != "none" else 0

    def value() -> float:
        return round(rng.choice([-1, 1]) * rng.uniform(0.1, 0.6), 1) or 0.1

    if loss == "cross_entropy":
        targets = {f"y{i + 1}": float(i == 0) for i in range(sizes[-1])}
    elif loss == "binary_cross_entropy":
        targets = {f"y{i + 1}": 1.0 if i % 2 == 0 else 0.0 for i in range(sizes[-1])}
    else:
        targets = {f"y{i + 1}": round(rng.uniform(0.1, 0.9), 1) for i in range(sizes[-1])}
    return {
        "title": name,
        "language": language,
        "inputs": {f"x{i + 1}": round(rng.uniform(0.1, 0.9), 1) for i in range(sizes[0])},
        "targets": targets,
        "layers": layers,
        "weights": {f"w{i + 1}": value() for i in range(n_weights)},
        "biases": {f"b{i + 1}": value() for i in range(n_biases)},
        "loss": loss,
        "learning_rate": 0.5,
        "precision": {"digits": 3},
        **extra,
    }


SHAPES: dict[str, dict[str, Any]] = {
    "2-3-2 tanh softmax cross-entropy, biases": network_spec("2-3-2 softmax", [2, 3, 2], "tanh", "softmax", "cross_entropy", bias="per_unit"),
    "3-2-1 sigmoid binary cross-entropy": network_spec("3-2-1 midterm", [3, 2, 1], "sigmoid", "sigmoid", "binary_cross_entropy", seed=1, language="ko"),
    "3-4-4-2 tanh mse": network_spec("3-4-4-2", [3, 4, 4, 2], "tanh", "identity", "mse", seed=2),
    "2-2-2 relu half squared error, shared bias": network_spec("2-2-2 ReLU", [2, 2, 2], "relu", "identity", "half_squared_error", bias="shared", seed=3),
    "4-3-3 leaky ReLU softmax mse": network_spec("4-3-3", [4, 3, 3], "leaky_relu", "softmax", "mse", seed=4, language="ko"),
    "2-2-1 sigmoid mse, 3 steps": network_spec("three steps", [2, 2, 1], "sigmoid", "sigmoid", "mse", seed=5, steps=3),
    "6-10-8-4 near 200 parameters": network_spec("6-10-8-4", [6, 10, 8, 4], "tanh", "sigmoid", "binary_cross_entropy", bias="per_unit", seed=6),
    "1-2-1 identity squared error, 4 decimals": network_spec("decimals", [1, 2, 1], "identity", "identity", "squared_error", seed=7,
                                                             precision={"digits": 4, "mode": "decimals"}),
}

SEED_EXAMPLES = ["2-2-1-linear-mse.yaml", "2-2-1-sigmoid-mse.yaml", "1-1-sigmoid-xent.yaml", "1-1-1-symbolic.yaml"]


def all_problems() -> dict[str, Any]:
    """Every shape and every seed example, loaded."""
    import derive

    problems = {name: derive.load(spec) for name, spec in SHAPES.items()}
    problems.update({example: derive.load(EXAMPLES / example) for example in SEED_EXAMPLES})
    return problems
