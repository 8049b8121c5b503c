"""Lecture slides (`--format slides`), in seed 004's order: the network and its givens, the
forward pass one quantity per build, the loss, then per parameter the update rule, its
chain-rule factorisation, each new factor derived and evaluated, the product and the new
value, and last the forward pass with the new weights and the loss before and after.

A deck is a list of frames; a frame is a list of builds, each adding one line or only
lighting up part of the network picture. Every line comes from the handout's row builders
(blocks.Renderer), so it multiplies out as in the handout. A line not yet shown is kept
as a phantom of itself, so no line moves when another appears; a derivation too tall for
one slide continues on the next, its last line repeated on top. The Beamer source and the
HTML deck are two templates over the same frames (slides_render.py renders them)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..engine.derivation import Pass, primes
from ..spec.schema import SpecError
from .blocks import Renderer, equation_rows, joined
from .diagram import layout, plain_text
from .documents import HEADINGS, _layer_heading, document_context
from .iterations import WORDS as ITERATION_WORDS
from .iterations import later_iterations
from .latex import partial_of_expression, to_latex
from .slides_words import WORDS

if TYPE_CHECKING:
    from ..engine.derivation import Derivation, Step
    from ..engine.network import Network
    from ..engine.problem import Problem

MAX_PAGES = 200  # a lecture's worth; --slides-all lifts it
SEED_PARAMETERS = 9  # the seeds' networks (2-2-1 with biases) are worked parameter by parameter
CAPACITY = 6.8  # cm of formula rows in a slide's math column, at \small
PICTURE_WIDTH, PICTURE_HEIGHT = 5.0, 4.6  # cm the network picture may take on a slide
ROW_WIDTH = 38  # visible characters of a formula row in the math column (blocks.ROW_WIDTH is a page's)
MAX_EDGE_LABELS = 8  # edges named on the picture: more would cover it
TABLE_ROWS = 7  # rows of a gradient table per slide
GIVEN_ROWS = 8  # rows of given values per slide (three values to a row)
WIDE_ROWS = 9  # rows of a slide without the picture (a later iteration, the local derivatives)
FACTORS_PER_ROW = 3  # local derivatives to a row of their slide (fractions are wide)

Parts = list[tuple[bool, str]]  # words and formulas: (is_math, text)



@dataclass(frozen=True)
class Build:
    """One press of the clicker: the rows of one line (none for a highlight alone), the
    parts of the picture lit, and what the lecturer says."""

    rows: tuple[str, ...]
    lit: frozenset[str]
    note: Parts


@dataclass
class Frame:
    """One slide and its overlays. `lines` are (rows, the build they appear on)."""

    title: Parts
    kind: str = "lines"  # title | givens (the given values the title slide had no room for) | lines | wide (no picture) | table
    lines: list[tuple[tuple[str, ...], int]] = field(default_factory=list)
    lit: list[frozenset[str]] = field(default_factory=list)
    notes: list[Parts] = field(default_factory=list)
    values: dict[str, str] = field(default_factory=dict)  # picture element -> its value, as printed
    text: Parts = field(default_factory=list)
    table: list[list[str]] = field(default_factory=list)  # gradient, its product, its numbers, value, new weight
    givens: list[str] = field(default_factory=list)  # rows of given values (title and givens slides)

    @property
    def builds(self) -> int:
        return max(1, len(self.lit))

    def lit_on(self, key: str) -> list[int]:
        """The builds (1-based) on which a picture element is lit."""
        return [index + 1 for index, lit in enumerate(self.lit) if key in lit]


@dataclass(frozen=True)
class Mark:
    """A unit (or an input, or a bias "1") of the picture, in slide centimetres."""

    key: str
    x: float
    y: float
    latex: str
    text: tuple[str, str]
    is_bias: bool


@dataclass(frozen=True)
class Link:
    key: str
    source: Mark
    target: Mark
    latex: str  # the parameter's name
    text: tuple[str, str]


@dataclass
class Deck:
    title: str
    language: str
    frames: list[Frame]
    marks: list[Mark]
    links: list[Link]
    node_size: float
    edge_labels: bool
    rule: str

    @property
    def pages(self) -> int:
        return sum(frame.builds for frame in self.frames)


def _height(row: str) -> float:
    """About how tall a row is at the slides' size, in cm, with the gap below it."""
    height = 0.48
    if r"\frac" in row:
        height = 0.8
    if r"\displaystyle" in row:
        height = 1.1
    if r"\underbrace" in row:
        height += 0.5
    if r"\frac" in row and r"\sqrt" in row:  # Adam's rule: a root under the bar
        height += 0.2
    if r"\begin{cases}" in row:  # a max gate's or ReLU's slope, case by case (circuit_slides.py)
        height = max(height, 0.5 * (row.count(r"\\") + 1))
    return height + 0.14


