"""User text stays text in every HTML page, to a math typesetter too.

HTML escaping alone is not enough where MathJax runs: the browser decodes `&#36;&#36;` back
to `$$`, and MathJax typesets whatever `\\(...\\)` it finds in the page's text, where
`\\href{javascript:...}` is a live link and `\\style{position:fixed;inset:0}` lays it over the
whole page. derive's HTML pages now carry their math as MathML, converted when they are
written, and load no script, so nothing in the browser reads their text as TeX; the
Markdown feedback is still typeset by a blog's MathJax. Each route a user's text takes
into a page (an answer cell, a student id, a version cell, a roster name or id, a spec
title) is opened in headless Chromium, and the DOM must have no link and no style, class
or id from the text, and show the text literally.

The blog page uses the browser tests' local MathJax (tests/browser, from npm); without
Chromium or that MathJax the tests are skipped with the reason."""

from __future__ import annotations

import csv
import html
import io
import json
import re
from pathlib import Path

import pytest
import yaml

import derive
from derive.views.documents import render, render_matrix

from ..conftest import EXAMPLES
from ..test_cli import _run
from ..views.test_rendering import MATHJAX, _typeset_dom, needs_browser

SEED000 = EXAMPLES / "2-2-1-linear-mse.yaml"
# The report's 64-character answer cell: a link over the whole page that runs script on a click.
COVER = r"\(\style{position:fixed;inset:0}{\href{javascript:alert()}{X}}\)"
# The same as display math, which feedback pages used to accept as $$...$$.
DISPLAY = r"$$\style{position:fixed;inset:0}{\href{javascript:alert()}{D}}$$"
# A class and an id, and the base package's own way to set attributes.
CLASS = r"\(\class{evil}{\cssId{evil}{C}}\)"
TOKEN = r"\(\mmlToken{mi}[href='javascript:alert()' class='evil']{T}\)"
# Loading the html extension by hand instead of through \style's autoload.
REQUIRE = r"\(\require{html}\style{position:fixed;inset:0}{R}\)"
ATTACKS = [COVER, DISPLAY, CLASS, TOKEN, REQUIRE]


def _body_text(dom: str) -> str:
    """The text of the page's body as a reader sees it (tags dropped, entities decoded)."""
    body = dom[dom.index("<body") :]
    body = re.sub(r"<(script|style)\b.*?</\1>", "", body, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", "", body))


def _assert_inert(dom: str, *texts: str) -> None:
    """The page's math is there (our MathML, or a blog's MathJax typeset); nothing from the
    user's text became a link, a style, a class or an id; and each text is on the page
    literally, delimiters and all."""
    assert "<math" in dom or "<mjx-container" in dom, "the page shows no math, so it proves nothing"
    # MathJax's own SVG glyphs are <use xlink:href="#MJX-..."> within the page; any other
    # href (javascript:, http:, ...) could only have come from a formula.
    assert re.findall(r'href="(?!#)[^"]*"', dom) == []
    assert re.findall(r"<a\b", dom) == []
    styles = re.findall(r'style="([^"]*)"', dom)
    assert [style for style in styles if re.search(r"fixed|inset", style)] == []
    assert re.findall(r'\b(?:class|id)="[^"]*evil[^"]*"', dom) == []
    text = _body_text(dom)
    for item in texts:
        assert item in text, item


def _key(tmp_path: Path) -> tuple[Path, list[str]]:
    key = tmp_path / "key.json"
    assert _run("key", str(SEED000), "-o", str(key)).returncode == 0
    items = [item["id"] for item in json.loads(key.read_text(encoding="utf-8"))["items"] if item.get("graded", True)]
    return key, items


def _grade(tmp_path: Path, rows: list[list[str]]) -> Path:
    """Grade the rows (student, version, answers...); the output folder."""
    key, items = _key(tmp_path)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["student", "version", *items])
    for row in rows:
        writer.writerow(row + [""] * (2 + len(items) - len(row)))
    submissions = tmp_path / "submissions.csv"
    submissions.write_text(buffer.getvalue(), encoding="utf-8")
    # --duplicates all: a repeated id gets a page per row, so each route is on a page of its own
    result = _run("grade", str(key), str(submissions), "-o", str(tmp_path / "grades"), "--duplicates", "all")
    assert result.returncode == 0, result.stderr
    return tmp_path / "grades"


def _only_feedback(folder: Path, fmt: str) -> str:
    pages = sorted((folder / "feedback").glob(f"*.{fmt}"))
    assert len(pages) == 1, pages
    return pages[0].read_text(encoding="utf-8")


@needs_browser
def test_answer_cells_are_text_on_the_feedback_page(tmp_path: Path) -> None:
    folder = _grade(tmp_path, [["s1", "", *ATTACKS]])
    _assert_inert(_typeset_dom(_only_feedback(folder, "html"), tmp_path), *ATTACKS)


@needs_browser
@pytest.mark.parametrize("attack", [COVER, DISPLAY], ids=["inline", "display"])
def test_a_student_id_is_text_on_the_feedback_page(attack: str, tmp_path: Path) -> None:
    # The second row repeats the id, so the page also lists a problem that quotes it.
    folder = _grade(tmp_path, [[attack, "", "0.21"], [attack, "", "0.21"]])
    pages = sorted((folder / "feedback").glob("*.html"))
    assert len(pages) == 2
    texts = []
    for page in pages:
        dom = _typeset_dom(page.read_text(encoding="utf-8"), tmp_path)
        _assert_inert(dom, attack)
        texts.append(_body_text(dom))
    assert any(f"student {attack} also appears on row 2" in text for text in texts)


