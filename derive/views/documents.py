"""Documents as views of the derivation: every formula line is built here from the
steps' own expression trees and values; the templates only lay the lines out."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import markupsafe
import sympy

from ..engine.derivation import Pass
from ..engine.policy import format_number
from . import escape
from .blocks import Renderer
from .iterations import full_iteration, later_iterations, optimizer_prose, rule_rows
from .iterations import sentence as _sentence
from .key import asked_ids
from .templating import TEMPLATES, _environment, _template_cache, _TARGETS  # noqa: F401 (re-exported)
from .diagram import LABEL_POSITION, layout, plain_text

if TYPE_CHECKING:
    from ..engine.derivation import Derivation
    from ..engine.problem import Problem

FORMATS = ("md", "tex", "pdf", "html", "slides")  # slides: lecture slides (slides.tex, .pdf, .html; views/slides.py)
KINDS = ("handout", "worksheet", "key")
# derive's own HTML templates carry MathML and load no script; the URL is still handed to
# every template as `mathjax_url`, so a user's --templates page that loads MathJax keeps working.
MATHJAX_URL = "https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-chtml.js"
DIAGRAM_FILE = "network.svg"
WORKSHEET_DIAGRAM_FILE = "network-worksheet.svg"
PLOT_FILE = "loss.svg"

HEADINGS = {
    "ko": {
        "initial": "초기값", "forward": "순전파(Forward Propagation)", "weighted_sum": "가중합 계산",
        "activation": "활성화 함수 계산", "output": "결과", "loss": "오차 계산", "backward": "역전파",
        "updates": "파라미터 업데이트 (가중치 조정)", "after": "업데이트된 가중치로 새로운 예측값 계산",
        "reused": "앞에서 이미 계산한 값", "signals": "오차 신호", "gradients": "기울기", "asked": "그 밖에 묻는 값", "answers": "정답표", "blank_note": "빈칸 아래의 작은 글자는 채점표의 항목 이름입니다.",
        "learning_rate": "학습률", "network": "신경망 구조", "iteration": "반복", "history": "반복별 손실",
        "item": "항목", "symbol": "기호", "value": "값", "kinds": {"handout": "풀이", "worksheet": "연습문제", "key": "정답"}, "version": "버전",
        "decreased": "손실이 {before}에서 {after}로 줄어들었습니다.",
        "increased": "손실이 {before}에서 {after}로 늘었습니다. 학습률을 줄여 보세요.",
        # seed 000's prose; {name} is a formula the context supplies
        "backprop": "역전파는 오차가 각 가중치에 어떤 영향을 미쳤는지를 파악하여 가중치들을 조정하는 과정입니다. "
                    "손실 함수 {loss}을 각 가중치 {weight}에 대해 미분하여(기울기 {gradient}), 가중치를 어떤 방향으로 "
                    "얼마나 조절해야 오차가 최소화되는지를 찾아냅니다.",
        "chain_rule": "이때 복잡한 신경망 구조 때문에 연쇄 법칙(Chain Rule)을 사용하여 출력층부터 입력층 방향으로 "
                      "효율적으로 기울기를 계산합니다.",
        "rate": "학습률 {eta}일 때, 각 가중치는 다음 공식에 따라 업데이트됩니다: {rule}.",
        "closing": "업데이트된 가중치로 다시 계산한 예측값 {after}은 이전 예측값 {before}보다 실제 정답 {target}에 "
                   "더 가까워졌고, 손실도 {loss_before}에서 {loss_after}로 줄어들었습니다. "
                   "이처럼 신경망은 오차를 최소화하는 방향으로 반복적인 학습을 수행합니다.",
    },
    "en": {
        "initial": "Initial values", "forward": "Forward propagation", "weighted_sum": "Weighted sums",
        "activation": "Activations", "output": "Output", "loss": "Loss", "backward": "Backpropagation",
        "updates": "Parameter update", "after": "Prediction with the updated weights",
        "reused": "already computed above", "signals": "Error signals", "gradients": "Gradients", "asked": "Also asked", "answers": "Answer table", "blank_note": "The small label under each blank is its column in the grading sheet.",
        "learning_rate": "learning rate", "network": "The network", "iteration": "iteration", "history": "Loss per iteration",
        "item": "item", "symbol": "symbol", "value": "value", "kinds": {"handout": "handout", "worksheet": "worksheet", "key": "answer key"}, "version": "version",
        "decreased": "The loss went down from {before} to {after}.",
        "increased": "The loss went up from {before} to {after}; try a smaller learning rate.",
        "backprop": "Backpropagation finds out how much each weight contributed to the error and adjusts the weights "
                    "accordingly. Differentiating the loss {loss} with respect to each weight {weight} (the gradient "
                    "{gradient}) tells in which direction, and how far, to move the weight to make the error smaller.",
        "chain_rule": "Because the network is built of layers, the gradients are computed efficiently with the chain "
                      "rule, from the output layer back toward the input layer.",
        "rate": "With the learning rate {eta}, every weight is updated by the rule {rule}.",
        "closing": "With the updated weights the prediction {after} is closer to the target {target} than before "
                   "({before}), and the loss went down from {loss_before} to {loss_after}. This is how a network "
                   "learns: step by step, in the direction that makes the error smaller.",
    },
}


LATER_HEADING = {"ko": "이후 반복", "en": "Later iterations"}


def _initial_rows(d: Derivation) -> list[str]:
    """Inputs, parameters and targets, at most five to a row: short enough for a page and for
    a phone; a mini-batch's inputs and targets sample by sample. A symbolic spec lists its
    symbols instead of "x = x"."""
    network = d.network
    samples = range(1, len(network.samples) + 1) if d.batched else [None]
    inputs = [[Pass(sample=s).given(name) for name in network.inputs] for s in samples]
    targets = [[Pass(sample=s).given(name) for name in network.targets] for s in samples]
    groups = [*inputs, [p.name for p in network.parameters], *targets]
    if not network.is_numeric():
        names = [name for group in groups for name in group]
        return [r",\ ".join(d.latex_of(name) for name in names[i:i + 8]) for i in range(0, len(names), 8)]

    def equation(name: str) -> str:
        value = d.givens[name]
        return f"{d.latex_of(name)} = {format_number(value) if value is not None else d.latex_of(name)}"

    return [r",\quad ".join(row) for group in groups for row in _balanced_rows([equation(n) for n in group], 5)]


def _balanced_rows(items: list[str], most: int) -> list[list[str]]:
    """items in as few rows of at most `most` as hold them, the rows as even as can be (six
    weights as 3 + 3, not 5 + 1)."""
    if not items:
        return []
    count = -(-len(items) // most)
    size = -(-len(items) // count)
    return [items[start:start + size] for start in range(0, len(items), size)]


def rounding_rule(problem: Problem, language: str) -> str:
    """The policy in one sentence: "3 significant digits, half up; weights 4. Later steps
    use the rounded values." """
    policy = problem.policy
    words = RULE_WORDS[language]
    unit = words[policy.mode]
    exceptions = sorted({(kind, digits) for kind, digits in policy.per_kind.items() if digits != policy.digits})
    text = words["rule"].format(digits=policy.digits, unit=unit, rounding=words[policy.rounding])
    if exceptions:
        text += words["except"].format(", ".join(words["kinds"][kind].format(digits) for kind, digits in exceptions))
    else:
        text += "."  # without exceptions the sentence still ends before the next one starts
    return text + " " + words["carry_" + policy.carry]


