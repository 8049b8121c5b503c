"""The layer-level (matrix) form of backpropagation, as seeds 001 and 003 write it:

    z^(l) = W^(l) a^(l-1) + b^(l),   a^(l) = g(z^(l))
    delta^(L) = dL/da^(L) * g'(z^(L))
    delta^(l) = (W^(l+1))^T delta^(l+1) * g'(z^(l))
    dL/dW^(l) = delta^(l) (a^(l-1))^T,   dL/db^(l) = delta^(l)

evaluated with NumPy for networks of any size and a batch of inputs (one column per
sample; the loss is the batch mean). The per-scalar derivation cannot grow to 784-100-10;
this can, and the tests check the two agree where both run."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .problem import Problem

ACTIVATIONS = ("identity", "sigmoid", "tanh", "relu", "leaky_relu", "softmax")


@dataclass(frozen=True)
class DenseNetwork:
    weights: list[np.ndarray]  # W^(l), shape (n_l, n_(l-1))
    biases: list[np.ndarray]  # b^(l), shape (n_l, 1)
    activations: list[str]
    loss: str
    alpha: float = 0.01  # leaky ReLU slope

    @property
    def sizes(self) -> list[int]:
        return [self.weights[0].shape[1], *(w.shape[0] for w in self.weights)]


@dataclass(frozen=True)
class Gradients:
    loss: float
    weights: list[np.ndarray]
    biases: list[np.ndarray]
    deltas: list[np.ndarray]


def random_network(sizes: list[int], activations: list[str], loss: str, seed: int) -> DenseNetwork:
    """Weights drawn N(0, 1/n_in) (so sigmoid and tanh units start unsaturated), biases 0."""
    rng = np.random.default_rng(seed)
    weights = [rng.normal(0.0, 1.0 / np.sqrt(n_in), size=(n_out, n_in)) for n_in, n_out in zip(sizes, sizes[1:], strict=False)]
    biases = [np.zeros((n_out, 1)) for n_out in sizes[1:]]
    return DenseNetwork(weights, biases, activations, loss)


def _activate(name: str, z: np.ndarray, alpha: float) -> np.ndarray:
    if name == "identity":
        return z
    if name == "sigmoid":
        return 1.0 / (1.0 + np.exp(-z))
    if name == "tanh":
        return np.tanh(z)
    if name == "relu":
        return np.maximum(z, 0.0)
    if name == "leaky_relu":
        return np.where(z > 0, z, alpha * z)
    shifted = np.exp(z - z.max(axis=0, keepdims=True))  # softmax, stable
    return shifted / shifted.sum(axis=0, keepdims=True)


def _slope(name: str, z: np.ndarray, a: np.ndarray, alpha: float) -> np.ndarray:
    """g'(z), elementwise (softmax is handled with its loss)."""
    if name == "identity":
        return np.ones_like(z)
    if name == "sigmoid":
        return a * (1.0 - a)
    if name == "tanh":
        return 1.0 - a * a
    if name == "relu":
        return (z > 0).astype(z.dtype)
    return np.where(z > 0, 1.0, alpha)