def _alternatives(rows: list[str]) -> list[tuple[str, ...]]:
    """A derivation's rows grouped into its alternatives (head = a = b = ...): a wrapped
    alternative's continuation rows (&\\quad ...) stay with it, as one line of the deck."""
    groups: list[list[str]] = []
    for row in rows:
        if groups and row.startswith(r"&\quad"):
            groups[-1].append(row)
        else:
            groups.append([row])
    return [tuple(group) for group in groups]


def _givens(rows: list[str], most: int = 3) -> list[str]:
    """The handout's rows of given values, at most `most` to a row: a slide's column is
    narrower than a page."""
    items = [item for row in rows for item in row.split(r",\quad ")]
    if len(items) == len(rows):  # a symbolic spec's names: short rows already
        return rows
    return [r",\quad ".join(items[start:start + most]) for start in range(0, len(items), most)]


def _base(step_id: str) -> str:
    """A step's unit or parameter without the marks of its updates: z1'' -> z1, w[4] -> w."""
    return re.sub(r"('+|\[\d+\])$", "", step_id)


def _sentence(template: str, math: dict[str, str]) -> Parts:
    parts = re.split(r"\{(\w+)\}", template)
    return [(bool(i % 2), math[part] if i % 2 else part) for i, part in enumerate(parts) if part]


