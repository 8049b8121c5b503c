"""What `derive grade` hands back: a grades CSV with a row for every submitted row, the
feedback for each student (Markdown and HTML), a class summary with per-item difficulty
and a histogram of scores, and the JSON form of all of it."""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from dataclasses import dataclass

from ..views import escape
from ..views.documents import render_text_template
from .answers import ClassListEntry
from .grading import STATUSES, StudentResult
from ..engine.policy import format_number

MISTAKES = {
    "ko": {
        "sign_error": "부호가 반대입니다.",
        "sigma_prime_missing": "활성화 함수의 미분 σ'(z)를 곱하지 않았습니다.",
        "sigma_prime_at_activation": "σ'를 가중합 z가 아니라 활성화 값 a에서 계산했습니다.",
        "factor_two_dropped": "(y − ŷ)²를 미분할 때 나오는 2를 빠뜨렸습니다.",
        "learning_rate_missing": "업데이트에서 학습률 η를 곱하지 않았습니다.",
        "new_weight_in_backward": "역전파에서 이전 가중치 대신 업데이트된 가중치를 썼습니다.",
        "update_sign_flipped": "업데이트의 부호가 반대입니다: w − η·g 대신 w + η·g를 계산했습니다.",
        "weight_order_swapped": "가중치 번호를 다른 순서로 읽었습니다: 이 가중치가 잇는 연결을 그림에서 다시 확인하세요.",
        "wrong_gate_local": "국소 기울기를 다른 게이트의 것으로 계산했습니다: 덧셈 게이트는 1을, 곱셈 게이트는 다른 입력을 곱해 넘깁니다.",
        "fork_sum_missing": "갈라지는 지점의 기울기는 모든 사용처에서 온 기울기의 합인데, 한 갈래만 더했습니다.",
        "too_few_digits": "값은 맞지만 자릿수가 모자랍니다: 규칙이 정한 자릿수까지 적으세요.",
        "last_digit_off": "마지막 자리가 하나 다릅니다: 반올림 방향을 확인하세요.",
        "upstream_blank": "이 단계가 쓰는 앞 단계가 빈칸이라, 앞 단계에서 이어진 점수를 줄 수 없습니다.",
        "upstream_copied_given": "앞 단계의 답이 주어진 값(입력, 가중치, 목표값, η)을 그대로 옮긴 것이라, 이어진 점수를 줄 수 없습니다.",
        "upstream_zero_or_one": "앞 단계의 답이 0 또는 1이라 이 단계의 계산이 사라지므로, 이어진 점수를 줄 수 없습니다.",
        "not a number": "숫자로 읽을 수 없는 답입니다.",
        "too long to be a number": "숫자라기엔 너무 긴 답입니다.",
        "division by zero": "분모가 0인 분수입니다.",
    },
    "en": {
        "sign_error": "The sign is flipped.",
        "sigma_prime_missing": "The activation's derivative σ'(z) was left out of the chain.",
        "sigma_prime_at_activation": "σ' was taken at the activation a instead of the weighted sum z.",
        "factor_two_dropped": "The factor 2 from differentiating (y − ŷ)² was dropped.",
        "learning_rate_missing": "The update leaves out the learning rate η.",
        "new_weight_in_backward": "The updated weight was used in the backward pass where the old one belongs.",
        "update_sign_flipped": "The update has the wrong sign: w + η·g was computed instead of w − η·g.",
        "weight_order_swapped": "The weights were read in the other numbering: check on the picture which connection this weight is.",
        "wrong_gate_local": "The local gradient is another gate's: an add gate passes 1 back, a multiply gate the other input.",
        "fork_sum_missing": "At a fork the gradient is the sum over every use of the value; only one branch was added.",
        "too_few_digits": "The value is right but written with too few digits: give as many as the rounding rule asks for.",
        "last_digit_off": "The last digit is one off: check which way it rounds.",
        "upstream_blank": "An earlier step this one uses is blank, so there is nothing to carry this step's credit from.",
        "upstream_copied_given": "An earlier answer this step uses is one of the given numbers copied (an input, weight, target or η), so it earns no carried credit.",
        "upstream_zero_or_one": "An earlier answer this step uses is a 0 or 1 that removes the work of this step, so it earns no carried credit.",
        "not a number": "The answer cannot be read as a number.",
        "too long to be a number": "The answer is too long to be a number.",
        "division by zero": "The fraction divides by zero.",
    },
}


def grades_csv(results: list[StudentResult], item_ids: list[str]) -> str:
    """One row per submitted row, in the file's order; UTF-8 with BOM for Excel. `name` is
    the roster's (from versions.csv) or the file's own; `counted` is "no" for a row left
    out of the class (a version the key lacks, the student's other rows under
    --duplicates last or best), and such a row's reason is in `problems`; an ungradable
    row has no score. Every cell copied from the inputs (student, version, name, the
    problems that quote them, and the key's item ids) goes through `csv_cell`, so a
    spreadsheet never runs one as a formula; the score is derive's own number and the
    statuses its own words."""
    return grades_csv_header(item_ids) + "".join(grades_csv_row(result, item_ids) for result in results)


