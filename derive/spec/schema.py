"""The problem spec: the instructor's file, validated into typed data.

The types and their bounds are msgspec structs; msgspec checks a spec in well under a
millisecond and imports in a few, which keeps `derive worksheet` quick to start (pydantic
alone took a fifth of the command's time). This module adds what msgspec does not know:
finite numbers, formulas, safe LaTeX, and the cross-field rules (counts of weights and
names, duplicates). `spec_messages` words msgspec's errors in the spec's own terms.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal, Union

import msgspec
from msgspec import Meta, field

from .graph import GraphSpec, check_graph, with_loss
from .texmath import latex_problem
from .vocabulary import (
    ACTIVATION_NAME, ACTIVATIONS, CARRIES, DATA_FILE, KINDS, LEARNING_RATE, LOSS_NAME, LOSSES, MAX_SAMPLES, MODES, NAME_PATTERN,
    OPTIMIZER_FIELDS, ROUNDINGS, SAMPLES_FILE, SpecError, field_path, shown, unprintable,
)

class _Strict(msgspec.Struct, forbid_unknown_fields=True):
    """A misspelt field is an error, not silently ignored. Each subclass sets kw_only
    itself (msgspec does not inherit it) so that required fields may follow defaults."""


Digits = Annotated[int, Meta(ge=1, le=15)]


class CustomActivationSpec(_Strict, kw_only=True):
    """activation: {name: softsign, formula: "z/(1+abs(z))"}, differentiated by SymPy."""

    name: Annotated[str, Meta(pattern=ACTIVATION_NAME)]
    formula: str


class CustomLossSpec(_Strict, kw_only=True):
    """loss: {formula: "(y - yhat)^2 / 2"}: one output's term, summed over the outputs."""

    name: Annotated[str, Meta(pattern=LOSS_NAME)] = "custom loss"
    formula: str


class LayerSpec(_Strict, kw_only=True):
    units: Annotated[int, Meta(ge=1, le=1000)]
    activation: Union[Literal[ACTIVATIONS], CustomActivationSpec]  # type: ignore[valid-type]
    alpha: Annotated[float, Meta(gt=0, lt=1)] | None = None
    pre: list[str] | None = None
    post: list[str] | None = None
    bias: Literal["none", "shared", "per_unit"] = "none"


class ExplicitWeight(_Strict, kw_only=True):
    source: str = field(name="from")
    target: str = field(name="to")
    value: float | None = None


class PrecisionSpec(_Strict, kw_only=True):
    digits: Digits = 3
    mode: Literal[MODES] = "significant"  # type: ignore[valid-type]
    carry: Literal[CARRIES] = "rounded"  # type: ignore[valid-type]
    rounding: Literal[ROUNDINGS] = "half_up"  # type: ignore[valid-type]
    weighted_sum: Digits | None = None
    activation: Digits | None = None
    output: Digits | None = None
    loss: Digits | None = None
    factor: Digits | None = None
    gradient: Digits | None = None
    weight: Digits | None = None


class RandomRange(_Strict, kw_only=True):
    """Where a drawn number may fall: min..max, on a grid of `step` or rounded to `decimals`
    (one decimal when neither is given), and never 0 unless `zero` allows it."""

    min: float
    max: float
    decimals: Annotated[int, Meta(ge=0, le=6)] | None = None
    step: Annotated[float, Meta(gt=0)] | None = None
    zero: bool = False


class RandomizeSpec(_Strict, kw_only=True):
    """Which numbers vary between students' versions, and the guard that keeps sigmoid and
    tanh units out of saturation (|z| at most `saturation`)."""

    inputs: RandomRange | None = None
    weights: RandomRange | None = None
    biases: RandomRange | None = None
    targets: RandomRange | None = None
    saturation: Annotated[float, Meta(gt=0)] = 4.0


class DataSpec(_Strict, kw_only=True):
    """Inputs and targets from files, one row per sample (.npy, or .csv with commas), for
    networks too large to name every input: the matrix notation only."""

    inputs: Annotated[str, Meta(pattern=DATA_FILE)]
    targets: Annotated[str, Meta(pattern=DATA_FILE)]


