"""The layer-level (matrix) form of backpropagation, as seeds 001 and 003 write it:

    z^(l) = W^(l) a^(l-1) + b^(l),   a^(l) = g(z^(l))
    delta^(L) = dL/da^(L) * g'(z^(L))            (the full Jacobian for softmax)
    delta^(l) = (W^(l+1))^T delta^(l+1) * g'(z^(l))
    dL/dW^(l) = delta^(l) (a^(l-1))^T,   dL/db^(l) = delta^(l)

evaluated with NumPy for networks of any size and a batch of samples (one column per
sample; the loss is the batch mean). It is the same network as the per-scalar
derivation, vectorised: each layer's activation and the loss are the very `Activation`
and `Loss` objects that derivation uses (derive/engine/functions.py), compiled with
`sympy.lambdify`, so built-in and custom functions, each layer's alpha and every loss
exist once. Biases are the spec's (none, shared or per unit, with its values), and only
the parameters the spec has are updated."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property

import numpy as np
import sympy

from ..spec.schema import Spec, SpecError
from .functions import Activation, Loss, layer_activation, spec_loss, softmax, softmax_derivative
from .network import Network
from .numeric import EvaluationError
from .optimizers import Training

Array = np.ndarray


@dataclass(frozen=True)
class VectorActivation:
    """g and g' of one layer as NumPy functions over (units, batch) arrays."""

    activation: Activation
    units: int

    @cached_property
    def _compiled(self) -> tuple[Callable[..., object], Callable[..., object]]:
        if self.activation.name == "softmax":
            z = sympy.symbols(f"z0:{self.units}", real=True)
            a_k, a_j = sympy.symbols("a_k a_j", real=True)
            value = sympy.lambdify([z], [softmax(z, k) for k in range(self.units)], "numpy")
            # d a_k / d z_j: its diagonal and off-diagonal forms, from the one definition.
            same = softmax_derivative([a_k], 0, 0)
            other = softmax_derivative([a_k, a_j], 0, 1)
            return value, sympy.lambdify([a_k, a_j], [same, other], "numpy")
        z, a = sympy.symbols("z a", real=True)
        value = sympy.lambdify([z], self.activation.function(z), "numpy")
        return value, sympy.lambdify([z, a], self.activation.derivative(z, a), "numpy")

    def __call__(self, z: Array) -> Array:
        value = self._compiled[0]
        if self.activation.name == "softmax":
            # softmax(z) = softmax(z - max z): the same function, evaluated without overflow.
            return np.asarray(value(z - z.max(axis=0, keepdims=True)), dtype=float)
        return np.broadcast_to(np.asarray(value(z), dtype=float), z.shape).copy()

    def backward(self, z: Array, a: Array, upstream: Array) -> Array:
        """dL/dz from dL/da: elementwise g'(z), or softmax's Jacobian applied to dL/da."""
        slope = self._compiled[1]
        if self.activation.name == "softmax":
            same, other = (np.asarray(part, dtype=float) for part in slope(a, a))
            # J[k, j] = other(a_k, a_j) off the diagonal; the diagonal is same(a_k).
            off = np.asarray(slope(a[:, None, :], a[None, :, :])[1], dtype=float)
            off = np.broadcast_to(off, (a.shape[0], a.shape[0], a.shape[1])).copy()
            index = np.arange(a.shape[0])
            off[index, index, :] = same
            return np.einsum("kjb,kb->jb", off, upstream)
        return np.broadcast_to(np.asarray(slope(z, a), dtype=float), z.shape) * upstream


