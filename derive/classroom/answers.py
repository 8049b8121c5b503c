"""Students' answers as they type them, and the class's submissions file as a spreadsheet
saves it. Nothing here is evaluated as code: a cell is a number, a fraction, or junk."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache

from ..spec.files import iter_csv_rows
from ..spec.schema import SpecError
from ..spec.vocabulary import shown, unprintable

_MINUS_SIGNS = dict.fromkeys(map(ord, "\u2212\u2013\u2014\ufe63\uff0d"), "-")
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_FRACTION = re.compile(r"^[+-]?\d+\s*/\s*[+-]?\d+$")
_DECIMAL_COMMA = re.compile(r"^[+-]?\d*,\d+$")
MAX_CELL = 64  # longer than any number a student writes; refuse rather than parse megabytes


@dataclass(frozen=True)
class Answer:
    """A cell: a number, a blank, or text that is not a number (kept to report it)."""

    text: str
    value: float | None = None
    problem: str | None = None

    @property
    def is_blank(self) -> bool:
        return not self.text.strip()


@lru_cache(maxsize=1 << 16)
def parse_answer(text: str) -> Answer:
    """0.552, .552, 0,552, 5.52e-1, 1/2, −0.2 (Unicode minus), with spaces. Remembered: a
    class writes the same rounded numbers row after row (an Answer is immutable)."""
    cleaned = text.strip().translate(_MINUS_SIGNS).replace(" ", "").replace("\u00a0", "")
    if not cleaned:
        return Answer(text)
    if len(cleaned) > MAX_CELL:
        return Answer(text[:MAX_CELL] + "...", problem="too long to be a number")
    if _DECIMAL_COMMA.match(cleaned):
        cleaned = cleaned.replace(",", ".")
    if _NUMBER.match(cleaned):
        return Answer(text, float(cleaned))
    if _FRACTION.match(cleaned):
        numerator, denominator = (int(part) for part in cleaned.split("/"))
        if denominator == 0:
            return Answer(text, problem="division by zero")
        return Answer(text, float(Fraction(numerator, denominator)))
    return Answer(text, problem="not a number")


def written_digits(text: str) -> tuple[int, int] | None:
    """(significant digits, decimals) of a number as the student wrote it: 0.7010 -> (4, 4),
    -0.005 -> (1, 3), 5.52e-1 -> (3, 3); None for a fraction or anything else."""
    cleaned = text.strip().translate(_MINUS_SIGNS).replace(" ", "").replace("\u00a0", "")
    if _DECIMAL_COMMA.match(cleaned):
        cleaned = cleaned.replace(",", ".")
    if len(cleaned) > MAX_CELL or not _NUMBER.match(cleaned):
        return None
    number = Decimal(cleaned.lstrip("+-")).as_tuple()
    assert isinstance(number.exponent, int)
    significant = len(number.digits) if any(number.digits) else 1
    return significant, max(0, -number.exponent)


@dataclass
class Submission:
    row: int  # line number in the file, for messages
    student: str
    version: str | None
    answers: dict[str, Answer]
    problems: list[str] = field(default_factory=list)  # about the student's own sheet: shown in their feedback
    name: str = ""  # from the file's `name` column, or the roster's (versions.csv)


def has_version_column(text: str) -> bool:
    """Whether a submissions CSV's header names a `version` column."""
    first = next(csv.reader(io.StringIO(text, newline="")), [])
    return any(cell.strip().lower() == "version" for cell in first)


def parse_submissions(text: str, path: str, item_ids: set[str]) -> tuple[list[Submission], list[str]]:
    """Every data row of a submissions CSV (its text, read at the edge; `path` names it in
    messages) becomes one submission, whatever is wrong with its answers; those problems
    are listed on the submission, never raised, so no student is dropped. Also returns
    notes about the file as a whole. What would grade the wrong student or the wrong item
    is refused, naming the row as the spreadsheet numbers it: a column named twice, and a
    student, version or name cell holding a character no page can print (most often a
    quote that is not closed, which swallows the rows after it into one cell)."""
    columns, rows = read_header(text, path, item_ids)
    submissions = [submission for line, row in rows if (submission := columns.submission(line, row)) is not None]
    return submissions, columns.notes


@dataclass(frozen=True)
class Columns:
    """What a submissions file's header says: where the student, version and name are, and
    which column holds which item. `submission` turns one row into a Submission, so a
    large class's rows can be read one at a time (and on several cores)."""

    width: int
    student: int
    version: int | None
    name: int | None
    items: dict[int, str]
    notes: list[str]
    path: str  # the file, for messages

    def submission(self, line: int, row: list[str], answers: bool = True) -> Submission | None:
        """Row `row` (line `line` of the file) as a submission; None for an empty row. With
        `answers` False only who wrote it, for a first look at the whole class."""
        if not any(cell.strip() for cell in row):
            return None
        cells = row + [""] * (self.width - len(row))
        for column_name, column in (("student", self.student), ("version", self.version), ("name", self.name)):
            character = unprintable(cells[column].strip()) if column is not None else None
            if character is not None:
                raise SpecError(f"{self.path}: row {line}: the {column_name} cell holds {character}, which no page can print "
                                f"(is a quote not closed?); got {shown(cells[column].strip())}.")
        student = cells[self.student].strip() or f"(row {line})"
        version = cells[self.version].strip() if self.version is not None else None
        parsed = {name: parse_answer(cells[index]) for index, name in self.items.items()} if answers else {}
        name = cells[self.name].strip() if self.name is not None else ""
        submission = Submission(line, student, version or None, parsed, name=name)
        if len(row) > self.width:
            submission.problems.append(f"row {line} has {len(row)} cells for {self.width} columns; the extra cells were ignored")
        return submission


