"""The network a spec describes: named units, weights numbered as the seed documents
number them, biases, and one SymPy symbol for every name."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property

import sympy

from .functions import Activation, Loss, layer_activation, spec_loss
from .names import latex_of
from ..spec.schema import ExplicitWeight, Spec, SpecError
from ..spec.vocabulary import HYPER_SYMBOLS, LEARNING_RATE, OPTIMIZER_FIELDS, field_path, shown


@dataclass(frozen=True)
class Unit:
    layer: int  # 0-based index into spec.layers
    index: int  # 0-based position within its layer
    pre: str
    post: str
    activation: Activation
    is_output: bool


@dataclass(frozen=True)
class Parameter:
    """A weight (source -> target) or a bias (feeding one or more units)."""

    name: str
    value: float | None
    targets: tuple[str, ...]  # pre names of the units it feeds
    source: str | None = None  # for a weight: the input or post name it multiplies

    @property
    def is_bias(self) -> bool:
        return self.source is None


@dataclass
class Network:
    spec: Spec
    inputs: dict[str, float | None]
    targets: dict[str, float | None]
    layers: list[list[Unit]]
    weights: list[Parameter]
    biases: list[Parameter]
    loss: Loss
    loss_symbol: str
    learning_rate: float | None
    latex_names: dict[str, str] = field(default_factory=dict)
    # every sample's (inputs, targets); `inputs` and `targets` are the first one's
    samples: list[tuple[dict[str, float | None], dict[str, float | None]]] = field(default_factory=list)

    @property
    def units(self) -> list[Unit]:
        return [unit for layer in self.layers for unit in layer]

    @property
    def outputs(self) -> list[Unit]:
        return self.layers[-1]

    @property
    def parameters(self) -> list[Parameter]:
        return self.weights + self.biases

    def incoming(self, unit: Unit) -> list[Parameter]:
        return self._incoming.get(unit.pre, [])

    @cached_property
    def _incoming(self) -> dict[str, list[Parameter]]:
        """Each unit's weights and biases, indexed once: the derivation asks for every unit's
        many times, and a scan of all parameters each time made it quadratic."""
        index: dict[str, list[Parameter]] = {}
        for parameter in self.parameters:
            for target in parameter.targets:
                index.setdefault(target, []).append(parameter)
        return index

    def weight_between(self, source: str, target: Unit) -> Parameter | None:
        """The weight from `source` (an input or a unit's post name) into `target`, if any."""
        return self._weights_by_edge.get((source, target.pre))

    @cached_property
    def _weights_by_edge(self) -> dict[tuple[str, str], Parameter]:
        return {(w.source, w.targets[0]): w for w in self.weights if w.source is not None}

    def givens(self) -> list[tuple[str, float | None]]:
        """Every number the problem states: inputs, parameters, targets."""
        return [*self.inputs.items(), *((p.name, p.value) for p in self.parameters), *self.targets.items()]

    def is_numeric(self) -> bool:
        values = [value for inputs, targets in self.samples for value in [*inputs.values(), *targets.values()]]
        values.append(self.learning_rate)
        values += [p.value for p in self.parameters]
        return all(value is not None for value in values)

    def latex(self, name: str) -> str:
        return latex_of(name, self.latex_names)


def _unit_names(spec: Spec) -> list[tuple[list[str], list[str]]]:
    names = []
    pre_counter = post_counter = 0
    last = len(spec.layers) - 1
    for index, layer in enumerate(spec.layers):
        pre = layer.pre or [f"z{pre_counter + i + 1}" for i in range(layer.units)]
        if layer.post:
            post = layer.post
        elif index == last:
            post = [f"yhat{i + 1}" for i in range(layer.units)]
        else:
            post = [f"a{post_counter + i + 1}" for i in range(layer.units)]
        pre_counter += layer.units
        if index != last:
            post_counter += layer.units
        names.append((pre, post))
    return names


def _edges(spec: Spec, layers: list[list[Unit]], inputs: list[str]) -> list[tuple[str, str]]:
    """(source, target pre) pairs in the order the spec's weights are numbered."""
    edges = []
    sources = inputs
    for layer in layers:
        if spec.weight_order == "by_source":
            edges += [(source, unit.pre) for source in sources for unit in layer]
        else:
            edges += [(source, unit.pre) for unit in layer for source in sources]
        sources = [unit.post for unit in layer]
    return edges


def build_network(spec: Spec, origin: str = "spec") -> Network:
    layers: list[list[Unit]] = []
    last = len(spec.layers) - 1
    for index, ((pre, post), layer) in enumerate(zip(_unit_names(spec), spec.layers)):
        function = layer_activation(layer)
        layers.append([
            Unit(index, i, pre[i], post[i], function, index == last) for i in range(layer.units)
        ])
    samples = spec.sample_sets()
    inputs = list(samples[0][0])
    edges = _edges(spec, layers, inputs)
    weights = _weights(spec, layers, inputs, edges, origin)
    biases = _biases(spec, layers, origin)
    _check_distinct(spec, layers, weights, biases, origin)
    _check_connected(layers, inputs, weights, biases, origin)
    _check_all_or_none_given(spec, weights, biases, origin)
    taken = set(inputs) | set(samples[0][1]) | {u.pre for l in layers for u in l} | {u.post for l in layers for u in l}
    unknown = set(spec.latex) - taken - {w.name for w in weights} - {b.name for b in biases} - {spec.loss_symbol, LEARNING_RATE}
    if unknown:
        raise SpecError(f"{origin}: latex: '{sorted(unknown)[0]}' is not a name used in the spec.")
    return Network(
        spec=spec,
        inputs=dict(samples[0][0]),
        targets=dict(samples[0][1]),
        layers=layers,
        weights=weights,
        biases=biases,
        loss=spec_loss(spec),
        loss_symbol=spec.loss_symbol,
        learning_rate=spec.learning_rate,
        latex_names=dict(spec.latex),
        samples=[(dict(inputs_), dict(targets_)) for inputs_, targets_ in samples],
    )


NUMBERED = re.compile(r"^w([0-9]+)$")


def _weights(
    spec: Spec, layers: list[list[Unit]], inputs: list[str], edges: list[tuple[str, str]], origin: str
) -> list[Parameter]:
    """Each connection's weight. A weight {from, to, value} keeps its connection. The others
    are bound by name when they are numbered: w<k> is the k-th connection of weight_order,
    or, beside explicit weights, the numbered weights fill the remaining connections in
    the order of their numbers. Weights with other names fill them in the order written;
    numbered and other names together are refused, as neither order would be certain."""
    aliases: dict[str, str] = {name: name for name in inputs}
    for layer in layers:
        for unit in layer:
            aliases[unit.pre] = aliases[unit.post] = unit.post
    pre_of = {unit.post: unit.pre for layer in layers for unit in layer}
    explicit: dict[tuple[str, str], tuple[str, float | None]] = {}
    plain: list[tuple[str, float | None]] = []
    for name, given in spec.weights.items():
        if isinstance(given, ExplicitWeight):
            for end, label in ((given.source, "from"), (given.target, "to")):
                if end not in aliases:
                    raise SpecError(f"{origin}: weights.{name}.{label}: no unit or input named '{end}'.")
            source = aliases[given.source]
            target = pre_of.get(aliases[given.target])
            if (source, target) not in edges:
                raise SpecError(
                    f"{origin}: weights.{name}: there is no connection from '{given.source}' to "
                    f"'{given.target}' (weights join one layer to the next)."
                )
            if (source, target) in explicit:
                raise SpecError(
                    f"{origin}: weights.{name}: the connection from '{given.source}' to '{given.target}' already has "
                    f"weights.{explicit[(source, target)][0]}; each connection has one weight."
                )
            explicit[(source, target)] = (name, given.value)
        else:
            plain.append((name, given))
    open_edges = [edge for edge in edges if edge not in explicit]
    if not spec.weights:
        plain = [(f"w{i + 1}", None) for i in range(len(edges))]
    only_explicit = bool(explicit) and not plain  # a sparse network: just the listed edges
    if not only_explicit and len(plain) != len(open_edges):
        raise SpecError(
            f"{origin}: weights: expected {len(open_edges)} weights for this network "
            f"({_edge_summary(layers, inputs)}); got {len(plain)}."
        )
    plain = _by_number(plain, explicit, len(edges), layers, inputs, origin)
    ordered = iter(plain)
    weights = []
    for source, target in edges:
        if (source, target) in explicit:
            name, value = explicit[(source, target)]
        elif plain:
            name, value = next(ordered)
        else:
            continue
        weights.append(Parameter(name=name, value=value, targets=(target,), source=source))
    return weights


def _by_number(
    plain: list[tuple[str, float | None]], explicit: dict[tuple[str, str], tuple[str, float | None]], connections: int,
    layers: list[list[Unit]], inputs: list[str], origin: str,
) -> list[tuple[str, float | None]]:
    """The plain weights in the order they take the open connections: numbered ones by
    their numbers, other names as written."""
    numbers: dict[int, str] = {}
    for name, _ in plain:
        match = NUMBERED.match(name)
        if match is None:
            continue
        number = int(match[1])
        if number == 0:
            raise SpecError(f"{origin}: weights.{name}: numbered weights start at w1 (w1 is the first connection).")
        if number in numbers:
            raise SpecError(f"{origin}: weights.{name}: the number {number} is already taken by weights.{numbers[number]}.")
        numbers[number] = name
    if not numbers:
        return plain
    other = next((name for name, _ in plain if NUMBERED.match(name) is None), None)
    if other is not None:
        raise SpecError(
            f"{origin}: weights.{other}: numbered weights (w1, w2, ...) are placed by their numbers and other names "
            f"by the order written, so the two cannot be mixed; name it w<k>, or pin it with {{from, to, value}}."
        )
    if not explicit:
        beyond = max(numbers)
        if beyond > connections:
            raise SpecError(
                f"{origin}: weights.{numbers[beyond]}: this network has {connections} connections "
                f"({_edge_summary(layers, inputs)}), so its numbered weights are w1 to w{connections}."
            )
    return sorted(plain, key=lambda item: int(NUMBERED.match(item[0])[1]))  # type: ignore[index]


def _edge_summary(layers: list[list[Unit]], inputs: list[str]) -> str:
    sizes = [len(inputs)] + [len(layer) for layer in layers]
    return " + ".join(f"{a}x{b}" for a, b in zip(sizes, sizes[1:]))


def _biases(spec: Spec, layers: list[list[Unit]], origin: str) -> list[Parameter]:
    slots: list[tuple[str, ...]] = []
    for layer_spec, layer in zip(spec.layers, layers):
        if layer_spec.bias == "shared":
            slots.append(tuple(unit.pre for unit in layer))
        elif layer_spec.bias == "per_unit":
            slots += [(unit.pre,) for unit in layer]
    given = list(spec.biases.items())
    if not given and slots:
        given = [(f"b{i + 1}", None) for i in range(len(slots))]
    if len(given) != len(slots):
        raise SpecError(
            f"{origin}: biases: expected {len(slots)} bias value(s) from the layers' `bias:` settings; got {len(given)}."
        )
    return [Parameter(name=name, value=value, targets=targets) for (name, value), targets in zip(given, slots)]


def _check_distinct(spec: Spec, layers: list[list[Unit]], weights: list[Parameter], biases: list[Parameter], origin: str) -> None:
    """The learning rate's symbol (eta), the loss symbol and every input, target, unit and
    parameter name, written or default, are distinct: each is one SymPy symbol, so two
    quantities sharing a name would silently be one (an input named eta was the learning
    rate). The schema refuses clashes between written names; this adds the defaults."""
    named: list[tuple[str, str, bool]] = []  # (field, name, written in the spec)
    first_inputs, first_targets = spec.sample_sets()[0]
    where = "samples[0]." if spec.samples is not None else ""
    named += [(where + field_path(("inputs", name)), name, True) for name in first_inputs]
    named += [(where + field_path(("targets", name)), name, True) for name in first_targets]
    for index, (layer_spec, layer) in enumerate(zip(spec.layers, layers)):
        for part in ("pre", "post"):
            written = getattr(layer_spec, part) is not None
            named += [(f"layers[{index}].{part}[{unit.index}]", getattr(unit, part), written) for unit in layer]
    for group, parameters, written in (("weights", weights, bool(spec.weights)), ("biases", biases, bool(spec.biases))):
        named += [(field_path((group, p.name)) if written else group, p.name, written) for p in parameters]
    named.append(("loss_symbol", spec.loss_symbol, True))
    seen: dict[str, tuple[str, bool]] = {}
    hyper = {HYPER_SYMBOLS[option]: option for option in hyper_parameters(spec)}
    for field, name, written in named:
        if name == LEARNING_RATE:
            raise SpecError(f"{origin}: {field}: the name '{LEARNING_RATE}' is the learning rate's symbol; choose another name.")
        if name in hyper:
            raise SpecError(f"{origin}: {field}: the name {shown(name)} is the symbol of optimizer.{hyper[name]}; "
                            "choose another name.")
        if name in seen:
            first, first_written = seen[name]
            if written and first_written:
                raise SpecError(f"{origin}: {field}: the name {shown(name)} is already used in {first}; choose another name.")
            mine, default = (field, first) if written else (first, field)
            raise SpecError(
                f"{origin}: {mine}: the name {shown(name)} is also the default name of {default}; choose another name, "
                f"or name the default ones in the spec."
            )
        seen[name] = (field, written)


def _check_all_or_none_given(spec: Spec, weights: list[Parameter], biases: list[Parameter], origin: str) -> None:
    """A derivation is worked in numbers or wholly in symbols: a spec that gives some numbers
    and leaves others out (weights: omitted, a null target) would silently drop the numbers it
    gave and print a symbolic page, so it is refused, naming what is missing."""
    groups: list[tuple[str, list[tuple[str, float | None]]]] = []
    for index, (inputs, targets) in enumerate(spec.sample_sets()):
        where = f"samples[{index}]." if spec.samples is not None else ""
        groups += [(where + "inputs", list(inputs.items())), (where + "targets", list(targets.items()))]
    groups += [("weights", [(w.name, w.value) for w in weights]), ("biases", [(b.name, b.value) for b in biases])]
    given = [field for field, values in groups if any(value is not None for _, value in values)]
    if not given:
        return  # a symbolic spec: no numbers at all
    for field, values in groups:
        missing = [name for name, value in values if value is None]
        if not missing:
            continue
        omitted = field in ("weights", "biases") and not getattr(spec, field)
        listed = ", ".join(missing[:4]) + (f" and {len(missing) - 4} more" if len(missing) > 4 else "")
        raise SpecError(
            f"{origin}: {field}: this spec gives numbers ({given[0]}), so every value needs one; "
            f"{'it leaves out ' + field + ':' if omitted else 'no value for'} {listed} ({len(missing)} in all). "
            "Give them, or leave every number out for a symbolic derivation."
        )


def _check_connected(
    layers: list[list[Unit]], inputs: list[str], weights: list[Parameter], biases: list[Parameter], origin: str
) -> None:
    """With explicit weights only, the network has just the connections listed: every unit
    needs something to compute from, and every hidden unit something to feed."""
    fed = {target for p in [*weights, *biases] for target in p.targets}
    feeding = {p.source for p in weights}
    for index, layer in enumerate(layers):
        for unit in layer:
            if unit.pre not in fed:
                raise SpecError(
                    f"{origin}: layers[{index}]: unit {unit.pre} has no incoming weight or bias; give it a weight from "
                    f"the layer before."
                )
            if not unit.is_output and unit.post not in feeding:
                raise SpecError(f"{origin}: layers[{index}]: unit {unit.post} feeds nothing; give it a weight to the next layer.")
    unused = next((name for name in inputs if name not in feeding), None)
    if unused is not None:
        raise SpecError(f"{origin}: inputs.{unused}: the input feeds nothing; give it a weight to the first layer.")


# torch.optim's defaults; momentum, which torch's SGD defaults to 0, is 0.9 for the momentum
# and nesterov optimizers (naming them asks for momentum), and weight_decay is 0 but for adamw.
HYPER_DEFAULTS = {"momentum": 0.9, "rho": 0.99, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8}


def hyper_parameters(spec: Spec) -> dict[str, float]:
    """The optimizer's hyper-parameters by field, written or defaulted; weight_decay only
    when it is not 0."""
    optimizer = spec.optimizer
    values = {option: value if (value := getattr(optimizer, option)) is not None else HYPER_DEFAULTS[option]
              for option in OPTIMIZER_FIELDS[optimizer.name]}
    decay = optimizer.weight_decay if optimizer.weight_decay is not None else (0.01 if optimizer.name == "adamw" else 0.0)
    if decay:
        values["weight_decay"] = decay
    return values


def symbol(name: str) -> sympy.Symbol:
    return sympy.Symbol(name, real=True)
