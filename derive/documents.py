"""Documents as views of the derivation: every formula line is built here from the
steps' own expression trees and values; the templates only lay the lines out."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import jinja2
import sympy

from .latex import partial_of_expression, to_latex
from .output import write_text_atomic
from .policy import format_number

if TYPE_CHECKING:
    from .derivation import Derivation, Step
    from .problem import Problem

FORMATS = ("md",)
KINDS = ("handout", "worksheet", "key")
TEMPLATES = Path(__file__).resolve().parent.parent / "templates"

HEADINGS = {
    "ko": {
        "initial": "초기값", "forward": "순전파(Forward Propagation)", "weighted_sum": "가중합 계산",
        "activation": "활성화 함수 계산", "output": "결과", "loss": "오차 계산", "backward": "역전파",
        "updates": "파라미터 업데이트 (가중치 조정)", "after": "업데이트된 가중치로 새로운 예측값 계산",
        "reused": "앞에서 이미 계산한 값", "answers": "정답표", "blank_note": "빈칸의 번호는 채점표의 항목 번호입니다.",
        "learning_rate": "학습률", "decreased": "손실이 {before}에서 {after}로 줄어들었습니다.",
        "increased": "손실이 {before}에서 {after}로 늘었습니다. 학습률을 줄여 보세요.",
    },
    "en": {
        "initial": "Initial values", "forward": "Forward propagation", "weighted_sum": "Weighted sums",
        "activation": "Activations", "output": "Output", "loss": "Loss", "backward": "Backpropagation",
        "updates": "Parameter update", "after": "Prediction with the updated weights",
        "reused": "already computed above", "answers": "Answer table", "blank_note": "Each blank's number is its item in the grading sheet.",
        "learning_rate": "learning rate", "decreased": "The loss went down from {before} to {after}.",
        "increased": "The loss went up from {before} to {after}; try a smaller learning rate.",
    },
}


@dataclass
class Renderer:
    """Turns steps into formula lines for one kind of document."""

    derivation: Derivation
    kind: str  # handout | worksheet | key
    blanks: dict[str, int]

    def number(self, step: Step) -> str:
        return format_number(step.value, self.derivation.policy, step.kind) if step.value is not None else step.latex

    def answer(self, step: Step) -> str:
        """The step's value, a numbered blank, or the value highlighted, by document kind."""
        if self.kind == "handout" or step.value is None:
            return self.number(step)
        index = self.blanks.setdefault(step.id, len(self.blanks) + 1)
        if self.kind == "worksheet":
            return rf"\boxed{{\phantom{{0.0000}}}}_{{\scriptsize ({index})}}"
        return rf"\boxed{{{self.number(step)}}}_{{\scriptsize ({index})}}"

    def numbers(self) -> dict[sympy.Symbol, str]:
        d = self.derivation
        values = {sym: format_number(v) for sym, v in d.primitive_values.items()}
        values.update({s.symbol: self.number(s) for s in d.steps if s.value is not None})
        return values

    def definition_line(self, step: Step) -> str:
        """z_1 = w_1 x_1 + w_3 x_2 = 0.3 . 0.5 + 0.2 . 0.3 = 0.21"""
        d = self.derivation
        parts = [step.latex, to_latex(step.expression, d.names)]
        if d.is_numeric:
            if self.kind != "worksheet":  # substituted numbers would give away earlier answers
                parts.append(to_latex(step.expression, d.names, self.numbers()))
            parts.append(self.answer(step))
        return " = ".join(dict.fromkeys(parts))

    def gradient_block(self, step: Step, shown_signals: set[str]) -> list[str]:
        """Seed 000's aligned derivation: chain, definitions, symbolic factors, numbers, result."""
        d = self.derivation
        chains = d.chains(step.id)
        products = []
        for chain in chains:
            factors = [d[f].latex for f in chain]
            reused = next((up for up, _ in d[step.id].terms if up in shown_signals), None)
            if reused is not None and len(chains) == 1:
                prefix = len(d.chains(reused)[0])
                factors = [r"\boxed{" + r" \cdot ".join(factors[:prefix]) + "}"] + factors[prefix:]
            products.append(r" \cdot ".join(factors))
        lines = [" + ".join(products)]
        lines.append(" + ".join(
            r" \cdot ".join(partial_of_expression(to_latex(d[f].definition, d.names), d.network.latex(d[f].wrt)) for f in chain)
            for chain in chains
        ))
        lines.append(" + ".join(r" \cdot ".join(self._factor_form(d[f].expression) for f in chain) for chain in chains))
        if d.is_numeric:
            if self.kind != "worksheet":
                lines.append(" + ".join(r" \cdot ".join(self._wrap(self.number(d[f])) for f in chain) for chain in chains))
            lines.append(self.answer(step))
        for up, _ in step.terms:
            shown_signals.add(up)
        return lines

    def _factor_form(self, expression: sympy.Expr) -> str:
        text = to_latex(expression, self.derivation.names)
        return rf"\left({text}\right)" if expression.is_Add else text

    @staticmethod
    def _wrap(text: str) -> str:
        return rf"\left({text}\right)" if text.startswith("-") else text