class _DeckBuilder:
    """Walks the derivation in seed 004's order and collects frames."""

    def __init__(self, problem: Problem, language: str, every: bool) -> None:
        self.d: Derivation = problem.derivation
        self.network: Network = problem.network
        self.language = language
        self.words = WORDS[language]
        self.headings = HEADINGS[language]
        self.renderer = Renderer(self.d, "handout", self.headings["reused"], width=ROW_WIDTH)
        self.large = len(self.network.parameters) > SEED_PARAMETERS and not every
        self.frames: list[Frame] = []
        self.known: dict[str, str] = {}  # picture values computed so far
        for name, value in self.network.inputs.items():
            if value is not None:
                self.known["n:" + name] = self.renderer.numbers[self.d.primitives[name]]
        for parameter in self.network.parameters:
            if parameter.value is not None:
                for key in self._edges_of(parameter.name):
                    self.known[key] = self.renderer.numbers[self.d.primitives[parameter.name]]
        self.prefix = ""  # "Iteration 2 · " on a later iteration's slides
        self.units = {name: unit for unit in self.network.units for name in (unit.pre, unit.post)}
        self.derived: set[str] = set()  # factors and signals already on a slide
        self.states: dict[str, list[Step]] = {}  # an update -> the optimizer's state steps before it
        pending: list[Step] = []
        for step in self.d.with_role("state", "update"):
            if step.role == "state":
                pending.append(step)
            else:
                self.states[step.id], pending = pending, []

    # what lights up -------------------------------------------------------------------

    def _node(self, name: str) -> set[str]:
        unit = self.units.get(_base(name))
        return {"n:" + unit.post} if unit else ({"n:" + name} if name in self.network.inputs else set())

    def _edges_of(self, parameter_name: str, target: str | None = None) -> set[str]:
        parameter = next(p for p in self.network.parameters if p.name == parameter_name)
        return {f"e:{parameter.name}:{t}" for t in parameter.targets if target is None or t == target}

    def lit(self, step: Step) -> frozenset[str]:
        """The units and edges a step is about: a weighted sum's unit and incoming edges,
        a factor's two ends (and its edge), a gradient's whole path."""
        names = {p.name for p in self.network.parameters}
        base = _base(step.id)
        if step.role in ("forward", "after") and base in self.units:
            unit = self.units[base]
            if base == unit.pre:
                return frozenset(self._node(base) | {f"e:{p.name}:{unit.pre}" for p in self.network.incoming(unit)})
            return frozenset(self._node(base))
        if step.role == "update":
            return frozenset(self._edges_of(base))
        if step.role == "factor" and step.of is not None and step.wrt is not None:
            lit = self._node(step.of) | self._node(step.wrt)
            if step.of == self.network.loss_symbol:
                lit |= {"n:" + unit.post for unit in self.network.outputs}
            of, wrt = _base(step.of), _base(step.wrt)
            if wrt in names:
                lit |= self._edges_of(wrt, of)
            elif of in self.units and wrt in self.units:
                weight = self.network.weight_between(wrt, self.units[of])
                if weight is not None:
                    lit |= self._edges_of(weight.name, of)
            return frozenset(lit)
        if step.role == "signal":  # its unit and the local factors it sums over
            return frozenset(self._node(step.wrt or "").union(*(self.lit(self.d[f]) for _, f in step.terms)))
        if step.role == "gradient":  # the whole path from the loss
            return frozenset().union(*(self.lit(self.d[f]) for chain in self.d.chains(step.id) for f in chain))
        return frozenset("n:" + unit.post for unit in self.network.outputs)  # the loss

    # frames ---------------------------------------------------------------------------

    def add(self, title: Parts, builds: list[Build], kind: str = "lines") -> None:
        """A topic's builds as frames: a frame is full at CAPACITY, and the next one starts
        with its last line again, so the derivation reads on."""
        title = [(False, self.prefix), *title] if self.prefix else title
        frame = Frame(title, kind, values=dict(self.known))
        height = 0.0
        for build in builds:
            tall = sum(_height(row) for row in build.rows)
            if build.rows and frame.lines and height + tall > CAPACITY:
                last = frame.lines[-1][0]
                self.frames.append(frame)
                again = sum(_height(row) for row in last)
                if again + tall > CAPACITY:  # no room to repeat it (a max gate's slope, case by case)
                    last, again = (), 0.0
                frame = Frame([*title, (False, self.words["cont"])], kind, values=dict(self.known),
                              lines=[(last, 1)] if last else [])
                height = again
            frame.lit.append(build.lit)
            frame.notes.append(build.note)
            if build.rows:
                frame.lines.append((build.rows, len(frame.lit)))
            height += tall
        self.frames.append(frame)

    def learn(self, steps: list[Step]) -> None:
        """Values now computed, written on the picture of the frames after this one."""
        for step in steps:
            if step.value is None:
                continue
            base = _base(step.id)
            if base in self.units and base == self.units[base].post:
                self.known["n:" + base] = self.renderer.number(step)
            elif step.role == "update":
                for key in self._edges_of(base):
                    self.known[key] = self.renderer.number(step)

    def note(self, key: str, **math: str) -> Parts:
        return _sentence(self.words[key], math)

    def iteration(self, t: int) -> None:
        """Iteration t as seed 004 works it: forward, loss, then each parameter (or each error
        signal, and past the seeds' size a table of the gradients)."""
        d = self.d
        self.forward("forward", t - 1)
        self.loss(t - 1)
        if d.chain == "full" and not self.large:
            shown: set[str] = set()
            derived: set[str] = set()
            for gradient in d.with_role("gradient", iteration=t):
                self.parameter(gradient, shown, derived)
            return
        for signal in d.with_role("signal", iteration=t):
            self.signal(signal)
        if self.large:
            self.gradient_table(t)
        else:
            for gradient in d.with_role("gradient", iteration=t):
                self.signal(gradient)

    def forward(self, role: str, updates: int) -> None:
        d, r = self.d, self.renderer
        prime = primes(updates)
        for index, layer in enumerate(self.network.layers):
            heading = self.headings["after"] if role == "after" else self.headings["forward"]
            layer_name = _layer_heading(index, len(self.network.layers), self.language)
            steps = [d[unit.pre + prime] for unit in layer] + [d[unit.post + prime] for unit in layer]
            builds = []
            for step in steps:
                unit = self.units[_base(step.id)]
                note = (self.note("sum", name=step.latex) if step.kind == "weighted_sum"
                        else self.note("activation", name=step.latex, pre=d[unit.pre + prime].latex))
                builds.append(Build(tuple(r.definition_rows(step)), self.lit(step), note))
            self.add([(False, f"{heading}: {layer_name}")], builds)
            self.learn(steps)

    def loss(self, updates: int) -> None:
        step = self.d[Pass(updates).node(self.d.loss_id)]
        rows = tuple(self.renderer.definition_rows(step))
        self.add([(False, self.headings["loss"])], [Build(rows, self.lit(step), self.note("loss", name=step.latex))])

    def parameter(self, gradient: Step, shown: set[str], derived: set[str]) -> None:
        """Seed 004 on one parameter: rule, chain, each new factor, product, new value."""
        d, r = self.d, self.renderer
        parameter = gradient.wrt or ""
        update = d[parameter + "'"]
        lit_edge = self.lit(update)
        symbolic = equation_rows(update.latex, [[to_latex(term, d.names) for term in update.expression.args]], ROW_WIDTH)
        builds = [Build(tuple(symbolic), lit_edge, self.note("rule", name=d.latex_of(parameter), gradient=gradient.latex))]
        groups = _alternatives(r.full_chain_rows(gradient, shown))
        builds.append(Build(groups[0], self.lit(gradient), self.note("chain", gradient=gradient.latex)))
        for chain in d.chains(gradient.id):
            for factor_id in chain:
                if factor_id in derived:
                    continue
                derived.add(factor_id)
                self.derived.add(factor_id)
                builds.append(Build(tuple(self._factor_rows(d[factor_id])), self.lit(d[factor_id]),
                                    self.note("factor", factor=d[factor_id].latex)))
        for signal in self._signals_above(gradient):  # the key's error signals, each once
            builds.append(Build(self._signal_line(signal), self.lit(signal), self.note("signal", name=signal.latex)))
        rest = groups[1:]  # the definitions and lecture forms, then the numbers and the value
        tail = rest[-2:] if d.is_numeric else rest[-1:]
        for index, rows in enumerate(tail):
            last = index == len(tail) - 1 and d.is_numeric
            note = self.note("result", gradient=gradient.latex, value=r.number(gradient)) if last else self.note("numbers")
            builds.append(Build(rows, self.lit(gradient), note))
        if d.is_numeric:
            builds += [Build(tuple(r.definition_rows(state)), lit_edge, self.note("state", name=state.latex))
                       for state in self.states.get(update.id, [])]
            builds.append(Build(tuple(r.definition_rows(update)), lit_edge,
                                self.note("update", name=d.latex_of(parameter), value=r.number(update))))
        self.add([(True, gradient.latex)], builds)
        self.learn([update])

    def _signals_above(self, step: Step) -> list[Step]:
        """The error signals a gradient's chain passes through, from the loss down, that no
        slide has shown yet (the full-chain form boxes them; the key has their values)."""
        found: list[Step] = []
        for up, _ in step.terms:
            if up in self.d and self.d[up].role == "signal" and up not in self.derived:
                found += [s for s in self._signals_above(self.d[up]) if s not in found]
                if up not in self.derived:
                    self.derived.add(up)
                    found.append(self.d[up])
        return found

    def _signal_line(self, step: Step) -> tuple[str, ...]:
        """An error signal as one line: its product, the numbers and the value."""
        groups = _alternatives(self.renderer.signal_rows(step))
        kept = dict.fromkeys([0, *range(max(1, len(groups) - 2), len(groups))])
        return tuple(row for index in kept for row in groups[index])

    def _factor_rows(self, step: Step, short: bool = False) -> list[str]:
        """dz3/dw5 = d(w5 h1 + w6 h2)/dw5 = h1 = 0.615: the factor differentiated (unless
        `short`), in lecture form, and, on a numeric problem, with the numbers put in and its
        value."""
        d, r = self.d, self.renderer
        form = to_latex(step.expression, d.names)
        alternatives = [] if short else [[partial_of_expression(to_latex(step.definition, d.names), d.latex_of(step.wrt or ""))]]
        alternatives.append([form])
        if d.is_numeric and short and (step.expression.is_Symbol or step.expression.is_Number):
            alternatives.append([r.number(step)])
        elif d.is_numeric:
            alternatives.append([to_latex(step.expression, d.names, r.numbers)])
            alternatives.append([r.number(step)])
        return equation_rows(step.latex, alternatives, ROW_WIDTH)

    def signal(self, step: Step) -> None:
        """An error signal (or, in the error-signal form, a gradient and then the new value
        of its parameter) from the signals above it, one alternative of the handout's
        derivation per build."""
        d, r = self.d, self.renderer
        groups = _alternatives(r.signal_rows(step))
        lit = self.lit(step)
        is_signal = step.role == "signal"
        first = self.note("signal", name=step.latex) if is_signal else self.note("chain", gradient=step.latex)
        builds = [Build(tuple(self._factor_rows(d[f], short=True)), self.lit(d[f]), self.note("factor", factor=d[f].latex))
                  for f in self._new_factors(step)]
        self.derived.add(step.id)
        builds += [Build(groups[0], lit, first)] + [Build(rows, lit, self.note("numbers")) for rows in groups[1:]]
        update = None if is_signal or not d.is_numeric else d[(step.wrt or "") + "'"]
        if update is not None:
            builds += [Build(tuple(r.definition_rows(state)), self.lit(update), self.note("state", name=state.latex))
                       for state in self.states.get(update.id, [])]
            builds.append(Build(tuple(r.definition_rows(update)), self.lit(update),
                                self.note("update", name=d.latex_of(step.wrt or ""), value=r.number(update))))
        heading = self.headings["signals"] if is_signal else self.headings["gradients"]
        self.add([(False, f"{heading}: "), (True, step.latex)], builds)
        if update is not None:
            self.learn([update])

    def _new_factors(self, step: Step) -> list[str]:
        """The local factors a step's terms use that no slide has derived yet (a signal's
        upstream may be a factor itself: dL/dyhat1 above a softmax)."""
        new = list(dict.fromkeys(f for term in step.terms for f in term
                                 if f in self.d and self.d[f].role == "factor" and f not in self.derived))
        self.derived.update(new)
        return new

    def wide(self, title: str, rows: list[str], note: Parts) -> None:
        """Rows on slides of their own, no picture, WIDE_ROWS to a slide, one build each slide."""
        for start in range(0, len(rows), WIDE_ROWS):
            self.frames.append(Frame([(False, title + (self.words["cont"] if start else ""))], "wide", values=dict(self.known),
                                     lines=[(tuple(rows[start:start + WIDE_ROWS]), 1)], lit=[frozenset()], notes=[note]))

    def later(self, full: bool) -> None:
        """Iterations 2 to k: compactly, as the handout has them (each step's symbol and
        value), or, with --iterations all, each worked as the first is."""
        if not full:
            for title, blocks in later_iterations(self.d, self.renderer, self.language, False, _layer_heading, self.headings):
                self.wide(title, [row for block in blocks for row in block], self.note("later"))
            return
        for t in range(2, self.d.iterations + 1):
            self.prefix = ITERATION_WORDS[self.language]["iteration"].format(t=t) + " · "
            self.iteration(t)
        self.prefix = ""

    def gradient_table(self, t: int) -> None:
        """The gradients of a large network: each is an error signal times an input, whose
        local derivatives come first, several to a row."""
        d, r = self.d, self.renderer
        factors = [f for step in d.with_role("gradient", iteration=t) for f in self._new_factors(step)]
        items = [f"{d[f].latex} = {to_latex(d[f].expression, d.names)}"
                 + (f" = {r.number(d[f])}" if d.is_numeric and not d[f].expression.is_Number else "") for f in factors]
        packed = [items[start:start + FACTORS_PER_ROW] for start in range(0, len(items), FACTORS_PER_ROW)]
        self.wide(self.words["factors"], ["&" + r",\quad ".join(row) for row in packed], self.note("factors_note"))
        rows = []
        for step in d.with_role("gradient", iteration=t):
            update = d[(step.wrt or "") + "'"]
            symbols = joined([rf"{d[up].latex} \cdot {d[f].latex}" for up, f in step.terms])
            numbers = joined([rf"{_wrapped(r.number(d[up]))} \cdot {_wrapped(r.number(d[f]))}" for up, f in step.terms])
            rows.append([step.latex, symbols, numbers, r.number(step), f"{update.latex} = {r.number(update)}"])
        chunks = [rows[start:start + TABLE_ROWS] for start in range(0, len(rows), TABLE_ROWS)]
        for index, chunk in enumerate(chunks):
            title = self.words["table"] + (self.words["cont"] if index else "")
            frame = Frame([(False, title)], kind="table", values=dict(self.known), table=chunk,
                          text=self.note("large", count=str(len(self.network.parameters))) if index == 0 else [],
                          lit=[frozenset()], notes=[self.note("table_note")])
            self.frames.append(frame)
        self.learn(d.with_role("update", iteration=t))

    def compare(self) -> None:
        d, r = self.d, self.renderer
        before, after = d[d.loss_id], d[Pass(d.iterations).node(d.loss_id)]
        template = self.headings["decreased"] if after.value < before.value else self.headings["increased"]  # type: ignore[operator]
        verdict = template.format(before=r.number(before), after=r.number(after))
        lit = self.lit(before)
        self.add([(False, self.words["compare"])], [
            Build((f"{before.latex} &= {r.number(before)}",), lit, self.note("compare_note")),
            Build((f"{after.latex} &= {r.number(after)}",), lit, [(False, verdict)]),
        ])


