"""Lecture slides of a computational graph (`--format slides` on a `graph:` spec), in the
order of its handout: the circuit and its given values, each gate's value one build at a
time, then node by node from the output the upstream gradient, the local gradient and the
sum at each fork, the gradients asked for, and with a learning rate the updates and the
forward pass after them. The frames, their builds and the two templates are the layered
deck's (slides.py, slides_render.py); only the picture and the order of the rows differ.
On the forward slides the picture carries each gate's value as it is computed, on the
backward slides each node's gradient, as the board has them above and below the edges."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..spec.schema import SpecError
from .circuit import CircuitLayout
from .circuit_document import WORDS as CIRCUIT_WORDS
from .circuit_document import CircuitRenderer, circuit_context, local_step_id
from .diagram import plain_text
from .documents import HEADINGS
from .slides import (GIVEN_ROWS, PICTURE_HEIGHT, PICTURE_WIDTH, ROW_WIDTH, Build, Deck, Frame, Link, Mark, _DeckBuilder,
                     _givens)
from .slides_words import WORDS

if TYPE_CHECKING:
    from ..engine.derivation import Step
    from ..engine.graph import Circuit
    from ..engine.problem import Problem

NOTES = {
    "ko": {
        "title": "오늘은 이 계산 그래프를 앞으로 계산하고, 출력에서부터 거꾸로 기울기를 구해 보겠습니다.",
        "gate": "{name}의 입력값을 넣어 {name}를 계산합니다.",
        "backward": "이제 출력에서부터 거꾸로, 각 노드의 기울기를 구합니다. 그림에는 구한 기울기를 적습니다.",
        "sum": "{name}는 위쪽 기울기와 국소 기울기의 곱이고, 여러 곳에 쓰인 값이면 모든 사용처의 곱을 더합니다.",
        "local": "국소 기울기 {name}는 이 게이트의 식만 미분하면 됩니다.",
        "asked": "구하려던 기울기 {name}입니다.",
        "update": "학습률을 곱해 빼 주면 {name}의 새 값이 나옵니다.",
        "after": "새 값으로 다시 순전파하면 {name}입니다.",
    },
    "en": {
        "title": "Today we work this computational graph forward, then backward from the output, gate by gate.",
        "gate": "Put in the inputs of {name} to get its value.",
        "backward": "Now backward from the output, node by node; the picture shows each gradient as we find it.",
        "sum": "{name} is the upstream gradient times the local gradient, added over every use of the value.",
        "local": "The local gradient {name} needs only this gate's own formula.",
        "asked": "The gradient asked for: {name}.",
        "update": "Subtract the learning rate times the gradient: that is the new {name}.",
        "after": "With the new values, the forward pass gives {name}.",
    },
}


class _CircuitDeckBuilder(_DeckBuilder):
    """The layered deck's frame filling (add, note) over a circuit's steps."""

    def __init__(self, problem: Problem, language: str) -> None:  # not the layered builder's: that one reads a network
        self.d = problem.derivation
        self.circuit: Circuit = problem.network  # type: ignore[assignment]
        self.language = language
        self.words = {**WORDS[language], **NOTES[language]}
        self.headings = {**HEADINGS[language], **CIRCUIT_WORDS[language]}
        self.renderer = CircuitRenderer(self.d, "handout", width=ROW_WIDTH)
        self.frames: list[Frame] = []
        self.known: dict[str, str] = self.given_values()
        self.prefix = ""

    def given_values(self) -> dict[str, str]:
        return {"n:" + name: self.renderer.numbers[self.d.primitives[name]]
                for name, value in self.circuit.graph.leaves.items() if value is not None}

    def lit_gate(self, name: str) -> frozenset[str]:
        gate = next(gate for gate in self.circuit.gates if gate.name == name)
        return frozenset({"n:" + name, *(f"e:{source}:{name}" for source in gate.inputs)})

    def forward(self, prime: str, heading: str) -> None:
        builds = []
        for gate in self.circuit.gates:
            step = self.d[gate.name + prime]
            builds.append(Build(tuple(self.renderer.definition_rows(step)), self.lit_gate(gate.name), self.note("gate", name=step.latex)))
        self.add([(False, heading)], builds)
        for gate in self.circuit.gates:
            self.known["n:" + gate.name] = self.renderer.number(self.d[gate.name + prime])

    def backward(self) -> None:
        """Node by node from the output, as the handout's backward pass."""
        d, r, output = self.d, self.renderer, self.circuit.loss_symbol
        self.known = {"n:" + output: "1"}
        for gate in reversed(self.circuit.gates):
            signal = f"d{output}/d{gate.name}"
            builds = []
            if gate.name != output and signal in d and d[signal].role == "signal":
                builds.append(Build(tuple(r.sum_rows(d[signal])), frozenset({"n:" + gate.name}), self.note("sum", name=d[signal].latex)))
            for name in gate.inputs:
                local = local_step_id(d, gate, name)
                if local is not None:
                    builds.append(Build(tuple(r.local_rows(d[local], gate)), frozenset({"n:" + gate.name, f"e:{name}:{gate.name}"}),
                                        self.note("local", name=d[local].latex)))
            if builds:
                self.add([(False, f"{self.headings['backward']}: {self.headings['node']} "), (True, d[gate.name].latex)], builds)
            if signal in d:
                self.known["n:" + gate.name] = r.number(d[signal])
        builds = []
        for name in self.circuit.asked:
            step = d[f"d{output}/d{name}"]
            rows = r.sum_rows(step) if step.terms else r.local_rows(step, self.circuit.uses(name)[0])
            builds.append(Build(tuple(rows), frozenset({"n:" + name}), self.note("asked", name=step.latex)))
            self.known["n:" + name] = r.number(step)
        self.add([(False, self.headings["gradients"])], builds)

    def updates(self) -> None:
        steps: list[Step] = self.d.with_role("update")
        builds = [Build(tuple(self.renderer.definition_rows(step)), frozenset({"n:" + step.id.rstrip("'")}),
                        self.note("update", name=step.latex)) for step in steps]
        self.add([(False, self.headings["updates"])], builds)
        self.known = {**self.given_values(), **{"n:" + step.id.rstrip("'"): self.renderer.number(step) for step in steps}}


