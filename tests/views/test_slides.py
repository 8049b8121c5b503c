"""Lecture slides (issue 19): the decks of the four examples, of a 2-3-2 softmax network and
of the computational-graph examples compile without an overfull box, have one PDF page per build, each build's page holds the
text of the build before it, every number the key grades is on a slide, and the HTML deck
steps through as many builds as the PDF has pages, forward and back, from disk."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import derive
from derive.spec.schema import SpecError
from derive.views.key import grading_key
from derive.views.pdf import overfull_boxes, tex_engine
from derive.views.slides import MAX_PAGES, build_deck
from derive.views.slides_render import compile_slides, render_slides

from ..conftest import EXAMPLES
from ..shapes import SEED_EXAMPLES, SHAPES

needs_tex = pytest.mark.skipif(tex_engine() is None or shutil.which("pdftotext") is None, reason="needs XeLaTeX and pdftotext")
GRAPHS = sorted(path.name for path in EXAMPLES.glob("graph-*.yaml"))  # computational graphs (views/circuit_slides.py)
CASES = [*SEED_EXAMPLES, "2-3-2 tanh softmax cross-entropy, biases", *GRAPHS]


def _problem(case: str) -> derive.Problem:
    return derive.load(SHAPES[case] if case in SHAPES else EXAMPLES / case)


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """Each deck compiled once: its frames, its pages' text and XeLaTeX's log."""
    results = {}
    for case in CASES:
        problem = _problem(case)
        deck = build_deck(problem)
        pdf, log = compile_slides(render_slides(deck, "tex"))
        path = tmp_path_factory.mktemp("slides") / "slides.pdf"
        path.write_bytes(pdf)
        text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
        pages = text.split("\f")[:-1]
        results[case] = {"problem": problem, "deck": deck, "log": log, "pages": pages}
    return results


@needs_tex
@pytest.mark.parametrize("case", CASES)
def test_the_deck_compiles_with_no_overfull_box(compiled: dict[str, dict[str, Any]], case: str) -> None:
    log = compiled[case]["log"]
    assert overfull_boxes(log) == []
    assert [line for line in log.splitlines() if line.startswith("Overfull \\vbox")] == []  # nothing runs off a slide's foot


@needs_tex
@pytest.mark.parametrize("case", CASES)
def test_each_build_is_one_page_and_holds_the_build_before(compiled: dict[str, dict[str, Any]], case: str) -> None:
    deck, pages = compiled[case]["deck"], compiled[case]["pages"]
    assert len(pages) == deck.pages == sum(frame.builds for frame in deck.frames)
    first = 0
    growing = 0
    for frame in deck.frames:
        for build in range(1, frame.builds):
            # pdftotext reads the picture's sloped labels in an order that depends on what
            # else is on the page, so the text is compared as characters, not words
            before, after = (Counter("".join(pages[first + page].split())) for page in (build - 1, build))
            assert before - after == Counter(), f"page {first + build + 1} lost {before - after} of the page before it"
            growing += after != before
        first += frame.builds
    assert growing > 0  # the builds do add lines, not only light the picture


def _printed(item: dict[str, Any], problem: derive.Problem) -> Decimal:
    """A key item's value as the policy prints it (0.47 -> 0.470), from the key's own item."""
    return problem.policy.to_decimal(item["value"], item["kind"])


NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e-?\d+)?")


def _numbers(text: str) -> set[Decimal]:
    """Every number in a page's text, as a value: 0.552 on a slide is the key's 0.5520."""
    text = re.sub(r"-\s+(?=\d)", "-", text.replace("\u2212", "-"))  # MathML and pdftotext part a sign from its number
    return {Decimal(number) for number in NUMBER.findall(text)}


def _statements(deck: Any) -> list[str]:
    """Each "name = ... = value" the deck states: a line's rows joined, a wide slide's items,
    a table row."""
    found = []
    for frame in deck.frames:
        named = [part for is_math, part in frame.title if is_math]  # the gradient a slide works
        for rows, _ in frame.lines:
            text = " ".join(row.replace("&", "") for row in rows)
            if frame.kind == "wide" and rows[0].startswith("&"):  # a compact slide: several items to a row
                found += [item for row in rows for item in row.replace("&", "").split(r",\quad ")]
            elif rows[0].startswith("&") and named:  # the product and value rows go on its chain
                found.append(f"{named[0]} {text}")
            else:
                found.append(text)
        for row in frame.table:
            found += [f"{row[0]} = {row[1]} = {row[2]} = {row[3]}", row[4]]
    return [" ".join(statement.split()) for statement in found]


def _stated(latex: str, value: Decimal, statements: list[str]) -> bool:
    """Some statement starts with the item's name and ends with its value."""
    for statement in statements:
        head, _, rest = statement.partition(" = ")
        last = rest.rsplit(" = ", 1)[-1].replace(r"\left(", "").replace(r"\right)", "")
        if head == " ".join(latex.split()) and NUMBER.fullmatch(last) and Decimal(last) == value:
            return True
    return False


