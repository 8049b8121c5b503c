"""Self-check pages in real Chromium (Playwright for Python, Debian's /usr/bin/chromium; no
browser is downloaded): the page's judgement against `derive grade`'s on many random answer
sheets, typing and keys, no request leaving the page, and the downloaded answers graded.

One browser serves the module; each network's page is loaded once and its `grade()` is run
on every sheet there, while `derive grade` grades all of them in one run."""

from __future__ import annotations

import csv
import io
import json
import random
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import derive
from derive.classroom import grading
from derive.classroom.answers import Answer
from derive.classroom.check import check_page
from derive.classroom.trace import trace_sheet
from derive.engine.policy import format_number
from derive.views.key import asked_ids, key_json

from ..conftest import EXAMPLES
from ..shapes import SHAPES
from ..test_cli import _run

sync_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Chromium is not installed")

# The training examples (Adam, a mini-batch) are refused by --format check, with a message (below).
TRAINING = ("2-2-1-adam.yaml", "2-3-2-minibatch.yaml")
NETWORKS: dict[str, Any] = {path.name: path for path in sorted(EXAMPLES.glob("*.yaml"))
                            if "symbolic" not in path.name and path.name not in TRAINING}
NETWORKS["2-3-2 tanh softmax cross-entropy, biases"] = SHAPES["2-3-2 tanh softmax cross-entropy, biases"]
NETWORKS["3-4-4-2 tanh mse"] = SHAPES["3-4-4-2 tanh mse"]
SHEETS = 60  # per network; the 3-4-4-2 (60 items a sheet, each carried one a trace of its own) takes fewer
FEWER = {"3-4-4-2 tanh mse": 25}
JUNK = ["abc", "1/0", "0.5.5", "--1", "1e", "x1", "12" * 40, "", " "]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()


def _open(browser: Any, html: str, folder: Path, **context: Any) -> tuple[Any, list[str]]:
    """The page opened from disk, offline, with every request it makes recorded."""
    path = folder / "check.html"
    path.write_text(html, encoding="utf-8")
    page = browser.new_context(offline=True, accept_downloads=True, **context).new_page()
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(path.as_uri())
    return page, [url for url in requests if url != path.as_uri()]


def _sheets(problem: derive.Problem, rng: random.Random, count: int = SHEETS) -> list[dict[str, str]]:
    """Random answer sheets, each item drawn as: the key's value, the exact value, one carried
    from the sheet's own earlier answers, a named mistake's value, a sign flip, too few
    digits, a value one last digit off, a random number, junk or a blank."""
    d = problem.derivation
    asked = asked_ids(d)
    sheet = set(asked)
    runs = {name: grading._run(d, {}, override) for name, override in grading._mistakes(d).items()}
    other = grading._other_weight_order(d)
    if other is not None:
        runs["weight_order_swapped"] = {step.id: step.exact for step in other.steps}
    sheets = []
    for number in range(count):
        texts: dict[str, str] = {}
        for item in asked:
            step = d[item]
            choice = "right" if number == 0 else rng.choice(
                ["right", "right", "exact", "carried", "carried", "mistake", "mistake", "sign", "digits", "last", "random", "junk"])
            value: float | None = step.value
            if choice == "exact":
                value = step.exact
            elif choice == "carried":
                own = trace_sheet(d, {k: _answer(v) for k, v in texts.items()}, sheet).own[item]
                value = d.policy.round(own, step.kind) if own == own else step.value
            elif choice == "mistake":
                value = runs[rng.choice(sorted(runs))].get(item, step.value)
            elif choice == "sign":
                value = -step.value
            elif choice == "random":
                value = rng.uniform(-2, 2)
            if choice == "junk":
                texts[item] = rng.choice(JUNK)
            elif choice == "digits":
                texts[item] = format(step.value, ".1g")
            elif choice == "last":
                unit = 10.0 ** (int(f"{step.value:e}".split("e")[1]) - d.policy.digits_for(step.kind) + 1)
                texts[item] = format_number(step.value + rng.choice([-1, 1]) * unit, d.policy, step.kind)
            elif value is None or value != value:
                texts[item] = ""
            else:
                texts[item] = format_number(value, d.policy, step.kind) if rng.random() < 0.8 else repr(value)
        sheets.append(texts)
    return sheets