def _wrapped(number: str) -> str:
    return rf"\left({number}\right)" if number.startswith("-") else number


def build_deck(problem: Problem, language: str | None = None, every: bool = False, iterations: str = "first") -> Deck:
    """The deck of a problem. Past the seeds' size the deck works the error signals once
    and tables the gradients (unless `every`); past MAX_PAGES pages it is refused unless
    `every` (--slides-all) asks for it whole. With steps > 1 the first iteration is worked
    as above and the later ones follow as the handout has them (`iterations`, --iterations:
    "first", compactly, or "all", in full), before the pass after the last update."""
    language = language or problem.spec.language
    if problem.spec.graph is not None:  # a computational graph: its own order and picture
        from .circuit_slides import build_circuit_deck

        return build_circuit_deck(problem, language)
    if problem.derivation.batched:
        raise SpecError(f"{problem.origin}: samples: the slides work one sample's derivation, and this spec trains on a "
                        "mini-batch; leave slides out of --format (the handout works each sample).")
    builder = _DeckBuilder(problem, language, every)
    d = problem.derivation
    context = document_context(problem, "handout", language)
    givens = _givens(context["initial"])  # type: ignore[arg-type]
    givens[-1] += rf",\quad \eta = {context['learning_rate']}"
    for start in range(0, len(givens), GIVEN_ROWS):
        title = problem.spec.title if not start else builder.words["given"] + builder.words["cont"]
        builder.frames.append(Frame([(False, title)], kind="givens" if start else "title", values=dict(builder.known),
                                    lit=[frozenset()], notes=[builder.note("title")], givens=givens[start:start + GIVEN_ROWS]))
    builder.iteration(1)
    if d.iterations > 1:
        builder.later(iterations == "all")
    if d.is_numeric:
        builder.forward("after", d.iterations)
        builder.compare()
    marks, links, size = picture(problem.network)
    deck = Deck(problem.spec.title, language, builder.frames, marks, links, size, len(links) <= MAX_EDGE_LABELS, str(context["rule"]))
    if deck.pages > MAX_PAGES and not every:
        raise SpecError(
            f"{problem.origin}: this network's slides would be {deck.pages} pages, more than the {MAX_PAGES} a lecture "
            f"can bear; add --slides-all to write them all, or use a smaller network."
        )
    return deck


