"""What `derive grade` hands back: a grades CSV with a row for every submitted row, the
feedback for each student (Markdown and HTML), a class summary with per-item difficulty
and a histogram of scores, and the JSON form of all of it."""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter

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
    cell = escape.csv_cell
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["student", "version", "score", "name", "counted", *map(cell, item_ids), "problems"])
    for result in results:
        statuses = [result.items[item_id].status if item_id in result.items else "invalid" for item_id in item_ids]
        score = format_number(result.score) if result.ungradable is None else ""
        writer.writerow([
            cell(result.student), cell(result.version or ""), score, cell(result.name), "yes" if result.graded else "no",
            *statuses, cell("; ".join([*result.problems, *result.notes])),
        ])
    return "\ufeff" + buffer.getvalue()


def results_json(results: list[StudentResult]) -> str:
    """Every row, as grades.csv has them: `score` is null for an ungradable row, `counted`
    false for a row left out of the class, `notes` the instructor's messages about it."""
    students = [
        {
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
        }
        for result in results
    ]
    # Compact: pretty-printing turns off json's C encoder, which a large class needs.
    return json.dumps({"students": students}, ensure_ascii=False) + "\n"


def class_mean(results: list[StudentResult]) -> float | None:
    """The mean score of the rows that count (graded, one per student), or None for none."""
    scores = [result.score for result in results if result.graded]
    return sum(scores) / len(scores) if scores else None


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
    results) with the student's name filled in afterwards, escaped for the format."""

    def __init__(self, latex: dict[str, str], language: str, mathjax_url: str) -> None:
        self.latex = latex
        self.language = language
        self.mathjax_url = mathjax_url
        self._pages: dict[tuple[object, ...], str] = {}

    def page(self, result: StudentResult, fmt: str) -> str:
        sheet = (id(result.items), result.version, tuple(result.problems), fmt)
        if sheet not in self._pages:
            context = feedback_context(result, self.latex, self.language)
            context["student"] = _NAME_SLOT
            context["mathjax_url"] = self.mathjax_url
            self._pages[sheet] = render_text_template(f"feedback.{fmt}.j2", context, fmt)
        name = escape.html_text(result.student) if fmt == "html" else escape.markdown_text(result.student)
        return self._pages[sheet].replace(_NAME_SLOT, name)


def summary_context(results: list[StudentResult], item_ids: list[str], latex: dict[str, str], language: str) -> dict[str, object]:
    """Per item, the share of students who got it right (carried counts as right work), over
    the rows that count: an ungradable row and a student's other rows are left out."""
    counted = [result for result in results if result.graded]
    per_item = []
    for item_id in item_ids:
        counts = Counter(result.items[item_id].status for result in counted if item_id in result.items)
        total = sum(counts.values()) or 1
        right = counts["correct"] + counts["carried"]
        mistakes = Counter(result.items[item_id].mistake for result in counted if item_id in result.items and result.items[item_id].mistake)
        common = mistakes.most_common(1)
        per_item.append({
            "id": item_id,
            "latex": latex.get(item_id, item_id),
            "counts": [counts[status] for status in STATUSES],
            "right": format_number(round(100 * right / total, 1)),
            "mistake": MISTAKES[language].get(common[0][0], common[0][0]) if common else "",
        })
    mean = class_mean(results)
    return {
        "language": language,
        "students": len(counted),
        "mean": format_number(round(mean, 1)) if mean is not None else "0",
        "statuses": STATUSES,
        "items": per_item,
        "ungradable": [result for result in results if result.ungradable is not None],
        "not_counted": [result for result in results if result.ungradable is None and not result.counted],
    }


LEFT_OUT = {
    "ko": ("채점하지 못한 행", "평균과 항목별 통계에서 뺐습니다. 버전을 고친 뒤 다시 채점하세요.",
           "같은 학생의 다른 행", "세지 않았습니다"),
    "en": ("Rows not graded", "Left out of the mean and the per-item counts; fix the version and grade again.",
           "A student's other rows", "not counted"),
}


def summary_markdown(results: list[StudentResult], item_ids: list[str], latex: dict[str, str], language: str) -> str:
    """summary.md: the template's table, then the rows left out of it, for the instructor
    (ungradable rows with their reason, and the rows duplicates did not count)."""
    context = summary_context(results, item_ids, latex, language)
    text = render_text_template("summary.md.j2", context, "md")
    heading, why, other_heading, other_why = LEFT_OUT[language]
    text_of = escape.markdown_text
    ungradable: list[StudentResult] = context["ungradable"]  # type: ignore[assignment]
    not_counted: list[StudentResult] = context["not_counted"]  # type: ignore[assignment]
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