def _deck_text(html: str) -> str:
    """The HTML deck's text: its MathML numbers and words, without the tags."""
    return re.sub(r"<[^>]+>", " ", html.split("<main", 1)[1].split("</main>", 1)[0])


def _key_items(problem: derive.Problem, shown: Any = None) -> list[dict[str, Any]]:
    steps = {step.id: step for step in problem.derivation.steps}
    return [item for item in grading_key(problem)["items"]
            if item["value"] is not None and (shown is None or shown(steps[item["id"]]))]


@needs_tex
@pytest.mark.parametrize("case", CASES)
def test_every_number_of_the_key_is_on_a_slide(compiled: dict[str, dict[str, Any]], case: str) -> None:
    """Every key item, graded or not (error signals, chain factors, forward values, the
    losses): stated on a slide as name = ... = value, and its value in the PDF's text and in
    the HTML deck's."""
    problem, deck = compiled[case]["problem"], compiled[case]["deck"]
    items = _key_items(problem)
    assert len(items) == len([step for step in problem.derivation.steps if step.value is not None])
    assert items or not problem.derivation.is_numeric
    statements = _statements(deck)
    pdf = _numbers(" ".join(compiled[case]["pages"]))
    html = _numbers(_deck_text(render_slides(deck, "html")))
    assert [item["id"] for item in items if not _stated(item["latex"], _printed(item, problem), statements)] == []
    assert [item["id"] for item in items if _printed(item, problem) not in pdf] == []
    assert [item["id"] for item in items if _printed(item, problem) not in html] == []


def test_seed_004_order_on_one_parameter() -> None:
    """w5 of seed 004: the update rule, the chain, the factors, the error signal, the product, the new weight,
    in that order, with the lecture's numbers (-0.708, 0.229, 0.615; 0.5600)."""
    deck = build_deck(derive.load(EXAMPLES / "2-2-1-sigmoid-mse.yaml"))
    frames = [frame for frame in deck.frames if frame.title[0] == (True, r"\frac{\partial C}{\partial w_{5}}")]
    lines = list(dict.fromkeys(" ".join(rows) for frame in frames for rows, _ in frame.lines))  # a continued slide repeats its last line
    assert lines[0].startswith("w_{5}' &= w_{5} - ")
    assert lines[1].startswith(r"\frac{\partial C}{\partial w_{5}} &= \frac{\partial C}{\partial o_{1}} \cdot")
    factors = [line.split(" &= ")[0] for line in lines[2:5]]
    assert factors == [r"\frac{\partial C}{\partial o_{1}}", r"\frac{\partial o_{1}}{\partial z_{3}}", r"\frac{\partial z_{3}}{\partial w_{5}}"]
    assert lines[2].endswith(r"&= -2\left(1 - 0.646\right) &= -0.708") and lines[3].endswith("&= 0.229")
    # the error signal the later gradients box, with the key's value, once
    assert lines[5].startswith(r"\frac{\partial C}{\partial z_{3}} &= ") and lines[5].endswith(r"&= \left(-0.708\right) \cdot 0.229 &= -0.162")
    assert round(-0.708 * 0.229, 3) == -0.162
    assert lines[6] == r"&= \left(-0.708\right) \cdot 0.229 \cdot 0.615" and lines[7] == "&= -0.0997"
    assert round(-0.708 * 0.229 * 0.615, 4) == -0.0997  # the product row multiplies out
    assert lines[8].startswith("w_{5}' &= ") and lines[8].endswith(r"&= 0.55 - 0.1 \cdot \left(-0.0997\right) &= 0.5600")
    assert round(0.55 - 0.1 * -0.0997, 4) == 0.5600
    assert round(-0.708 * 0.229 * 0.615, 4) == -0.0997