RULE_WORDS = {
    "ko": {
        "rule": "모든 값은 {unit} {digits}자리로 {rounding}합니다", "significant": "유효숫자", "decimals": "소수점 아래",
        "half_up": "반올림", "half_even": "오사오입(짝수 쪽으로 반올림)", "truncate": "버림",
        "except": " (단, {}).", "carry_rounded": "다음 단계는 반올림한 값으로 계산합니다.",
        "carry_exact": "다음 단계는 반올림하지 않은 값으로 계산하고, 표시할 때만 반올림합니다.",
        "kinds": {"weighted_sum": "가중합 {}자리", "activation": "활성화 값 {}자리", "output": "출력 {}자리", "loss": "손실 {}자리",
                  "factor": "미분 인자 {}자리", "gradient": "기울기 {}자리", "weight": "가중치 {}자리"},
    },
    "en": {
        "rule": "Every value is rounded to {digits} {unit}, {rounding}", "significant": "significant digits", "decimals": "decimal places",
        "half_up": "half up", "half_even": "half to even", "truncate": "by truncation",
        "except": " ({}).", "carry_rounded": "Later steps use the rounded values.",
        "carry_exact": "Later steps use the unrounded values; numbers are rounded only for display.",
        "kinds": {"weighted_sum": "weighted sums {}", "activation": "activations {}", "output": "outputs {}", "loss": "the loss {}",
                  "factor": "chain factors {}", "gradient": "gradients {}", "weight": "weights {}"},
    },
}


