"""The grading key: every step's id, kind, LaTeX, value under the policy, exact value and
dependencies, as JSON. The grader and the LMS export read this and nothing else."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from .latex import to_latex
from ..spec.schema import as_plain_data

if TYPE_CHECKING:
    from ..engine.problem import Problem


# The steps a worksheet leaves blank; chain factors and error signals are shown worked.
GRADED_ROLES = ("forward", "loss", "gradient", "update", "after")


def _tolerance(problem: Problem, kind: str) -> dict[str, dict[str, float]]:
    rtol, atol = problem.policy.tolerance(kind)
    return {"tolerance": {"rtol": rtol, "atol": atol}}


def grading_key(problem: Problem) -> dict[str, Any]:
    derivation = problem.derivation
    items = [
        {
            "id": step.id,
            "kind": step.kind,
            "latex": step.latex,
            "expression": to_latex(step.expression, derivation.names),
            "value": step.value,
            "exact": step.exact,
            "depends_on": list(step.depends_on),
            "graded": step.role in GRADED_ROLES,
            **(_tolerance(problem, step.kind) if step.role in GRADED_ROLES else {}),
        }
        for step in derivation.steps
    ]
    return {
        "title": problem.spec.title,
        "spec": as_plain_data(problem.spec),
        "policy": problem.policy.as_dict(),
        "loss_history": derivation.loss_history,
        "items": items,
    }


def key_json(problem: Problem) -> str:
    return json.dumps(grading_key(problem), ensure_ascii=False, indent=2) + "\n"
