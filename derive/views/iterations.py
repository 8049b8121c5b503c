"""The formula blocks of one training iteration: each sample's forward pass, its loss and
its backward pass, the batch's loss and gradient, the optimizer's state and the updates;
and the compact form of a later iteration (its loss, gradients, state and updates, each
as its symbol and value, several to a row). The documents lay these out (derive/views/documents.py); everything here is
read from the derivation's steps of that iteration."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..engine.derivation import Pass
from ..engine.network import hyper_parameters
from ..engine.policy import format_number
from ..engine.training import HYPER_LATEX
from .blocks import packed_rows
from .latex import to_latex

if TYPE_CHECKING:
    from ..engine.derivation import Derivation, Step
    from .blocks import Renderer

Block = tuple[str, list[str]]  # a heading and its rows
Section = tuple[str, list[list[str]]]  # a heading and its blocks of rows
LayerHeading = Callable[[int, int, str], str]  # (layer index, layer count, language) -> heading

WORDS = {
    "ko": {"sample": "샘플 {sample}", "batch": "미니배치 기울기 ({reduction})", "mean": "평균", "sum": "합", "iteration": "반복 {t}"},
    "en": {"sample": "Sample {sample}", "batch": "Mini-batch gradient ({reduction})", "mean": "mean", "sum": "sum",
           "iteration": "Iteration {t}"},
}


@dataclass
class IterationBlocks:
    """One iteration worked in full, as the document's sections take it."""

    forward: list[Block]
    loss_rows: list[str]
    backward: list[tuple[str, list[list[str]]]]
    updates: list[list[str]]  # one block per parameter: its state, then its update


def _samples(d: Derivation) -> list[int | None]:
    return list(range(1, len(d.network.samples) + 1)) if d.batched else [None]


def full_iteration(d: Derivation, renderer: Renderer, t: int, language: str,
                   layer_heading: LayerHeading, words: dict[str, object]) -> IterationBlocks:
    """Iteration t's blocks: with a mini-batch, each sample's forward and backward pass under
    its own heading, then the batch's loss and gradients, as a lecturer works them."""
    network = d.network
    own = WORDS[language]
    where = [Pass(t - 1, sample) for sample in _samples(d)]
    forward: list[Block] = []
    for pass_ in where:
        for index, layer in enumerate(network.layers):
            heading = layer_heading(index, len(network.layers), language)
            if pass_.sample is not None:
                heading = f"{own['sample'].format(sample=pass_.sample)} · {heading}"
            rows = [row for unit in layer for row in renderer.definition_rows(d[pass_.node(unit.pre)])]
            rows += [row for unit in layer for row in renderer.definition_rows(d[pass_.node(unit.post)])]
            forward.append((heading, rows))
    loss_rows = [row for pass_ in where for row in renderer.definition_rows(d[pass_.node(network.loss_symbol)])]
    if d.batched:
        loss_rows += renderer.definition_rows(d[Pass(t - 1).node(network.loss_symbol)])
    backward: list[tuple[str, list[list[str]]]] = []
    for pass_ in where:
        mine = [step for step in d.steps if step.iteration == t and step.sample == pass_.sample]
        prefix = f"{own['sample'].format(sample=pass_.sample)} · " if pass_.sample is not None else ""
        gradients = [step for step in mine if step.role == "gradient"]
        if d.chain == "full":
            shown: set[str] = set()
            backward.append((prefix.rstrip(" ·"), [renderer.full_chain_rows(step, shown) for step in gradients]))
        else:
            signals = [step for step in mine if step.role == "signal"]
            backward.append((prefix + str(words["signals"]), [renderer.signal_rows(step) for step in signals]))
            backward.append((prefix + str(words["gradients"]), [renderer.signal_rows(step) for step in gradients]))
    batch = d.with_role("batch", iteration=t)
    if batch:
        heading = own["batch"].format(reduction=own[network.spec.reduction])
        backward.append((heading, [renderer.definition_rows(step) for step in batch]))
    return IterationBlocks(forward, loss_rows, backward, _per_parameter(d, t, renderer.definition_rows))


