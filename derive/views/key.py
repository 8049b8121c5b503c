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


def matrix_arrays(problem: Problem) -> dict[str, Any]:
    """The layer-level key's quantities at full precision, by item id: L, L', and for each
    layer l (1 = the first hidden layer) W{l}, dL/dW{l}, W{l}' and, where the layer has
    biases, b{l}, dL/db{l}, b{l}' (rows: units of layer l; columns: units of layer l-1; a
    bias is a list over units, or one value for a shared bias)."""
    form = problem.matrix
    loss = problem.spec.loss_symbol
    arrays: dict[str, Any] = {loss: form.gradients.loss}
    for l, (weight, gradient, updated) in enumerate(zip(form.network.weights, form.gradients.weights, form.after.weights, strict=True), start=1):
        arrays.update({f"W{l}": weight, f"d{loss}/dW{l}": gradient, f"W{l}'": updated})
        bias, bias_gradient, bias_after = form.network.biases[l - 1], form.gradients.biases[l - 1], form.after.biases[l - 1]
        if bias is not None and bias_gradient is not None and bias_after is not None:
            arrays.update({f"b{l}": bias[:, 0], f"d{loss}/db{l}": bias_gradient[:, 0], f"b{l}'": bias_after[:, 0]})
    arrays[f"{loss}'"] = form.loss_after
    return arrays


_MATRIX_KIND = {"W": "weight", "b": "weight", "d": "gradient"}


def matrix_key(problem: Problem) -> dict[str, Any]:
    """The layer-level grading key: each item's exact value and its value under the
    policy, as nested lists."""
    import numpy as np

    loss = problem.spec.loss_symbol
    items = []
    for item_id, exact in matrix_arrays(problem).items():
        kind = "loss" if item_id in (loss, f"{loss}'") else _MATRIX_KIND[item_id[0]]
        exact_array = np.asarray(exact, dtype=float)
        rounded = np.vectorize(lambda v, kind=kind: problem.policy.round(float(v), kind), otypes=[float])(exact_array)
        items.append({"id": item_id, "kind": kind, "value": rounded.tolist(), "exact": exact_array.tolist()})
    form = problem.matrix
    return {
        "title": problem.spec.title,
        "notation": "matrix",
        "sizes": form.network.sizes,
        "samples": form.samples,
        "policy": problem.policy.as_dict(),
        "loss_history": form.loss_history,
        "items": items,
    }


def matrix_key_json(problem: Problem) -> str:
    return json.dumps(matrix_key(problem), ensure_ascii=False, indent=2) + "\n"


def matrix_key_npz(problem: Problem) -> bytes:
    """The same ids as NumPy arrays (exact values), as the bytes of an .npz file."""
    import io

    import numpy as np

    buffer = io.BytesIO()
    np.savez(buffer, **{item_id: np.asarray(value, dtype=float) for item_id, value in matrix_arrays(problem).items()})
    return buffer.getvalue()
