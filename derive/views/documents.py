"""Documents as views of the derivation: every formula line is built here from the
steps' own expression trees and values; the templates only lay the lines out."""

from __future__ import annotations

from collections.abc import Callable
import functools
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import jinja2
from jinja2.sandbox import SandboxedEnvironment
import markupsafe
import sympy

from . import escape
from .diagram import LABEL_POSITION, layout, plain_text
from .latex import partial_of_expression, to_latex
from ..engine.policy import format_number

if TYPE_CHECKING:
    from ..engine.derivation import Derivation, Step
    from ..engine.network import Network
    from ..engine.problem import Problem

FORMATS = ("md", "tex", "pdf", "html")
KINDS = ("handout", "worksheet", "key")
TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
MATHJAX_URL = "https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-chtml.js"
DIAGRAM_FILE = "network.svg"
PLOT_FILE = "loss.svg"

HEADINGS = {
    "ko": {
        "initial": "초기값", "forward": "순전파(Forward Propagation)", "weighted_sum": "가중합 계산",
        "activation": "활성화 함수 계산", "output": "결과", "loss": "오차 계산", "backward": "역전파",
        "updates": "파라미터 업데이트 (가중치 조정)", "after": "업데이트된 가중치로 새로운 예측값 계산",
        "reused": "앞에서 이미 계산한 값", "answers": "정답표", "blank_note": "빈칸 옆의 작은 글자는 채점표의 항목 이름입니다.",
        "learning_rate": "학습률", "network": "신경망 구조", "iteration": "반복", "history": "반복별 손실",
        "item": "항목", "symbol": "기호", "value": "값", "kinds": {"handout": "풀이", "worksheet": "연습문제", "key": "정답"}, "version": "버전",
        "decreased": "손실이 {before}에서 {after}로 줄어들었습니다.",
        "increased": "손실이 {before}에서 {after}로 늘었습니다. 학습률을 줄여 보세요.",
    },
    "en": {
        "initial": "Initial values", "forward": "Forward propagation", "weighted_sum": "Weighted sums",
        "activation": "Activations", "output": "Output", "loss": "Loss", "backward": "Backpropagation",
        "updates": "Parameter update", "after": "Prediction with the updated weights",
        "reused": "already computed above", "answers": "Answer table", "blank_note": "The small label beside each blank is its item name in the grading sheet.",
        "learning_rate": "learning rate", "network": "The network", "iteration": "iteration", "history": "Loss per iteration",
        "item": "item", "symbol": "symbol", "value": "value", "kinds": {"handout": "handout", "worksheet": "worksheet", "key": "answer key"}, "version": "version",
        "decreased": "The loss went down from {before} to {after}.",
        "increased": "The loss went up from {before} to {after}; try a smaller learning rate.",
    },
}


@dataclass
class Renderer:
    """Turns steps into formula lines for one kind of document."""

    derivation: Derivation
    kind: str  # handout | worksheet | key
    blanks: list[str]  # item ids in the order the blanks appear
    reused_note: str = ""  # "already computed above", under a boxed shared factor

    def number(self, step: Step) -> str:
        return format_number(step.value, self.derivation.policy, step.kind) if step.value is not None else step.latex

    def answer(self, step: Step) -> str:
        """The step's value, a blank labelled with its item id (what the grading sheet's
        column is called), or the value highlighted, by document kind."""
        if self.kind == "handout" or step.value is None:
            return self.number(step)
        if step.id not in self.blanks:
            self.blanks.append(step.id)
        label = rf"_{{{item_id_latex(step.id)}}}"
        if self.kind == "worksheet":
            return rf"\boxed{{\phantom{{0.0000}}}}{label}"
        return rf"\boxed{{{self.number(step)}}}{label}"

    @cached_property
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
                parts.append(to_latex(step.expression, d.names, self.numbers))
            parts.append(self.answer(step))
        return " = ".join(dict.fromkeys(parts))

    def gradient_block(self, step: Step, shown_signals: set[str]) -> list[str]:
        """Seed 000's aligned derivation: chain, definitions, symbolic factors, numbers, result."""
        d = self.derivation
        chains = d.chains(step.id)
        products = []
        for chain in chains:
            factors = [d[f].latex for f in chain]
            # The longest run of factors an earlier gradient already worked out (seed 004
            # boxes dC/do1 . do1/dz3 in every gradient below it).
            done = [len(d.chains(s)[0]) for s in shown_signals if len(d.chains(s)) == 1 and chain[: len(d.chains(s)[0])] == d.chains(s)[0]]
            prefix = max(done, default=0)
            if prefix and len(chains) == 1:
                boxed = r"\boxed{" + r" \cdot ".join(factors[:prefix]) + "}"
                if self.reused_note:
                    boxed = rf"\underbrace{{{boxed}}}_{{\text{{{self.reused_note}}}}}"
                factors = [boxed] + factors[prefix:]
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


def _initial_rows(network: Network) -> list[str]:
    """Inputs; parameters, six to a row; targets: short enough lines for a page."""
    def equation(name: str, value: float | None) -> str:
        return f"{network.latex(name)} = {format_number(value) if value is not None else network.latex(name)}"

    parameters = [equation(p.name, p.value) for p in network.parameters]
    rows = [[equation(n, v) for n, v in network.inputs.items()]]
    rows += [parameters[i : i + 6] for i in range(0, len(parameters), 6)]
    rows.append([equation(n, v) for n, v in network.targets.items()])
    return [r",\quad ".join(row) for row in rows if row]


