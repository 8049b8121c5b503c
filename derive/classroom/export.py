"""Quizzes for a learning-management system: Moodle XML and Canvas's QTI 1.2 zip, one
numerical question per graded item and version, with the tolerance the grader uses, so the
LMS accepts the same answers `derive grade` would.

The questions are the items the spec's `ask` names (by default the graded roles). Moodle's
numerical questions take an absolute tolerance around the key's value; the grader's
interval (the key's "accept", derived from the rounding policy through each step) need
not be centred on it, so each question gets the distance to its farther end. Canvas's
questions accept exactly the interval."""

from __future__ import annotations

import hashlib
import io
import xml.etree.ElementTree as ElementTree
import zipfile
from collections.abc import Callable
from decimal import Decimal

from ..engine.derivation import Derivation, Step
from ..views.key import acceptance_intervals, asked_ids
from ..views.latex import to_latex
from ..engine.policy import format_number

PROMPTS = {
    "ko": ("다음 값으로", "를 계산하시오. 유효숫자/소수 자릿수는 문서의 규칙을 따르시오."),
    "en": ("With these values, compute", ". Round as the handout's rule says."),
}


def graded_steps(derivation: Derivation) -> list[Step]:
    """The steps a quiz asks for: asked (the spec's `ask`), and with a number to check (not a
    symbolic spec)."""
    return [derivation[item] for item in asked_ids(derivation) if derivation[item].value is not None]


def _text(parent: ElementTree.Element, tag: str, text: str, **attributes: str) -> ElementTree.Element:
    element = ElementTree.SubElement(parent, tag, attributes)
    ElementTree.SubElement(element, "text").text = text
    return element


def _tolerance(step: Step, derivation: Derivation) -> float:
    """The widest distance from the key's value that the grader still accepts."""
    assert step.value is not None
    low, high = acceptance_intervals(derivation)[step.id]
    return float(f"{max(high - step.value, step.value - low):.6g}")


def _question_text(step: Step, derivation: Derivation, language: str) -> str:
    network = derivation.network
    givens = [*network.givens(), ("eta", network.learning_rate)]
    values = ",\\; ".join(f"{network.latex(name)} = {format_number(value)}" for name, value in givens if value is not None)
    lead, tail = PROMPTS[language]
    # A gradient's or a chain factor's definition would give the derivative away.
    definition = to_latex(step.expression, derivation.names) if step.role not in ("gradient", "factor") else ""
    target = f"{step.latex} = {definition}" if definition else step.latex
    if language == "ko":
        return f"<p>{lead} \\({values}\\)</p><p>\\({target}\\){tail}</p>"
    return f"<p>{lead} \\({target}\\){tail}</p><p>\\({values}\\)</p>"


def moodle_xml(title: str, versions: dict[str | None, Derivation], language: str) -> str:
    quiz = ElementTree.Element("quiz")
    for version, derivation in versions.items():
        category = ElementTree.SubElement(quiz, "question", type="category")
        _text(category, "category", f"$course$/derive/{title.replace('/', '-')}" + (f"/{version}" if version else ""))  # "/" nests categories
        for step in graded_steps(derivation):
            question = ElementTree.SubElement(quiz, "question", type="numerical")
            _text(question, "name", f"{version + ' ' if version else ''}{step.id}")
            _text(question, "questiontext", _question_text(step, derivation, language), format="html")
            _text(question, "generalfeedback", "", format="html")
            ElementTree.SubElement(question, "defaultgrade").text = "1"
            ElementTree.SubElement(question, "penalty").text = "0"
            ElementTree.SubElement(question, "hidden").text = "0"
            ElementTree.SubElement(question, "idnumber").text = f"{version or 'v00'}:{step.id}"
            answer = _text(question, "answer", format_number(step.value, derivation.policy, step.kind), fraction="100", format="moodle_auto_format")
            ElementTree.SubElement(answer, "tolerance").text = format_number(_tolerance(step, derivation))
            _text(answer, "feedback", "", format="html")
            ElementTree.SubElement(question, "unitgradingtype").text = "0"
            ElementTree.SubElement(question, "unitpenalty").text = "0"
            ElementTree.SubElement(question, "showunits").text = "3"
            ElementTree.SubElement(question, "unitsleft").text = "0"
    ElementTree.indent(quiz)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ElementTree.tostring(quiz, encoding="unicode") + "\n"


# --- Canvas: QTI 1.2 ------------------------------------------------------------------------

QTI_NAMESPACE = "http://www.imsglobal.org/xsd/ims_qtiasiv1p2"
MANIFEST_NAMESPACE = "http://www.imsglobal.org/xsd/imsccv1p1/imscp_v1p1"


def _with_point(number: str) -> str:
    """A number as QTI answers carry it: plain notation, always with a decimal point (Canvas's
    New Quizzes reads `4` as text and `4.0` as a number)."""
    return number if "." in number else number + ".0"


def _exactly(bound: float) -> str:
    """A range's end to the last digit, so Canvas accepts no less than the grader does."""
    return _with_point(format(Decimal(repr(bound)), "f"))