def _answer(text: str) -> Answer:
    from derive.classroom.answers import parse_answer

    return parse_answer(text)


def _grade_with_derive(problem: derive.Problem, sheets: list[dict[str, str]], folder: Path) -> list[dict[str, Any]]:
    key = folder / "key.json"
    key.write_text(key_json(problem), encoding="utf-8")
    ids = list(sheets[0])
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["student", *ids])
    for number, texts in enumerate(sheets):
        writer.writerow([f"s{number:03d}", *(texts[item] for item in ids)])
    submissions = folder / "submissions.csv"
    submissions.write_text(buffer.getvalue(), encoding="utf-8")
    result = _run("grade", str(key), str(submissions), "-o", str(folder / "grades"))
    assert result.returncode == 0, result.stderr
    students = json.loads((folder / "grades" / "grades.json").read_text(encoding="utf-8"))["students"]
    return [student["items"] for student in students]


@pytest.mark.parametrize("name", list(NETWORKS))
def test_the_page_judges_every_sheet_as_derive_grade_does(name: str, browser: Any, tmp_path: Path) -> None:
    problem = derive.load(NETWORKS[name])
    sheets = _sheets(problem, random.Random(name), FEWER.get(name, SHEETS))
    expected = _grade_with_derive(problem, sheets, tmp_path)
    page, requests = _open(browser, check_page(problem, problem.spec.language), tmp_path)
    judged = page.evaluate("(sheets) => sheets.map((texts) => grade(texts))", sheets)
    assert requests == []
    mismatches = []
    statuses: set[str] = set()
    mistakes: set[str] = set()
    for number, (ours, theirs) in enumerate(zip(judged, expected)):
        for item, result in theirs.items():
            statuses.add(result["status"])
            mistakes.add(result.get("mistake", ""))
            mine = ours[item]
            if (mine["status"], mine["mistake"] or "") != (result["status"], result.get("mistake", "")):
                mismatches.append((number, item, sheets[number][item], mine, result))
    assert mismatches == []
    # The sheets reach every status and several named mistakes, so agreement means something.
    assert statuses == {"correct", "carried", "wrong", "blank", "invalid"}
    assert len(mistakes - {"", "not a number", "too long to be a number", "division by zero"}) >= 3, mistakes


def _statuses(page: Any) -> dict[str, tuple[str, str]]:
    return page.evaluate("""() => Object.fromEntries([...document.querySelectorAll("[data-verdict]")]
        .map((v) => [v.dataset.verdict, [v.dataset.status, v.dataset.mistake]]))""")


@pytest.mark.parametrize("language", ["ko", "en"])
def test_typing_with_tab_and_enter_marks_each_box_and_the_downloaded_answers_grade_the_same(
        language: str, browser: Any, tmp_path: Path) -> None:
    """Every box typed through the keyboard (Tab to the next box, Enter on the last), the
    verdicts read from data-status/data-mistake, the answers downloaded and graded by
    `derive grade` with the worksheet's own key.json: the same statuses and mistakes."""
    folder = tmp_path / "out"
    result = _run("worksheet", str(EXAMPLES / "2-2-1-sigmoid-mse.yaml"), "--format", "check", "--lang", language, "-o", str(folder))
    assert result.returncode == 0, result.stderr
    written = folder / "2-2-1-sigmoid-mse"
    problem = derive.load(EXAMPLES / "2-2-1-sigmoid-mse.yaml")
    texts = _sheets(problem, random.Random(7))[5]
    page, requests = _open(browser, (written / "check.html").read_text(encoding="utf-8"), tmp_path)
    boxes = page.locator("input[data-item]")
    assert [boxes.nth(i).get_attribute("data-item") for i in range(boxes.count())] == list(texts)
    boxes.nth(0).focus()
    for number, text in enumerate(texts.values()):
        assert page.evaluate("document.activeElement.dataset.item") == list(texts)[number]
        page.keyboard.insert_text(text)
        page.keyboard.press("Tab" if number < len(texts) - 1 else "Enter")
    shown = _statuses(page)
    assert page.evaluate("document.activeElement.id") == "download"  # Enter on the last box moves on
    with page.expect_download() as download:
        page.click("#download")
    answers = tmp_path / "answers.csv"
    download.value.save_as(answers)
    assert requests == [] and all(not url.startswith(("http", "ws")) for url in requests)
    graded = _run("grade", str(written / "key.json"), str(answers), "-o", str(tmp_path / "grades"))
    assert graded.returncode == 0, graded.stderr
    [student] = json.loads((tmp_path / "grades" / "grades.json").read_text(encoding="utf-8"))["students"]
    assert {item: [r["status"], r.get("mistake", "") if r["status"] != "invalid" else ""] for item, r in student["items"].items()} == shown
    assert len({status for status, _ in shown.values()}) >= 3
    # The right values stay hidden without --reveal.
    body = page.inner_text("body")
    wrong = [item for item, (status, _) in shown.items() if status == "wrong"]
    assert wrong and all(format_number(problem.derivation[item].value, problem.policy, problem.derivation[item].kind) not in
                         page.inner_text(f'[data-verdict="{item}"]') for item in wrong)
    assert ("정답" if language == "ko" else "right") in body