def item_id_latex(step_id: str) -> str:
    r"""dL/dw1 -> \mathtt{dL/dw1}: the id as typed into a grading sheet, small, in math."""
    return r"\mathtt{" + step_id.replace("_", r"\_") + "}"


def _aligned(lines: list[str]) -> list[str]:
    """Align a block of definitions on their first equals sign."""
    return [line.replace(" = ", " &= ", 1) for line in lines]


def document_context(problem: Problem, kind: str, language: str) -> dict[str, object]:
    d = problem.derivation
    renderer = Renderer(d, kind, [], HEADINGS[language]["reused"])
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
    answers = [(step_id, d[step_id].latex, renderer.number(d[step_id])) for step_id in renderer.blanks]
    network = problem.network
    loss_latex = network.latex(network.loss_symbol)
    history = [(index, format_number(value, d.policy, "loss")) for index, value in enumerate(d.loss_history)]
    return {
        "title": problem.spec.title,
        "kind": kind,
        "language": language,
        "words": words,
        "diagram": layout(network, with_values=kind != "worksheet"),
        "diagram_file": DIAGRAM_FILE,
        "label_position": LABEL_POSITION,
        "history": history if len(history) > 2 else [],
        "plot_file": PLOT_FILE,
        "loss_latex": loss_latex,
        "initial": _initial_rows(network),
        "learning_rate": format_number(network.learning_rate) if network.learning_rate is not None else r"\eta",
        "forward": forward,
        "loss_line": loss_line,
        "gradients": gradients,
        "updates": updates,
        "after": after,
        "verdict": verdict,
        "answers": answers if kind == "key" else [],
    }


class _TemplateCache(jinja2.FileSystemBytecodeCache):
    """Compiling the templates is a quarter of a worksheet's run; Jinja keeps the compiled
    code in a private per-user folder (mode 0700), keyed by each template's source, so an
    edited template is recompiled. A cache that cannot be written only costs that time."""

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            super().dump_bytecode(bucket)
        except OSError:
            pass


@functools.cache
def _template_cache() -> jinja2.BytecodeCache | None:
    try:
        return _TemplateCache()
    except (OSError, RuntimeError):
        return None


@functools.cache
def _environment(fmt: str, user_templates: Path | None = None) -> jinja2.Environment:
    """One environment per format, kept: compiling the templates costs more than rendering.

    A user's own templates (`--templates DIR`, looked up before ours) render in Jinja's
    sandbox: a shared template may read the document's data but not reach Python."""
    _, autoescape, text = _TARGETS[fmt]
    loader: jinja2.BaseLoader = jinja2.FileSystemLoader(TEMPLATES)
    factory: type[jinja2.Environment] = jinja2.Environment
    if user_templates is not None:
        loader = jinja2.ChoiceLoader([jinja2.FileSystemLoader(user_templates), loader])
        factory = SandboxedEnvironment
    environment = factory(
        loader=loader,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=autoescape,
        bytecode_cache=_template_cache() if user_templates is None else None,
    )
    environment.filters["text"] = text
    environment.filters["yaml_string"] = escape.yaml_string
    return environment


# Per format: the template, whether Jinja escapes HTML, and how user text is made literal.
_TARGETS: dict[str, tuple[str, bool, Callable[[str], str]]] = {
    "md": ("document.md.j2", False, escape.markdown_text),
    "tex": ("document.tex.j2", False, escape.tex_text),
    "tex_body": ("tex/body.tex.j2", False, escape.tex_text),
    "html": ("document.html.j2", True, lambda text: markupsafe.Markup(escape.html_text(text))),
    "svg": ("network.svg.j2", True, escape.html_text),
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
) -> str:
    """One document (fmt md, tex, tex_body or html) of one kind; a student's version
    carries its id and the student's name on the page."""
    template = _TARGETS[fmt][0]
    # The formula lines are the same in every format: build them once per kind and language.
    contexts = problem.__dict__.setdefault("_document_contexts", {})
    language = language or problem.spec.language
    if (kind, language) not in contexts:
        contexts[kind, language] = document_context(problem, kind, language)
    context = {**contexts[kind, language], "version": version, "student": student}
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


def render_pack(bodies: list[str], language: str) -> str:
    """Many documents' bodies in one LaTeX file: a class pack compiles in one TeX run."""
    return _environment("tex").get_template("pack.tex.j2").render(bodies=bodies, language=language)


def render_markdown(problem: Problem, kind: str, language: str | None = None) -> str:
    return render(problem, kind, "md", language)


def render_diagram(problem: Problem, kind: str = "handout") -> str:
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
    line, the loss, each gradient's chain and value, and the updates."""
    context = document_context(problem, "handout", problem.spec.language)
    forward = context["forward"]
    lines = [*forward["weighted_sum"], *forward["activation"], *forward["output"], context["loss_line"].replace(" = ", " &= ", 1)]
    for symbol, block in context["gradients"]:
        lines.append(f"{symbol} &= {block[0]} = {block[-1]}" if len(block) > 1 else f"{symbol} &= {block[0]}")
    lines += context["updates"]
    return "$$\\begin{aligned}\n" + " \\\\\n".join(lines) + "\n\\end{aligned}$$"