def _per_parameter(d: Derivation, t: int, rows: Callable[[Step], list[str]]) -> list[list[str]]:
    """Iteration t's state and update steps, one block per parameter (a block never breaks
    across a page, so all of Adam's steps in one would run off it); plain SGD's updates, one
    row each, stay one block."""
    steps = d.with_role("state", "update", iteration=t)
    if not d.with_role("state", iteration=t):
        return [[row for step in steps for row in rows(step)]]
    blocks: list[list[str]] = [[]]
    for step in steps:
        blocks[-1] += rows(step)
        if step.role == "update":
            blocks.append([])
    return [block for block in blocks if block]


def compact_iteration(d: Derivation, renderer: Renderer, t: int) -> list[list[str]]:
    """A later iteration compactly: its loss and the gradients the optimizer reads, then
    the optimizer's state and the updates, each step as its symbol and its value (a blank
    on a worksheet), as many to a row as fit, in blocks short enough for a page."""
    loss = d[Pass(t - 1).node(d.network.loss_symbol)]
    gradients = d.with_role("batch", iteration=t) if d.batched else d.with_role("gradient", iteration=t)

    def shown(step: Step) -> str:  # a symbolic spec's step by its definition
        return renderer.answer(step) if d.is_numeric else to_latex(step.expression, d.names)

    rows = [f"&{loss.latex} = {shown(loss)}"]
    for group in (gradients, d.with_role("state", "update", iteration=t)):
        rows += packed_rows([f"{step.latex} = {shown(step)}" for step in group])
    return [rows[start:start + COMPACT_ROWS] for start in range(0, len(rows), COMPACT_ROWS)]


COMPACT_ROWS = 12  # rows to a block: a block never breaks across a page


def later_iterations(d: Derivation, renderer: Renderer, language: str, full: bool,
                     layer_heading: LayerHeading, words: dict[str, object]) -> list[Section]:
    """Iterations 2 to k, each in full (`--iterations all`) or compactly (the default)."""
    sections: list[Section] = []
    for t in range(2, d.iterations + 1):
        title = WORDS[language]["iteration"].format(t=t)
        if not full:
            sections.append((title, compact_iteration(d, renderer, t)))
            continue
        worked = full_iteration(d, renderer, t, language, layer_heading, words)
        sections += [(f"{title} · {heading}", [rows]) for heading, rows in worked.forward]
        sections.append((f"{title} · {words['loss']}", [worked.loss_rows]))
        sections += [(f"{title} · {heading}" if heading else title, group) for heading, group in worked.backward]
        sections.append((f"{title} · {words['updates']}", worked.updates))
    return sections


# The optimizers' rules as lecture notes write them (g = ∂L/∂w of the iteration), and the
# convention each follows: torch.optim's, named, so a reader can check the numbers there.
RULES = {
    "momentum": [r"v_t = \mu \cdot v_{t-1} + g_t", r"v_1 = g_1", r"w \leftarrow w - \eta \cdot v_t"],
    "nesterov": [r"v_t = \mu \cdot v_{t-1} + g_t", r"v_1 = g_1", r"w \leftarrow w - \eta \cdot (g_t + \mu \cdot v_t)"],
    "rmsprop": [r"v_t = \rho \cdot v_{t-1} + (1 - \rho) \cdot g_t^2", r"v_0 = 0",
                r"w \leftarrow w - \eta \cdot \frac{g_t}{\sqrt{v_t} + \epsilon}"],
    "adam": [r"m_t = \beta_{1} \cdot m_{t-1} + (1 - \beta_{1}) \cdot g_t", r"v_t = \beta_{2} \cdot v_{t-1} + (1 - \beta_{2}) \cdot g_t^2",
             r"m_0 = v_0 = 0", r"\hat{m}_t = \frac{m_t}{1 - \beta_{1}^t}", r"\hat{v}_t = \frac{v_t}{1 - \beta_{2}^t}",
             r"w \leftarrow w - \eta \cdot \frac{\hat{m}_t}{\sqrt{\hat{v}_t} + \epsilon}"],
}
RULES["adamw"] = [*RULES["adam"][:-1], r"w \leftarrow w - \eta \lambda w - \eta \cdot \frac{\hat{m}_t}{\sqrt{\hat{v}_t} + \epsilon}"]
TORCH = {"sgd": "torch.optim.SGD", "momentum": "torch.optim.SGD(momentum)", "nesterov": "torch.optim.SGD(nesterov=True)",
         "rmsprop": "torch.optim.RMSprop", "adam": "torch.optim.Adam", "adamw": "torch.optim.AdamW"}
