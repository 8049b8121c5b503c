"""Moodle XML and Canvas QTI: the structure each importer reads, and the same answers the grader takes."""

from __future__ import annotations

import base64
import io
import json
import re
import xml.etree.ElementTree as ElementTree
import zipfile
from pathlib import Path

import pytest

import derive
from derive.classroom.export import graded_steps, moodle_xml, qti_package
from derive.engine.policy import format_number
from derive.views.key import GRADED_ROLES, key_json
from derive.classroom.variants import make_variants

from ..conftest import EXAMPLES

SEED000 = EXAMPLES / "2-2-1-linear-mse.yaml"


def _questions(xml: str) -> list[ElementTree.Element]:
    quiz = ElementTree.fromstring(xml)
    assert quiz.tag == "quiz"
    return list(quiz)


def test_one_numerical_question_per_graded_item_with_the_key_value_and_a_tolerance() -> None:
    problem = derive.load(SEED000)
    xml = moodle_xml(problem.spec.title, {None: problem.derivation}, "ko", style="items")
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
    xml = moodle_xml("t", {v.id: v.problem.derivation for v in variants}, "en", style="items")
    categories = [q.findtext("category/text") for q in _questions(xml) if q.get("type") == "category"]
    assert categories == ["$course$/derive/t/v01", "$course$/derive/t/v02", "$course$/derive/t/v03"]
    names = [q.findtext("name/text") for q in _questions(xml) if q.get("type") == "numerical"]
    assert len(names) == len(set(names)) and "v02 dL/dw1" in names


def test_title_with_markup_is_escaped_in_xml() -> None:
    problem = derive.load(SEED000)
    xml = moodle_xml("<b>&</b>", {None: problem.derivation}, "en")
    assert _questions(xml)[0].findtext("category/text") == "$course$/derive/<b>&<-b>"


def test_export_command(tmp_path: Path) -> None:
    from ..test_cli import _run

    result = _run("export", "moodle", str(SEED000), "-o", str(tmp_path / "quiz.xml"), "--style", "items")
    assert result.returncode == 0, result.stderr
    assert "wrote 26 questions (1 version) to" in result.stdout
    assert len(_questions((tmp_path / "quiz.xml").read_text(encoding="utf-8"))) == 27


# --- Canvas QTI 1.2 ---------------------------------------------------------------------

QTI = "{http://www.imsglobal.org/xsd/ims_qtiasiv1p2}"
MANIFEST = "{http://www.imsglobal.org/xsd/imsccv1p1/imscp_v1p1}"


def _package(data: bytes) -> dict[str, ElementTree.Element]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: ElementTree.fromstring(archive.read(name)) for name in archive.namelist()}


def test_qti_package_lists_each_quiz_in_its_manifest_and_accepts_the_graders_range() -> None:
    problem = derive.load(SEED000)
    files = _package(qti_package(problem.spec.title, {None: problem.derivation}, "ko", style="items"))
    manifest = files.pop("imsmanifest.xml")
    resources = manifest.findall(f"{MANIFEST}resources/{MANIFEST}resource")
    assert [r.get("type") for r in resources] == ["imsqti_xmlv1p2"]
    assert [r.find(f"{MANIFEST}file").get("href") for r in resources] == list(files)
    assessment = next(iter(files.values())).find(f"{QTI}assessment")
    assert assessment.get("title") == problem.spec.title
    items = assessment.findall(f"{QTI}section/{QTI}item")
    key = {item["id"]: item for item in json.loads(key_json(problem))["items"] if item["graded"]}
    assert [item.get("title") for item in items] == list(key)
    for item in items:
        expected = key[item.get("title")]
        fields = {f.findtext(f"{QTI}fieldlabel"): f.findtext(f"{QTI}fieldentry") for f in item.iter(f"{QTI}qtimetadatafield")}
        assert fields == {"question_type": "numerical_question", "points_possible": "1.0"}
        assert expected["latex"] in item.findtext(f"{QTI}presentation/{QTI}material/{QTI}mattext")
        condition = item.find(f"{QTI}resprocessing/{QTI}respcondition/{QTI}conditionvar/{QTI}or")
        numbers = [condition.findtext(f"{QTI}varequal"), condition.findtext(f"{QTI}and/{QTI}vargte"),
                   condition.findtext(f"{QTI}and/{QTI}varlte")]
        assert all("." in n and "e" not in n.lower() for n in numbers), numbers
        value, low, high = map(float, numbers)
        assert value == expected["value"]
        # The grader's interval, the key's "accept", to within its float-noise hair, written
        # short; it holds the rounded-carry value and the exact one.
        hair = 1e-12 + 1e-9 * max(map(abs, expected["accept"]))
        assert low <= expected["accept"][0] + 1.001 * hair and high >= expected["accept"][1] - 1.001 * hair
        assert abs(low - expected["accept"][0]) <= 1.001 * hair and abs(high - expected["accept"][1]) <= 1.001 * hair
        assert low <= min(expected["value"], expected["exact"]) <= max(expected["value"], expected["exact"]) <= high


def test_qti_package_has_a_quiz_per_version_and_the_same_bytes_every_time() -> None:
    variants = make_variants(derive.load(SEED000), 3, seed=1)
    versions = {v.id: v.problem.derivation for v in variants}
    data = qti_package("t", versions, "en", style="items")
    assert qti_package("t", versions, "en", style="items") == data
    files = _package(data)
    titles = sorted(root.find(f"{QTI}assessment").get("title") for name, root in files.items() if name != "imsmanifest.xml")
    assert titles == ["t (v01)", "t (v02)", "t (v03)"]
    idents = [item.get("ident") for root in files.values() for item in root.iter(f"{QTI}item")]
    assert len(idents) == len(set(idents)) == 3 * 26


def test_qti_export_command(tmp_path: Path) -> None:
    from ..test_cli import _run

    result = _run("export", "qti", str(SEED000), "-o", str(tmp_path / "quiz.zip"), "--style", "items")
    assert result.returncode == 0, result.stderr
    assert "wrote 26 questions (1 version) to" in result.stdout
    assert zipfile.ZipFile(tmp_path / "quiz.zip").testzip() is None
    missing = _run("export", "qti", str(tmp_path / "nothing.yaml"))
    assert missing.returncode == 2 and "no such file or folder" in missing.stderr


@pytest.mark.parametrize("name", ["graph-sum-times-product.yaml", "graph-residual-block.yaml"])
def test_a_circuit_question_s_picture_shows_no_answer(name: str) -> None:
    """The picture every question carries is the blank one: the handout's would show each
    value and gradient the quiz asks for."""
    problem = derive.load(EXAMPLES / name)
    xml = moodle_xml(problem.spec.title, {None: problem.derivation}, "en", style="items")
    pictures = set(re.findall(r"data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)", xml))
    assert len(pictures) == 1
    svg_text = "".join(ElementTree.fromstring(base64.b64decode(pictures.pop())).itertext()).replace("\u2212", "-")
    leaves = {format_number(value) for value in problem.spec.graph.leaves.values() if value is not None}
    asked = {format_number(step.value) for step in graded_steps(problem.derivation)} - leaves - {"0", "1"}
    assert asked and not {value for value in asked if re.search(rf"(?<![\d.]){re.escape(value)}(?![\d])", svg_text)}