def _identifier(*parts: str) -> str:
    """Stable across runs, so a re-export replaces the quiz instead of adding a copy."""
    return "derive_" + hashlib.sha1("\0".join(parts).encode()).hexdigest()[:16]


def _field(parent: ElementTree.Element, label: str, entry: str) -> None:
    field = ElementTree.SubElement(parent, "qtimetadatafield")
    ElementTree.SubElement(field, "fieldlabel").text = label
    ElementTree.SubElement(field, "fieldentry").text = entry


def _qti_item(section: ElementTree.Element, ident: str, step: Step, derivation: Derivation, language: str) -> None:
    """A numerical question that accepts exactly the range the grader accepts."""
    assert step.value is not None and step.exact is not None
    item = ElementTree.SubElement(section, "item", ident=ident, title=step.id)
    metadata = ElementTree.SubElement(ElementTree.SubElement(item, "itemmetadata"), "qtimetadata")
    _field(metadata, "question_type", "numerical_question")
    _field(metadata, "points_possible", "1.0")
    presentation = ElementTree.SubElement(item, "presentation")
    material = ElementTree.SubElement(presentation, "material")
    ElementTree.SubElement(material, "mattext", texttype="text/html").text = _question_text(step, derivation, language)
    response = ElementTree.SubElement(presentation, "response_str", ident="response1", rcardinality="Single")
    ElementTree.SubElement(ElementTree.SubElement(response, "render_fib", fibtype="Decimal"), "response_label", ident="answer1")
    processing = ElementTree.SubElement(item, "resprocessing")
    ElementTree.SubElement(ElementTree.SubElement(processing, "outcomes"), "decvar",
                           maxvalue="100", minvalue="0", varname="SCORE", vartype="Decimal")
    condition = ElementTree.SubElement(processing, "respcondition", {"continue": "No"})
    either = ElementTree.SubElement(ElementTree.SubElement(condition, "conditionvar"), "or")
    ElementTree.SubElement(either, "varequal", respident="response1").text = _with_point(format_number(step.value, derivation.policy, step.kind))
    low, high = acceptance_intervals(derivation)[step.id]
    within = ElementTree.SubElement(either, "and")
    ElementTree.SubElement(within, "vargte", respident="response1").text = _exactly(low)
    ElementTree.SubElement(within, "varlte", respident="response1").text = _exactly(high)
    ElementTree.SubElement(condition, "setvar", action="Set", varname="SCORE").text = "100"


def _assessment(ident: str, title: str, derivation: Derivation, language: str) -> str:
    root = ElementTree.Element("questestinterop", xmlns=QTI_NAMESPACE)
    assessment = ElementTree.SubElement(root, "assessment", ident=ident, title=title)
    _field(ElementTree.SubElement(assessment, "qtimetadata"), "cc_maxattempts", "1")
    section = ElementTree.SubElement(assessment, "section", ident="root_section")
    for number, step in enumerate(graded_steps(derivation), start=1):
        _qti_item(section, f"{ident}_{number}", step, derivation, language)
    ElementTree.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ElementTree.tostring(root, encoding="unicode") + "\n"


def qti_package(title: str, versions: dict[str | None, Derivation], language: str) -> bytes:
    """A Canvas quiz import (Settings > Import Course Content > QTI .zip): one quiz per
    version, each a folder with its assessment, listed in imsmanifest.xml. The zip carries
    fixed dates, so the same key gives the same bytes."""
    files: dict[str, str] = {}
    manifest = ElementTree.Element("manifest", identifier=_identifier(title, "manifest"), xmlns=MANIFEST_NAMESPACE)
    ElementTree.SubElement(ElementTree.SubElement(manifest, "metadata"), "schema").text = "IMS Content"
    ElementTree.SubElement(manifest, "organizations")
    resources = ElementTree.SubElement(manifest, "resources")
    for version, derivation in versions.items():
        ident = _identifier(title, version or "")
        path = f"{ident}/{ident}.xml"
        files[path] = _assessment(ident, f"{title} ({version})" if version else title, derivation, language)
        resource = ElementTree.SubElement(resources, "resource", identifier=ident, type="imsqti_xmlv1p2")
        ElementTree.SubElement(resource, "file", href=path)
    ElementTree.indent(manifest)
    files["imsmanifest.xml"] = '<?xml version="1.0" encoding="UTF-8"?>\n' + ElementTree.tostring(manifest, encoding="unicode") + "\n"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(files):
            entry = zipfile.ZipInfo(path, date_time=(1980, 1, 1, 0, 0, 0))
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            archive.writestr(entry, files[path])
    return buffer.getvalue()


# What `derive export <lms>` writes: the file's bytes from the title and a derivation per version.
EXPORTERS: dict[str, Callable[[str, dict[str | None, Derivation], str], bytes]] = {
    "moodle": lambda title, versions, language: moodle_xml(title, versions, language).encode(),
    "qti": qti_package,
}