def _loss_and_gradient(name: str, a: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """The batch-mean loss and dL/da for the output activations."""
    batch = a.shape[1]
    if name == "squared_error":
        return float(((y - a) ** 2).sum() / batch), -2.0 * (y - a) / batch
    if name == "half_squared_error":
        return float((0.5 * (y - a) ** 2).sum() / batch), -(y - a) / batch
    if name == "mse":
        n = a.shape[0]
        return float(((y - a) ** 2).sum() / (n * batch)), -2.0 * (y - a) / (n * batch)
    if name == "binary_cross_entropy":
        value = -(y * np.log(a) + (1 - y) * np.log(1 - a)).sum() / batch
        return float(value), -(y / a - (1 - y) / (1 - a)) / batch
    return float(-(y * np.log(a)).sum() / batch), -(y / a) / batch


def forward(network: DenseNetwork, x: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
    zs, activations = [], [x]
    for weight, bias, name in zip(network.weights, network.biases, network.activations, strict=True):
        z = weight @ activations[-1] + bias
        zs.append(z)
        activations.append(_activate(name, z, network.alpha))
    return zs, activations


def gradients(network: DenseNetwork, x: np.ndarray, y: np.ndarray) -> Gradients:
    zs, activations = forward(network, x)
    loss, d_output = _loss_and_gradient(network.loss, activations[-1], y)
    last = network.activations[-1]
    if last == "softmax":
        if network.loss != "cross_entropy":
            raise ValueError("a softmax output is supported with cross_entropy only")
        delta = (activations[-1] * y.sum(axis=0, keepdims=True) - y) / x.shape[1]  # softmax + cross entropy
    else:
        delta = d_output * _slope(last, zs[-1], activations[-1], network.alpha)
    deltas = [delta]
    for layer in range(len(network.weights) - 2, -1, -1):
        delta = (network.weights[layer + 1].T @ delta) * _slope(network.activations[layer], zs[layer], activations[layer + 1], network.alpha)
        deltas.insert(0, delta)
    weight_gradients = [delta @ a.T for delta, a in zip(deltas, activations[:-1], strict=True)]
    bias_gradients = [delta.sum(axis=1, keepdims=True) for delta in deltas]
    return Gradients(loss, weight_gradients, bias_gradients, deltas)


def from_problem(problem: Problem) -> tuple[DenseNetwork, np.ndarray, np.ndarray, dict[str, tuple[str, int, int]]]:
    """The per-scalar network as matrices, its one sample as columns, and where each named
    parameter sits: name -> ("W" or "b", layer index, row, column) packed as (kind, layer, flat index)."""
    network = problem.network
    sources = [list(network.inputs)] + [[unit.post for unit in layer] for layer in network.layers[:-1]]
    weights, biases, where = [], [], {}
    for depth, layer in enumerate(network.layers):
        weight = np.zeros((len(layer), len(sources[depth])))
        bias = np.zeros((len(layer), 1))
        for row, unit in enumerate(layer):
            for parameter in network.incoming(unit):
                if parameter.source is None:
                    bias[row, 0] = parameter.value
                    where[parameter.name] = ("b", depth, -1)
                else:
                    column = sources[depth].index(parameter.source)
                    weight[row, column] = parameter.value
                    where[parameter.name] = ("W", depth, row * len(sources[depth]) + column)
        weights.append(weight)
        biases.append(bias)
    dense = DenseNetwork(weights, biases, [layer[0].activation.name for layer in network.layers], network.spec.loss,
                         network.layers[0][0].activation.alpha or 0.01)
    x = np.array([[value] for value in network.inputs.values()], dtype=float)
    y = np.array([[value] for value in network.targets.values()], dtype=float)
    return dense, x, y, where


def parameter_gradient(result: Gradients, problem: Problem, name: str, where: dict[str, tuple[str, int, int]]) -> float:
    """dL/d(name) from the matrix gradients; a shared bias collects every unit it feeds."""
    kind, layer, index = where[name]
    if kind == "W":
        return float(result.weights[layer].flat[index])
    rows = [row for row, unit in enumerate(problem.network.layers[layer]) if unit.pre in next(p for p in problem.network.biases if p.name == name).targets]
    return float(sum(result.biases[layer][row, 0] for row in rows))


def _read_matrix(path: Path, field: str, origin: str) -> np.ndarray:
    """Samples as rows in the file, returned as columns; .npy without pickles."""
    from ..spec.schema import SpecError

    try:
        values = np.load(path, allow_pickle=False) if path.suffix.lower() == ".npy" else np.loadtxt(path, delimiter=",", ndmin=2)
    except FileNotFoundError:
        raise SpecError(f"{origin}: data.{field}: no such file {path}.") from None
    except (ValueError, OSError) as error:
        raise SpecError(f"{origin}: data.{field}: {path.name} is not a numeric matrix ({error}).") from None
    values = np.asarray(values, dtype=float)
    if values.ndim == 1:
        values = values[:, None]
    if values.ndim != 2 or values.size == 0 or not np.isfinite(values).all():
        raise SpecError(f"{origin}: data.{field}: {path.name} must be a non-empty table of finite numbers, one row per sample.")
    return values.T


def from_data(problem: Problem) -> tuple[DenseNetwork, np.ndarray, np.ndarray]:
    """A spec with `data:` files and `weight_seed`: layer sizes from the spec, the input
    width from the file, weights drawn from the seed."""
    from ..spec.schema import SpecError

    spec = problem.spec
    assert spec.data is not None and spec.weight_seed is not None
    folder = Path(problem.origin).parent if problem.origin != "spec" else Path(".")
    x = _read_matrix(folder / spec.data.inputs, "inputs", problem.origin)
    y = _read_matrix(folder / spec.data.targets, "targets", problem.origin)
    sizes = [x.shape[0], *(layer.units for layer in spec.layers)]
    if y.shape != (sizes[-1], x.shape[1]):
        raise SpecError(f"{problem.origin}: data.targets: expected {x.shape[1]} rows of {sizes[-1]} values (one per output unit); "
                        f"got {y.shape[1]} rows of {y.shape[0]}.")
    activations = [layer.activation if isinstance(layer.activation, str) else "custom" for layer in spec.layers]
    if "custom" in activations or not isinstance(spec.loss, str):
        raise SpecError(f"{problem.origin}: layers: the matrix form supports the built-in activations and losses only.")
    network = random_network(sizes, activations, spec.loss, spec.weight_seed)
    alpha = next((layer.alpha for layer in spec.layers if layer.alpha is not None), 0.01)
    return DenseNetwork(network.weights, network.biases, activations, spec.loss, alpha), x, y
