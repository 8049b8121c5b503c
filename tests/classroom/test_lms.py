"""LMS questions that stand alone and give each student one whole version: Moodle gets one
Cloze question per version in one category, Canvas one quiz whose group picks a version;
every question carries the picture, the givens, the weight numbering and the rounding rule;
numbers are written with the digits they need and still cover the grader's interval."""

from __future__ import annotations

import base64
import io
import re
import zipfile
from decimal import Decimal
from pathlib import Path
from xml.etree import ElementTree

import pytest
from click.testing import CliRunner

import derive
from derive.classroom.export import (
    cloze_escape,
    graded_steps,
    moodle_xml,
    qti_package,
    short_number,
)
from derive.classroom.variants import make_variants
from derive.views.documents import rounding_rule
from derive.views.key import acceptance_intervals

from ..conftest import EXAMPLES

SEED000 = EXAMPLES / "2-2-1-linear-mse.yaml"
QTI = "{http://www.imsglobal.org/xsd/ims_qtiasiv1p2}"

# Moodle's own parser (question/type/multianswer/questiontype.php), ported: a sub-question
# is {n:NUMERICAL:=answer#feedback}, the answer `number` or `number:tolerance`.
NUMBER = r"-?(?:(?:[0-9]+[.,]?[0-9]*|[.,][0-9]+)(?:[eE][-+]?[0-9]+)?)"
SUBQUESTION = re.compile(r"\{([0-9]*):(NUMERICAL|NM):(=?)(.+?(?<!\\|&))(?:#(.*?(?<!\\)))?\}")
NUMERICAL_ANSWER = re.compile(rf"^({NUMBER})(?::({NUMBER}))?$")


@pytest.fixture(scope="module")
def versions() -> dict[str | None, derive.engine.derivation.Derivation]:  # type: ignore[name-defined]
    return {v.id: v.problem.derivation for v in make_variants(derive.load(SEED000), 4, seed=3)}


def _hair(low: float, high: float) -> float:
    return 1.001 * (1e-12 + 1e-9 * max(abs(low), abs(high)))


def _problem(derivation):  # type: ignore[no-untyped-def]
    problem = derive.Problem(derivation.network.spec, "t", "t")
    return problem


def _standalone(text: str, derivation, language: str) -> None:  # type: ignore[no-untyped-def]
    """The picture (an SVG as a data: URI), the givens, the numbering and the rule."""
    match = re.search(r'<img src="data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)"', text)
    assert match, text[:200]
    assert base64.b64decode(match.group(1)).decode().startswith("<svg")
    assert rounding_rule(_problem(derivation), language) in text
    x1 = derivation.network.inputs["x1"]
    assert f"x_{{1}} = {x1:g}" in text and "\\eta = " in text
    assert "w_{1}: x_{1} \\to a_{1}" in text  # which connection w1 is, spelled out


# --- Moodle: one Cloze question per version -------------------------------------------------


def test_moodle_gets_one_cloze_question_per_version_in_one_category(versions) -> None:  # type: ignore[no-untyped-def]
    quiz = ElementTree.fromstring(moodle_xml("t", versions, "en"))
    categories = [q for q in quiz if q.get("type") == "category"]
    assert [c.findtext("category/text") for c in categories] == ["$course$/derive/t"]
    questions = [q for q in quiz if q.get("type") != "category"]
    assert [q.get("type") for q in questions] == ["cloze"] * len(versions)
    assert [q.findtext("name/text") for q in questions] == list(versions)
    for question, derivation in zip(questions, versions.values(), strict=True):
        text = question.findtext("questiontext/text")
        assert question.find("questiontext").get("format") == "html"
        _standalone(text, derivation, "en")
        subquestions = SUBQUESTION.findall(text)
        steps = graded_steps(derivation)
        assert len(subquestions) == len(steps)
        for (weight, kind, correct, answer, feedback), step in zip(subquestions, steps, strict=True):
            assert (weight, kind, correct) == ("1", "NUMERICAL", "=")
            parsed = NUMERICAL_ANSWER.match(answer)
            assert parsed, answer
            value, tolerance = float(parsed.group(1)), float(parsed.group(2))
            assert value == step.value
            low, high = acceptance_intervals(derivation)[step.id]
            # value ± tolerance covers the grader's interval (to its float-noise hair).
            assert value - tolerance <= low + _hair(low, high) and value + tolerance >= high - _hair(low, high)
            assert feedback == cloze_escape(f"{step.id} = {answer.split(':')[0]}")


def test_items_style_keeps_one_numerical_question_per_item_each_standing_alone(versions) -> None:  # type: ignore[no-untyped-def]
    quiz = ElementTree.fromstring(moodle_xml("t", versions, "en", style="items"))
    numerical = [q for q in quiz if q.get("type") == "numerical"]
    assert len(numerical) == sum(len(graded_steps(d)) for d in versions.values())
    derivation = versions["v01"]
    by_name = {q.findtext("name/text"): q.findtext("questiontext/text") for q in numerical}
    for step in graded_steps(derivation):
        _standalone(by_name[f"v01 {step.id}"], derivation, "en")
    # A gradient question gives the forward values it rests on, from the key, and not its own.
    gradient = by_name["v01 dL/dw1"]
    for item in ("a1", "yhat1"):
        step = derivation[item]
        assert f"{step.latex} = " in gradient.split("Earlier values")[1]
    assert "\\frac{\\partial L}{\\partial w_{1}} = " not in gradient
    first = by_name["v01 z1"]
    assert "Earlier values" not in first  # z1 rests on givens only