def test_a_large_network_works_the_signals_once_and_tables_the_gradients() -> None:
    problem = derive.load(SHAPES["3-4-4-2 tanh mse"])
    deck = build_deck(problem)
    tables = [frame for frame in deck.frames if frame.kind == "table"]
    gradients = problem.derivation.with_role("gradient")
    assert sum(len(frame.table) for frame in tables) == len(gradients)
    assert "36 parameters" in "".join(part for _, part in tables[0].text)  # says why: 3·4 + 4·4 + 4·2 weights
    every = build_deck(problem, every=True)
    assert every.pages > deck.pages and not any(frame.kind == "table" for frame in every.frames)


def test_no_deck_past_200_pages_without_slides_all() -> None:
    problem = derive.load(SHAPES["6-10-8-4 near 200 parameters"])
    with pytest.raises(SpecError, match=r"would be \d+ pages, more than the 200.*--slides-all"):
        build_deck(problem)
    assert build_deck(problem, every=True).pages > MAX_PAGES


def test_the_deck_is_the_same_twice_and_english_from_the_same_templates() -> None:
    problem = derive.load(EXAMPLES / "2-2-1-sigmoid-mse.yaml")
    korean = render_slides(build_deck(problem), "tex")
    assert korean == render_slides(build_deck(problem), "tex")
    english = render_slides(build_deck(problem, "en"), "tex")
    assert "순전파" in korean and "Forward propagation" in english and "순전파" not in english
    assert r"\note<1>" in english  # speaker notes


def test_hostile_title_is_text_in_both_decks() -> None:
    spec = {**SHAPES["2-3-2 tanh softmax cross-entropy, biases"], "title": r"\input{/etc/passwd} <script>alert(1)</script> $x$"}
    deck = build_deck(derive.load(spec))
    tex, html = render_slides(deck, "tex"), render_slides(deck, "html")
    assert r"\input{" not in tex and r"\textbackslash{}input\{/etc/passwd\}" in tex
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)" in html