OPTIMIZERS = ("sgd", "momentum", "nesterov", "rmsprop", "adam", "adamw")
Fraction = Annotated[float, Meta(ge=0, lt=1)]


class OptimizerSpec(_Strict, kw_only=True):
    """optimizer: {name: adam, beta1: 0.9, ...}: the update rule and its hyper-parameters,
    named and defaulted as torch.optim names and defaults them (derive/engine/training.py).
    weight_decay is an L2 term in the loss for every optimizer but adamw, which decays the
    weights apart from the gradient (torch's AdamW, whose default is 0.01)."""

    name: Literal[OPTIMIZERS] = "sgd"  # type: ignore[valid-type]
    momentum: Fraction | None = None  # momentum, nesterov: 0.9
    rho: Fraction | None = None  # rmsprop: 0.99 (torch's alpha)
    beta1: Fraction | None = None  # adam, adamw: 0.9
    beta2: Fraction | None = None  # adam, adamw: 0.999
    epsilon: Annotated[float, Meta(gt=0)] | None = None  # rmsprop, adam, adamw: 1e-8
    weight_decay: Annotated[float, Meta(ge=0)] | None = None  # 0 (adamw: 0.01)


class SampleSpec(_Strict, kw_only=True):
    """One sample of a mini-batch: its inputs and targets, named as every other sample's."""

    inputs: dict[str, float | None]
    targets: dict[str, float | None]


class SamplesFileSpec(_Strict, kw_only=True):
    """samples: {file: batch.csv, inputs: [x1, x2], targets: [y1]}: a mini-batch from a CSV
    file, one row per sample, its header naming each column after an input or a target.
    derive.load reads it (derive/spec/files.py) and puts the rows in the spec as the inline
    list, so the key, the versions and the grader see the samples as if written out."""

    file: Annotated[str, Meta(pattern=SAMPLES_FILE)]
    inputs: Annotated[list[str], Meta(min_length=1)]
    targets: Annotated[list[str], Meta(min_length=1)]


class Spec(_Strict, kw_only=True):
    title: Annotated[str, Meta(max_length=300)] = "Forward and backward propagation"
    language: Literal["ko", "en"] = "ko"
    inputs: dict[str, float | None] = {}
    targets: dict[str, float | None] = {}
    data: DataSpec | None = None
    weight_seed: Annotated[int, Meta(ge=0)] | None = None  # with data: weights drawn N(0, 1/fan-in)
    layers: Annotated[list[LayerSpec], Meta(min_length=1)] | None = None  # required unless graph: is given
    weights: dict[str, Union[float, None, ExplicitWeight]] = {}
    weight_order: Literal["by_source", "by_target"] = "by_source"
    biases: dict[str, float | None] = {}
    loss: Union[Literal[LOSSES], CustomLossSpec, None] = None  # type: ignore[valid-type]  # required with layers
    loss_symbol: str = "L"
    learning_rate: Annotated[float, Meta(gt=0)] | None = None  # 0 would teach nothing; < 0 climbs the loss
    steps: Annotated[int, Meta(ge=1, le=1000)] = 1
    # A mini-batch: the samples instead of inputs and targets, and how their losses combine.
    samples: Union[Annotated[list[SampleSpec], Meta(min_length=1, max_length=MAX_SAMPLES)], SamplesFileSpec, None] = None
    reduction: Literal["mean", "sum"] = "mean"
    optimizer: OptimizerSpec = field(default_factory=OptimizerSpec)
    # How the backward pass is worked: every path of chain factors in full (the seeds'
    # 2-2-1 format), or each unit's error signal once and each gradient as signal x input;
    # auto takes full when every gradient has one short path (derive/engine/derivation.py).
    chain: Literal["auto", "full", "signals"] = "auto"
    precision: PrecisionSpec = field(default_factory=PrecisionSpec)
    latex: dict[str, str] = {}
    randomize: RandomizeSpec | None = None
    # The item ids a worksheet and a quiz ask for (z1, dC/do1, w1', ...); by default the
    # forward pass, the loss, the gradients, the updates and the pass after them. Each id is
    # checked against the derivation's steps when the key is built (derive/views/key.py).
    ask: list[str] | None = None
    # A computational graph instead of layers (derive/spec/graph.py, derive/engine/graph.py).
    graph: GraphSpec | None = None

    def sample_sets(self) -> list[tuple[dict[str, float | None], dict[str, float | None]]]:
        """Every sample's (inputs, targets): the `samples` list, or the one sample of
        `inputs` and `targets`."""
        if self.samples is None:
            return [(self.inputs, self.targets)]
        assert isinstance(self.samples, list), "derive.load puts a samples file's rows in the spec"
        return [(sample.inputs, sample.targets) for sample in self.samples]

    def per_kind_digits(self) -> dict[str, int]:
        return {
            kind: digits
            for kind in KINDS
            if (digits := getattr(self.precision, kind)) is not None
        }