@dataclass(frozen=True)
class VectorLoss:
    """The loss of one sample and its gradient dL/dyhat, vectorised over a batch."""

    loss: Loss
    outputs: int

    @cached_property
    def _compiled(self) -> tuple[Callable[..., object], Callable[..., object]]:
        y = sympy.symbols(f"y0:{self.outputs}", real=True)
        h = sympy.symbols(f"h0:{self.outputs}", real=True)
        value = sympy.lambdify([y, h], self.loss.expression(list(y), list(h)), "numpy")
        slope = sympy.lambdify([y, h], [self.loss.derivative(list(y), list(h), k) for k in range(self.outputs)], "numpy")
        return value, slope

    def value(self, y: Array, yhat: Array) -> float:
        """The batch mean of the per-sample loss."""
        per_sample = np.broadcast_to(np.asarray(self._compiled[0](y, yhat), dtype=float), (y.shape[1],))
        return float(per_sample.mean())

    def gradient(self, y: Array, yhat: Array) -> Array:
        """d(batch mean)/d yhat, one column per sample."""
        rows = [np.broadcast_to(np.asarray(row, dtype=float), (y.shape[1],)) for row in self._compiled[1](y, yhat)]
        return np.stack(rows) / y.shape[1]


@dataclass(frozen=True)
class Gradients:
    loss: float
    weights: list[Array]
    biases: list[Array | None]
    deltas: list[Array]


@dataclass(frozen=True)
class MatrixNetwork:
    """W^(l) of shape (n_l, n_(l-1)); b^(l) of shape (n_l, 1) per unit, (1, 1) shared, or
    None; masks say which weights the spec has (all of them unless only explicit ones are
    given), so the others stay zero."""

    weights: list[Array]
    biases: list[Array | None]
    masks: list[Array]
    layers: list[VectorActivation]
    loss: VectorLoss

    @property
    def sizes(self) -> list[int]:
        return [self.weights[0].shape[1], *(w.shape[0] for w in self.weights)]

    def forward(self, x: Array) -> tuple[list[Array], list[Array]]:
        zs, activations = [], [x]
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            for weight, bias, layer in zip(self.weights, self.biases, self.layers, strict=True):
                z = weight @ activations[-1] + (bias if bias is not None else 0.0)
                zs.append(z)
                activations.append(layer(z))
        return zs, activations

    def gradients(self, x: Array, y: Array) -> Gradients:
        zs, activations = self.forward(x)
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            loss = self.loss.value(y, activations[-1])
            upstream = self.loss.gradient(y, activations[-1])
            deltas: list[Array] = []
            for depth in range(len(self.weights) - 1, -1, -1):
                delta = self.layers[depth].backward(zs[depth], activations[depth + 1], upstream)
                deltas.insert(0, delta)
                upstream = self.weights[depth].T @ delta
        weights = [(delta @ a.T) * mask for delta, a, mask in zip(deltas, activations[:-1], self.masks, strict=True)]
        biases = [None if bias is None else _bias_gradient(delta, bias) for delta, bias in zip(deltas, self.biases, strict=True)]
        return Gradients(loss, weights, biases, deltas)


def _bias_gradient(delta: Array, bias: Array) -> Array:
    """Summed over the batch; a shared bias also collects every unit it feeds."""
    total = delta.sum(axis=1, keepdims=True)
    return total.sum(axis=0, keepdims=True) if bias.shape[0] == 1 and delta.shape[0] > 1 else total