def test_slides_on_the_command_line(tmp_path: Path) -> None:
    """`derive worksheet --format slides` writes the three files; `derive variants` too."""
    if tex_engine() is None:
        pytest.skip("needs XeLaTeX")
    example = EXAMPLES / "1-1-sigmoid-xent.yaml"
    result = subprocess.run([*_derive(), "worksheet", str(example), "--format", "slides", "-o", str(tmp_path / "w")],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    folder = tmp_path / "w" / "1-1-sigmoid-xent"
    assert {path.name for path in folder.iterdir() if not path.name.startswith(".")} == {"slides.tex", "slides.pdf", "slides.html", "key.json"}
    assert folder.joinpath("slides.pdf").read_bytes().startswith(b"%PDF")
    randomized = tmp_path / "1-1-sigmoid-xent.yaml"
    randomized.write_text(example.read_text(encoding="utf-8") + "\nrandomize: {inputs: {min: 0.1, max: 0.9}, weights: {min: -0.9, max: 0.9}}\n",
                          encoding="utf-8")
    result = subprocess.run([*_derive(), "variants", str(randomized), "--count", "1", "--format", "slides", "-o", str(tmp_path / "v")],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "v" / "1-1-sigmoid-xent-variants" / "v01" / "slides.html").exists()


def _derive() -> list[str]:
    import sys

    return [sys.executable, "-m", "derive"]


def test_the_html_deck_steps_with_the_keyboard_from_disk(compiled: dict[str, dict[str, Any]], tmp_path: Path) -> None:
    """Forward through every build and back, notes on N, no request but file: and data: (the
    math is MathML in the page, as on every HTML page derive writes)."""
    playwright = pytest.importorskip("playwright.sync_api")

    if not Path("/usr/bin/chromium").exists():
        pytest.skip("needs /usr/bin/chromium")
    case = "2-2-1-sigmoid-mse.yaml"
    deck = compiled[case]["deck"]
    page_file = tmp_path / "slides.html"
    page_file.write_text(render_slides(deck, "html"), encoding="utf-8")
    requests: list[str] = []
    with playwright.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 720})
        page.on("request", lambda request: requests.append(request.url))
        page.goto(page_file.as_uri())
        page.wait_for_function("document.body.dataset.step === '1'")
        assert page.evaluate("document.querySelectorAll('section math').length") > 0
        assert page.evaluate("document.body.dataset.steps") == str(len(compiled[case]["pages"]))
        steps = len(compiled[case]["pages"])

        def visible_rows() -> int:
            return page.evaluate("document.querySelectorAll('section.current .row:not(.off)').length")

        page.keyboard.press("ArrowRight")
        assert page.evaluate("document.body.dataset.step") == "2"
        shown = visible_rows()
        page.keyboard.press("ArrowRight")
        assert visible_rows() == shown + 1  # the forward slide's next line
        for _ in range(steps):
            page.keyboard.press("ArrowRight")
        assert page.evaluate("document.body.dataset.step") == str(steps)  # stops at the last build
        page.keyboard.press("n")
        assert page.evaluate("getComputedStyle(document.querySelector('section.current .notes')).display") == "block"
        for _ in range(steps + 2):
            page.keyboard.press("ArrowLeft")
        assert page.evaluate("document.body.dataset.step") == "1"
        browser.close()
    assert requests and all(url.startswith(("file:", "data:")) for url in requests), [url for url in requests if not url.startswith("file:")]


def test_a_users_templates_folder_makes_the_slides(tmp_path: Path) -> None:
    """--templates DIR: its slides.tex.j2 and slides.html.j2 are the decks' (ours where it has
    none), in the sandbox: TeX that reads files is refused there as in any document."""
    from derive.writer import document_files

    ours = Path(derive.__file__).parent / "templates"
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "slides.html.j2").write_text(
        (ours / "slides.html.j2").read_text(encoding="utf-8").replace("<main id=\"deck\">", "<main id=\"deck\"><p>OUR COURSE</p>"),
        encoding="utf-8")
    problem = derive.load(EXAMPLES / "1-1-sigmoid-xent.yaml")
    files, _ = document_files(problem, ["slides"], ["handout"], "en", user_templates=folder)
    assert b"<p>OUR COURSE</p>" in files["slides.html"]
    assert files["slides.tex"].decode() == render_slides(build_deck(problem, "en"), "tex")  # no slides.tex.j2 of theirs: ours
    folder = tmp_path / "hostile"  # a new folder: the environment of one is kept, with what it had
    folder.mkdir()
    (folder / "slides.tex.j2").write_text(
        (ours / "slides.tex.j2").read_text(encoding="utf-8").replace(r"\begin{document}", "\\begin{document}\n\\input{/etc/passwd}"),
        encoding="utf-8")
    with pytest.raises(Exception, match=r"uses \\input"):
        render_slides(build_deck(problem, "en"), "tex", user_templates=folder)
    folder = tmp_path / "plain"
    folder.mkdir()
    (folder / "slides.tex.j2").write_text(
        (ours / "slides.tex.j2").read_text(encoding="utf-8").replace(r"\begin{document}", "\\begin{document}\n% OUR COURSE"),
        encoding="utf-8")
    assert "% OUR COURSE" in render_slides(build_deck(problem, "en"), "tex", user_templates=folder)


