"""msgspec's validation errors, reworded for the instructor who wrote the spec.

msgspec says `Expected `int` >= 1 - at `$.layers[0].units``; the instructor should read
`layers[0].units: expected a whole number of at least 1; got 0.` This module walks the
raw data and the spec's types along msgspec's path to name the field as the spec writes
it, quote the value that was given, list the choices, and suggest a near miss.
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from typing import Any, Literal, Union

import msgspec

from .vocabulary import ACTIVATION_NAME, DATA_FILE, LOSS_NAME, SAMPLES_FILE, field_path, shown

_ERROR = re.compile(r"^(?P<what>.*?)(?: - at (?P<key>`key` in )?`\$(?P<path>[^`]*)`)?$", re.S)
_SEGMENT = re.compile(r"\.([^.\[]+)|\[(\d+|\.\.\.)\]")
_CONSTRAINT = re.compile(r"^Expected `(?P<type>\w+)` (?P<rest>.+)$")
_WRONG_TYPE = re.compile(r"^Expected `(?P<types>[^`]+)`, got `(?P<given>\w+)`$")

_TYPE_WORDS = {"int": "a whole number", "float": "a number", "str": "text", "bool": "true or false",
               "array": "a list", "object": "a mapping", "null": "nothing"}
# msgspec quotes a pattern as Python would print it (repr), so that is the lookup key.
_PATTERN_WORDS = {
    repr(ACTIVATION_NAME): "a name: a letter, then letters, digits or _ (30 at most)",
    repr(LOSS_NAME): "a name: a letter, then letters, digits, _ or spaces (40 at most)",
    repr(DATA_FILE): "a file name ending in .npy or .csv",
    repr(SAMPLES_FILE): "a file name ending in .csv",
}


def describe(message: str, data: Any, model: Any) -> str:
    """`field: what was expected; got what was given.` for one msgspec error."""
    return _describe(message, data, model, [])


def _describe(message: str, data: Any, model: Any, place: list[Any]) -> str:
    match = _ERROR.match(message)
    assert match is not None  # the pattern's every part is optional
    what, path = match["what"], match["path"] or ""
    value = data
    for name, index in _SEGMENT.findall(path):
        if name:
            model = _field_type(model, name)
            value = value.get(name) if isinstance(value, dict) else None
            place.append(name)
        elif index == "...":
            return _describe_dict_entry(message, value, model, place)
        else:
            model = typing.get_args(_unwrapped(model))[0]
            value = value[int(index)] if isinstance(value, list) and int(index) < len(value) else None
            place.append(int(index))
    if match["key"]:
        bad = next((key for key in value if not isinstance(key, str)), None) if isinstance(value, dict) else None
        return f"{_where(place)}: names are text like x1 or w1; got the key {shown(bad)}."
    return f"{_where(place, what)}: {_explain(what, value, model)}"


def _describe_dict_entry(message: str, mapping: Any, model: Any, place: list[Any]) -> str:
    """msgspec writes `[...]` for a mapping's entry; find the entry that fails and say which."""
    value_type = typing.get_args(_unwrapped(model))[1]
    for key, item in (mapping or {}).items():
        try:
            msgspec.convert(item, value_type)
        except msgspec.ValidationError as error:
            return _describe(str(error), item, value_type, [*place, key])
    return f"{_where(place)}: {message}"


def _explain(what: str, value: Any, model: Any) -> str:
    if field := _quoted(what, "Object contains unknown field "):
        known = _field_names(model)
        near = _did_you_mean(field, known)
        return f"unknown field.{near}" + (f" Known fields: {', '.join(known)}." if known else "")
    if _quoted(what, "Object missing required field "):
        return "required field is missing."
    if what.startswith("Invalid enum value"):
        choices = _choices(model)
        return f"expected one of {', '.join(choices)}; got {shown(value)}.{_did_you_mean(value, choices)}"
    if wrong := _WRONG_TYPE.match(what):
        return f"expected {_expected(wrong['types'], model)}; got {shown(value)}."
    if bound := _CONSTRAINT.match(what):
        return f"expected {_TYPE_WORDS.get(bound['type'], bound['type'])} {_bound_words(bound['rest'])}; got {shown(value)}."
    return f"{what[:1].lower()}{what[1:]}; got {shown(value)}."


def _expected(types: str, model: Any) -> str:
    words = []
    for name in types.split(" | "):
        if name == "null":
            continue
        if name == "str" and _choices(model):
            words.append("one of " + ", ".join(_choices(model)))
        elif name == "object" and _field_names(model):
            words.append("a mapping with " + ", ".join(_field_names(model)))
        else:
            words.append(_TYPE_WORDS.get(name, name))
    return " or ".join(words) or "nothing"


def _bound_words(rest: str) -> str:
    if match := re.fullmatch(r"matching regex (.*)", rest, re.S):
        return f"that is {_PATTERN_WORDS.get(match[1], 'of the form ' + match[1])}"
    length = rest.startswith("of length ")
    bound = re.fullmatch(r"(>=|>|<=|<) (-?[0-9.e+]+)", rest.removeprefix("of length "))
    if bound is None:
        return rest
    operator, amount = bound[1], f"{float(bound[2]):g}"
    if length:
        return {">=": f"with at least {amount} item(s)", "<=": f"of at most {amount} characters"}.get(operator, rest)
    return {">=": f"of at least {amount}", ">": f"above {amount}", "<=": f"of at most {amount}", "<": f"below {amount}"}.get(
        operator, rest
    )


def _quoted(what: str, prefix: str) -> str | None:
    return what[len(prefix):].strip("`") if what.startswith(prefix) else None


def _where(place: list[Any], what: str = "") -> str:
    """The field as the spec writes it; an unknown or missing field is named itself."""
    named = _quoted(what, "Object contains unknown field ") or _quoted(what, "Object missing required field ")
    return field_path([*place, named] if named else place)


def _did_you_mean(word: Any, choices: list[str]) -> str:
    match = difflib.get_close_matches(str(word), choices, n=1, cutoff=0.6)
    return f" Did you mean '{match[0]}'?" if match else ""


# --- the spec's types, read along msgspec's path ----------------------------------------


def _unwrapped(model: Any) -> Any:
    """The type under Annotated[...] and `| None`."""
    while typing.get_origin(model) is typing.Annotated:
        model = typing.get_args(model)[0]
    if typing.get_origin(model) in (Union, types.UnionType):
        members = [m for m in typing.get_args(model) if m is not type(None)]
        if len(members) == 1:
            return _unwrapped(members[0])
    return model


def _members(model: Any) -> list[Any]:
    model = _unwrapped(model)
    if typing.get_origin(model) in (Union, types.UnionType):
        return [_unwrapped(m) for m in typing.get_args(model)]
    return [model]


def _struct(model: Any) -> type[msgspec.Struct] | None:
    return next((m for m in _members(model) if isinstance(m, type) and issubclass(m, msgspec.Struct)), None)


def _field_names(model: Any) -> list[str]:
    struct = _struct(model)
    return [item.encode_name for item in msgspec.structs.fields(struct)] if struct else []


def _field_type(model: Any, encoded: str) -> Any:
    struct = _struct(model)
    if struct is None:
        return None
    hints = typing.get_type_hints(struct, include_extras=True)
    return next((hints[item.name] for item in msgspec.structs.fields(struct) if item.encode_name == encoded), None)


def _choices(model: Any) -> list[str]:
    return [str(v) for m in _members(model) if typing.get_origin(m) is Literal for v in typing.get_args(m)]
