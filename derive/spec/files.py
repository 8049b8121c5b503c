"""Reading the CSV files people bring (rosters, class submissions): whatever encoding
their spreadsheet wrote. Korean Excel saves CP949; others save UTF-8, with or without BOM."""

from __future__ import annotations

from pathlib import Path

from .schema import SpecError

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
