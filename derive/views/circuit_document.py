"""The documents of a computational graph (handout, worksheet, key; Markdown, LaTeX, HTML):
the circuit picture, the stated conventions, the forward table in evaluation order, and the
backward pass node by node from the output: the upstream gradient, the local gradient, their
product, and the sum at each fork written out; then the asked gradients, the updates and the
pass after. Every row is built here from the derivation's steps (derive/engine/graph.py) with
the same row builder as a network's documents; the templates only lay the rows out."""

from __future__ import annotations

import re
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import markupsafe

from ..engine.graph import OUTPUT_UPSTREAM
from ..engine.policy import format_number
from .blocks import Renderer, displays, equation_rows, packed_rows
from .circuit import circuit_layout
from .key import asked_ids
from .latex import partial_of_expression, to_latex
from .templating import _environment

if TYPE_CHECKING:
    from ..engine.derivation import Derivation, Step
    from ..engine.graph import Circuit, Gate
    from ..engine.problem import Problem

TEMPLATES = {"md": "circuit.md.j2", "tex": "circuit.tex.j2", "tex_body": "tex/circuit_body.tex.j2", "html": "circuit.html.j2"}

WORDS = {
    "ko": {
        "graph": "계산 그래프", "given": "주어진 값", "forward": "순전파 (계산 순서대로)", "node": "노드", "formula": "식",
        "value": "값", "backward": "역전파 (출력에서부터 노드별로)", "gradients": "구하는 기울기", "updates": "파라미터 업데이트",
        "after": "업데이트한 값으로 다시 계산한 순전파", "answers": "정답표", "item": "항목", "symbol": "기호",
        "picture": "그림에서 각 노드 위의 수는 그 노드의 값, 아래의 수는 출력 {output}에 대한 기울기입니다.",
        "gates": "각 식을 기본 게이트(덧셈, 곱셈, 함수 하나씩)로 나누어 그렸습니다.",
        "nodes": "각 노드를 하나의 게이트로 그리고, 그 국소 미분을 한 번에 구합니다.",
        "rule": "각 노드의 기울기는 위쪽 기울기와 국소 기울기의 곱이고, 한 값이 여러 곳에 쓰이면(갈라지는 지점) 모든 사용처에서 온 기울기를 더합니다.",
        "conventions": "미분할 수 없는 점의 약속: max나 min의 두 입력이 같으면 각 입력이 기울기의 {tie}를 받고, ReLU의 0에서의 기울기는 {relu}, 절댓값의 0에서의 기울기는 {abs}입니다.",
        "conventions_split": "미분할 수 없는 점의 약속: max나 min의 두 입력이 같으면 식에 적힌 첫째 입력이 기울기의 {tie}, 둘째 입력이 {rest}를 받고, ReLU의 0에서의 기울기는 {relu}, 절댓값의 0에서의 기울기는 {abs}입니다.",
        "rate": "학습률 {eta}로 각 파라미터를 {rule}에 따라 업데이트합니다.",
        "blank_note": "빈칸 아래의 작은 글자는 채점표의 항목 이름입니다.",
        "continued": "그림이 길어 여러 줄로 나누었습니다. 점선 원은 위 줄에서 구한 값을 다시 그린 것이고, 그 기울기는 원래 노드 아래에 적습니다.",
    },
    "en": {
        "graph": "The computational graph", "given": "Given values", "forward": "Forward pass, in evaluation order", "node": "node",
        "formula": "formula", "value": "value", "backward": "Backward pass, node by node from the output",
        "gradients": "The gradients asked for", "updates": "Parameter update", "after": "Forward pass with the updated values",
        "answers": "Answer table", "item": "item", "symbol": "symbol",
        "picture": "On the picture, the number above each node is its value and the number below is the gradient of the output {output} with respect to it.",
        "gates": "Each formula is split into elementary gates (one addition, multiplication or function each).",
        "nodes": "Each node is one gate, with its local derivative taken at once.",
        "rule": "Each node's gradient is the upstream gradient times the local gradient; where a value is used more than once (a fork), the gradients from all its uses are added.",
        "conventions": "Conventions where there is no derivative: at a tie of max or min each tied input receives {tie} of the gradient; ReLU's slope at 0 is {relu}; abs's slope at 0 is {abs}.",
        "conventions_split": "Conventions where there is no derivative: at a tie of max or min the first input as written in the formula receives {tie} of the gradient and the second {rest}; ReLU's slope at 0 is {relu}; abs's slope at 0 is {abs}.",
        "rate": "With the learning rate {eta}, every parameter is updated by the rule {rule}.",
        "blank_note": "The small label under each blank is its column in the grading sheet.",
        "continued": "The circuit is too long for one row and goes on in the rows below: a dashed circle is a value from a row above, drawn again; its gradient is written under the original.",
    },
}
_FUNCTION_NAMES = ((r"\operatorname{Sigmoid}", r"\sigma"), (r"\operatorname{Relu}", r"\mathrm{relu}"))


