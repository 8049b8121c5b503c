"""Every file derive reads, read here and nowhere else: specs (YAML, JSON, TOML), the
data files of large specs, and the CSV files people bring (rosters, class submissions)
in whatever encoding their spreadsheet wrote. Korean Excel saves CP949; others save
UTF-8, with or without BOM. Later stages receive text, mappings and arrays."""

from __future__ import annotations

from collections.abc import Iterator

import csv
import io
import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from .keyfile import check_key
from .vocabulary import MAX_SAMPLES, SpecError, shown, unprintable

if TYPE_CHECKING:
    from .schema import SamplesFileSpec, Spec

ENCODINGS = ("utf-8-sig", "cp949")


MAX_SPEC_BYTES = 16 * 1024 * 1024
MAX_FILE_BYTES = 256 * 1024 * 1024  # a CSV or a class's keys.json


def _read_capped(path: Path, limit: int) -> bytes:
    """A file's bytes, refused past `limit` (so /dev/zero or a huge file is a message, not
    a MemoryError)."""
    with open(path, "rb") as file:
        data = file.read(limit + 1)
    if len(data) > limit:
        raise SpecError(f"{path}: the file is larger than {limit // (1024 * 1024)} MB; this is not a file derive wrote or reads.")
    return data


def read_text_any_encoding(path: Path) -> str:
    try:
        data = _read_capped(path, MAX_FILE_BYTES)
    except FileNotFoundError:
        raise SpecError(f"{path}: no such file.") from None
    except IsADirectoryError:
        raise SpecError(f"{path}: is a folder, not a CSV file.") from None
    except OSError as error:
        raise SpecError(f"{path}: cannot be read ({error.strerror}).") from None
    for encoding in ENCODINGS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise SpecError(f"{path}: the file is neither UTF-8 nor CP949 text; save it from the spreadsheet as CSV UTF-8.")


def csv_rows(text: str, path: str) -> list[list[str]]:
    """A CSV's text (read by read_text_any_encoding) as its rows; row n of the result is row
    n + 1 of the spreadsheet, blank rows included, so messages can name rows as the
    spreadsheet numbers them."""
    return list(iter_csv_rows(text, path))


def iter_csv_rows(text: str, path: str) -> Iterator[list[str]]:
    """csv_rows one row at a time, for a class too large to hold twice: old Mac line ends (a
    bare CR) are line ends, and a cell too long for Python's csv module, or a quote left
    open, is a message naming its row, not a traceback."""
    read = 0
    try:
        for row in csv.reader(io.StringIO(text, newline=""), strict=True):
            read += 1
            yield row
    except csv.Error as error:
        detail = "a cell is longer than 131,072 characters" if "field limit" in str(error) else str(error)
        raise SpecError(f"{path}: row {read + 1}: cannot be read as CSV: {detail}; perhaps a quote is not closed.") from None


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML silently keeps the last of two equal keys; a spec with `w1` twice is a
    mistake the instructor wants to hear about."""


def _construct_unique_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        try:
            hash(key)
        except TypeError:
            raise SpecError(f"a key must be a name, not a {type(key).__name__} (line {key_node.start_mark.line + 1})") from None
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
        text = _read_capped(path, MAX_SPEC_BYTES).decode("utf-8").removeprefix("\ufeff")  # a BOM, as YAML accepts it
    except UnicodeDecodeError:
        raise SpecError(f"{path}: not UTF-8 text. Save the spec as UTF-8.") from None
    except OSError as error:
        raise SpecError(f"{path}: cannot be read ({error.strerror}).") from None
    suffix = path.suffix.lower()
    try:
        if suffix == ".json":
            data = json.loads(text, object_pairs_hook=_unique_json_object)
            _no_lone_surrogates(data)
        elif suffix == ".toml":
            import tomllib

            data = tomllib.loads(text)
        else:
            data = yaml.load(text, Loader=_UniqueKeyLoader)
    except SpecError as error:
        raise SpecError(f"{path}: {error}") from None
    except RecursionError:
        raise SpecError(f"{path}: the file nests too deeply to be a spec.") from None
    except (yaml.YAMLError, ValueError) as error:  # JSON's and TOML's decode errors are ValueErrors
        detail = str(error).replace("\n", " ")
        raise SpecError(f"{path}: cannot be parsed as {suffix.lstrip('.') or 'YAML'}: {detail}") from None
    if not isinstance(data, dict):
        raise SpecError(f"{path}: a spec is a mapping of fields (title, inputs, layers, ...), not {type(data).__name__}.")
    return data


def _unique_json_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """JSON, like YAML here, refuses two equal keys instead of keeping the last."""
    data: dict[str, Any] = {}
    for key, value in pairs:
        if key in data:
            raise SpecError(f"duplicate key {shown(key)}")
        data[key] = value
    return data


def _no_lone_surrogates(data: Any) -> None:
    """JSON's \\ud800 escapes decode to text no file can hold; refuse them here."""
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                raise SpecError(f"the text {shown(item.encode('utf-8', 'replace').decode())} holds a lone surrogate (\\ud800-\\udfff), which is not a character") from None


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