@needs_browser
@pytest.mark.parametrize("attack", [COVER, DISPLAY, "<script>alert(1)</script>"], ids=["inline", "display", "script"])
def test_a_version_cell_is_text_on_the_feedback_page(attack: str, tmp_path: Path) -> None:
    folder = _grade(tmp_path, [["s1", attack, "0.21"]])
    dom = _typeset_dom(_only_feedback(folder, "html"), tmp_path)
    _assert_inert(dom, attack)
    assert "<script>alert" not in dom


def test_the_markdown_feedback_escapes_every_user_value(tmp_path: Path) -> None:
    folder = _grade(tmp_path, [["<b>s1</b>", "<script>alert(1)</script>", COVER]])
    markdown = _only_feedback(folder, "md")
    assert "<script" not in markdown and "<b>" not in markdown
    version = next(line for line in markdown.splitlines() if line.startswith(("Version", "버전")))
    assert version.endswith('<span class="tex2jax_ignore mathjax_ignore">&lt;script&gt;alert(1)&lt;/script&gt;</span>')
    assert '<span class="tex2jax_ignore mathjax_ignore">\\\\(\\\\style' in markdown


@needs_browser
def test_the_markdown_feedback_is_text_to_a_blogs_mathjax(tmp_path: Path) -> None:
    """The Markdown feedback is published by a site with its own MathJax, which derive does not
    configure: the ignore-class spans alone must keep the user's text from it. The page is
    made by markdown-it (CommonMark with tables and inline HTML, as kramdown reads them) and
    typeset with the delimiters blogs turn on, `$` and `$$` included, and no ui/safe."""
    markdown_it = pytest.importorskip("markdown_it")
    folder = _grade(tmp_path, [[COVER, DISPLAY, *ATTACKS]])
    body = markdown_it.MarkdownIt("commonmark", {"html": True}).enable("table").render(_only_feedback(folder, "md"))
    page = (
        '<!DOCTYPE html><html><head><meta charset="utf-8"><script>window.MathJax = {tex: {'
        'inlineMath: [["$", "$"], ["\\\\(", "\\\\)"]], displayMath: [["$$", "$$"], ["\\\\[", "\\\\]"]]}};</script>'
        f'<script defer src="{MATHJAX.as_uri()}"></script></head><body>{body}</body></html>'
    )
    _assert_inert(_typeset_dom(page, tmp_path), *ATTACKS)


@needs_browser
@pytest.mark.parametrize("who", ["name", "id"])
def test_a_roster_entry_is_text_on_its_worksheet_and_key(who: str, tmp_path: Path) -> None:
    from derive.classroom.batch import variant_files
    from derive.classroom.variants import Student, make_variants

    student = Student("s1", COVER) if who == "name" else Student(COVER, "Kim")
    variants = make_variants(derive.load(SEED000), 1, 1, roster=[student])
    files, _ = variant_files(variants, ["html"], None, echo=lambda _: None)
    for kind in ("worksheet", "key"):
        dom = _typeset_dom(files[f"v01/{kind}.html"].decode("utf-8"), tmp_path)
        _assert_inert(dom, f"{student.name} ({student.id})")


def _titled(title: str) -> derive.Problem:
    spec = yaml.safe_load(SEED000.read_text(encoding="utf-8"))
    spec["title"] = title
    return derive.load(spec)


@needs_browser
@pytest.mark.parametrize("attack", [COVER, DISPLAY, CLASS, TOKEN], ids=["cover", "display", "class", "token"])
def test_a_spec_title_is_text_on_the_handout_and_matrix_pages(attack: str, tmp_path: Path) -> None:
    problem = _titled(attack)
    for page in (render(problem, "handout", "html", "en"), render_matrix(problem, "html", "en")):
        _assert_inert(_typeset_dom(page, tmp_path), attack)


@needs_browser
def test_formulas_through_our_own_math_make_no_links_or_styles(tmp_path: Path) -> None:
    """What replaces MathJax's ui/safe: our pages run no script at all (nothing in the
    browser reads their text as TeX), and a formula converted to MathML by derive itself
    cannot make a link, a style, a class, an id or markup: the converter's \\href and
    \\style become plain rows, commands it does not know are refused, and text is escaped.
    The formulas that convert are put on each page and opened in Chromium."""
    from derive.views import mathml

    formulas = [COVER, CLASS, TOKEN, REQUIRE, r"\(\href{https://example.org/}{H}\)", r"\(\text{<b id='evil'>B</b>}\)"]
    converted = []
    for formula in formulas:
        try:
            converted.append(mathml.inline(formula[2:-2]))
        except ValueError as refusal:  # \class's \cssId, \mmlToken, \require: no MathML form
            assert "has no MathML form" in str(refusal)
    assert len(converted) == 3
    for page in (
        render(derive.load(SEED000), "handout", "html", "en"),
        render_matrix(derive.load(SEED000), "html", "en"),
        _only_feedback(_grade(tmp_path, [["s1", "", "0.21"]]), "html"),
    ):
        assert "<script" not in page and "\\(" not in page and "\\[" not in page
        hostile = page.replace("<body>", "<body>" + "".join(f"<p>{formula}</p>" for formula in converted), 1)
        dom = _typeset_dom(hostile, tmp_path)
        _assert_inert(dom, "XH<b", "id='evil'>B</b>")  # \\text's space is a no-break space
        assert "example.org" not in dom