def as_plain_data(spec: Spec) -> dict[str, Any]:
    """The spec as JSON-ready data, under the field names the instructor wrote."""
    return msgspec.to_builtins(spec)


def parse_spec(data: dict[str, Any], origin: str = "spec") -> Spec:
    try:
        spec = msgspec.convert(data, Spec)
    except msgspec.ValidationError as error:
        from .messages import describe

        raise SpecError(f"{origin}: {describe(str(error), data, Spec)}") from None
    check_title(spec.title, origin, "title")
    _check_values(spec, origin)
    if spec.graph is not None:
        unset = {"samples": spec.samples is None, "reduction": spec.reduction == "mean",
                 "optimizer": spec.optimizer == OptimizerSpec(), "steps": spec.steps == 1}
        for name, is_unset in unset.items():
            if not is_unset:  # mini-batches, optimizers and training runs are worked for layered networks only
                raise SpecError(f"{origin}: {name}: a graph: spec is worked for one evaluation with plain gradient descent; "
                                f"leave {name} out (or write the network as layers:).")
        if spec.graph.loss is not None:
            spec = msgspec.structs.replace(spec, graph=with_loss(spec, origin))
        check_graph(spec, origin)
        _check_ask(spec, origin)
        return spec
    for required in ("layers", "loss"):
        if getattr(spec, required) is None:
            raise SpecError(f"{origin}: {required}: required field is missing.")
    _check_samples(spec, origin)
    _check_optimizer(spec, origin)
    _check_ask(spec, origin)
    return spec


def check_title(title: str, origin: str, field_name: str) -> None:
    """A title heads every page and names the Moodle and QTI quizzes: a control character
    (other than a tab or a line break, which XML holds) makes their XML
    ill-formed, and a direction override makes it display as another title."""
    character = unprintable(title.replace("\t", " ").replace("\n", " ").replace("\r", " "))
    if character is not None:
        raise SpecError(f"{origin}: {field_name}: a title holds no control characters; it holds {character}; got {shown(title)}.")


def _check_optimizer(spec: Spec, origin: str) -> None:
    """A hyper-parameter the optimizer does not read is a mistake (rho given to adam would
    otherwise be silently ignored)."""
    optimizer = spec.optimizer
    used = OPTIMIZER_FIELDS[optimizer.name]
    for name in ("momentum", "rho", "beta1", "beta2", "epsilon"):
        if getattr(optimizer, name) is not None and name not in used:
            readers = [key for key, fields in OPTIMIZER_FIELDS.items() if name in fields]
            raise SpecError(
                f"{origin}: optimizer.{name}: {optimizer.name} has no {name} (it is a hyper-parameter of "
                f"{' and '.join(readers)}); leave it out or choose one of those."
            )


