"""Training beyond one sample: every parameter after every iteration and every loss against
torch.optim (SGD with and without momentum and Nesterov, RMSprop, Adam, AdamW) on random
networks with mini-batches of 1 to 4 samples and 3 steps, in float64.

The reference is PyTorch's own forward pass (built from the network's connections with
torch's activations and losses), its autograd and its optimizers: nothing of the
derivation's expressions, chain rule or update rules is shared with it."""

from __future__ import annotations

import random
from typing import Any

import pytest

import derive
from derive.engine.derivation import primes

from ..conftest import HIDDEN_ACTIVATIONS, OUTPUT_AND_LOSS, random_spec

torch = pytest.importorskip("torch")

STEPS = 3
OPTIMIZERS: list[dict[str, Any]] = [
    {"name": "sgd"},
    {"name": "sgd", "weight_decay": 0.05},
    {"name": "momentum", "momentum": 0.8},
    {"name": "nesterov", "momentum": 0.9, "weight_decay": 0.02},
    {"name": "rmsprop", "rho": 0.9, "epsilon": 1e-6},
    {"name": "rmsprop"},
    {"name": "adam"},
    {"name": "adam", "beta1": 0.8, "beta2": 0.95, "weight_decay": 0.1},
    {"name": "adamw"},
    {"name": "adamw", "weight_decay": 0.3, "epsilon": 1e-3},
]


def torch_optimizer(options: dict[str, Any], parameters: list[Any], lr: float) -> Any:
    decay = options.get("weight_decay", 0.01 if options["name"] == "adamw" else 0.0)
    name = options["name"]
    if name in ("sgd", "momentum", "nesterov"):
        momentum = 0.0 if name == "sgd" else options.get("momentum", 0.9)
        return torch.optim.SGD(parameters, lr=lr, momentum=momentum, nesterov=name == "nesterov", weight_decay=decay)
    if name == "rmsprop":
        return torch.optim.RMSprop(parameters, lr=lr, alpha=options.get("rho", 0.99), eps=options.get("epsilon", 1e-8),
                                   weight_decay=decay)
    betas = (options.get("beta1", 0.9), options.get("beta2", 0.999))
    kind = torch.optim.AdamW if name == "adamw" else torch.optim.Adam
    return kind(parameters, lr=lr, betas=betas, eps=options.get("epsilon", 1e-8), weight_decay=decay)


