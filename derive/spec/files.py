"""Every file derive reads, read here and nowhere else: specs (YAML, JSON, TOML), the
data files of large specs, and the CSV files people bring (rosters, class submissions)
in whatever encoding their spreadsheet wrote. Korean Excel saves CP949; others save
UTF-8, with or without BOM. Later stages receive text, mappings and arrays."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from .vocabulary import SpecError, shown

if TYPE_CHECKING:
    from .schema import Spec

ENCODINGS = ("utf-8-sig", "cp949")


def read_text_any_encoding(path: Path) -> str:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise SpecError(f"{path}: no such file.") from None
    except IsADirectoryError:
        raise SpecError(f"{path}: is a folder, not a CSV file.") from None
    for encoding in ENCODINGS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise SpecError(f"{path}: the file is neither UTF-8 nor CP949 text; save it from the spreadsheet as CSV UTF-8.")


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML silently keeps the last of two equal keys; a spec with `w1` twice is a
    mistake the instructor wants to hear about."""


def _construct_unique_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            raise SpecError(f"duplicate key {shown(key)} (line {key_node.start_mark.line + 1})")
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
            import tomllib

            data = tomllib.loads(text)
        else:
            data = yaml.load(text, Loader=_UniqueKeyLoader)
    except SpecError as error:
        raise SpecError(f"{path}: {error}") from None
    except (yaml.YAMLError, ValueError) as error:  # JSON's and TOML's decode errors are ValueErrors
        detail = str(error).replace("\n", " ")
        raise SpecError(f"{path}: cannot be parsed as {suffix.lstrip('.') or 'YAML'}: {detail}") from None
    if not isinstance(data, dict):
        raise SpecError(f"{path}: a spec is a mapping of fields (title, inputs, layers, ...), not {type(data).__name__}.")
    return data


def read_matrix(path: Path, field: str, origin: str) -> Any:
    """A data file as a NumPy array, samples as columns (the file has one row per sample);
    .npy without pickles, or .csv."""
    import numpy as np

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


def read_samples(spec: Spec, folder: Path, origin: str) -> tuple[Any, Any]:
    """The inputs and targets a spec's `data:` names, relative to the spec's folder."""
    assert spec.data is not None
    return (read_matrix(folder / spec.data.inputs, "inputs", origin), read_matrix(folder / spec.data.targets, "targets", origin))


def read_key_file(path: Path) -> tuple[Any, str]:
    """A key.json, a keys.json written by `derive variants`, or a folder holding either, as
    parsed JSON and the path it came from."""
    if path.is_dir():
        candidates = [path / "keys.json", path / "key.json"]
        path = next((candidate for candidate in candidates if candidate.exists()), candidates[0])
    try:
        return json.loads(path.read_text(encoding="utf-8")), str(path)
    except FileNotFoundError:
        raise SpecError(f"{path}: no such key file; give a key.json, a keys.json or the folder `derive variants` wrote.") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise SpecError(f"{path}: not a key written by derive ({error}).") from None


VERSIONS_FILE = "versions.csv"


def read_versions_file(keys: Path) -> tuple[list[dict[str, str]], str] | None:
    """The versions.csv `derive variants` wrote beside its keys (in the folder given, or
    beside the key file given) as rows {version, student, name}, and its path; None when
    there is none. Its cells are returned as written (roster ids and names may carry the
    single quote that keeps a spreadsheet from running them)."""
    import csv
    import io

    folder = keys if keys.is_dir() else keys.parent
    path = folder / VERSIONS_FILE
    if not path.is_file():
        return None
    rows = list(csv.reader(io.StringIO(read_text_any_encoding(path))))
    if not rows:
        raise SpecError(f"{path}: the file is empty; it needs the header version, student, name.")
    header = [cell.strip().lower() for cell in rows[0]]
    if "version" not in header or "student" not in header:
        raise SpecError(f"{path}: the header needs columns 'version' and 'student'; it has {', '.join(rows[0]) or 'nothing'}.")
    columns = {name: header.index(name) for name in ("version", "student", "name") if name in header}
    parsed = []
    for row in rows[1:]:
        if not any(cell.strip() for cell in row):
            continue
        cells = row + [""] * (len(header) - len(row))
        parsed.append({name: cells[index].strip() for name, index in columns.items()} | ({} if "name" in columns else {"name": ""}))
    return parsed, str(path)
