"""The problem spec: the instructor's file, validated into typed data.

Validation is pydantic's; this module only adds what pydantic does not know: the
cross-field rules (counts of weights and names, duplicates) and messages that name the
field in the spec's own words, with a "did you mean" for near misses.
"""

from __future__ import annotations

import difflib
import json
import math
import re
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal, Union

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

from .policy import CARRIES, KINDS, MODES, ROUNDINGS

ACTIVATIONS = ("identity", "sigmoid", "tanh", "relu", "leaky_relu", "softmax")
LOSSES = ("squared_error", "half_squared_error", "mse", "binary_cross_entropy", "cross_entropy")
NAME_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


class SpecError(Exception):
    """A mistake in the user's input, already worded for the user."""


def _finite(value: float | None) -> float | None:
    if value is not None and not math.isfinite(value):
        raise ValueError("must be a finite number, not NaN or infinity")
    return value


FiniteNumber = Annotated[float, AfterValidator(_finite)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


def _formula_checker(variables: tuple[str, ...]) -> AfterValidator:
    """Parse the formula while validating, so a bad one is reported with its field."""

    def check(text: str) -> str:
        from .formula import parse_formula

        parse_formula(text, {name: sympy_symbol(name) for name in variables})
        return text

    return AfterValidator(check)


def sympy_symbol(name: str):  # type: ignore[no-untyped-def]
    import sympy

    return sympy.Symbol(name, real=True)


class CustomActivationSpec(_Strict):
    """activation: {name: softsign, formula: "z/(1+abs(z))"}, differentiated by SymPy."""

    name: Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_]{0,29}$")]
    formula: Annotated[str, _formula_checker(("z",))]


class CustomLossSpec(_Strict):
    """loss: {formula: "(y - yhat)^2 / 2"}: one output's term, summed over the outputs."""

    name: Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_ ]{0,39}$")] = "custom loss"
    formula: Annotated[str, _formula_checker(("y", "yhat"))]


class LayerSpec(_Strict):
    units: int = Field(ge=1, le=1000)
    activation: Union[Literal[ACTIVATIONS], CustomActivationSpec]  # type: ignore[valid-type]
    alpha: Annotated[float, Field(gt=0, lt=1)] | None = None
    pre: list[str] | None = None
    post: list[str] | None = None
    bias: Literal["none", "shared", "per_unit"] = "none"


class ExplicitWeight(_Strict):
    source: str = Field(alias="from")
    target: str = Field(alias="to")
    value: FiniteNumber | None = None


class PrecisionSpec(_Strict):
    digits: int = Field(default=3, ge=1, le=15)
    mode: Literal[MODES] = "significant"  # type: ignore[valid-type]
    carry: Literal[CARRIES] = "rounded"  # type: ignore[valid-type]
    rounding: Literal[ROUNDINGS] = "half_up"  # type: ignore[valid-type]
    weighted_sum: int | None = Field(default=None, ge=1, le=15)
    activation: int | None = Field(default=None, ge=1, le=15)
    output: int | None = Field(default=None, ge=1, le=15)
    loss: int | None = Field(default=None, ge=1, le=15)
    factor: int | None = Field(default=None, ge=1, le=15)
    gradient: int | None = Field(default=None, ge=1, le=15)
    weight: int | None = Field(default=None, ge=1, le=15)


class RandomRange(_Strict):
    """Where a drawn number may fall: min..max, on a grid of `step` or rounded to `decimals`
    (one decimal when neither is given), and never 0 unless `zero` allows it."""

    min: FiniteNumber
    max: FiniteNumber
    decimals: int | None = Field(default=None, ge=0, le=6)
    step: Annotated[float, Field(gt=0)] | None = None
    zero: bool = False

    @model_validator(mode="after")
    def _ordered(self) -> RandomRange:
        if self.min >= self.max:
            raise ValueError(f"min ({self.min}) must be below max ({self.max})")
        if self.decimals is not None and self.step is not None:
            raise ValueError("give decimals or step, not both")
        return self