def torch_loss(network: Any, parameters: dict[str, Any], inputs: dict[str, float], targets: dict[str, float]) -> Any:
    """One sample's loss, computed by torch from the network's connections."""
    values = {name: torch.tensor(value, dtype=torch.float64) for name, value in inputs.items()}
    for layer in network.layers:
        pre = []
        for unit in layer:
            terms = [parameters[p.name] * (values[p.source] if p.source else 1.0) for p in network.incoming(unit)]
            pre.append(torch.stack(terms).sum())
        z = torch.stack(pre)
        name = layer[0].activation.name
        if name == "softmax":
            a = torch.softmax(z, dim=0)
        elif name == "leaky_relu":
            a = torch.nn.functional.leaky_relu(z, negative_slope=layer[0].activation.alpha)
        else:
            a = {"identity": lambda v: v, "sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu}[name](z)
        values.update({unit.post: a[i] for i, unit in enumerate(layer)})
    yhat = torch.stack([values[unit.post] for unit in network.outputs])
    y = torch.tensor(list(targets.values()), dtype=torch.float64)
    loss = network.spec.loss
    if loss == "squared_error":
        return ((y - yhat) ** 2).sum()
    if loss == "half_squared_error":
        return 0.5 * ((y - yhat) ** 2).sum()
    if loss == "mse":
        return ((y - yhat) ** 2).mean()
    if loss == "binary_cross_entropy":
        return -(y * torch.log(yhat) + (1 - y) * torch.log(1 - yhat)).sum()
    return -(y * torch.log(yhat)).sum()


def batch_spec(case: int) -> dict[str, Any]:
    """A random network of conftest's with a mini-batch of 1 to 4 samples drawn the same way."""
    rng = random.Random(1000 + case)
    output, loss = OUTPUT_AND_LOSS[case % len(OUTPUT_AND_LOSS)]
    hidden = HIDDEN_ACTIVATIONS[case % len(HIDDEN_ACTIVATIONS)]
    spec = random_spec(case, hidden, output, loss, hidden_layers=1 + case % 2)
    count = rng.randint(1, 4)
    samples = [{"inputs": spec["inputs"], "targets": spec["targets"]}]
    for extra in range(1, count):
        other = random_spec(case + 100 * extra, hidden, output, loss, hidden_layers=1 + case % 2)
        samples.append({
            "inputs": {name: other["inputs"].get(name, round(rng.uniform(-0.9, 0.9), 3)) for name in spec["inputs"]},
            "targets": spec["targets"] if loss == "cross_entropy" else {name: round(rng.uniform(0.1, 0.9), 2) for name in spec["targets"]},
        })
    del spec["inputs"], spec["targets"]
    spec.update(samples=samples, steps=STEPS, reduction="sum" if case % 3 == 2 else "mean")
    spec["optimizer"] = OPTIMIZERS[case % len(OPTIMIZERS)]
    return spec


@pytest.mark.parametrize("case", range(30))
def test_every_iteration_matches_torch_optim(case: int) -> None:
    spec = batch_spec(case)
    problem = derive.load(spec)
    d, network = problem.derivation, problem.network
    parameters = {p.name: torch.tensor(p.value, dtype=torch.float64, requires_grad=True) for p in network.parameters}
    optimizer = torch_optimizer(spec["optimizer"], list(parameters.values()), spec["learning_rate"])
    losses = []
    for t in range(1, STEPS + 2):
        optimizer.zero_grad()
        per_sample = [torch_loss(network, parameters, inputs, targets) for inputs, targets in network.samples]
        total = torch.stack(per_sample).sum()
        loss = total if spec["reduction"] == "sum" else total / len(per_sample)
        losses.append(loss.item())
        if t > STEPS:
            break
        loss.backward()
        optimizer.step()
        for name, tensor in parameters.items():
            ours = d[name + primes(t)].exact
            assert ours == pytest.approx(tensor.item(), rel=1e-10, abs=1e-12), (spec["optimizer"], name, t)
            assert d.history[t - 1][name] == d[name + primes(t)].value
    # the data loss: the derivation's batch loss less its L2 term, where weight decay is in the loss
    decay = spec["optimizer"].get("weight_decay", 0.0) if spec["optimizer"]["name"] != "adamw" else 0.0
    for updates, expected in enumerate(losses):
        step = d[network.loss_symbol + primes(updates)]
        weights = [d[p.name + primes(updates)].exact if updates else p.value for p in network.parameters]
        penalty = decay / 2 * sum(w * w for w in weights)  # type: ignore[operator]
        assert step.exact - penalty == pytest.approx(expected, rel=1e-10, abs=1e-12), (spec["optimizer"], updates)
    assert len(d.loss_history) == STEPS + 1 and len(d.history) == STEPS


def test_a_batch_of_one_without_decay_keeps_the_single_sample_ids() -> None:
    spec = batch_spec(0)
    spec["samples"] = spec["samples"][:1]
    spec["optimizer"] = {"name": "adam"}
    d = derive.load(spec).derivation
    assert "z1" in d and "z1(1)" not in d and "m1[w1]" in d and "mhat3[w1]" in d and "w1'''" in d
    assert d["vhat2[w1]"].depends_on == ("v2[w1]",)


def _spec(**changes: Any) -> dict[str, Any]:
    spec = batch_spec(1)
    spec.update(changes)
    return spec


@pytest.mark.parametrize("changes, message", [
    ({"optimizer": {"name": "adam", "rho": 0.9}},
     "optimizer.rho: adam has no rho (it is a hyper-parameter of rmsprop); leave it out or choose one of those."),
    ({"optimizer": {"name": "sgd", "momentum": 0.9}},
     "optimizer.momentum: sgd has no momentum (it is a hyper-parameter of momentum and nesterov); leave it out or choose one of those."),
    ({"optimizer": {"name": "adam", "beta1": 1.0}}, "optimizer.beta1: expected a number below 1; got 1.0."),
    ({"inputs": {"x1": 0.5}}, "samples: give the inputs and targets inside samples, not also as inputs, targets or data."),
])
def test_training_mistakes_are_one_message(changes: dict[str, Any], message: str) -> None:
    from derive.spec.schema import SpecError

    with pytest.raises(SpecError) as caught:
        derive.load(_spec(**changes))
    assert str(caught.value) == f"spec: {message}"


def test_a_sample_naming_other_inputs_is_refused_by_its_place() -> None:
    from derive.spec.schema import SpecError

    spec = batch_spec(1)
    first = spec["samples"][0]
    spec["samples"] = [first, {"inputs": {"q": 0.1, **{k: v for k, v in list(first["inputs"].items())[1:]}}, "targets": first["targets"]}]
    with pytest.raises(SpecError, match=r"^spec: samples\[1\]\.inputs: every sample names the same inputs in the same order as samples\[0\]"):
        derive.load(spec)


def test_a_name_taken_by_the_optimizer_is_refused() -> None:
    from derive.spec.schema import SpecError

    spec = batch_spec(1)
    spec["optimizer"] = {"name": "adam"}
    spec["loss_symbol"] = "beta1"
    with pytest.raises(SpecError, match=r"^spec: loss_symbol: the name 'beta1' is the symbol of optimizer.beta1; choose another name.$"):
        derive.load(spec)


@pytest.mark.parametrize("case", range(0, 30, 3))
def test_the_matrix_form_trains_as_the_derivation_does(case: int) -> None:
    """The matrix form's optimizers (NumPy) against the per-scalar derivation's steps, which
    the test above checks against torch.optim: every parameter after every iteration and
    every loss."""
    from derive.engine.matrix import parameter_names

    problem = derive.load(batch_spec(case))
    d, form = problem.derivation, problem.matrix
    where = parameter_names(problem.network)
    assert form.samples == len(problem.network.samples)
    for t, network in enumerate(form.trajectory[1:], start=1):
        for name, (group, layer, (row, column)) in where.items():
            array = (network.weights if group == "W" else network.biases)[layer]
            assert array[row, column] == pytest.approx(d[name + primes(t)].exact, rel=1e-10, abs=1e-12), (name, t)
    expected = [d[problem.network.loss_symbol + primes(updates)].exact for updates in range(STEPS + 1)]
    assert form.loss_history == pytest.approx(expected, rel=1e-10, abs=1e-12)


def test_the_keys_history_holds_every_iteration() -> None:
    from derive.views.key import matrix_key

    problem = derive.load(batch_spec(6))  # adam, steps 3
    key, layers = problem.key(), matrix_key(problem)
    assert len(key["history"]) == STEPS and len(layers["history"]) == STEPS
    last = problem.matrix.trajectory[-1]
    assert layers["history"][-1]["W1"] == last.weights[0].tolist()
    d = problem.derivation
    assert key["history"][1] == {p.name: d[p.name + "''"].value for p in problem.network.parameters}


def test_too_many_steps_to_work_one_by_one_are_refused_with_the_matrix_form_offered() -> None:
    from derive.spec.schema import SpecError

    spec = batch_spec(3)
    spec["steps"] = 1000
    with pytest.raises(SpecError, match=r"^spec: steps: 1000 iterations of this network are about .* --notation matrix"):
        derive.load(spec).derivation
    assert len(derive.load(spec).matrix.loss_history) == 1001  # the matrix form trains them all
