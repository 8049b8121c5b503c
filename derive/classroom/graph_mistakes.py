"""The common mistakes of a computational graph's backward pass, as overrides the grader
re-runs the derivation with (derive/classroom/grading.py): a fork's sum cut to one use, and
a local gradient taken as another gate's. Each returns the value the mistaken step takes,
or None where the mistake does not apply."""

from __future__ import annotations

import math
from collections.abc import Callable

import sympy

from ..engine.derivation import Derivation, Step

Override = Callable[[Step, dict[sympy.Symbol, float]], float | None]


def graph_mistakes(d: Derivation) -> dict[str, Override]:
    gates = {gate.name: gate for gate in getattr(d.network, "gates", ())}  # a computational graph's (derive/engine/graph.py)

    def fork_sum_missing(step: Step, values: dict[sympy.Symbol, float]) -> float | None:
        """A gradient at a fork (a name used twice, a unit feeding several) is the sum over its
        uses; the student kept only the first use reached going backward."""
        if step.role not in ("signal", "gradient") or len(step.terms) < 2:
            return None
        upstream, factor = step.terms[0]
        local = values[d[factor].symbol]
        return local if not upstream else values[d[upstream].symbol] * local

    def wrong_gate_local(step: Step, values: dict[sympy.Symbol, float]) -> float | None:
        """A graph's local gradient taken as another gate's: an add gate's as a multiply
        gate's (the other input), a multiply gate's as an add gate's (1)."""
        gate = gates.get(step.of or "")
        if gate is None or step.terms or step.wrt not in gate.inputs or len(gate.inputs) < 2:
            return None
        if gate.op == "multiply":
            return 1.0
        if gate.op == "add":
            return math.prod(values[d.primitives[name] if name in d.primitives else d[name].symbol] for name in gate.inputs if name != step.wrt)
        return None

    return {"fork_sum_missing": fork_sum_missing, "wrong_gate_local": wrong_gate_local}
