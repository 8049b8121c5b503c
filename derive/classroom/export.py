"""Quizzes for a learning-management system: Moodle XML and Canvas's QTI 1.2 zip, with the
tolerance the grader uses, so the LMS accepts the same answers `derive grade` would.

By default (style "version") a student gets one whole version: Moodle receives one Cloze
(multianswer) question per version, every version in one category, for a quiz's random
question to draw from; Canvas receives one quiz whose question group picks one version's
section. Style "items" is one numerical question per item (a category, or a quiz, per
version). Every question stands alone: it embeds the network picture (a data: URI), states
the given numbers, which connection each weight is, and the rounding rule; an item asked
alone also gives the key's values of the asked steps it rests on.

The questions are the items the spec's `ask` names (by default the graded roles). Moodle's
numerical questions take an absolute tolerance around the key's value; the grader's
interval (the key's "accept", derived from the rounding policy through each step) need
not be centred on it, so each question gets the distance to its farther end. Canvas's
questions accept the interval. Numbers are written with the digits they need: the
shortest decimal within the grader's float-noise hair of each end (1.88055, not
1.8805499989999999), which still covers every answer the grader takes."""

from __future__ import annotations

import base64
import hashlib
import io
import re
import xml.etree.ElementTree as ElementTree
import zipfile
from collections.abc import Callable
from decimal import Decimal

from ..engine.derivation import Derivation, Pass, Step
from ..engine.policy import format_number
from ..engine.problem import Problem
from ..views import escape
from ..views.documents import render_diagram, rounding_rule
from ..views.key import acceptance_intervals, asked_ids
from ..views.latex import to_latex

WORDS = {
    "ko": {
        "given": "주어진 값", "numbering": "가중치 번호", "rule": "반올림 규칙", "built_on": "앞 단계의 값 (정답)",
        "compute": "를 계산하시오.", "fill": "각 값을 계산하시오.", "diagram": "신경망 그림", "from": "에서", "to": "로",
    },
    "en": {
        "given": "Given", "numbering": "Weight numbering", "rule": "Rounding", "built_on": "Earlier values (from the key)",
        "compute": "Compute", "fill": "Compute each value.", "diagram": "The network", "from": "from", "to": "to",
    },
}
STYLES = ("version", "items")  # one question per version (Moodle Cloze, a Canvas group), or one per item


def graded_steps(derivation: Derivation) -> list[Step]:
    """The steps a quiz asks for: asked (the spec's `ask`), and with a number to check (not a
    symbolic spec)."""
    return [derivation[item] for item in asked_ids(derivation) if derivation[item].value is not None]


def _text(parent: ElementTree.Element, tag: str, text: str, **attributes: str) -> ElementTree.Element:
    element = ElementTree.SubElement(parent, tag, attributes)
    ElementTree.SubElement(element, "text").text = text
    return element


# --- numbers with the digits they need ---------------------------------------------------------


def _hair(*ends: float) -> float:
    """The float-noise margin the grader puts on each interval end (views/key.py `widened`)."""
    return 1e-12 + 1e-9 * max(abs(end) for end in ends)


def short_number(number: float, hair: float) -> str:
    """The shortest decimal within `hair` of `number`, in plain notation: 1.8805499989999999
    (an end of the grader's interval, 1.88055 less its float-noise hair) is 1.88055."""
    exact = Decimal(number)
    for places in range(40):
        candidate = exact.quantize(Decimal(1).scaleb(-places))
        if abs(candidate - exact) <= Decimal(hair) * Decimal("1.001"):  # a tie at float precision counts
            break
    text = format(candidate.normalize(), "f")
    return "0" if text in ("-0", "0") else text


def _range(step: Step, derivation: Derivation) -> tuple[str, str]:
    """The grader's interval for the LMS: each end the shortest decimal within the grader's
    float-noise hair of it, so it still covers every answer the grader takes (those ends
    less the hair) and prints as 1.88055, not 1.8805499989999999."""
    low, high = acceptance_intervals(derivation)[step.id]
    hair = _hair(low, high)
    return short_number(low, hair), short_number(high, hair)


def _tolerance(step: Step, derivation: Derivation) -> str:
    """The widest distance from the key's value that the grader still accepts (Moodle's
    absolute tolerance around the value), written short the same way."""
    assert step.value is not None
    low, high = acceptance_intervals(derivation)[step.id]
    return short_number(max(high - step.value, step.value - low), _hair(low, high))