def _aligned(lines: list[str]) -> list[str]:
    """Align a block of definitions on their first equals sign."""
    return [line.replace(" = ", " &= ", 1) for line in lines]


def document_context(problem: Problem, kind: str, language: str) -> dict[str, object]:
    d = problem.derivation
    renderer = Renderer(d, kind, {})
    forward = {
        role: _aligned([renderer.definition_line(s) for s in d.with_role("forward") if s.kind == role])
        for role in ("weighted_sum", "activation", "output")
    }
    loss_line = renderer.definition_line(d[problem.network.loss_symbol])
    shown: set[str] = set()
    gradients = [(s.latex, renderer.gradient_block(s, shown)) for s in d.with_role("gradient")]
    updates = _aligned([renderer.definition_line(s) for s in d.with_role("update")])
    after = _aligned([renderer.definition_line(s) for s in d.with_role("after")])
    words = HEADINGS[language]
    verdict = ""
    if d.is_numeric:
        before, later = d[d.loss_id], d[d.loss_id + "'"]
        template = words["decreased"] if later.value < before.value else words["increased"]
        verdict = template.format(before=renderer.number(before), after=renderer.number(later))
    answers = [(index, d[step_id].latex, renderer.number(d[step_id])) for step_id, index in renderer.blanks.items()]
    network = problem.network
    return {
        "title": problem.spec.title,
        "kind": kind,
        "words": words,
        "initial": [f"{network.latex(n)} = {format_number(v) if v is not None else network.latex(n)}" for n, v in
                    [*network.inputs.items(), *((p.name, p.value) for p in network.parameters), *network.targets.items()]],
        "learning_rate": format_number(network.learning_rate) if network.learning_rate is not None else r"\eta",
        "forward": forward,
        "loss_line": loss_line,
        "gradients": gradients,
        "updates": updates,
        "after": after,
        "verdict": verdict,
        "answers": answers if kind == "key" else [],
    }


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_markdown(problem: Problem, kind: str, language: str | None = None) -> str:
    language = language or problem.spec.language
    return _environment().get_template("document.md.j2").render(document_context(problem, kind, language))


def write_documents(
    problem: Problem,
    output: Path,
    formats: list[str],
    kinds: list[str],
    language: str | None,
    *,
    force: bool = False,
    echo: Callable[[str], None] = print,
) -> list[Path]:
    from .key import key_json

    folder = output / problem.name
    rendered: dict[Path, str] = {}
    for kind in kinds:
        if "md" in formats:
            rendered[folder / f"{kind}.md"] = render_markdown(problem, kind, language)
    rendered[folder / "key.json"] = key_json(problem)
    for path, text in rendered.items():
        write_text_atomic(path, text)
        echo(f"  {path}")
    return list(rendered)