def test_reveal_shows_the_right_value_of_a_wrong_answer(browser: Any, tmp_path: Path) -> None:
    problem = derive.load(EXAMPLES / "2-2-1-linear-mse.yaml")
    page, _ = _open(browser, check_page(problem, "en", reveal=True), tmp_path)
    page.fill('[data-item="z1"]', "0.9")
    page.press('[data-item="z1"]', "Enter")
    verdict = page.inner_text('[data-verdict="z1"]')
    assert page.get_attribute('[data-verdict="z1"]', "data-status") == "wrong"
    assert format_number(problem.derivation["z1"].value, problem.policy, "weighted_sum") in verdict


def test_a_version_s_page_carries_its_student_and_version_and_names_stay_text(browser: Any, tmp_path: Path) -> None:
    """`derive variants --format check`: one page per version, the roster's name on it as
    text (a name that tries to close the script runs nothing), the CSV naming the version."""
    hostile = "</script><script>document.title='owned'</script><b>Kim</b> \\(x\\)"
    roster = tmp_path / "roster.csv"
    roster.write_text(f'student,name\n2026001,"{hostile}"\n2026002,Lee\n', encoding="utf-8")
    result = _run("variants", str(EXAMPLES / "2-2-1-linear-mse.yaml"), "--count", "2", "--roster", str(roster),
                  "--format", "check", "-o", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    folder = tmp_path / "out" / "2-2-1-linear-mse-variants"
    assert sorted(p.name for p in folder.iterdir() if p.is_dir()) == ["v01", "v02"]
    page, requests = _open(browser, (folder / "v01" / "check.html").read_text(encoding="utf-8"), tmp_path)
    assert requests == [] and page.title() != "owned"
    assert hostile in page.inner_text("header") and page.locator("header b").count() == 0
    assert page.input_value("#student") == "2026001"
    page.fill('[data-item="z1"]', "0.21")
    with page.expect_download() as download:
        page.click("#download")
    download.value.save_as(tmp_path / "a.csv")
    rows = list(csv.reader((tmp_path / "a.csv").open(encoding="utf-8")))
    assert rows[1][:3] == ["2026001", "v01", "0.21"]
    graded = _run("grade", str(folder), str(tmp_path / "a.csv"), "-o", str(tmp_path / "grades"))
    assert graded.returncode == 0, graded.stderr


def test_the_page_fits_a_phone(browser: Any, tmp_path: Path) -> None:
    problem = derive.load(NETWORKS["2-3-2 tanh softmax cross-entropy, biases"])
    page, _ = _open(browser, check_page(problem, "en"), tmp_path, viewport={"width": 360, "height": 740})
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    box = page.locator("input[data-item]").first.bounding_box()
    assert box is not None and box["width"] > 200  # a box spans the narrow screen


@pytest.mark.parametrize("name", TRAINING)
def test_a_spec_that_trains_further_is_refused_with_one_message(name: str, tmp_path: Path) -> None:
    result = _run("worksheet", str(EXAMPLES / name), "--format", "check", "-o", str(tmp_path / "out"))
    assert result.returncode == 2 and "--format check:" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()