PROSE = {
    "ko": {"rule": "이 예제는 {optimizer} 규칙({torch}의 계산 방식)으로 파라미터를 업데이트합니다. 여기서 ",
           "gradient": "는 이번 반복의 기울기입니다: ", "and": ", ", "end": ".",
           "hyper": " 하이퍼파라미터: ", "epsilon": "{eps}은 제곱근 바깥에 더합니다.",
           "l2": " 가중치 감쇠 {decay}는 손실에 L2 항 {term}으로 들어가므로 기울기마다 {grad}가 더해집니다 (모든 파라미터에, 편향 포함).",
           "decoupled": " 가중치 감쇠 {decay}는 손실에 넣지 않고 분리해서(decoupled) 업데이트에서 직접 {shrink}만큼 줄입니다 (모든 파라미터에, 편향 포함)."},
    "en": {"rule": "The parameters are updated by {optimizer}, computed as {torch} computes it. Here ",
           "gradient": " is this iteration's gradient: ", "and": ", ", "end": ".",
           "hyper": " Hyper-parameters: ", "epsilon": "{eps} is added outside the square root.",
           "l2": " Weight decay {decay} is an L2 term {term} in the loss, so every gradient gains {grad} (every parameter, biases included).",
           "decoupled": " Weight decay {decay} is decoupled: it is not in the loss; the update itself shrinks each parameter by {shrink} (every parameter, biases included)."},
}
NAMES = {"sgd": "SGD", "momentum": "momentum", "nesterov": "Nesterov momentum", "rmsprop": "RMSprop", "adam": "Adam", "adamw": "AdamW"}


def rule_rows(optimizer: str) -> list[str]:
    """The optimizer's rules as rows of an aligned block (m_t &= ...), none for SGD."""
    rows = []
    for rule in RULES.get(optimizer, []):
        relation = r"\leftarrow" if r"\leftarrow" in rule else "="
        head, _, rest = rule.partition(f" {relation} ")
        rows.append(f"{head} &{relation} {rest}")
    return rows


def optimizer_prose(d: Derivation, language: str) -> list[tuple[bool, str]]:
    """The update rule with its convention and its weight decay, as (is_math, text) parts;
    empty for plain SGD without weight decay (the seed's own sentence says that one)."""
    name = d.network.spec.optimizer.name
    hyper = hyper_parameters(d.network.spec)
    if name == "sgd" and not hyper:
        return []
    words = PROSE[language]
    loss = d.network.latex(d.network.loss_symbol)
    parts: list[tuple[bool, str]] = []
    if name != "sgd":
        parts.append((False, words["rule"].format(optimizer=NAMES[name], torch=TORCH[name])))
        parts += [(True, "g_t"), (False, words["gradient"])]
        parts += [(True, rf"g_t = \frac{{\partial {loss}}}{{\partial w}}"), (False, words["end"])]
        shown = [(field, value) for field, value in hyper.items() if field != "weight_decay"]
        if shown:
            parts.append((False, words["hyper"]))
            for index, (field, value) in enumerate(shown):
                if index:
                    parts.append((False, words["and"]))
                parts.append((True, f"{HYPER_LATEX[field]} = {format_number(value)}"))
            parts.append((False, ". "))
            if "epsilon" in hyper:
                parts += sentence(words["epsilon"], {"eps": r"\epsilon"})
    if "weight_decay" in hyper:
        decay = rf"\lambda = {format_number(hyper['weight_decay'])}"
        template = words["decoupled"] if name == "adamw" else words["l2"]
        math = {"decay": decay, "term": r"\frac{\lambda}{2} \sum w^2", "grad": r"\lambda w", "shrink": r"\eta \lambda w"}
        parts += sentence(template, math)
    return parts


def sentence(template: str, math: dict[str, str]) -> list[tuple[bool, str]]:
    """A sentence of words and formulas, as (is_math, text) parts: each template puts its
    own inline-math delimiters around the formulas, so the words hold no markup."""
    parts = re.split(r"\{(\w+)\}", template)
    return [(bool(i % 2), math[part] if i % 2 else part) for i, part in enumerate(parts) if part]