# --- what a question carries ----------------------------------------------------------------


def _problem(derivation: Derivation) -> Problem:
    """The derivation's problem, for the views that take one (the picture, the rounding rule)."""
    problem = Problem(derivation.network.spec, "quiz", "quiz")
    problem.__dict__.update(network=derivation.network, derivation=derivation)  # the cached properties, not rebuilt
    return problem


def _diagram(derivation: Derivation) -> str:
    """The network picture with its weights, embedded as a data: URI (an LMS strips inline
    SVG but keeps an image), computed once per derivation. A circuit's handout picture
    carries every value and gradient, so its questions show the worksheet's, blank."""
    cached = derivation.__dict__.get("_quiz_diagram")
    if cached is None:
        kind = "worksheet" if derivation.network.spec.graph is not None else "handout"
        svg = render_diagram(_problem(derivation), kind)
        cached = "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode("ascii")
        derivation.__dict__["_quiz_diagram"] = cached
    return cached


def _context(derivation: Derivation, language: str) -> str:
    """What every question of a version states, so it can be answered alone: the picture,
    the given numbers, which connection each weight is, and the rounding rule."""
    network = derivation.network
    words = WORDS[language]
    samples = range(1, len(network.samples) + 1) if derivation.batched else [None]
    names = [Pass(sample=s).given(name) for s in samples for name in network.inputs]
    names += [p.name for p in network.parameters]
    names += [Pass(sample=s).given(name) for s in samples for name in network.targets]
    names += [name for name in derivation.givens if name not in names]  # eta, the optimizer's hyper-parameters
    values = ",\\; ".join(f"{derivation.latex_of(name)} = {format_number(value)}"
                           for name in names if (value := derivation.givens[name]) is not None)
    post_of = {unit.pre: unit.post for unit in network.units}
    numbering = ",\\; ".join(
        f"{network.latex(p.name)}: {network.latex(p.source or '')} \\to {network.latex(post_of.get(target, target))}"
        for p in network.weights for target in p.targets
    )
    alt = escape.html_text(words["diagram"])
    return (
        f'<p><img src="{_diagram(derivation)}" alt="{alt}"></p>'
        f"<p>{words['given']}: \\({values}\\)</p>"
        f"<p>{words['numbering']}: \\({numbering}\\)</p>"
        f"<p>{words['rule']}: {escape.html_text(rounding_rule(_problem(derivation), language))}</p>"
    )


def _target(step: Step, derivation: Derivation) -> str:
    # A gradient's or a chain factor's definition would give the derivative away.
    definition = to_latex(step.expression, derivation.names) if step.role not in ("gradient", "factor") else ""
    return f"{step.latex} = {definition}" if definition else step.latex


def _built_on(step: Step, derivation: Derivation) -> list[Step]:
    """The asked steps this one rests on, however far back: a standalone question gives their
    key values, so a gradient question needs no forward pass first."""
    asked = set(asked_ids(derivation))
    seen: set[str] = set()
    todo = list(step.depends_on)
    while todo:
        dep = todo.pop()
        if dep not in seen:
            seen.add(dep)
            todo.extend(derivation[dep].depends_on)
    return [other for other in derivation.steps if other.id in seen and other.id in asked and other.value is not None]


def _question_text(step: Step, derivation: Derivation, language: str, standalone: bool = True) -> str:
    """One item as a question that can be answered alone: with the version's picture, givens,
    numbering and rounding rule, and when `standalone` (`--style items`, where a student may
    get it without the items before it) the key's values of the asked steps it rests on."""
    words = WORDS[language]
    earlier = _built_on(step, derivation) if standalone else []
    text = _context(derivation, language)
    if earlier:
        shown = ",\\; ".join(f"{other.latex} = {format_number(other.value, derivation.policy, other.kind)}" for other in earlier)
        text += f"<p>{words['built_on']}: \\({shown}\\)</p>"
    if language == "ko":
        return text + f"<p>\\({_target(step, derivation)}\\){words['compute']}</p>"
    return text + f"<p>{words['compute']} \\({_target(step, derivation)}\\).</p>"


# --- Moodle ----------------------------------------------------------------------------------

_CLOZE_SPECIALS = re.compile(r'([}#~/"\\])')