def read_samples_file(samples: SamplesFileSpec, folder: Path, origin: str) -> list[dict[str, dict[str, float]]]:
    """A mini-batch's CSV (`samples: {file: ..., inputs: [...], targets: [...]}`, relative to
    the spec's folder) as the inline samples list, [{inputs: {x1: ...}, targets: {...}}, ...]:
    a header row naming every input and target once (in any order), then one row of finite
    numbers per sample; blank rows are skipped. Each refusal names the file, and the row
    (as the spreadsheet numbers it) and column where it applies."""
    path = folder / samples.file
    where = f"{origin}: samples.file: {path}"
    try:
        rows = csv_rows(read_text_any_encoding(path), str(path))
    except SpecError as error:
        raise SpecError(f"{origin}: samples.file: {error}") from None
    wanted = [*samples.inputs, *samples.targets]
    if not rows or not any(cell.strip() for cell in rows[0]):
        raise SpecError(f"{where}: the first row is the header, naming the columns {', '.join(wanted)}; it is empty.")
    header = [cell.strip() for cell in rows[0]]
    for index, name in enumerate(header):
        if name not in wanted:
            raise SpecError(f"{where}: row 1, column {index + 1}: {shown(name)} is neither an input nor a target of the spec "
                            f"(the header names each of {', '.join(wanted)} once).")
        if name in header[:index]:
            raise SpecError(f"{where}: row 1: the column {shown(name)} is named twice.")
    missing = [name for name in wanted if name not in header]
    if missing:
        raise SpecError(f"{where}: row 1: the header has no column {', '.join(missing)} (it names each of {', '.join(wanted)} once).")
    parsed: list[dict[str, dict[str, float]]] = []
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise SpecError(f"{where}: row {number}: expected {len(header)} cells ({', '.join(header)}); got {len(row)}.")
        values = {name: _sample_number(cell, f"{where}: row {number}, column {name}") for name, cell in zip(header, row)}
        parsed.append({"inputs": {name: values[name] for name in samples.inputs},
                       "targets": {name: values[name] for name in samples.targets}})
        if len(parsed) > MAX_SAMPLES:
            raise SpecError(f"{where}: more than {MAX_SAMPLES} samples; a mini-batch worked by hand has at most {MAX_SAMPLES} "
                            "(give larger data sets as data: {inputs: x.csv, targets: y.csv} with --notation matrix).")
    if not parsed:
        raise SpecError(f"{where}: no samples; after the header, give one row of numbers per sample.")
    return parsed


def _sample_number(cell: str, where: str) -> float:
    """One cell of a samples file as a finite number ("1e309", "nan" and "" are refused)."""
    try:
        value = float(cell.strip())
    except ValueError:
        raise SpecError(f"{where}: expected a number; got {shown(cell)}.") from None
    if not math.isfinite(value):
        raise SpecError(f"{where}: expected a finite number; got {shown(cell)}.")
    return value


def read_key_file(path: Path) -> tuple[Any, str]:
    """A key.json, a keys.json written by `derive variants`, or a folder holding either, as
    parsed JSON and the path it came from, checked to be a key derive wrote (keyfile.py):
    a crafted key is one message, never a traceback in the grader."""
    if path.is_dir():
        candidates = [path / "keys.json", path / "key.json"]
        path = next((candidate for candidate in candidates if candidate.exists()), candidates[0])
    try:
        data = json.loads(_read_capped(path, MAX_FILE_BYTES).decode("utf-8").removeprefix("\ufeff"), object_pairs_hook=_unique_json_object)
        _no_lone_surrogates(data)
    except SpecError as error:
        raise SpecError(f"{path}: not a key written by derive ({error}).") from None
    except RecursionError:
        raise SpecError(f"{path}: not a key written by derive (it nests too deeply).") from None
    except FileNotFoundError:
        raise SpecError(f"{path}: no such key file; give a key.json, a keys.json or the folder `derive variants` wrote.") from None
    except ValueError as error:  # JSON's and UTF-8's errors, and Python's refusal of an integer of 4,300 digits
        detail = "it holds an integer of more than 4,300 digits" if "integer string conversion" in str(error) else str(error)
        raise SpecError(f"{path}: not a key written by derive ({detail}).") from None
    except OSError as error:
        raise SpecError(f"{path}: cannot be read ({error.strerror}).") from None
    check_key(data, str(path))
    return data, str(path)


VERSIONS_FILE = "versions.csv"


def read_versions_file(keys: Path) -> tuple[list[dict[str, str]], str] | None:
    """The versions.csv `derive variants` wrote beside its keys (in the folder given, or
    beside the key file given) as rows {version, student, name}, and its path; None when
    there is none. Its cells are returned as written (roster ids and names may carry the
    single quote that keeps a spreadsheet from running them)."""
    folder = keys if keys.is_dir() else keys.parent
    path = folder / VERSIONS_FILE
    if not path.is_file():
        return None
    rows = csv_rows(read_text_any_encoding(path), str(path))
    if not rows:
        raise SpecError(f"{path}: the file is empty; it needs the header version, student, name.")
    header = [cell.strip().lower() for cell in rows[0]]
    if "version" not in header or "student" not in header:
        raise SpecError(f"{path}: the header needs columns 'version' and 'student'; it has {', '.join(map(shown, rows[0])) or 'nothing'}.")
    columns = {name: header.index(name) for name in ("version", "student", "name") if name in header}
    parsed = []
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        cells = row + [""] * (len(header) - len(row))
        entry = {name: cells[index].strip() for name, index in columns.items()} | ({} if "name" in columns else {"name": ""})
        for name, value in entry.items():
            if (character := unprintable(value)) is not None:
                raise SpecError(f"{path}: row {number}: the {name} cell holds {character}, which derive never writes there.")
        parsed.append(entry)
    return parsed, str(path)
