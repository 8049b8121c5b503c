"""Moodle XML: the structure Moodle's importer reads, and the same answers the grader takes."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from pathlib import Path

import derive
from derive.export import moodle_xml
from derive.key import GRADED_ROLES
from derive.variants import make_variants

from .conftest import EXAMPLES

SEED000 = EXAMPLES / "2-2-1-linear-mse.yaml"


def _questions(xml: str) -> list[ElementTree.Element]:
    quiz = ElementTree.fromstring(xml)
    assert quiz.tag == "quiz"
    return list(quiz)


def test_one_numerical_question_per_graded_item_with_the_key_value_and_a_tolerance() -> None:
    problem = derive.load(SEED000)
    xml = moodle_xml(problem.spec.title, {None: problem.derivation}, "ko")
    questions = _questions(xml)
    assert questions[0].get("type") == "category"
    assert questions[0].findtext("category/text") == "$course$/derive/순전파-역전파 예제로 이해하기"
    graded = [s for s in problem.derivation.steps if s.role in GRADED_ROLES]
    numerical = questions[1:]
    assert len(numerical) == len(graded)
    for question, step in zip(numerical, graded, strict=True):
        assert question.get("type") == "numerical"
        assert question.findtext("name/text") == step.id
        assert question.find("questiontext").get("format") == "html"
        assert step.latex in question.findtext("questiontext/text")
        answer = question.find("answer")
        assert answer.get("fraction") == "100"
        value, tolerance = float(answer.findtext("text")), float(answer.findtext("tolerance"))
        assert value == step.value and tolerance > 0
        assert abs(step.exact - value) <= tolerance  # a student carrying exact values passes too
        assert question.findtext("defaultgrade") == "1"


def test_variants_get_a_category_each(tmp_path: Path) -> None:
    variants = make_variants(derive.load(SEED000), 3, seed=1)
    xml = moodle_xml("t", {v.id: v.problem.derivation for v in variants}, "en")
    categories = [q.findtext("category/text") for q in _questions(xml) if q.get("type") == "category"]
    assert categories == ["$course$/derive/t/v01", "$course$/derive/t/v02", "$course$/derive/t/v03"]
    names = [q.findtext("name/text") for q in _questions(xml) if q.get("type") == "numerical"]
    assert len(names) == len(set(names)) and "v02 dL/dw1" in names


def test_title_with_markup_is_escaped_in_xml() -> None:
    problem = derive.load(SEED000)
    xml = moodle_xml("<b>&</b>", {None: problem.derivation}, "en")
    assert _questions(xml)[0].findtext("category/text") == "$course$/derive/<b>&<-b>"


def test_export_command(tmp_path: Path) -> None:
    from .test_cli import _run

    result = _run("export", "moodle", str(SEED000), "-o", str(tmp_path / "quiz.xml"))
    assert result.returncode == 0, result.stderr
    assert "wrote 26 questions" in result.stdout
    assert len(_questions((tmp_path / "quiz.xml").read_text(encoding="utf-8"))) == 27