def _check_samples(spec: Spec, origin: str) -> None:
    """A mini-batch's samples each name the same inputs and targets, in the same order, and
    each passes the checks one sample's inputs and targets do (named as samples[i])."""
    if spec.samples is None:
        _check_names(spec, origin)
        return
    if spec.inputs or spec.targets or spec.data is not None:
        raise SpecError(f"{origin}: samples: give the inputs and targets inside samples, not also as inputs, targets or data.")
    if isinstance(spec.samples, SamplesFileSpec):
        return  # derive.load reads the file and checks the spec again with its rows inline
    first = spec.samples[0]
    for index, sample in enumerate(spec.samples):
        for part in ("inputs", "targets"):
            names, expected = list(getattr(sample, part)), list(getattr(first, part))
            if index and names != expected:
                raise SpecError(
                    f"{origin}: samples[{index}].{part}: every sample names the same {part} in the same order "
                    f"as samples[0] ({', '.join(expected)}); got {', '.join(names) or 'none'}."
                )
        try:
            _check_names(msgspec.structs.replace(spec, inputs=sample.inputs, targets=sample.targets, samples=None), origin)
        except SpecError as error:
            text = str(error)
            prefix = f"{origin}: "
            if text.startswith(prefix) and text[len(prefix):].startswith(("inputs", "targets")):
                text = f"{prefix}samples[{index}].{text[len(prefix):]}"
            raise SpecError(text) from None


# --- rules msgspec's types cannot state ------------------------------------------------


def _walk_numbers(value: Any, place: tuple[Any, ...] = ()) -> list[tuple[tuple[Any, ...], float]]:
    """Every float in the spec with the place it was written, for the finiteness check."""
    if isinstance(value, float):
        return [(place, value)]
    if isinstance(value, msgspec.Struct):
        return [
            found
            for item in msgspec.structs.fields(value)
            for found in _walk_numbers(getattr(value, item.name), (*place, item.encode_name))
        ]
    if isinstance(value, dict):
        return [found for key, item in value.items() for found in _walk_numbers(item, (*place, key))]
    if isinstance(value, list):
        return [found for index, item in enumerate(value) for found in _walk_numbers(item, (*place, index))]
    return []


def _check_values(spec: Spec, origin: str) -> None:
    for place, number in _walk_numbers(spec):
        if not math.isfinite(number):
            raise SpecError(f"{origin}: {field_path(place)}: must be a finite number, not NaN or infinity; got {number}.")
    if spec.randomize is not None:
        for group in ("inputs", "weights", "biases", "targets"):
            span = getattr(spec.randomize, group)
            if span is None:
                continue
            if span.min >= span.max:
                raise SpecError(f"{origin}: randomize.{group}: min ({span.min}) must be below max ({span.max}).")
            if span.decimals is not None and span.step is not None:
                raise SpecError(f"{origin}: randomize.{group}: give decimals or step, not both.")
    formulas = [(f"layers[{index}].activation.formula", layer.activation.formula, ("z",))
                for index, layer in enumerate(spec.layers or ()) if isinstance(layer.activation, CustomActivationSpec)]
    # A custom function named like a built-in one would be computed as the built-in one
    # (the derivation builds softmax by its name) or read as it: the names stay apart.
    for index, layer in enumerate(spec.layers or ()):
        if isinstance(layer.activation, CustomActivationSpec) and layer.activation.name in ACTIVATIONS:
            raise SpecError(
                f"{origin}: layers[{index}].activation.name: {shown(layer.activation.name)} is a built-in activation's "
                f"name; give the custom activation another name (or write activation: {layer.activation.name} for the "
                "built-in one)."
            )
    if isinstance(spec.loss, CustomLossSpec) and spec.loss.name in LOSSES:
        raise SpecError(
            f"{origin}: loss.name: {shown(spec.loss.name)} is a built-in loss's name; give the custom loss another name "
            f"(or write loss: {spec.loss.name} for the built-in one)."
        )
    if isinstance(spec.loss, CustomLossSpec):
        formulas.append(("loss.formula", spec.loss.formula, ("y", "yhat")))
    if formulas:
        import sympy

        from .formula import FormulaError, parse_formula

        for where, text, variables in formulas:
            if _has_infinite_literal(text):
                raise SpecError(
                    f"{origin}: {where}: a number in the formula is too large for a float (at most about 1.8e308); "
                    f"got {shown(text)}."
                )
            try:
                body = parse_formula(text, {name: sympy.Symbol(name, real=True) for name in variables})
            except FormulaError as error:
                raise SpecError(f"{origin}: {where}: {error}; got {shown(text)}.") from None
            if body.has(sympy.nan, sympy.zoo, sympy.oo, -sympy.oo):
                raise SpecError(
                    f"{origin}: {where}: the formula is undefined or infinite for every input "
                    f"(0/0, a division by 0 or log(0)); got {shown(text)}."
                )
            if any(not math.isfinite(float(number)) for number in body.atoms(sympy.Number)):
                raise SpecError(
                    f"{origin}: {where}: a number in the formula is too large for a float (at most about 1.8e308); "
                    f"got {shown(text)}."
                )
    for name, text in spec.latex.items():
        # Inputs and targets are never updated, so only they are never printed with a prime.
        problem = latex_problem(text, primed=name not in spec.inputs and name not in spec.targets)
        if problem:
            raise SpecError(f"{origin}: {field_path(('latex', name))}: {problem}; got {shown(text)}.")