class RandomizeSpec(_Strict):
    """Which numbers vary between students' versions, and the guard that keeps sigmoid and
    tanh units out of saturation (|z| at most `saturation`)."""

    inputs: RandomRange | None = None
    weights: RandomRange | None = None
    biases: RandomRange | None = None
    targets: RandomRange | None = None
    saturation: Annotated[float, Field(gt=0)] = 4.0


# Math commands a symbol's LaTeX override may use. Anything else (\input, \write18,
# \openout, \def, \catcode, ...) is refused, as are the characters that escape math or
# end a line early in TeX or Markdown: % # & $ and TeX's ^^ character codes.
LATEX_COMMANDS = frozenset({
    "hat", "bar", "tilde", "vec", "dot", "ddot", "mathrm", "mathbf", "mathit", "mathsf", "mathcal", "boldsymbol",
    "prime", "ell", "partial", "nabla", "top", "cdot", "star", "ast",
    "alpha", "beta", "gamma", "delta", "epsilon", "varepsilon", "zeta", "eta", "theta", "vartheta", "iota", "kappa",
    "lambda", "mu", "nu", "xi", "pi", "rho", "sigma", "tau", "upsilon", "phi", "varphi", "chi", "psi", "omega",
    "Gamma", "Delta", "Theta", "Lambda", "Xi", "Pi", "Sigma", "Upsilon", "Phi", "Psi", "Omega",
})
_LATEX_CHARACTERS = re.compile(r"^[A-Za-z0-9_^{}\\' ,.()\[\]+\-=|*/]*$")


def _safe_latex(text: str) -> str:
    if len(text) > 80:
        raise ValueError("a symbol's LaTeX is at most 80 characters")
    if not _LATEX_CHARACTERS.match(text) or "^^" in text:
        raise ValueError("only letters, digits, _ ^ { } ' and math commands are allowed (no % # & $)")
    for command in re.findall(r"\\([A-Za-z]+|.)", text):
        if command not in LATEX_COMMANDS:
            raise ValueError(f"\\{command} is not an allowed math command; use e.g. \\hat, \\mathrm or a Greek letter")
    depth = 0
    for char in text:
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth < 0:
            break
    if depth != 0:
        raise ValueError("the braces { } do not balance")
    return text


SafeLatex = Annotated[str, AfterValidator(_safe_latex)]


class DataSpec(_Strict):
    """Inputs and targets from files, one row per sample (.npy, or .csv with commas), for
    networks too large to name every input: the matrix notation only."""

    inputs: Annotated[str, Field(pattern=r"(?i)^[^\x00]+\.(npy|csv)$")]
    targets: Annotated[str, Field(pattern=r"(?i)^[^\x00]+\.(npy|csv)$")]


class Spec(_Strict):
    title: str = Field(default="Forward and backward propagation", max_length=300)
    language: Literal["ko", "en"] = "ko"
    inputs: dict[str, FiniteNumber | None] = Field(default_factory=dict)
    targets: dict[str, FiniteNumber | None] = Field(default_factory=dict)
    data: DataSpec | None = None
    weight_seed: int | None = Field(default=None, ge=0)  # with data: weights drawn N(0, 1/fan-in)
    layers: list[LayerSpec] = Field(min_length=1)
    weights: dict[str, Union[FiniteNumber, None, ExplicitWeight]] = Field(default_factory=dict)
    weight_order: Literal["by_source", "by_target"] = "by_source"
    biases: dict[str, FiniteNumber | None] = Field(default_factory=dict)
    loss: Union[Literal[LOSSES], CustomLossSpec]  # type: ignore[valid-type]
    loss_symbol: str = "L"
    learning_rate: Annotated[FiniteNumber, Field(gt=0)] | None = None  # 0 would teach nothing; < 0 climbs the loss
    steps: int = Field(default=1, ge=1, le=1000)
    precision: PrecisionSpec = Field(default_factory=PrecisionSpec)
    latex: dict[str, SafeLatex] = Field(default_factory=dict)
    randomize: RandomizeSpec | None = None

    def per_kind_digits(self) -> dict[str, int]:
        return {
            kind: digits
            for kind in KINDS
            if (digits := getattr(self.precision, kind)) is not None
        }