def _trained(tmp_path: Path, steps: int) -> derive.Problem:
    spec = tmp_path / "1-1-sigmoid-xent.yaml"
    spec.write_text((EXAMPLES / "1-1-sigmoid-xent.yaml").read_text(encoding="utf-8") + f"\nsteps: {steps}\n", encoding="utf-8")
    return derive.load(spec)


def test_later_iterations_follow_iterations_first_or_all(tmp_path: Path) -> None:
    """steps > 1: the first iteration worked as always, then the later ones compactly
    (--iterations first: each key item the handout's compact form shows, stated with its
    value) or in full (all: every key item of every iteration), then the pass after the last
    update and the loss before and after all of them."""
    from derive.views.key import in_compact_form

    problem = _trained(tmp_path, 3)
    d = problem.derivation
    first, full = build_deck(problem, "en"), build_deck(problem, "en", iterations="all")
    for deck in (first, full):
        titles = ["".join(part for _, part in frame.title) for frame in deck.frames]
        assert any(title.startswith("Iteration 2") for title in titles) and any(title.startswith("Iteration 3") for title in titles)
        assert not any(title.startswith("Iteration 4") for title in titles)
        compare = deck.frames[-1]
        final = d.with_role("after")[-1]
        assert final.id == "L'''" and compare.lines[-1][0] == (f"{final.latex} &= {_printed(_key_item(problem, final.id), problem)}",)
    assert full.pages > first.pages
    statements = _statements(first)
    compact = _key_items(problem, lambda step: step.iteration == 1 or in_compact_form(step))
    assert {item["id"] for item in compact} > {"dL'/dw'", "dL''/dw''", "w''", "w'''"}
    assert [item["id"] for item in compact if not _stated(item["latex"], _printed(item, problem), statements)] == []
    later_signals = [item for item in _key_items(problem) if item["id"].startswith("dL'/dz")]
    assert later_signals and not any(_stated(item["latex"], _printed(item, problem), statements) for item in later_signals)
    statements = _statements(full)
    assert [item["id"] for item in _key_items(problem) if not _stated(item["latex"], _printed(item, problem), statements)] == []
    # the second iteration's gradient from the key's own history: w' - w'' = eta * dL'/dw'
    history = grading_key(problem)["history"]
    eta = problem.spec.learning_rate
    assert abs((history[0]["w"] - history[1]["w"]) / eta - _key_item(problem, "dL'/dw'")["value"]) < 1e-3  # history is rounded


def _key_item(problem: derive.Problem, item_id: str) -> dict[str, Any]:
    return next(item for item in grading_key(problem)["items"] if item["id"] == item_id)


@needs_tex
def test_a_deck_of_three_iterations_compiles_and_builds_as_the_html_steps(tmp_path: Path) -> None:
    problem = _trained(tmp_path, 3)
    for iterations in ("first", "all"):
        deck = build_deck(problem, "en", iterations=iterations)
        pdf, log = compile_slides(render_slides(deck, "tex"))
        assert overfull_boxes(log) == [] and "Overfull \\vbox" not in log
        html = render_slides(deck, "html")
        assert f'data-steps="{deck.pages}"' in html
        path = tmp_path / f"{iterations}.pdf"
        path.write_bytes(pdf)
        text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
        assert len(text.split("\f")[:-1]) == deck.pages


def test_a_mini_batch_is_refused_with_one_message() -> None:
    with pytest.raises(SpecError, match=r"samples: the slides work one sample"):
        build_deck(derive.load(EXAMPLES / "2-3-2-minibatch.yaml"))