def cloze_escape(text: str) -> str:
    """Text inside a Cloze sub-question ({1:NUMERICAL:...}): Moodle reads } # ~ / " and \\
    there as syntax unless a backslash precedes them."""
    return _CLOZE_SPECIALS.sub(r"\\\1", text)


def cloze_numerical(step: Step, derivation: Derivation) -> str:
    """{1:NUMERICAL:=value:tolerance#feedback}: one mark, the key's value, the grader's
    widest distance from it."""
    assert step.value is not None
    value = format_number(step.value, derivation.policy, step.kind)
    feedback = cloze_escape(f"{step.id} = {value}")
    return f"{{1:NUMERICAL:={value}:{_tolerance(step, derivation)}#{feedback}}}"


def _cloze_text(derivation: Derivation, language: str) -> str:
    """A whole version as one Cloze question: what the version states, then each item asked
    with its blank, in the order of the derivation."""
    lines = "".join(f"<p>\\({_target(step, derivation)}\\) = {cloze_numerical(step, derivation)}</p>" for step in graded_steps(derivation))
    return _context(derivation, language) + f"<p>{WORDS[language]['fill']}</p>" + lines


def _category(quiz: ElementTree.Element, path: str) -> None:
    category = ElementTree.SubElement(quiz, "question", type="category")
    _text(category, "category", path)


def moodle_xml(title: str, versions: dict[str | None, Derivation], language: str, style: str = "version") -> str:
    """style "version": one Cloze (multianswer) question per version, every version in one
    category, so a quiz's random question from it gives each student one whole version;
    "items": one numerical question per item, a category per version."""
    quiz = ElementTree.Element("quiz")
    base = f"$course$/derive/{title.replace('/', '-')}"  # "/" nests categories
    if style == "version":
        _category(quiz, base)
        for version, derivation in versions.items():
            question = ElementTree.SubElement(quiz, "question", type="cloze")
            _text(question, "name", version or title)
            _text(question, "questiontext", _cloze_text(derivation, language), format="html")
            _text(question, "generalfeedback", "", format="html")
            ElementTree.SubElement(question, "penalty").text = "0"
            ElementTree.SubElement(question, "hidden").text = "0"
            ElementTree.SubElement(question, "idnumber").text = version or "v00"
        ElementTree.indent(quiz)
        return '<?xml version="1.0" encoding="UTF-8"?>\n' + ElementTree.tostring(quiz, encoding="unicode") + "\n"
    for version, derivation in versions.items():
        _category(quiz, base + (f"/{version}" if version else ""))
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
            ElementTree.SubElement(answer, "tolerance").text = _tolerance(step, derivation)
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


def _identifier(*parts: str) -> str:
    """Stable across runs, so a re-export replaces the quiz instead of adding a copy."""
    return "derive_" + hashlib.sha1("\0".join(parts).encode()).hexdigest()[:16]


def _field(parent: ElementTree.Element, label: str, entry: str) -> None:
    field = ElementTree.SubElement(parent, "qtimetadatafield")
    ElementTree.SubElement(field, "fieldlabel").text = label
    ElementTree.SubElement(field, "fieldentry").text = entry


def _qti_item(section: ElementTree.Element, ident: str, step: Step, derivation: Derivation, language: str, standalone: bool) -> None:
    """A numerical question that accepts exactly the range the grader accepts."""
    assert step.value is not None and step.exact is not None
    item = ElementTree.SubElement(section, "item", ident=ident, title=step.id)
    metadata = ElementTree.SubElement(ElementTree.SubElement(item, "itemmetadata"), "qtimetadata")
    _field(metadata, "question_type", "numerical_question")
    _field(metadata, "points_possible", "1.0")
    presentation = ElementTree.SubElement(item, "presentation")
    material = ElementTree.SubElement(presentation, "material")
    ElementTree.SubElement(material, "mattext", texttype="text/html").text = _question_text(step, derivation, language, standalone)
    response = ElementTree.SubElement(presentation, "response_str", ident="response1", rcardinality="Single")
    ElementTree.SubElement(ElementTree.SubElement(response, "render_fib", fibtype="Decimal"), "response_label", ident="answer1")
    processing = ElementTree.SubElement(item, "resprocessing")
    ElementTree.SubElement(ElementTree.SubElement(processing, "outcomes"), "decvar",
                           maxvalue="100", minvalue="0", varname="SCORE", vartype="Decimal")
    condition = ElementTree.SubElement(processing, "respcondition", {"continue": "No"})
    either = ElementTree.SubElement(ElementTree.SubElement(condition, "conditionvar"), "or")
    ElementTree.SubElement(either, "varequal", respident="response1").text = _with_point(format_number(step.value, derivation.policy, step.kind))
    low, high = _range(step, derivation)
    within = ElementTree.SubElement(either, "and")
    ElementTree.SubElement(within, "vargte", respident="response1").text = _with_point(low)
    ElementTree.SubElement(within, "varlte", respident="response1").text = _with_point(high)
    ElementTree.SubElement(condition, "setvar", action="Set", varname="SCORE").text = "100"