def _prose(problem: Problem, kind: str, words: dict[str, object], renderer: Renderer, language: str) -> dict[str, list[tuple[bool, str]]]:
    """Seed 000's sentences: what backpropagation does, the chain rule, the update rule
    with the network's η and, on the handout and key only (its numbers are answers),
    that the prediction moved toward the target and the loss went down."""
    d, network = problem.derivation, problem.network
    loss = network.latex(network.loss_symbol)
    eta = r"\eta" if network.learning_rate is None else rf"\eta = {format_number(network.learning_rate)}"
    rule = rf"W_{{\text{{new}}}} = W_{{\text{{old}}}} - \eta \cdot \frac{{\partial {loss}}}{{\partial W}}"
    prose = {
        "backprop": _sentence(str(words["backprop"]), {"loss": loss, "weight": "w_i", "gradient": rf"\frac{{\partial {loss}}}{{\partial w_i}}"}),
        "chain_rule": _sentence(str(words["chain_rule"]), {}),
        "rate": optimizer_prose(d, language) or _sentence(str(words["rate"]), {"eta": eta, "rule": rule}),
        "closing": [],
    }
    if kind == "worksheet" or not d.is_numeric or d.batched:
        return prose
    last = Pass(d.iterations)
    before_loss, after_loss = d[d.loss_id], d[last.node(d.loss_id)]
    outputs = [(unit.post, target) for unit, target in zip(network.outputs, network.targets)]
    closer = all(
        abs(d[last.node(post)].value - network.targets[target]) < abs(d[post].value - network.targets[target])  # type: ignore[operator]
        for post, target in outputs
    )
    if closer and after_loss.value < before_loss.value:
        def listed(names: list[str], value: Callable[[str], str]) -> str:
            return r",\ ".join(f"{d.latex_of(name)} = {value(name)}" for name in names)

        def step_value(name: str) -> str:
            return renderer.number(d[name])

        posts = [post for post, _ in outputs]
        prose["closing"] = _sentence(str(words["closing"]), {
            "after": listed([last.node(post) for post in posts], step_value),
            "before": listed(posts, step_value),
            "target": listed([target for _, target in outputs], lambda name: format_number(network.targets[name])),
            "loss_before": listed([d.loss_id], step_value),
            "loss_after": listed([last.node(d.loss_id)], step_value),
        })
    return prose


def _layer_heading(index: int, count: int, language: str) -> str:
    if index == count - 1:
        return "출력층" if language == "ko" else "Output layer"
    return f"은닉층 {index + 1}" if language == "ko" else f"Hidden layer {index + 1}"