def build_circuit_deck(problem: Problem, language: str) -> Deck:
    """The deck of a graph spec; a circuit drawn in more than one band has no picture that
    a slide's corner could hold, and is refused with what to do instead."""
    builder = _CircuitDeckBuilder(problem, language)
    d = builder.d
    context = circuit_context(problem, "handout", language)
    layout: CircuitLayout = context["diagram"]  # type: ignore[assignment]  # the handout's picture
    if len(layout.bands) > 1:
        raise SpecError(f"{problem.origin}: --format slides: this circuit is drawn in {len(layout.bands)} rows, too long for a "
                        "slide's picture; leave slides out of --format (the handout draws it whole).")
    givens = _givens([row.removeprefix("&") for rows in context["given"] for row in rows])  # type: ignore[attr-defined]
    note = [*builder.note("title"), (False, " "), *context["conventions"]]  # type: ignore[misc]  # as every document states them
    for start in range(0, len(givens), GIVEN_ROWS):
        title = problem.spec.title if not start else builder.words["given"] + builder.words["cont"]
        builder.frames.append(Frame([(False, title)], kind="givens" if start else "title", values=dict(builder.known),
                                    lit=[frozenset()], notes=[note], givens=givens[start:start + GIVEN_ROWS]))
    builder.forward("", builder.headings["forward"])
    builder.backward()
    if d.with_role("update"):
        builder.updates()
        builder.forward("'", builder.headings["after"])
    marks, links, size = _picture(problem, layout)
    return Deck(problem.spec.title, language, builder.frames, marks, links, size, False, str(context["rule"]))


def _picture(problem: Problem, layout: CircuitLayout) -> tuple[list[Mark], list[Link], float]:
    """The handout's circuit, scaled to the slide's corner: leaves shaded, gates by their
    symbol, keys n:<name> and e:<source>:<gate>."""
    band = layout.bands[0]
    scale = min(0.7, PICTURE_WIDTH / max(band.width, 1e-9), PICTURE_HEIGHT / max(band.height, 1e-9))
    marks = {box.name: Mark("n:" + box.name, round(box.x * scale, 3), round(-box.y * scale, 3), box.inside[0],
                            plain_text(box.inside[0]) if box.is_leaf or box.inside[0] == problem.network.latex(box.name)
                            else (box.inside[1], ""), box.is_leaf)
             for box in band.boxes}
    links = [Link(f"e:{edge.source.name}:{edge.target.name}", marks[edge.source.name], marks[edge.target.name], "", ("", ""))
             for edge in band.edges]
    return list(marks.values()), links, round(min(0.75, 0.8 * scale), 3)
