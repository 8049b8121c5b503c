"""Quizzes for a learning-management system: Moodle XML, one numerical question per graded
item and version, with the tolerance the grader uses, so the LMS accepts the same answers
`derive grade` would.

Moodle's numerical questions take an absolute tolerance; ours is relative plus absolute
and also spans the rounded-carry and exact values, so each question gets the widest
absolute error that the grader would accept for its expected value."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree

from .derivation import Derivation, Step
from .key import GRADED_ROLES
from .latex import to_latex
from .policy import format_number

PROMPTS = {
    "ko": ("다음 값으로", "를 계산하시오. 유효숫자/소수 자릿수는 문서의 규칙을 따르시오."),
    "en": ("With these values, compute", ". Round as the handout's rule says."),
}


def _text(parent: ElementTree.Element, tag: str, text: str, **attributes: str) -> ElementTree.Element:
    element = ElementTree.SubElement(parent, tag, attributes)
    ElementTree.SubElement(element, "text").text = text
    return element


def _tolerance(step: Step, derivation: Derivation) -> float:
    """The widest distance from the key's value that the grader still accepts."""
    assert step.value is not None and step.exact is not None
    low, high = derivation.policy.accepted_range(step.value, step.exact, step.kind)
    return float(f"{max(high - step.value, step.value - low):.6g}")


def _question_text(step: Step, derivation: Derivation, language: str) -> str:
    network = derivation.network
    givens = [*network.givens(), ("eta", network.learning_rate)]
    values = ",\\; ".join(f"{network.latex(name)} = {format_number(value)}" for name, value in givens if value is not None)
    lead, tail = PROMPTS[language]
    definition = to_latex(step.expression, derivation.names) if step.role != "gradient" else ""
    target = f"{step.latex} = {definition}" if definition else step.latex
    if language == "ko":
        return f"<p>{lead} \\({values}\\)</p><p>\\({target}\\){tail}</p>"
    return f"<p>{lead} \\({target}\\){tail}</p><p>\\({values}\\)</p>"


def moodle_xml(title: str, versions: dict[str | None, Derivation], language: str) -> str:
    quiz = ElementTree.Element("quiz")
    for version, derivation in versions.items():
        category = ElementTree.SubElement(quiz, "question", type="category")
        _text(category, "category", f"$course$/derive/{title.replace('/', '-')}" + (f"/{version}" if version else ""))  # "/" nests categories
        for step in derivation.steps:
            if step.role not in GRADED_ROLES or step.value is None:
                continue
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