def document_context(problem: Problem, kind: str, language: str, blank: str = "numbers",
                     iterations: str = "first") -> dict[str, object]:
    """The template context of one document; `blank` is what a worksheet leaves blank:
    "numbers" (the values) or "steps" (the derivative lines too, for an exam); `iterations`
    which iterations are worked in full: the "first" (later ones compactly) or "all"."""
    d = problem.derivation
    network = problem.network
    words = HEADINGS[language]
    asked = frozenset(asked_ids(d, problem.origin)) if d.is_numeric else None
    renderer = Renderer(d, kind, words["reused"], blank=blank, asked=asked)
    first = full_iteration(d, renderer, 1, language, _layer_heading, words)
    later = later_iterations(d, renderer, language, iterations == "all", _layer_heading, words)
    after_steps = d.with_role("after")
    if d.batched:  # a block per sample, then the batch's loss: one block never breaks across a page
        groups = [[s for s in after_steps if s.sample == sample] for sample in [*range(1, len(network.samples) + 1), None]]
    else:
        groups = [after_steps]
    after_blocks = [[row for s in group for row in renderer.definition_rows(s)] for group in groups]
    after = [row for block in after_blocks for row in block]
    elsewhere = renderer.asked_elsewhere_rows()
    if elsewhere:
        first.backward.append((words["asked"], [elsewhere]))
    verdict = ""
    prose = _prose(problem, kind, words, renderer, language)
    if d.is_numeric and kind != "worksheet" and not prose["closing"]:  # the loss before and after are answers
        before, final = d[d.loss_id], d[Pass(d.iterations).node(d.loss_id)]
        template = words["decreased"] if final.value < before.value else words["increased"]
        verdict = template.format(before=renderer.number(before), after=renderer.number(final))
    answers = [(step_id, d[step_id].latex, renderer.number(d[step_id])) for step_id in renderer.blanks]
    loss_latex = network.latex(network.loss_symbol)
    history = [(index, format_number(value, d.policy, "loss")) for index, value in enumerate(d.loss_history)]
    return {
        "title": problem.spec.title,
        "kind": kind,
        "language": language,
        "words": words,
        "rule": rounding_rule(problem, language) if d.is_numeric else "",
        "diagram": layout(network, with_values=kind != "worksheet"),
        "diagram_file": diagram_file(kind),
        "label_position": LABEL_POSITION,
        "history": history if len(history) > 2 and kind != "worksheet" else [],
        "plot_file": PLOT_FILE,
        "loss_latex": loss_latex,
        "initial": _initial_rows(d),
        "learning_rate": format_number(network.learning_rate) if network.learning_rate is not None else r"\eta",
        "forward": first.forward,
        "loss_rows": first.loss_rows,
        "backward": first.backward,
        "updates": [row for block in first.updates for row in block],
        "update_blocks": ([rules] if (rules := rule_rows(network.spec.optimizer.name)) else []) + first.updates,
        "later": later,
        "later_heading": LATER_HEADING[language],
        "after": after,
        "after_blocks": after_blocks,
        "verdict": verdict,
        "prose": prose,
        "answers": answers if kind == "key" else [],
    }


def render(
    problem: Problem,
    kind: str,
    fmt: str,
    language: str | None = None,
    mathjax_url: str = MATHJAX_URL,
    *,
    version: str | None = None,
    student: str | None = None,
    user_templates: Path | None = None,
    blank: str = "numbers",
    iterations: str = "first",
) -> str:
    """One document (fmt md, tex, tex_body or html) of one kind; a student's version
    carries its id and the student's name on the page; `iterations` says which training
    iterations are worked in full ("first": later ones compactly, or "all")."""
    if problem.spec.graph is not None:  # a computational graph: its own documents (derive/views/circuit_document.py)
        from .circuit_document import render_circuit

        return render_circuit(problem, kind, fmt, language, mathjax_url, version=version, student=student, blank=blank,
                              user_templates=user_templates)
    template = _TARGETS[fmt][0]
    # The formula lines are the same in every format: build them once per kind and language.
    contexts = problem.__dict__.setdefault("_document_contexts", {})
    language = language or problem.spec.language
    if (kind, language, blank, iterations) not in contexts:
        contexts[kind, language, blank, iterations] = document_context(problem, kind, language, blank, iterations)
    context = {**contexts[kind, language, blank, iterations], "version": version, "student": student}
    if fmt == "html":
        context["mathjax_url"] = mathjax_url
        context["diagram_svg"] = markupsafe.Markup(render_diagram(problem, kind))
        plot = render_loss_plot(problem, language) or ""
        context["plot_svg"] = markupsafe.Markup(plot[plot.find("<svg"):] if plot else "")
    return _environment(fmt, user_templates).get_template(template).render(context)