def formula_latex(expression: object, derivation: Derivation) -> str:
    """A gate's formula as the board writes it: sigma and relu by their names."""
    text = to_latex(expression, derivation.names)  # type: ignore[arg-type]
    for printed, board in _FUNCTION_NAMES:
        text = text.replace(printed, board)
    return text


UNGRADED_BLANK = r"\boxed{\rule{0pt}{1.1em}\hspace{2.6cm}}"


class CircuitRenderer(Renderer):
    """Rows of a graph's backward pass: a local gradient from its gate's formula, a node's
    gradient as the sum over its uses of upstream x local."""

    @cached_property
    def graded(self) -> frozenset[str]:
        return frozenset(asked_ids(self.derivation))

    def answer(self, step: Step) -> str:
        """As a network's, except that on the worksheet a step the key does not grade (a
        gate's local gradient, an inner gate's value) is a blank with no label: the labelled
        blanks are the grading sheet's columns, as `derive template` writes them."""
        if self.kind == "worksheet" and step.value is not None and step.id not in self.graded:
            return UNGRADED_BLANK
        return super().answer(step)

    def local_rows(self, step: Step, gate: Gate) -> list[str]:
        """dq/dx = d(x + y)/dx = 1, then the numbers."""
        d = self.derivation
        definition = partial_of_expression(formula_latex(gate.formula, d), d.network.latex(step.wrt or ""))
        alternatives = [[definition], self._printed(step.expression)]
        alternatives += self._value_alternatives(step, self._printed(step.expression, numbers=True))
        return equation_rows(step.latex, alternatives, self.width)

    def sum_rows(self, step: Step) -> list[str]:
        """df/dx = df/dq . dq/dx + df/dx|local = (-4)(1) + 3 = -1: the fork's sum written out."""
        d = self.derivation
        if self.blanks_steps:
            return equation_rows(step.latex, [[self.work_space()], [self.answer(step)]], self.width)
        symbols = [d[f].latex if up == OUTPUT_UPSTREAM else self._product([d[up].latex, d[f].latex]) for up, f in step.terms]
        numbers = [self._wrap(self.number(d[f])) if up == OUTPUT_UPSTREAM
                   else self._product([self._wrap(self.number(d[up])), self._wrap(self.number(d[f]))]) for up, f in step.terms]
        return equation_rows(step.latex, [symbols, *self._value_alternatives(step, numbers)], self.width)


def local_step_id(derivation: Derivation, gate: Gate, name: str) -> str | None:
    """The step of gate's local gradient with respect to one input, by the ids the engine gives."""
    output = derivation.network.loss_symbol
    for step_id in (f"d{gate.name}/d{name}", f"d{gate.name}/d{name}.local"):
        if step_id in derivation and derivation[step_id].role == "factor":
            return step_id
    if gate.name == output and f"d{output}/d{name}" in derivation:
        return f"d{output}/d{name}"
    return None


def _sentence(template: str, math: dict[str, str]) -> list[tuple[bool, str]]:
    parts = re.split(r"\{(\w+)\}", template)
    return [(bool(i % 2), math[part] if i % 2 else part) for i, part in enumerate(parts) if part]


def _share(value: float) -> str:
    return {0.5: r"\tfrac{1}{2}", 1.0: "1", 0.0: "0"}.get(value, format_number(value))