def _csv_line(cells: list[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(cells)
    return buffer.getvalue()


def grades_csv_header(item_ids: list[str]) -> str:
    """grades.csv's first line, with the BOM; the rows follow one at a time (a large class's
    file is written as it is graded)."""
    return "\ufeff" + _csv_line(["student", "version", "score", "name", "counted", *map(escape.csv_cell, item_ids), "problems"])


def grades_csv_row(result: StudentResult, item_ids: list[str]) -> str:
    cell = escape.csv_cell
    statuses = [result.items[item_id].status if item_id in result.items else "invalid" for item_id in item_ids]
    score = format_number(result.score) if result.ungradable is None else ""
    return _csv_line([
        cell(result.student), cell(result.version or ""), score, cell(result.name), "yes" if result.graded else "no",
        *statuses, cell("; ".join([*result.problems, *result.notes])),
    ])


def results_json(results: list[StudentResult]) -> str:
    """Every row, as grades.csv has them: `score` is null for an ungradable row, `counted`
    false for a row left out of the class, `notes` the instructor's messages about it."""
    return JSON_START + ", ".join(result_json(result) for result in results) + JSON_END


# grades.json is {"students": [row, row, ...]}, written a row at a time: these are its ends,
# and `result_json` each row, as json.dumps writes them (compact: pretty-printing turns off
# json's C encoder, which a large class needs).
JSON_START, JSON_SEPARATOR, JSON_END = '{"students": [', ", ", "]}\n"


def result_json(result: StudentResult) -> str:
    return json.dumps({
        "student": result.student,
        "name": result.name,
        "version": result.version,
        "score": result.score if result.ungradable is None else None,
        "counted": result.graded,
        "problems": result.problems,
        "notes": result.notes,
        "items": {
            item_id: {"status": item.status, "given": item.given, "expected": item.expected, **({"mistake": item.mistake} if item.mistake else {})}
            for item_id, item in result.items.items()
        },
    }, ensure_ascii=False)


def class_mean(results: list[StudentResult]) -> float | None:
    """The mean score of the rows that count (graded, one per student), or None for none."""
    return Tally.of(results).mean


@dataclass(frozen=True)
class LeftOut:
    """A row the class's numbers leave out, as the summary names it."""

    student: str
    row: int
    ungradable: str | None


class Tally:
    """What the summary and the histogram need of a class, gathered a row at a time (so a
    large class is never held whole): per item the statuses and mistakes of the rows that
    count, their scores, and the rows left out."""

    def __init__(self, item_ids: list[str]) -> None:
        self.item_ids = item_ids
        self.counts: dict[str, Counter[str]] = {item_id: Counter() for item_id in item_ids}
        self.mistakes: dict[str, Counter[str]] = {item_id: Counter() for item_id in item_ids}
        self.scores: list[float] = []
        self.ungradable: list[LeftOut] = []
        self.not_counted: list[LeftOut] = []

    @classmethod
    def of(cls, results: list[StudentResult], item_ids: list[str] | None = None) -> Tally:
        tally = cls(item_ids or [])
        for result in results:
            tally.add(result)
        return tally

    def add(self, result: StudentResult) -> None:
        if result.ungradable is not None:
            self.ungradable.append(LeftOut(result.student, result.row, result.ungradable))
        elif not result.counted:
            self.not_counted.append(LeftOut(result.student, result.row, None))
        if not result.graded:
            return
        self.scores.append(result.score)
        for item_id in self.item_ids:
            item = result.items.get(item_id)
            if item is not None:
                self.counts[item_id][item.status] += 1
                if item.mistake:
                    self.mistakes[item_id][item.mistake] += 1

    def merge(self, other: Tally) -> None:
        """Another part of the class, graded after this one (counts keep the order in which
        mistakes first appear, so the most common one ties the same way)."""
        for item_id in self.item_ids:
            self.counts[item_id].update(other.counts[item_id])
            self.mistakes[item_id].update(other.mistakes[item_id])
        self.scores += other.scores
        self.ungradable += other.ungradable
        self.not_counted += other.not_counted

    @property
    def mean(self) -> float | None:
        return sum(self.scores) / len(self.scores) if self.scores else None


def feedback_context(result: StudentResult, latex: dict[str, str], language: str) -> dict[str, object]:
    words = MISTAKES[language]
    rows = []
    for item_id, item in result.items.items():
        rows.append({
            "id": item_id,
            "latex": latex.get(item_id, item_id),
            "status": item.status,
            "given": item.given,
            "expected": format_number(item.expected) if item.expected is not None else "",
            "carried_from": format_number(item.carried_from) if item.carried_from is not None and item.status == "carried" else "",
            "mistake": words.get(item.mistake, item.mistake) if item.mistake else "",
        })
    first = result.first_wrong
    return {
        "language": language,
        "student": result.student,
        "version": result.version,
        "score": format_number(result.score),
        "problems": result.problems,
        "rows": rows,
        "first_wrong": next((row for row in rows if row["id"] == first), None),
    }


_NAME_SLOT = "\x00student\x00"


class FeedbackWriter:
    """Feedback pages, rendered once per distinct graded sheet (identical sheets share their
    results) with the student's name filled in afterwards, escaped for the format. Only the
    last few hundred sheets are remembered, so a large class's pages are not all held."""

    REMEMBERED = 512

    def __init__(self, latex: dict[str, str], language: str, mathjax_url: str) -> None:
        self.latex = latex
        self.language = language
        self.mathjax_url = mathjax_url
        self._pages: dict[tuple[object, ...], str] = {}
        self._items: dict[int, dict[str, object]] = {}  # the items dicts of the sheets remembered, so their ids stay theirs

    def page(self, result: StudentResult, fmt: str) -> str:
        sheet = (id(result.items), result.version, tuple(result.problems), fmt)
        if sheet not in self._pages:
            if len(self._pages) >= self.REMEMBERED:
                self._pages.clear()
                self._items.clear()
            self._items[id(result.items)] = result.items  # type: ignore[assignment]
            context = feedback_context(result, self.latex, self.language)
            context["student"] = _NAME_SLOT
            context["mathjax_url"] = self.mathjax_url
            self._pages[sheet] = render_text_template(f"feedback.{fmt}.j2", context, fmt)
        name = escape.html_text(result.student) if fmt == "html" else escape.markdown_text(result.student)
        return self._pages[sheet].replace(_NAME_SLOT, name)


def summary_context(tally: Tally, latex: dict[str, str], language: str) -> dict[str, object]:
    """Per item, the share of students who got it right (carried counts as right work), over
    the rows that count: an ungradable row and a student's other rows are left out."""
    per_item = []
    for item_id in tally.item_ids:
        counts = tally.counts[item_id]
        total = sum(counts.values()) or 1
        right = counts["correct"] + counts["carried"]
        common = tally.mistakes[item_id].most_common(1)
        per_item.append({
            "id": item_id,
            "latex": latex.get(item_id, item_id),
            "counts": [counts[status] for status in STATUSES],
            "right": format_number(round(100 * right / total, 1)),
            "mistake": MISTAKES[language].get(common[0][0], common[0][0]) if common else "",
        })
    mean = tally.mean
    return {
        "language": language,
        "students": len(tally.scores),
        "mean": format_number(round(mean, 1)) if mean is not None else "0",
        "statuses": STATUSES,
        "items": per_item,
        "ungradable": tally.ungradable,
        "not_counted": tally.not_counted,
    }


LEFT_OUT = {
    "ko": ("채점하지 못한 행", "평균과 항목별 통계에서 뺐습니다. 버전을 고친 뒤 다시 채점하세요.",
           "같은 학생의 다른 행", "세지 않았습니다"),
    "en": ("Rows not graded", "Left out of the mean and the per-item counts; fix the version and grade again.",
           "A student's other rows", "not counted"),
}


def summary_markdown(tally: Tally, latex: dict[str, str], language: str) -> str:
    """summary.md: the template's table, then the rows left out of it, for the instructor
    (ungradable rows with their reason, and the rows duplicates did not count)."""
    context = summary_context(tally, latex, language)
    text = render_text_template("summary.md.j2", context, "md")
    heading, why, other_heading, other_why = LEFT_OUT[language]
    text_of = escape.markdown_text
    ungradable: list[LeftOut] = context["ungradable"]  # type: ignore[assignment]
    not_counted: list[LeftOut] = context["not_counted"]  # type: ignore[assignment]
    if ungradable:
        text += f"\n## {heading} ({len(ungradable)})\n\n{why}\n\n"
        text += "".join(f"- {text_of(r.student)} (row {r.row}): {text_of(r.ungradable or '')}\n" for r in ungradable)
    if not_counted:
        text += f"\n## {other_heading} ({len(not_counted)})\n\n"
        text += "".join(f"- {text_of(r.student)} (row {r.row}): {other_why}\n" for r in not_counted)
    return text


def submissions_template(entries: list[ClassListEntry], item_ids: list[str]) -> str:
    """The blank submissions CSV for a class to fill in: student, name, version and a
    column per item asked, one row per student of the class list (versions.csv). UTF-8
    with BOM for Excel; roster text goes through `csv_cell`."""
    cell = escape.csv_cell
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["student", "name", "version", *map(cell, item_ids)])
    for entry in entries:
        writer.writerow([cell(entry.student), cell(entry.name), cell(entry.version), *([""] * len(item_ids))])
    return "\ufeff" + buffer.getvalue()


def safe_file_name(student: str) -> str:
    """A student id as a file name: no path separators, nothing hidden."""
    cleaned = re.sub(r"[^\w.-]+", "_", student, flags=re.UNICODE).strip("._") or "student"
    return cleaned[:80]