def test_iterations_reach_the_slides_from_the_writer(tmp_path: Path) -> None:
    """`derive worksheet --iterations all --format slides` writes the deck worked in full."""
    from derive.writer import document_files

    problem = _trained(tmp_path, 3)
    files, _ = document_files(problem, ["slides"], ["handout"], "en", iterations="all")
    assert f'data-steps="{build_deck(problem, "en", iterations="all").pages}"'.encode() in files["slides.html"]
    assert build_deck(problem, "en", iterations="all").pages > build_deck(problem, "en").pages


@needs_tex
def test_the_adam_deck_states_its_optimizer_state_and_fits(tmp_path: Path) -> None:
    """Three steps of Adam: each parameter's moments before its update, every value the
    compact later iterations show, and no slide overfull (the rule's root under a bar)."""
    from derive.views.key import in_compact_form

    problem = derive.load(EXAMPLES / "2-2-1-adam.yaml")
    deck = build_deck(problem)
    statements = _statements(deck)
    shown = _key_items(problem, lambda step: step.iteration == 1 or in_compact_form(step))
    assert any(item["id"] == "m1[w1]" for item in shown)
    assert [item["id"] for item in shown if not _stated(item["latex"], _printed(item, problem), statements)] == []
    log = compile_slides(render_slides(deck, "tex"))[1]
    assert overfull_boxes(log) == [] and "Overfull \\vbox" not in log


@pytest.mark.parametrize("language", ["ko", "en"])
def test_a_graph_deck_works_the_circuit_in_its_handout_s_order(language: str) -> None:
    """Forward gate by gate, then backward node by node from the output, the gradients
    asked, the updates and the pass after; the picture carries each gate's value going
    forward and each node's gradient going back, and the conventions are said."""
    from derive.views.circuit_document import WORDS as CIRCUIT_WORDS

    problem = derive.load(EXAMPLES / "graph-residual-block.yaml")
    deck = build_deck(problem, language)
    words = CIRCUIT_WORDS[language]
    titles = [frame.title[0][1] for frame in deck.frames]
    order = [words["forward"], words["backward"], words["gradients"], words["updates"], words["after"]]
    firsts = [next(i for i, title in enumerate(titles) if title.startswith(heading)) for heading in order]
    assert firsts == sorted(firsts)
    d = problem.derivation
    backward = [frame for frame in deck.frames if frame.title[0][1].startswith(words["backward"])]
    assert list(dict.fromkeys(frame.title[1][1] for frame in backward)) == [d[name].latex for name in ("L", "y", "r", "h")]
    last_forward = deck.frames[firsts[1] - 1]
    assert deck.frames[firsts[1]].values["n:L"] == "1"  # going back: the output's gradient
    assert float(deck.frames[firsts[2]].values["n:h"]) == d["dL/dh"].value
    assert "n:h" not in last_forward.values or last_forward.values["n:h"] != deck.frames[firsts[2]].values["n:h"]
    note = "".join(part for _, part in deck.frames[0].notes[0])
    assert ("ReLU" in note) and ("1/2" in note or r"\tfrac{1}{2}" in note)


def test_a_circuit_too_long_for_one_row_has_no_deck() -> None:
    from ..views.test_circuit import thirty_gates

    with pytest.raises(SpecError, match=r"--format slides: this circuit is drawn in 4 rows, too long for a slide's picture"):
        build_deck(derive.load(thirty_gates()))


def test_graph_slides_on_the_command_line(tmp_path: Path) -> None:
    if tex_engine() is None:
        pytest.skip("needs XeLaTeX")
    result = subprocess.run([*_derive(), "worksheet", str(EXAMPLES / "graph-sum-times-product.yaml"), "--format", "slides,md",
                             "-o", str(tmp_path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    folder = tmp_path / "graph-sum-times-product"
    assert folder.joinpath("slides.pdf").read_bytes().startswith(b"%PDF") and folder.joinpath("slides.html").exists()