def circuit_context(problem: Problem, kind: str, language: str, blank: str = "numbers") -> dict[str, object]:
    from .documents import HEADINGS, diagram_file, rounding_rule

    d = problem.derivation
    circuit: Circuit = problem.network  # type: ignore[assignment]
    words = {**HEADINGS[language], **WORDS[language]}
    renderer = CircuitRenderer(d, kind, blank=blank)
    output = circuit.loss_symbol
    diagram = circuit_layout(d, renderer, kind)
    given = [f"{circuit.latex(name)} = {format_number(value) if value is not None else circuit.latex(name)}"
             for name, value in circuit.graph.leaves.items()]
    if circuit.learning_rate is not None:
        given.append(rf"\eta = {format_number(circuit.learning_rate)}")
    forward = [(d[gate.name].latex, formula_latex(gate.formula, d), renderer.answer(d[gate.name]) if d.is_numeric else "")
               for gate in circuit.gates]
    backward: list[tuple[str, list[list[str]]]] = []
    for gate in reversed(circuit.gates):
        rows: list[str] = []
        signal = f"d{output}/d{gate.name}"
        if gate.name != output:
            if signal not in d:
                continue
            if d[signal].role == "signal":
                rows += renderer.sum_rows(d[signal])
        for name in gate.inputs:
            local = local_step_id(d, gate, name)
            if local is not None:
                rows += renderer.local_rows(d[local], gate)
        if rows:
            backward.append((d[gate.name].latex, displays(rows)))
    gradients = []
    for name in circuit.asked:
        step = d[f"d{output}/d{name}"]
        gradients += displays(renderer.sum_rows(step) if step.terms else renderer.local_rows(step, circuit.uses(name)[0]))
    updates = [row for step in d.with_role("update") for row in renderer.definition_rows(step)]
    after = [row for step in d.with_role("after") for row in renderer.definition_rows(step)]
    conventions = circuit.graph.conventions
    loss = circuit.latex(output)
    rule = rf"p \leftarrow p - \eta \cdot \frac{{\partial {loss}}}{{\partial p}}"
    eta = r"\eta" if circuit.learning_rate is None else rf"\eta = {format_number(circuit.learning_rate)}"
    answers = [(step_id, d[step_id].latex, renderer.number(d[step_id])) for step_id in renderer.blanks]
    return {
        "title": problem.spec.title, "kind": kind, "language": language, "words": words,
        "rule": rounding_rule(problem, language) if d.is_numeric else "",
        "diagram": diagram, "diagram_file": diagram_file(kind),
        "picture": _sentence(words["picture"], {"output": loss}),
        "granularity": words[circuit.graph.granularity],
        "continued": words["continued"] if len(diagram.bands) > 1 else "",
        "backprop_rule": words["rule"],
        "conventions": _sentence(words["conventions" if conventions.max_tie == 0.5 else "conventions_split"],
                                 {"tie": _share(conventions.max_tie), "rest": _share(1 - conventions.max_tie),
                                  "relu": format_number(conventions.relu_at_zero), "abs": format_number(conventions.abs_at_zero)}),
        # every block as displays a page may break between: a node of 11 inputs had run 200 pt past its page
        "given": displays(packed_rows(given)), "forward": forward, "backward": backward, "gradients": gradients,
        "updates": displays(updates), "after": displays(after), "rate": _sentence(words["rate"], {"eta": eta, "rule": rule}) if updates else [],
        "answers": answers if kind == "key" else [],
    }


def summary_rows(problem: Problem) -> list[str]:
    """The graph on one aligned display, for notebooks: each node's value, each asked
    gradient's first and last row, the updates."""
    d = problem.derivation
    renderer = CircuitRenderer(d, "handout")
    rows = [row for gate in problem.network.gates for row in renderer.definition_rows(d[gate.name])]  # type: ignore[attr-defined]
    for step in d.with_role("gradient"):
        block = renderer.sum_rows(step) if step.terms else [f"{step.latex} &= {renderer.number(step)}"]
        rows.append(block[0] if len(block) == 1 else f"{block[0]} = {block[-1].split('&= ', 1)[-1]}")
    return rows + [row for step in d.with_role("update") for row in renderer.definition_rows(step)]


def render_circuit(problem: Problem, kind: str, fmt: str, language: str | None, mathjax_url: str, *,
                   version: str | None = None, student: str | None = None, blank: str = "numbers",
                   user_templates: Path | None = None) -> str:
    """One document of a graph; a user's templates directory (`--templates`) is looked up
    first, in the sandbox, as for a network's documents."""
    language = language or problem.spec.language
    contexts = problem.__dict__.setdefault("_circuit_contexts", {})
    if (kind, language, blank) not in contexts:
        contexts[kind, language, blank] = circuit_context(problem, kind, language, blank)
    context = {**contexts[kind, language, blank], "version": version, "student": student, "mathjax_url": mathjax_url}
    if fmt == "html":
        context["diagram_svg"] = markupsafe.Markup(render_circuit_svg(problem, kind, inline=True))
    environment = _environment("html" if fmt == "html" else "tex" if fmt.startswith("tex") else fmt, user_templates)
    return environment.get_template(TEMPLATES[fmt]).render(context)


def render_circuit_svg(problem: Problem, kind: str = "handout", inline: bool = False) -> str:
    """The circuit as an SVG file (beside the Markdown) or as an element of an HTML page."""
    renderer = CircuitRenderer(problem.derivation, kind)
    svg = circuit_layout(problem.derivation, renderer, kind).svg()
    text = _environment("svg").get_template("circuit.svg.j2").render(svg=svg)
    return text[text.find("<svg"):] if inline else text
