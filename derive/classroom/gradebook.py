"""A class graded a row at a time, so a course's 100,000 rows are never held at once.

A first look at every row (who wrote it, which version; no answers) settles what only the
whole class can: which of a student's rows counts (`--duplicates`), and what each of those
rows says about the others. Then the rows are graded in chunks, on every core for a large
class, and each chunk comes back as its finished grades.csv lines, grades.json entries,
feedback pages and its share of the summary, in the file's order, so the output is the
same with one core or many and can be written as it arrives."""

from __future__ import annotations

import gc
import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field

from .answers import Columns, Submission, find_version
from .grading import DUPLICATES, GradingKey, GradingRules, ItemResult, StudentResult, grade
from .reports import FeedbackWriter, Tally, grades_csv_row, result_json

CHUNK = 500  # rows per job: large enough to amortise sending it, small enough to keep every core busy
PARALLEL_FROM = 2_000  # rows; below this, starting workers costs more than it saves
SHEETS_REMEMBERED = 4_096  # identical sheets (blank ones, copies) graded once; only the recent ones are kept

Mark = tuple[bool, str]  # a row of a student on several rows: counted or not, and what it says


def version_of(key: GradingKey, submission: Submission) -> str | None:
    """The key's version a row names (None for a key without versions, or none found)."""
    return find_version(submission.version, key.versions) if None not in key.versions else None


def gradable(key: GradingKey, submission: Submission) -> bool:
    return key.versions.get(version_of(key, submission)) is not None


def duplicated_rows(rows: list[Submission]) -> dict[str, list[int]]:
    """Each student on more than one row, with the rows' indices (in the file's order)."""
    indices: dict[str, list[int]] = {}
    for index, row in enumerate(rows):
        indices.setdefault(row.student, []).append(index)
    return {student: found for student, found in indices.items() if len(found) > 1}


def mark_duplicates(
    key: GradingKey, rows: list[Submission], duplicates: str, scores: Callable[[list[int]], dict[int, float]]
) -> dict[int, Mark]:
    """What each row of a student on several rows says, by row index: under "last" and
    "best" whether it counts and which row does instead (an instructor's note), under "all"
    that there are others (on the student's page). `scores` grades the rows "best" compares."""
    if duplicates not in DUPLICATES:
        raise ValueError(f"duplicates must be one of {', '.join(DUPLICATES)}")
    repeated = duplicated_rows(rows)
    compared: dict[int, float] = {}
    if duplicates == "best":
        compared = scores([index for same in repeated.values() for index in same if gradable(key, rows[index])])
    marks: dict[int, Mark] = {}
    for student, same in repeated.items():
        candidates = [index for index in same if gradable(key, rows[index])] or same
        if duplicates == "best":
            kept = max(reversed(candidates), key=lambda index: compared.get(index, 0.0))
        else:
            kept = candidates[-1]
        for index in same:
            others = ", ".join(str(rows[other].row) for other in same if other != index)
            where = f"student {student} also appears on row{'s' if len(same) > 2 else ''} {others}"
            if duplicates == "all":
                marks[index] = (True, f"{where}; every row is counted")
                continue
            verdict = "this row is counted" if index == kept else f"row {rows[kept].row} is counted instead"
            marks[index] = (index == kept, f"{where}; {verdict} (--duplicates {duplicates})")
    return marks


@dataclass
class Grader:
    """Grades rows one at a time against their version; identical sheets share a result."""

    key: GradingKey
    rules: GradingRules = field(default_factory=GradingRules)
    duplicates: str = "last"
    _sheets: dict[tuple[object, ...], StudentResult] = field(default_factory=dict)

    def result(self, submission: Submission, mark: Mark | None = None) -> StudentResult:
        """A version the key lacks makes the row ungradable (reported to the instructor, left
        out of the class's numbers); a version cell `23`, `v23` or `V23` names v23."""
        key, rules = self.key, self.rules
        version = version_of(key, submission)
        derivation = key.versions.get(version)
        common: dict[str, object] = {"rules": rules, "name": submission.name, "row": submission.row}
        if derivation is None:
            known = ", ".join(str(v) for v in key.versions)
            reason = f"version {submission.version or '(empty)'} is not in the key (known: {known})"
            result = StudentResult(submission.student, submission.version, {}, list(submission.problems), notes=[reason],
                                   ungradable=reason, **common)  # type: ignore[arg-type]
            result.items = {item_id: ItemResult("invalid", "", None) for item_id in key.item_ids}
        else:
            sheet = (version, tuple(sorted((item, answer.text) for item, answer in submission.answers.items())))
            first = self._sheets.get(sheet)
            if first is None:
                if len(self._sheets) >= SHEETS_REMEMBERED:
                    self._sheets.pop(next(iter(self._sheets)))
                first = self._sheets[sheet] = grade(derivation, submission, rules)
            result = StudentResult(submission.student, version or submission.version, first.items, list(submission.problems), **common)  # type: ignore[arg-type]
        if mark is not None:
            counted, message = mark
            if self.duplicates == "all":
                result.problems.append(message)
            else:
                result.counted = counted
                result.notes.append(message)
        return result