def read_header(text: str, path: str, item_ids: set[str]) -> tuple[Columns, Iterator[tuple[int, list[str]]]]:
    """The header of a submissions CSV, and its data rows (with their line numbers) still to
    be read."""
    rows = enumerate(iter_csv_rows(text, path), start=1)
    first = next(rows, None)
    if first is None:
        raise SpecError(f"{path}: the submissions file is empty; it needs a header row: student, version, then item ids.")
    header = [cell.strip() for cell in first[1]]
    lowered = [cell.lower() for cell in header]
    for index, name in enumerate(header):
        if (character := unprintable(name)) is not None:
            raise SpecError(f"{path}: row 1: the name of column {index + 1} holds {character}; a header names its columns "
                            f"in plain text; got {shown(name)}.")
    if "student" not in lowered:
        raise SpecError(f"{path}: row 1: the header has no 'student' column; it has {', '.join(header) or 'nothing'}.")
    _no_column_twice(header, item_ids, path)
    student_column = lowered.index("student")
    version_column = lowered.index("version") if "version" in lowered else None
    name_column = lowered.index("name") if "name" in lowered and "name" not in item_ids else None
    item_columns = {index: name for index, name in enumerate(header) if name in item_ids}
    known = (student_column, version_column, name_column)
    unknown = [name for index, name in enumerate(header) if index not in item_columns and index not in known and name]
    notes = [f"columns not in the key were ignored: {', '.join(unknown)}"] if unknown else []
    return Columns(len(header), student_column, version_column, name_column, item_columns, notes, path), rows


def _no_column_twice(header: list[str], item_ids: set[str], path: str) -> None:
    """A column derive reads (student, version, name: in any case; an item id) named twice
    would leave one of its two cells unread; columns derive ignores may repeat."""
    seen: dict[str, int] = {}
    for index, name in enumerate(header):
        identity = name.lower() if name.lower() in ("student", "version", "name") else name
        if identity in seen and (identity in ("student", "version", "name") or name in item_ids):
            raise SpecError(f"{path}: row 1: the column {shown(name)} appears twice (columns {seen[identity] + 1} and {index + 1}); "
                            "keep one, so that each cell has one meaning.")
        seen.setdefault(identity, index)


# --- who has which version: versions.csv, written by `derive variants` ------------------


@dataclass(frozen=True)
class ClassListEntry:
    version: str
    student: str
    name: str


def _unquoted(text: str) -> str:
    """A cell as it was before `csv_cell` put its single quote in front (versions.csv is
    written with it, so that `=1+1` stays text in a spreadsheet); other text unchanged."""
    from ..views.escape import csv_cell

    return text[1:] if text.startswith("'") and csv_cell(text[1:]) == text else text


def class_list(rows: list[dict[str, str]], origin: str) -> list[ClassListEntry]:
    """versions.csv's rows (read and split at the edge) as entries; its students must be
    unique, since each is the key to a version."""
    entries = [ClassListEntry(row.get("version", ""), _unquoted(row.get("student", "")), _unquoted(row.get("name", ""))) for row in rows]
    seen: dict[str, str] = {}
    for entry in entries:
        if entry.student and entry.student in seen:
            raise SpecError(f"{origin}: student {entry.student} has two versions, {seen[entry.student]} and {entry.version}.")
        seen[entry.student] = entry.version
    return entries


def assign_versions(submissions: list[Submission], entries: list[ClassListEntry], origin: str) -> list[str]:
    """Each submission without a version gets the one the class list gives its student, and
    each without a name the roster's name. Returns notes for the instructor: students the
    list does not know, and versions written that differ from the list's."""
    by_student = {entry.student: entry for entry in entries if entry.student}
    notes = []
    unknown = []
    for submission in submissions:
        entry = by_student.get(submission.student)
        if entry is None:
            if submission.version is None:
                unknown.append(submission.student)
            continue
        if not submission.name:
            submission.name = entry.name
        if submission.version is None:
            submission.version = entry.version
        elif _version_number(submission.version) != _version_number(entry.version):
            notes.append(f"student {submission.student} (row {submission.row}) wrote version {submission.version}, "
                         f"but {origin} gives {entry.version}; graded as {submission.version}")
    if unknown:
        notes.append(f"{origin} has no version for: {', '.join(unknown)}")
    return notes


_VERSION = re.compile(r"^[vV]?0*(\d+)$")


def _version_number(text: str) -> str:
    """`23`, `v23`, `V23` and `v023` are one version; any other text is itself."""
    match = _VERSION.match(text.strip())
    return match.group(1) if match else text.strip()


def find_version(text: str | None, versions: Iterable[str | None]) -> str | None:
    """The key's version a submission's version cell names (`23`, `v23` and `V23` name
    v23; `3` names v03), or None when it names none."""
    if text is None:
        return None
    known = [version for version in versions if version is not None]
    if text in known:
        return text
    wanted = _version_number(text)
    return next((version for version in known if _version_number(version) == wanted), None)