@dataclass(frozen=True)
class MatrixForm:
    """One worked training step in matrix form, and the loss of every later step: what the
    matrix handout prints and the layer-level key lists. The loss is the batch mean (or sum,
    `reduction`), with weight decay's L2 term where the optimizer puts it in the loss; the
    update is the spec's optimizer's (derive/engine/optimizers.py)."""

    network: MatrixNetwork
    x: Array
    y: Array
    learning_rate: float
    steps: int
    training: Training = field(default_factory=Training)

    @cached_property
    def forward(self) -> tuple[list[Array], list[Array]]:
        return self.network.forward(self.x)

    def objective(self, network: MatrixNetwork) -> Gradients:
        """The loss and its gradients: the batch mean's, times the batch for `sum`, plus
        λ/2·Σw² and λ·w with an L2 term (every parameter, biases included, as torch)."""
        result = network.gradients(self.x, self.y)
        scale = float(self.samples) if self.training.reduction == "sum" else 1.0
        decay = self.training.l2
        if scale == 1.0 and not decay:
            return result
        parameters = [*network.weights, *(b for b in network.biases if b is not None)]
        penalty = decay / 2 * sum(float((p**2).sum()) for p in parameters)
        return Gradients(
            scale * result.loss + penalty,
            [scale * g + decay * w for g, w in zip(result.weights, network.weights, strict=True)],
            [None if g is None or b is None else scale * g + decay * b for g, b in zip(result.biases, network.biases, strict=True)],
            [scale * delta for delta in result.deltas],
        )

    def loss_of(self, network: MatrixNetwork) -> float:
        return self.objective(network).loss

    @cached_property
    def gradients(self) -> Gradients:
        return self.objective(self.network)

    @cached_property
    def trajectory(self) -> list[MatrixNetwork]:
        """The network before the first update and after each of `steps`."""
        stepper = self.training.steps(self.learning_rate)
        networks = [self.network]
        for _ in range(self.steps):
            network = networks[-1]
            result = self.objective(network)
            count = len(network.weights)
            updated = stepper.step([*network.weights, *network.biases], [*result.weights, *result.biases])
            networks.append(replace(network, weights=updated[:count], biases=updated[count:]))  # type: ignore[arg-type]
        return networks

    @cached_property
    def after(self) -> MatrixNetwork:
        return self.trajectory[1] if self.steps >= 1 else self.network

    @cached_property
    def loss_after(self) -> float:
        return self.loss_of(self.after)

    @cached_property
    def loss_history(self) -> list[float]:
        """The loss before each of `steps` updates, then after the last one."""
        return [self.loss_of(network) for network in self.trajectory]

    @property
    def samples(self) -> int:
        return int(self.x.shape[1])


def _functions(spec: Spec, sizes: Sequence[int]) -> tuple[list[VectorActivation], VectorLoss]:
    layers = [VectorActivation(layer_activation(layer), units) for layer, units in zip(spec.layers, sizes[1:], strict=True)]
    return layers, VectorLoss(spec_loss(spec), sizes[-1])


def from_network(network: Network) -> MatrixForm:
    """The per-scalar network as matrices: each named weight and bias in its place, its one
    sample as a column."""
    spec = network.spec
    sources = [list(network.inputs)] + [[unit.post for unit in layer] for layer in network.layers[:-1]]
    sizes = [len(sources[0]), *(len(layer) for layer in network.layers)]
    weights, masks, biases = [], [], []
    for depth, layer in enumerate(network.layers):
        weight = np.zeros((len(layer), len(sources[depth])))
        mask = np.zeros_like(weight)
        for row, unit in enumerate(layer):
            for parameter in network.incoming(unit):
                if parameter.source is not None:
                    column = sources[depth].index(parameter.source)
                    weight[row, column] = parameter.value
                    mask[row, column] = 1.0
        weights.append(weight)
        masks.append(mask)
        biases.append(_bias_of(network, depth))
    layers, loss = _functions(spec, sizes)
    x = np.array([list(inputs.values()) for inputs, _ in network.samples], dtype=float).T  # a column per sample
    y = np.array([list(targets.values()) for _, targets in network.samples], dtype=float).T
    return MatrixForm(MatrixNetwork(weights, biases, masks, layers, loss), x, y, spec.learning_rate or 0.0, spec.steps,
                      Training.of(spec))


def _bias_of(network: Network, depth: int) -> Array | None:
    layer = network.layers[depth]
    kind = network.spec.layers[depth].bias
    if kind == "none":
        return None
    pres = [unit.pre for unit in layer]
    feeding = [p for p in network.biases if p.targets[0] in pres]
    if kind == "shared":
        return np.array([[feeding[0].value]], dtype=float)
    return np.array([[next(p.value for p in feeding if p.targets == (pre,))] for pre in pres], dtype=float)


def parameter_names(network: Network) -> dict[str, tuple[str, int, tuple[int, int]]]:
    """Where each named parameter sits: name -> ("W" or "b", layer index, (row, column))."""
    where: dict[str, tuple[str, int, tuple[int, int]]] = {}
    sources = [list(network.inputs)] + [[unit.post for unit in layer] for layer in network.layers[:-1]]
    for depth, layer in enumerate(network.layers):
        for row, unit in enumerate(layer):
            for parameter in network.incoming(unit):
                if parameter.source is None:
                    shared = network.spec.layers[depth].bias == "shared"
                    where[parameter.name] = ("b", depth, (0 if shared else row, 0))
                else:
                    where[parameter.name] = ("W", depth, (row, sources[depth].index(parameter.source)))
    return where