def grade_class(
    key: GradingKey, submissions: list[Submission], rules: GradingRules = GradingRules(), duplicates: str = "last"
) -> list[StudentResult]:
    """One result per submission, in order, so no row is lost. A student on several rows
    counts once: their last row, or their best (`duplicates`), or with "all" every row; the
    others are kept in the results with `counted` False."""
    grader = Grader(key, rules, duplicates)
    marks = mark_duplicates(key, submissions, duplicates, lambda indices: {i: grader.result(submissions[i]).score for i in indices})
    return [grader.result(submission, marks.get(index)) for index, submission in enumerate(submissions)]


# --- a large class, in chunks on every core ------------------------------------------


@dataclass(frozen=True)
class Row:
    """One data row as read, with what the first look settled: its version and name (from
    versions.csv when the row has none) and its duplicate mark."""

    index: int
    line: int
    cells: list[str]
    version: str | None
    name: str
    mark: Mark | None


@dataclass(frozen=True)
class Setup:
    """Everything a worker needs besides its rows: inherited when the worker starts, never sent."""

    grader: Grader
    columns: Columns
    feedback: tuple[str, ...]  # "md", "html": the page formats wanted
    writer: FeedbackWriter


@dataclass
class Chunk:
    """A chunk of rows, graded and formatted: grades.csv lines, grades.json entries, each
    counted row's feedback pages (by format; None for a row that gets none) and its tally."""

    lines: list[str]
    entries: list[str]
    pages: list[tuple[str, dict[str, str]] | None]
    tally: Tally


_SETUP: Setup | None = None


def _start_worker(setup: Setup) -> None:
    global _SETUP
    _SETUP = setup


def _graded(rows: list[Row], setup: Setup | None = None) -> Chunk:
    setup = setup or _SETUP
    assert setup is not None, "a worker starts with its setup"
    item_ids = setup.grader.key.item_ids
    chunk = Chunk([], [], [], Tally(item_ids))
    for row in rows:
        submission = setup.columns.submission(row.line, row.cells)
        assert submission is not None, "empty rows are left out when the file is read"
        submission.version, submission.name = row.version, row.name
        result = setup.grader.result(submission, row.mark)
        chunk.lines.append(grades_csv_row(result, item_ids))
        chunk.entries.append(result_json(result))
        pages = {fmt: setup.writer.page(result, fmt) for fmt in setup.feedback} if result.graded and setup.feedback else None
        chunk.pages.append((result.student, pages) if pages is not None else None)
        chunk.tally.add(result)
    return chunk


def graded_chunks(setup: Setup, rows: Iterable[Row], count: int, workers: int | None = None) -> Iterator[Chunk]:
    """The rows graded, chunk by chunk in the file's order: in this process for a small
    class, else on `workers` processes (every core by default) that inherit the setup; a
    few chunks at a time are in flight, so memory stays flat however large the class."""
    workers = workers or os.cpu_count() or 1
    chunks = _chunked(rows, CHUNK)
    if workers <= 1 or count < PARALLEL_FROM or "fork" not in multiprocessing.get_all_start_methods():
        for chunk in chunks:
            yield _graded(chunk, setup)
        return
    context = multiprocessing.get_context("fork")
    gc.freeze()  # the workers' collector leaves what they inherit alone, so its pages stay shared, not copied
    with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_start_worker, initargs=(setup,)) as pool:
        pending: list[Future[Chunk]] = []
        for chunk in chunks:
            pending.append(pool.submit(_graded, chunk))
            if len(pending) > 2 * workers:
                yield pending.pop(0).result()
        for future in pending:
            yield future.result()


def _chunked(rows: Iterable[Row], size: int) -> Iterator[list[Row]]:
    chunk: list[Row] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
