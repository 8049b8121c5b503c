"""How the backward pass is worked, decided once per network, and the cancellations that
make an output unit's error signal short.

Two forms, as lecturers write them:

- **full**: each gradient spells out every path of chain factors, and its value is the
  product of those factors (seed 000 and seed 004's 2-2-1 pages). The page then multiplies
  out: the printed factors, multiplied, give the printed result.
- **signals**: each unit's error signal dL/dz is worked once, in its own block; a hidden
  unit's signal is the sum of the signals above it times their weights, times g'(z); each
  gradient is one line, signal times input (the delta^(l) of seeds 001 and 003).

`auto` takes full when every gradient has one short path through narrow layers, and
signals otherwise: several paths (a second output, softmax) multiply the work, and a
loss whose derivative cancels against the output activation reads better as y-hat - y.
"""

from __future__ import annotations

from collections.abc import Sequence

import sympy

from .network import Network

FULL_MAX_FACTORS = 5  # seed 000's dL/dw1: dL/dyhat . dyhat/dz3 . dz3/da1 . da1/dz1 . dz1/dw1
FULL_MAX_FAN_IN = 3  # the factor definitions d(w5 a1 + w6 a2 + ...)/da1 stay one line
FULL_MAX_PATHS = 16  # chain: full on a wide network writes every path; past this, refuse


def cancels(network: Network) -> bool:
    """Output activation and loss whose derivatives cancel to y-hat - y (seed 003)."""
    pair = (network.outputs[0].activation.name, network.spec.loss)
    return pair in (("sigmoid", "binary_cross_entropy"), ("softmax", "cross_entropy"))


def paths_per_gradient(network: Network) -> int:
    """The most paths from the loss to any parameter: from a unit of layer d, one through
    each unit of every layer above it, and through each output again where softmax joins
    them all. A first-layer weight has the most."""
    widths = [len(layer) for layer in network.layers]
    joined = widths[-1] if network.outputs[0].activation.name == "softmax" else 1
    paths = joined
    for width in widths[1:]:
        paths *= width
    return paths


def mode(network: Network) -> str:
    """The spec's `chain`, with auto resolved."""
    requested = network.spec.chain
    if requested != "auto":
        return requested
    factors = 2 * len(network.layers) + 1
    fan_in = max(len([p for p in network.incoming(unit) if not p.is_bias]) for unit in network.units)
    one_path = paths_per_gradient(network) == 1
    if one_path and factors <= FULL_MAX_FACTORS and fan_in <= FULL_MAX_FAN_IN and not cancels(network):
        return "full"
    return "signals"


def simplified_output_signal(
    network: Network, k: int, outputs: Sequence[sympy.Symbol], targets: Sequence[sympy.Symbol]
) -> sympy.Expr | None:
    """dL/dz_k in y and y-hat once the loss's and the activation's derivatives cancel, or
    None where nothing cancels. softmax with cross-entropy needs the targets to sum to 1
    (a distribution; a one-hot label), which numeric specs are checked for."""
    if not cancels(network):
        return None
    if network.spec.loss == "cross_entropy":
        values = list(network.targets.values())
        if any(value is None for value in values) or abs(sum(values) - 1) > 1e-12:  # type: ignore[arg-type]
            return None
    return sympy.Add(outputs[k], -targets[k], evaluate=False)
