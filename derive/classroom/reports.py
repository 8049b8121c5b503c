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
        "not a number": "The answer cannot be read as a number.",
        "too long to be a number": "The answer is too long to be a number.",
        "division by zero": "The fraction divides by zero.",
    },
}


def grades_csv(results: list[StudentResult], item_ids: list[str]) -> str:
    """One row per submitted row, in the file's order; UTF-8 with BOM for Excel. Every cell
    copied from the inputs (student, version, the problems that quote them, and the key's
    item ids) goes through `csv_cell`, so a spreadsheet never runs one as a formula; the
    score is derive's own number and the statuses its own words."""
    cell = escape.csv_cell
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["student", "version", "score", *map(cell, item_ids), "problems"])
    for result in results:
        statuses = [result.items[item_id].status if item_id in result.items else "invalid" for item_id in item_ids]
        writer.writerow([cell(result.student), cell(result.version or ""), format_number(result.score), *statuses, cell("; ".join(result.problems))])
    return "\ufeff" + buffer.getvalue()


def results_json(results: list[StudentResult]) -> str:
    students = [
        {
            "student": result.student,
            "version": result.version,
            "score": result.score,
            "problems": result.problems,
            "items": {
                item_id: {"status": item.status, "given": item.given, "expected": item.expected, **({"mistake": item.mistake} if item.mistake else {})}
                for item_id, item in result.items.items()
            },
        }
        for result in results
    ]
    # Compact: pretty-printing turns off json's C encoder, which a large class needs.
    return json.dumps({"students": students}, ensure_ascii=False) + "\n"


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
    """Per item, the share of students who got it right (carried counts as right work)."""
    per_item = []
    for item_id in item_ids:
        counts = Counter(result.items[item_id].status for result in results if item_id in result.items)
        total = sum(counts.values()) or 1
        right = counts["correct"] + counts["carried"]
        mistakes = Counter(result.items[item_id].mistake for result in results if item_id in result.items and result.items[item_id].mistake)
        common = mistakes.most_common(1)
        per_item.append({
            "id": item_id,
            "latex": latex.get(item_id, item_id),
            "counts": [counts[status] for status in STATUSES],
            "right": format_number(round(100 * right / total, 1)),
            "mistake": MISTAKES[language].get(common[0][0], common[0][0]) if common else "",
        })
    scores = [result.score for result in results]
    return {
        "language": language,
        "students": len(results),
        "mean": format_number(round(sum(scores) / len(scores), 1)) if scores else "0",
        "statuses": STATUSES,
        "items": per_item,
    }


def safe_file_name(student: str) -> str:
    """A student id as a file name: no path separators, nothing hidden."""
    cleaned = re.sub(r"[^\w.-]+", "_", student, flags=re.UNICODE).strip("._") or "student"
    return cleaned[:80]
