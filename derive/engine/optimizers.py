"""torch.optim's update rules on NumPy arrays, for the matrix form: the same rules, term by
term, as derive/engine/training.py writes as steps (the momentum buffer starts as the first
gradient; RMSprop's and Adam's averages start at 0; ε after the square root; Adam's moments
bias-corrected; AdamW's decay decoupled, the others' an L2 term in the loss)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ..spec.schema import Spec
from .network import hyper_parameters

Array = np.ndarray


@dataclass
class Training:
    """The spec's optimizer, weight decay and reduction, and the state they carry."""

    name: str = "sgd"
    hyper: dict[str, float] = field(default_factory=dict)
    reduction: str = "mean"

    @classmethod
    def of(cls, spec: Spec) -> Training:
        return cls(spec.optimizer.name, hyper_parameters(spec), spec.reduction)

    @property
    def l2(self) -> float:
        """λ of the L2 term in the loss (0 for AdamW, whose decay is decoupled)."""
        return 0.0 if self.name == "adamw" else self.hyper.get("weight_decay", 0.0)

    def steps(self, learning_rate: float) -> _Stepper:
        return _Stepper(self, learning_rate)


@dataclass
class _Stepper:
    training: Training
    learning_rate: float
    t: int = 0
    state: dict[tuple[str, int], Array] = field(default_factory=dict)

    def step(self, parameters: Sequence[Array | None], gradients: Sequence[Array | None]) -> list[Array | None]:
        """Every parameter array after one update from its (objective's) gradient."""
        self.t += 1
        return [None if p is None or g is None else self._one(index, p, g)
                for index, (p, g) in enumerate(zip(parameters, gradients, strict=True))]

    def _one(self, index: int, w: Array, g: Array) -> Array:
        name, h, eta, t = self.training.name, self.training.hyper, self.learning_rate, self.t
        if name == "sgd":
            return w - eta * g
        if name in ("momentum", "nesterov"):
            v = g if t == 1 else h["momentum"] * self.state["v", index] + g
            self.state["v", index] = v
            return w - eta * (v if name == "momentum" else g + h["momentum"] * v)
        if name == "rmsprop":
            v = (1 - h["rho"]) * g**2 + (h["rho"] * self.state["v", index] if t > 1 else 0.0)
            self.state["v", index] = v
            return w - eta * g / (np.sqrt(v) + h["epsilon"])
        m = (1 - h["beta1"]) * g + (h["beta1"] * self.state["m", index] if t > 1 else 0.0)
        v = (1 - h["beta2"]) * g**2 + (h["beta2"] * self.state["v", index] if t > 1 else 0.0)
        self.state["m", index], self.state["v", index] = m, v
        m_hat, v_hat = m / (1 - h["beta1"] ** t), v / (1 - h["beta2"] ** t)
        decayed = w - eta * h.get("weight_decay", 0.0) * w if name == "adamw" else w
        return decayed - eta * m_hat / (np.sqrt(v_hat) + h["epsilon"])