@pytest.mark.parametrize(("text", "escaped"), [
    ("dL/dw1 = 0.5", "dL\\/dw1 = 0.5"), ("a}b", "a\\}b"), ("#1", "\\#1"), ("~", "\\~"), ('"q"', '\\"q\\"'), ("\\", "\\\\"), ("w1' = 0.3", "w1' = 0.3")])
def test_cloze_text_escapes_what_moodle_reads_as_syntax(text: str, escaped: str) -> None:
    assert cloze_escape(text) == escaped
    # Moodle's parser ends a feedback at an unescaped } or ~ only: the escaped text survives
    # whole (the feedback derive writes ends in a number, never in a backslash, which would
    # escape the closing brace).
    (found,) = SUBQUESTION.findall("{1:NUMERICAL:=1:0.1#" + escaped + " = 1}")
    assert found[4] == escaped + " = 1"


def test_korean_questions_state_the_korean_rule(versions) -> None:  # type: ignore[no-untyped-def]
    quiz = ElementTree.fromstring(moodle_xml("t", versions, "ko"))
    text = next(q for q in quiz if q.get("type") == "cloze").findtext("questiontext/text")
    _standalone(text, versions["v01"], "ko")
    assert "반올림 규칙" in text


# --- Canvas: one quiz, a group that picks one version ---------------------------------------


def _assessments(data: bytes) -> dict[str, ElementTree.Element]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: ElementTree.fromstring(archive.read(name)) for name in archive.namelist() if name != "imsmanifest.xml"}


def test_canvas_gets_one_quiz_whose_group_picks_one_whole_version(versions) -> None:  # type: ignore[no-untyped-def]
    data = qti_package("t", versions, "en")
    assert qti_package("t", versions, "en") == data
    (root,) = _assessments(data).values()
    (assessment,) = root.findall(f"{QTI}assessment")
    (bank,) = assessment.findall(f"{QTI}section/{QTI}section")
    assert bank.findtext(f"{QTI}selection_ordering/{QTI}selection/{QTI}selection_number") == "1"
    sections = bank.findall(f"{QTI}section")
    assert [s.get("title") for s in sections] == list(versions)
    idents = []
    for section, derivation in zip(sections, versions.values(), strict=True):
        items = section.findall(f"{QTI}item")
        assert [i.get("title") for i in items] == [s.id for s in graded_steps(derivation)]
        idents += [i.get("ident") for i in items]
        for item, step in zip(items, graded_steps(derivation), strict=True):
            _standalone(item.findtext(f"{QTI}presentation/{QTI}material/{QTI}mattext"), derivation, "en")
            low, high = (float(item.findtext(f"{QTI}resprocessing/{QTI}respcondition/{QTI}conditionvar/{QTI}or/{QTI}and/{QTI}{tag}"))
                         for tag in ("vargte", "varlte"))
            key_low, key_high = acceptance_intervals(derivation)[step.id]
            assert low <= key_low + _hair(key_low, key_high) and high >= key_high - _hair(key_low, key_high)
    assert len(idents) == len(set(idents))


def test_range_ends_print_with_the_digits_they_need(versions) -> None:  # type: ignore[no-untyped-def]
    assert short_number(1.8805499989999999, 1e-12 + 1e-9 * 1.9) == "1.88055"
    assert short_number(-0.005330000005, 1e-12 + 1e-9 * 0.00533) == "-0.00533"
    assert short_number(0.1 + 0.2, 1e-12) == "0.3" and short_number(1.25, 1e-12) == "1.25"
    assert short_number(0.0, 1e-12) == "0"
    (root,) = _assessments(qti_package("t", versions, "en")).values()
    ends = [node.text or "" for tag in ("vargte", "varlte") for node in root.iter(f"{QTI}{tag}")]
    assert ends
    for end in ends:
        digits = Decimal(end).normalize().as_tuple().digits
        assert len(digits) <= 10 and "9999" not in end and "0000000" not in end.lstrip("-0."), end


# --- the command ----------------------------------------------------------------------------


def test_export_command_says_what_it_wrote(tmp_path: Path) -> None:
    from derive.cli import main

    runner = CliRunner()
    moodle = runner.invoke(main, ["export", "moodle", str(SEED000), "-o", str(tmp_path / "q.xml")])
    assert moodle.exit_code == 0 and "wrote 1 Cloze question (26 blanks) in one category" in moodle.output
    qti = runner.invoke(main, ["export", "qti", str(SEED000), "-o", str(tmp_path / "q.zip")])
    assert qti.exit_code == 0 and "group picks 1 of 1 version (26 questions)" in qti.output
    items = runner.invoke(main, ["export", "moodle", str(SEED000), "-o", str(tmp_path / "i.xml"), "--style", "items"])
    assert items.exit_code == 0 and "wrote 26 questions (1 version)" in items.output
