"""The grading keys `derive key` and `derive variants` write (key.json, keys.json), checked
as strictly as a spec before anything is rebuilt from them.

A key is input like any other: a student could hand the grader a crafted one. Every field
derive writes must be there with its type, no other field may be, every number must be
finite (JSON's NaN and Infinity, or 10**400, are refused here, not in the middle of
grading), version ids are the `v01`, `v02`, ... derive gives them, and the spec inside
names no data file (a key never makes derive read another file). The spec itself is
validated by `parse_spec` when the grader rebuilds it."""

from __future__ import annotations

import math
import re
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from .messages import describe
from .schema import check_title
from .vocabulary import CARRIES, KINDS, MODES, ROUNDINGS, SpecError, field_path, shown

MAX_VERSIONS = 10_000  # `derive variants --count` makes at most this many
VERSION_ID = r"^v[0-9]{2,5}$"
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")

NonNegative = Annotated[float, Meta(ge=0)]
ItemId = Annotated[str, Meta(min_length=1, max_length=200)]


class _Strict(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    pass


class Tolerance(_Strict):
    rtol: NonNegative
    atol: NonNegative


class KeyItem(_Strict):
    """One step, as derive/views/key.py writes it."""

    id: ItemId
    kind: Literal[KINDS]  # type: ignore[valid-type]
    latex: str
    expression: str
    value: float | None
    exact: float | None
    depends_on: list[ItemId]
    graded: bool
    tolerance: Tolerance | None = None
    accept: tuple[float, float] | None = None


class KeyPolicy(_Strict):
    digits: Annotated[int, Meta(ge=1, le=15)]
    mode: Literal[MODES]  # type: ignore[valid-type]
    carry: Literal[CARRIES]  # type: ignore[valid-type]
    rounding: Literal[ROUNDINGS]  # type: ignore[valid-type]
    per_kind: dict[Literal[KINDS], Annotated[int, Meta(ge=1, le=15)]]  # type: ignore[valid-type]


class Key(_Strict):
    """A key.json: one version (in a keys.json, one entry of `versions`)."""

    title: Annotated[str, Meta(max_length=300)]
    spec: dict[str, Any]
    policy: KeyPolicy
    loss_history: list[float]
    items: Annotated[list[KeyItem], Meta(min_length=1)]
    history: list[dict[str, float]] = []  # per iteration, each parameter's value after it (keys of earlier versions lack it)
    version: str | None = None  # in a keys.json, the id it is filed under


class ClassKeys(_Strict):
    """A keys.json: every version of a class."""

    title: Annotated[str, Meta(max_length=300)]
    versions: Annotated[dict[str, Key], Meta(min_length=1, max_length=MAX_VERSIONS)]  # ids checked by check_key


def check_key(data: Any, origin: str) -> None:
    """Raise SpecError naming the field when `data` (parsed JSON) is not a key derive wrote."""
    if isinstance(data, dict) and data.get("notation") == "matrix":
        raise SpecError(f"{origin}: notation: this is a layer-level key (derive key --notation matrix), which holds no spec "
                        "to grade from; give the key.json of `derive key` or the keys.json of `derive variants`.")
    if not isinstance(data, dict) or not ("versions" in data or "spec" in data):
        kind = type(data).__name__ if not isinstance(data, dict) else "mapping without 'spec' or 'versions'"
        raise SpecError(f"{origin}: (top level): not a key written by derive: expected a mapping with 'spec' (key.json) "
                        f"or 'versions' (keys.json); got a {kind}.")
    model: Any = ClassKeys if "versions" in data else Key
    versions = data.get("versions")
    for version in versions if isinstance(versions, dict) else ():
        if not re.fullmatch(VERSION_ID, version):
            raise SpecError(f"{origin}: versions[{shown(version)}]: expected a version id as derive writes it (v01, v02, ...).")
    _check_numbers(data, origin)
    try:
        keys = msgspec.convert(data, model)
    except msgspec.ValidationError as error:
        raise SpecError(f"{origin}: {describe(str(error), data, model)}") from None
    check_title(keys.title, origin, "title")
    for version, key in keys.versions.items() if isinstance(keys, ClassKeys) else [(None, keys)]:
        where = ("versions", version) if version is not None else ()
        if version is not None and key.version != version:
            raise SpecError(f"{origin}: {field_path((*where, 'version'))}: expected {shown(version)}, the version this key "
                            f"is filed under; got {shown(key.version)}.")
        _check_items(key, origin, where)
        if key.spec.get("data") is not None:
            raise SpecError(f"{origin}: {field_path((*where, 'spec', 'data'))}: a key carries its numbers and never names a "
                            f"file to read; got {shown(key.spec['data'])}.")


def _check_items(key: Key, origin: str, where: tuple[Any, ...]) -> None:
    """Item ids are unique, free of control characters, and depend only on earlier items."""
    seen: set[str] = set()
    for index, item in enumerate(key.items):
        place = field_path((*where, "items", index))
        if _CONTROL.search(item.id):
            raise SpecError(f"{origin}: {place}.id: an item id holds no control characters; got {shown(item.id)}.")
        if item.id in seen:
            raise SpecError(f"{origin}: {place}.id: {shown(item.id)} is the id of an earlier item too.")
        for dependency in item.depends_on:
            if dependency not in seen:
                raise SpecError(f"{origin}: {place}.depends_on: {shown(dependency)} is not an earlier item of this key.")
        seen.add(item.id)


def _check_numbers(data: Any, origin: str) -> None:
    """Every number outside the spec (which parse_spec checks) is one a double holds."""
    stack: list[tuple[tuple[Any, ...], Any]] = [((), data)]
    while stack:
        place, value = stack.pop()
        if isinstance(value, dict):
            stack.extend(((*place, name), item) for name, item in value.items() if name != "spec")
        elif isinstance(value, list):
            stack.extend(((*place, index), item) for index, item in enumerate(value))
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            try:
                finite = math.isfinite(float(value))
            except OverflowError:
                finite = False
            if not finite:
                raise SpecError(f"{origin}: {field_path(place)}: expected a finite number a double holds; got {shown(value)}.")