# --- loading -----------------------------------------------------------------------


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML silently keeps the last of two equal keys; a spec with `w1` twice is a
    mistake the instructor wants to hear about."""


def _construct_unique_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            raise SpecError(f"duplicate key '{key}' (line {key_node.start_mark.line + 1})")
        seen.add(key)
    return loader.construct_mapping(node)


_UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_unique_mapping
)


def read_spec_file(path: Path) -> dict[str, Any]:
    if not path.exists():
        raise SpecError(f"{path}: no such file. Give the path of a spec (.yaml, .json or .toml).")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise SpecError(f"{path}: not UTF-8 text. Save the spec as UTF-8.") from None
    except OSError as error:
        raise SpecError(f"{path}: cannot be read ({error.strerror}).") from None
    suffix = path.suffix.lower()
    try:
        if suffix == ".json":
            data = json.loads(text)
        elif suffix == ".toml":
            data = tomllib.loads(text)
        else:
            data = yaml.load(text, Loader=_UniqueKeyLoader)
    except SpecError as error:
        raise SpecError(f"{path}: {error}") from None
    except (yaml.YAMLError, json.JSONDecodeError, tomllib.TOMLDecodeError) as error:
        detail = str(error).replace("\n", " ")
        raise SpecError(f"{path}: cannot be parsed as {suffix.lstrip('.') or 'YAML'}: {detail}") from None
    if not isinstance(data, dict):
        raise SpecError(f"{path}: a spec is a mapping of fields (title, inputs, layers, ...), not {type(data).__name__}.")
    return data


def parse_spec(data: dict[str, Any], origin: str = "spec") -> Spec:
    try:
        spec = Spec.model_validate(data)
    except ValidationError as error:
        raise SpecError(_describe(error, origin)) from None
    _check_names(spec, origin)
    return spec


# --- messages ------------------------------------------------------------------------

_FIELDS_AT = {
    (): Spec,
    ("layers", int): LayerSpec,
    ("precision",): PrecisionSpec,
    ("weights", str): ExplicitWeight,
    ("randomize",): RandomizeSpec,
    ("data",): DataSpec,
    ("layers", int, "activation"): CustomActivationSpec,
    ("loss",): CustomLossSpec,
    **{("randomize", group): RandomRange for group in ("inputs", "weights", "biases", "targets")},
}


def _location(loc: tuple[Any, ...]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += ("." if text else "") + str(part)
    return text or "(top level)"


def _allowed_keys(parent: tuple[Any, ...]) -> list[str]:
    shape = tuple(int if isinstance(p, int) else p for p in parent)
    if len(shape) == 2 and shape[0] == "weights":
        shape = ("weights", str)
    model = _FIELDS_AT.get(shape)
    if model is None:
        return []
    return [info.alias or name for name, info in model.model_fields.items()]


def _did_you_mean(word: Any, choices: list[str]) -> str:
    match = difflib.get_close_matches(str(word), choices, n=1, cutoff=0.6)
    return f" Did you mean '{match[0]}'?" if match else ""


_UNION_TAGS = ("float", "ExplicitWeight", "none", "CustomActivationSpec", "CustomLossSpec")


def _plain_location(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """The field's path without pydantic's union-member tags (literal[...], model names)."""
    return tuple(
        p for p in loc
        if not (isinstance(p, str) and (p in _UNION_TAGS or p.startswith(("function-", "literal["))))
    )


def _one_branch_each(errors: list[Any]) -> list[Any]:
    """A field that is a name or a {name, formula} mapping fails both ways; report the way
    the user meant: the name when they wrote text, the mapping when they wrote one."""
    kept = []
    for item in errors:
        is_union = any(isinstance(p, str) and (p.startswith("literal[") or p in _UNION_TAGS[3:]) for p in item["loc"])
        given = item.get("input")
        if is_union and item["type"] in ("model_type", "dict_type"):
            continue
        if is_union and item["type"] == "literal_error" and isinstance(given, dict):
            continue
        kept.append(item)
    return kept


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _describe(error: ValidationError, origin: str) -> str:
    lines = []
    seen: set[str] = set()
    for item in _one_branch_each(error.errors()):
        loc = _plain_location(item["loc"])
        where = _location(loc)
        if where in seen:
            continue
        seen.add(where)
        kind = item["type"]
        given = item.get("input")
        if kind == "extra_forbidden":
            allowed = _allowed_keys(loc[:-1])
            lines.append(
                f"{where}: unknown field.{_did_you_mean(loc[-1], allowed)}"
                + (f" Known fields: {', '.join(allowed)}." if allowed else "")
            )
        elif kind == "literal_error":
            expected = item["ctx"]["expected"]
            choices = re.findall(r"'([^']*)'", expected)
            lines.append(f"{where}: expected one of {', '.join(choices)}; got {_shown(given)}.{_did_you_mean(given, choices)}")
        elif kind == "missing":
            lines.append(f"{where}: required field is missing.")
        elif kind in ("float_parsing", "float_type", "int_parsing", "int_type", "int_from_float"):
            expected = "a whole number" if kind.startswith("int") else "a number"
            lines.append(f"{where}: expected {expected}; got {_shown(given)}.")
        elif kind == "value_error":
            lines.append(f"{where}: {item['msg'].removeprefix('Value error, ')}; got {_shown(given)}.")
        else:
            lines.append(f"{where}: {item['msg'].lower()}; got {_shown(given)}.")
    if len(lines) == 1:
        return f"{origin}: {lines[0]}"
    return f"{origin}: {len(lines)} problems:\n  " + "\n  ".join(lines)


def _check_names(spec: Spec, origin: str) -> None:
    """Names become symbols and ids in the key, so they must be unique and plain."""
    if spec.data is not None:
        if spec.inputs or spec.targets or spec.weights:
            raise SpecError(f"{origin}: data: with data files, leave out inputs, targets and weights (use weight_seed).")
        if spec.weight_seed is None:
            raise SpecError(f"{origin}: weight_seed: a spec with data files needs weight_seed (the weights are drawn from it).")
        return
    for field in ("inputs", "targets"):
        if not getattr(spec, field):
            raise SpecError(f"{origin}: {field}: required field is missing (or give data: {{inputs: x.npy, targets: y.npy}}).")
    named: list[tuple[str, str]] = []
    named += [("inputs", name) for name in spec.inputs]
    named += [("targets", name) for name in spec.targets]
    named += [("weights", name) for name in spec.weights]
    named += [("biases", name) for name in spec.biases]
    for index, layer in enumerate(spec.layers):
        for field in ("pre", "post"):
            names = getattr(layer, field)
            if names is not None:
                if len(names) != layer.units:
                    raise SpecError(
                        f"{origin}: layers[{index}].{field}: expected {layer.units} names "
                        f"(one per unit); got {len(names)}."
                    )
                named += [(f"layers[{index}].{field}", name) for name in names]
    named.append(("loss_symbol", spec.loss_symbol))
    first_seen: dict[str, str] = {}
    for field, name in named:
        if not NAME_PATTERN.match(name):
            raise SpecError(
                f"{origin}: {field}: '{name}' is not a usable name; use a letter followed by "
                "letters, digits or _ (like x1, net_h1, yhat1)."
            )
        if name in first_seen:
            raise SpecError(f"{origin}: {field}: the name '{name}' is already used in {first_seen[name]}.")
        first_seen[name] = field
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
    for key in spec.latex:
        if not NAME_PATTERN.match(key):
            raise SpecError(f"{origin}: latex: '{key}' is not a name used in the spec.")