def picture(network: Network) -> tuple[list[Mark], list[Link], float]:
    """The handout's network layout, scaled to the slide's corner, with stable keys:
    n:<unit or input>, n:<bias node> and e:<parameter>:<target unit>."""
    plan = layout(network, with_values=False)
    scale = min(0.7, PICTURE_WIDTH / max(plan.width, 1e-9), PICTURE_HEIGHT / max(plan.height, 1e-9))
    names = {network.latex(name): name for name in [*network.inputs, *(unit.post for unit in network.units)]}
    marks: dict[int, Mark] = {}
    for node in plan.nodes:
        key = "n:" + (node.key if node.is_bias else names[node.latex])
        marks[id(node)] = Mark(key, round(node.x * scale, 3), round(node.y * scale, 3), node.latex, node.text, node.is_bias)
    # layout() makes the edges in this order: each parameter, each of its targets
    pairs = [(parameter, target) for parameter in network.parameters for target in parameter.targets]
    links = [
        Link(f"e:{parameter.name}:{target}", marks[id(edge.source)], marks[id(edge.target)],
             network.latex(parameter.name), plain_text(network.latex(parameter.name)))
        for edge, (parameter, target) in zip(plan.edges, pairs, strict=True)
    ]
    size = round(min(0.75, 0.8 * 2.0 * scale), 3)  # ROW_GAP of the layout, scaled: circles never touch
    return list(marks.values()), links, size