def _check_ask(spec: Spec, origin: str) -> None:
    """ask: a list of item ids, each once; whether each names a step is known only once the
    network is built, so the key checks that."""
    if spec.ask is None:
        return
    if not spec.ask:
        raise SpecError(f"{origin}: ask: list at least one item id (like z1, dL/dw1, w1'), or leave the field out.")
    seen: set[str] = set()
    for index, item in enumerate(spec.ask):
        if not item.strip():
            raise SpecError(f"{origin}: ask[{index}]: an item id cannot be empty.")
        if item in seen:
            raise SpecError(f"{origin}: ask[{index}]: {shown(item)} is listed twice.")
        seen.add(item)


def _has_infinite_literal(text: str) -> bool:
    """1e309 in a formula reads as infinity; the formula parser then has no number for it."""
    import ast

    try:
        tree = ast.parse(text.strip().replace("^", "**"), mode="eval")
    except (SyntaxError, RecursionError, MemoryError, ValueError):
        return False  # parse_formula words this one
    return any(isinstance(node, ast.Constant) and isinstance(node.value, float) and not math.isfinite(node.value)
               for node in ast.walk(tree))


def _check_names(spec: Spec, origin: str) -> None:
    """Names become symbols and ids in the key, so they must be unique and plain."""
    if spec.data is not None:
        if spec.inputs or spec.targets or spec.weights:
            raise SpecError(f"{origin}: data: with data files, leave out inputs, targets and weights (use weight_seed).")
        if spec.weight_seed is None:
            raise SpecError(f"{origin}: weight_seed: a spec with data files needs weight_seed (the weights are drawn from it).")
        return
    if spec.weight_seed is not None:  # it would be ignored, and the weights left out read as symbols
        raise SpecError(f"{origin}: weight_seed: draws the weights of a spec with data: files only; this spec has none, "
                        "so give its weights: (or draw fresh numbers per student with derive variants and randomize:).")
    for field in ("inputs", "targets"):
        if not getattr(spec, field):
            raise SpecError(f"{origin}: {field}: required field is missing (or give data: {{inputs: x.npy, targets: y.npy}}).")
    named: list[tuple[str, str, str]] = []  # (field, the exact place, name)
    for group in ("inputs", "targets", "weights", "biases"):
        named += [(group, field_path((group, name)), name) for name in getattr(spec, group)]
    for index, layer in enumerate(spec.layers):
        for field in ("pre", "post"):
            names = getattr(layer, field)
            if names is not None:
                if len(names) != layer.units:
                    raise SpecError(
                        f"{origin}: layers[{index}].{field}: expected {layer.units} names "
                        f"(one per unit); got {len(names)}."
                    )
                named += [(f"layers[{index}].{field}", f"layers[{index}].{field}[{i}]", name) for i, name in enumerate(names)]
    named.append(("loss_symbol", "loss_symbol", spec.loss_symbol))
    first_seen: dict[str, str] = {}
    for field, place, name in named:
        if not NAME_PATTERN.match(name):
            raise SpecError(
                f"{origin}: {field}: {shown(name)} is not a usable name; use a letter followed by "
                "letters, digits or _ (like x1, net_h1, yhat1)."
            )
        if name == LEARNING_RATE:
            raise SpecError(f"{origin}: {place}: the name '{LEARNING_RATE}' is the learning rate's symbol; choose another name.")
        if name in first_seen:
            raise SpecError(f"{origin}: {place}: the name {shown(name)} is already used in {first_seen[name]}; choose another name.")
        first_seen[name] = place
    outputs = spec.layers[-1].units
    if len(spec.targets) != outputs:
        raise SpecError(
            f"{origin}: targets: expected {outputs} target(s), one per unit of the output layer; "
            f"got {len(spec.targets)}."
        )
    if spec.layers[-1].activation == "softmax" and outputs < 2:
        raise SpecError(f"{origin}: layers[{len(spec.layers) - 1}]: softmax needs at least 2 units.")
    for index, layer in enumerate(spec.layers[:-1]):
        if layer.activation == "softmax":
            raise SpecError(f"{origin}: layers[{index}].activation: softmax belongs on the output layer only.")
    if isinstance(spec.loss, str) and spec.loss in ("binary_cross_entropy", "cross_entropy") and spec.layers[-1].activation not in (
        "sigmoid",
        "softmax",
    ):
        raise SpecError(
            f"{origin}: loss: {spec.loss} needs outputs between 0 and 1; use sigmoid or softmax "
            f"on the output layer (it is {spec.layers[-1].activation})."
        )
    if spec.loss in ("binary_cross_entropy", "cross_entropy"):
        _check_probability_targets(spec, origin)
    for key in spec.latex:
        if not NAME_PATTERN.match(key):
            raise SpecError(f"{origin}: latex: {shown(key)} is not a name used in the spec.")


