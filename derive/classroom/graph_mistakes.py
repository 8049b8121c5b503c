"""The common mistakes of a computational graph's backward pass, as overrides the grader
re-runs the derivation with (derive/classroom/grading.py): a fork's sum cut to any one use, and
a local gradient taken as another gate's. Each returns the value the mistaken step takes,
or None where the mistake does not apply."""

from __future__ import annotations

import math
from collections.abc import Callable

import sympy

from ..engine.derivation import Derivation, Step

Override = Callable[[Step, dict[sympy.Symbol, float]], float | None]

FORK_SUM_MISSING = "fork_sum_missing"
MOST_USES = 4  # a fork's uses, each of which a student may have kept alone: one run of the grader each


def fork_runs(d: Derivation) -> list[tuple[str, int]]:
    """Each run of the forgotten fork sum and the use it keeps: `fork_sum_missing` keeps the
    first use, `fork_sum_missing#2` the second, and so on, as many as the widest fork has
    (the residual block's student who followed only the relu path kept its second use)."""
    uses = max((len(step.terms) for step in d.steps if step.role in ("signal", "gradient")), default=0)
    return [(FORK_SUM_MISSING if kept == 0 else f"{FORK_SUM_MISSING}#{kept + 1}", kept)
            for kept in range(min(uses, MOST_USES))] if uses >= 2 else []


def mistake_name(run: str) -> str:
    """The mistake a grader's run stands for: every fork_sum_missing#k is fork_sum_missing."""
    return run.partition("#")[0]


def graph_mistakes(d: Derivation) -> dict[str, Override]:
    gates = {gate.name: gate for gate in getattr(d.network, "gates", ())}  # a computational graph's (derive/engine/graph.py)

    def fork_sum_missing(kept: int) -> Override:
        def one_use(step: Step, values: dict[sympy.Symbol, float]) -> float | None:
            """A gradient at a fork (a name used twice, a unit feeding several) is the sum over
            its uses; the student kept only one of them."""
            if step.role not in ("signal", "gradient") or len(step.terms) < 2 or kept >= len(step.terms):
                return None
            upstream, factor = step.terms[kept]
            local = values[d[factor].symbol]
            return local if not upstream else values[d[upstream].symbol] * local

        return one_use

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

    return {**{run: fork_sum_missing(kept) for run, kept in fork_runs(d)}, "wrong_gate_local": wrong_gate_local}