def random_network(spec: Spec, sizes: Sequence[int], seed: int) -> MatrixNetwork:
    """Weights drawn N(0, 1/n_in) (so sigmoid and tanh units start unsaturated); the
    layers' biases, where they have any, start at 0."""
    rng = np.random.default_rng(seed)
    weights = [rng.normal(0.0, 1.0 / np.sqrt(n_in), size=(n_out, n_in)) for n_in, n_out in zip(sizes, sizes[1:])]
    biases: list[Array | None] = [
        None if layer.bias == "none" else np.zeros((1 if layer.bias == "shared" else units, 1))
        for layer, units in zip(spec.layers, sizes[1:], strict=True)
    ]
    layers, loss = _functions(spec, sizes)
    return MatrixNetwork(weights, biases, [np.ones_like(w) for w in weights], layers, loss)


def from_samples(spec: Spec, x: Array, y: Array, origin: str) -> MatrixForm:
    """A spec with `data:` files and `weight_seed`: layer sizes from the spec, the input
    width from the data (samples as columns), weights drawn from the seed."""
    assert spec.weight_seed is not None
    sizes = [x.shape[0], *(layer.units for layer in spec.layers)]
    if y.shape != (sizes[-1], x.shape[1]):
        raise SpecError(f"{origin}: data.targets: expected {x.shape[1]} rows of {sizes[-1]} values (one per output unit); "
                        f"got {y.shape[1]} rows of {y.shape[0]}.")
    _check_targets(spec, y, origin)
    network = random_network(spec, sizes, spec.weight_seed)
    return MatrixForm(network, x, y, spec.learning_rate or 0.0, spec.steps, Training.of(spec))


def _check_targets(spec: Spec, y: Array, origin: str) -> None:
    """The data file's targets in the loss's domain, as a spec's own targets are checked:
    probabilities for the cross-entropies, and distributions for softmax's."""
    if spec.loss not in ("binary_cross_entropy", "cross_entropy"):
        return
    outside = np.argwhere((y < 0) | (y > 1))
    if outside.size:
        unit, sample = (int(i) for i in outside[0])
        raise SpecError(f"{origin}: data.targets: row {sample + 1}, column {unit + 1} is {y[unit, sample]:g}; "
                        "cross-entropy compares each output with a probability, so a target lies between 0 and 1.")
    if spec.loss == "cross_entropy":
        sums = y.sum(axis=0)
        wrong = np.flatnonzero(np.abs(sums - 1) > 1e-9)
        if wrong.size:
            raise SpecError(f"{origin}: data.targets: row {int(wrong[0]) + 1} sums to {sums[wrong[0]]:g}; "
                            "cross-entropy compares two distributions, so each row of targets sums to 1 (one-hot labels do).")


def finite_or_refused(form: MatrixForm) -> MatrixForm:
    """Every quantity of the worked step finite, or one message naming the first that is not
    (the layer and the quantity), as the per-scalar derivation refuses a NaN step."""
    zs, activations = form.forward
    named = [(f"z^({l + 1})", z) for l, z in enumerate(zs)] + [(f"a^({l + 1})", a) for l, a in enumerate(activations[1:])]
    named += [("the loss", np.asarray(form.gradients.loss))]
    named += [(f"delta^({l + 1})", d) for l, d in enumerate(form.gradients.deltas)]
    named += [(f"dL/dW^({l + 1})", g) for l, g in enumerate(form.gradients.weights)]
    named += [(f"W^({l + 1})'", w) for l, w in enumerate(form.after.weights)]
    named += [("the loss after the update", np.asarray(form.loss_after))]
    for name, values in named:
        bad = np.argwhere(~np.isfinite(np.atleast_1d(values)))
        if bad.size:
            where = ", ".join(str(int(i) + 1) for i in bad[0])
            raise EvaluationError(f"{name} is not finite (entry {where}): the weights, inputs or learning rate are too large")
    return form