def _assessment(ident: str, title: str, derivation: Derivation, language: str) -> str:
    """One version as a quiz (`--style items`)."""
    root = ElementTree.Element("questestinterop", xmlns=QTI_NAMESPACE)
    assessment = ElementTree.SubElement(root, "assessment", ident=ident, title=title)
    _field(ElementTree.SubElement(assessment, "qtimetadata"), "cc_maxattempts", "1")
    section = ElementTree.SubElement(assessment, "section", ident="root_section")
    for number, step in enumerate(graded_steps(derivation), start=1):
        _qti_item(section, f"{ident}_{number}", step, derivation, language, standalone=True)
    ElementTree.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ElementTree.tostring(root, encoding="unicode") + "\n"


def _one_version_each(ident: str, title: str, versions: dict[str | None, Derivation], language: str) -> str:
    """Every version in one quiz: a section that selects one of its sections (QTI 1.2's
    selection_ordering, selection_number 1), each section a whole version with its items,
    so each student gets one version and all of it."""
    root = ElementTree.Element("questestinterop", xmlns=QTI_NAMESPACE)
    assessment = ElementTree.SubElement(root, "assessment", ident=ident, title=title)
    _field(ElementTree.SubElement(assessment, "qtimetadata"), "cc_maxattempts", "1")
    root_section = ElementTree.SubElement(assessment, "section", ident="root_section")
    bank = ElementTree.SubElement(root_section, "section", ident=f"{ident}_versions", title=title)
    selection = ElementTree.SubElement(ElementTree.SubElement(bank, "selection_ordering"), "selection")
    ElementTree.SubElement(selection, "selection_number").text = "1"
    for version, derivation in versions.items():
        version_ident = _identifier(title, version or "")
        section = ElementTree.SubElement(bank, "section", ident=version_ident, title=version or title)
        for number, step in enumerate(graded_steps(derivation), start=1):
            _qti_item(section, f"{version_ident}_{number}", step, derivation, language, standalone=False)
    ElementTree.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ElementTree.tostring(root, encoding="unicode") + "\n"


def qti_package(title: str, versions: dict[str | None, Derivation], language: str, style: str = "version") -> bytes:
    """A Canvas quiz import (Settings > Import Course Content > QTI .zip): style "version",
    one quiz whose question group picks one whole version per student; "items", one quiz
    per version. Each quiz is a folder with its assessment, listed in imsmanifest.xml. The
    zip carries fixed dates, so the same key gives the same bytes."""
    files: dict[str, str] = {}
    manifest = ElementTree.Element("manifest", identifier=_identifier(title, "manifest"), xmlns=MANIFEST_NAMESPACE)
    ElementTree.SubElement(ElementTree.SubElement(manifest, "metadata"), "schema").text = "IMS Content"
    ElementTree.SubElement(manifest, "organizations")
    resources = ElementTree.SubElement(manifest, "resources")
    if style == "version":
        ident = _identifier(title, "versions")
        quizzes = {ident: _one_version_each(ident, title, versions, language)}
    else:
        quizzes = {}
        for version, derivation in versions.items():
            ident = _identifier(title, version or "")
            quizzes[ident] = _assessment(ident, f"{title} ({version})" if version else title, derivation, language)
    for ident, text in quizzes.items():
        path = f"{ident}/{ident}.xml"
        files[path] = text
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
EXPORTERS: dict[str, Callable[[str, dict[str | None, Derivation], str, str], bytes]] = {
    "moodle": lambda title, versions, language, style: moodle_xml(title, versions, language, style).encode(),
    "qti": qti_package,
}