def render_formats(
    problem: Problem,
    kind: str,
    formats: list[str] | tuple[str, ...],
    language: str | None,
    mathjax_url: str = MATHJAX_URL,
    **labels: object,
) -> dict[str, str]:
    """One kind of document in each of the formats asked for (md, html, tex), by format;
    a single worksheet and a class's versions are written from the same call."""
    return {
        fmt: render(problem, kind, fmt, language, mathjax_url, **labels)  # type: ignore[arg-type]
        for fmt in ("md", "html", "tex")
        if fmt in formats
    }


def render_text_template(template: str, context: dict[str, object], fmt: str) -> str:
    """Any other template (feedback, summaries) with the same escaping rules per format."""
    return _environment(fmt).get_template(template).render(context)


def render_matrix(problem: Problem, fmt: str, language: str | None = None, mathjax_url: str = MATHJAX_URL) -> str:
    """The handout in matrix notation (md, tex or html): layer-level equations and matrices."""
    from .matrix_document import matrix_context

    context = matrix_context(problem, language or problem.spec.language)
    return _environment(fmt).get_template(f"matrix.{fmt}.j2").render(context, mathjax_url=mathjax_url)


def render_markdown(problem: Problem, kind: str, language: str | None = None) -> str:
    return render(problem, kind, "md", language)


def diagram_file(kind: str) -> str:
    """The Markdown worksheet's picture is a file of its own, drawn blank: one picture beside
    every kind had shown a student every value the worksheet asks for."""
    return WORKSHEET_DIAGRAM_FILE if kind == "worksheet" else DIAGRAM_FILE


def diagram_files(problem: Problem, kinds: Iterable[str]) -> dict[str, bytes]:
    """File name -> SVG of the pictures the Markdown documents of these kinds embed."""
    return {diagram_file(kind): render_diagram(problem, "worksheet" if kind == "worksheet" else "handout").encode()
            for kind in kinds}


def render_diagram(problem: Problem, kind: str = "handout") -> str:
    if problem.spec.graph is not None:
        from .circuit_document import render_circuit_svg

        return render_circuit_svg(problem, kind)
    svg = layout(problem.network, with_values=kind != "worksheet").svg()
    return _environment("svg").get_template(_TARGETS["svg"][0]).render(svg=svg)


def render_loss_plot(problem: Problem, language: str | None = None) -> str | None:
    """The loss-per-iteration SVG, or None for a single step, where a plot says nothing."""
    from .plot import loss_plot_svg

    d = problem.derivation
    if len(d.loss_history) <= 2:
        return None
    base, sub = plain_text(problem.network.latex(problem.network.loss_symbol))
    return loss_plot_svg(d.loss_history, base + sub, HEADINGS[language or problem.spec.language]["iteration"])


def render_summary_latex(problem: Problem) -> str:
    """The derivation on one aligned display, for notebooks (`_repr_latex_`): every forward
    row, the loss, the backward pass and the updates."""
    if problem.spec.graph is not None:
        from .circuit_document import summary_rows

        return "$$\\begin{aligned}\n" + " \\\\\n".join(summary_rows(problem)) + "\n\\end{aligned}$$"
    context = document_context(problem, "handout", problem.spec.language)
    rows = [row for _, block in context["forward"] for row in block]  # type: ignore[attr-defined]
    rows += context["loss_rows"]  # type: ignore[arg-type]
    # each backward block as its first row and its value: the whole of it is more than a
    # notebook cell (and MathJax's buffer) holds
    rows += [block[0] if len(block) == 1 else f"{block[0]} = {block[-1].split('&= ', 1)[-1]}"
             for _, blocks in context["backward"] for block in blocks]  # type: ignore[attr-defined]
    rows += context["updates"]  # type: ignore[arg-type]
    return "$$\\begin{aligned}\n" + " \\\\\n".join(rows) + "\n\\end{aligned}$$"