def _check_probability_targets(spec: Spec, origin: str) -> None:
    """Cross-entropy compares probabilities: each target of binary cross-entropy lies in
    [0, 1]; cross-entropy, -sum y log yhat, compares two distributions, so its targets also
    sum to 1 (one output: y = 1). Outside that the loss is
    still a number, but not the one the lecture means (it can fall below 0)."""
    loss = "binary cross-entropy" if spec.loss == "binary_cross_entropy" else "cross-entropy"
    for name, value in spec.targets.items():
        if value is not None and not 0 <= value <= 1:
            raise SpecError(
                f"{origin}: {field_path(('targets', name))}: {loss} compares each output with a probability, so a "
                f"target lies between 0 and 1; got {value:g}."
            )
    distribution = spec.loss == "cross_entropy"  # -sum y log yhat compares two distributions, whatever the outputs
    values = list(spec.targets.values())
    if distribution and None not in values and abs(math.fsum(values) - 1) > 1e-9:  # type: ignore[arg-type]
        listed = ", ".join(f"{name} = {value:g}" for name, value in spec.targets.items())
        raise SpecError(
            f"{origin}: targets: cross-entropy compares two distributions, so the targets sum to 1; "
            f"{listed} sum to {math.fsum(values):g}."  # type: ignore[arg-type]
        )
    span = spec.randomize.targets if spec.randomize is not None else None
    if span is not None:
        if distribution:
            raise SpecError(
                f"{origin}: randomize.targets: cross-entropy targets sum to 1, so they cannot be drawn "
                "one by one; leave targets out of randomize."
            )
        if span.min < 0 or span.max > 1:
            raise SpecError(
                f"{origin}: randomize.targets: {loss} targets lie between 0 and 1; the range {span.min:g}..{span.max:g} "
                "goes outside it."
            )
