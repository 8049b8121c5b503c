"""Training beyond one sample and one plain step: mini-batches, the optimizers of
torch.optim, weight decay and every iteration, each quantity a named step.

An iteration works each sample's forward and backward pass (ids marked with the sample:
z1(2), dL(2)/dw1), then the batch's loss and gradient as steps of their own (the mean or
sum of the samples', plus weight decay's L2 term λ/2·sumsq(w) and λ·w), then the optimizer's state and
the update. Iteration t computes with the parameters after t - 1 updates, so its ids
carry t - 1 primes (z1', dL'/dw1'; from the fourth update on [4], z1[4]); its updates carry t
(w1''). The optimizer's state is named by iteration and parameter: v1[w1], m2[w1],
mhat2[w1]. After the last update the forward pass and the loss are worked once more.

Every rule is torch.optim's, term by term, so that the numbers can be checked against it:
the momentum buffer starts as the first gradient (v1 = g), RMSprop's and Adam's averages
start at 0, ε is added after the square root, Adam's moments are bias-corrected, and
weight decay adds λ·w to the gradient (an L2 term λ/2·Σw² in the loss), but for AdamW,
which shrinks the parameter by η·λ·w before its step (decoupled)."""

from __future__ import annotations

import sympy
from sympy import Add, Integer, Mul, Rational

from ..spec.vocabulary import HYPER_SYMBOLS, SpecError
from .derivation import (
    LEARNING_RATE,
    Derivation,
    Pass,
    StepBuilder,
    marked_latex,
    primes,
)
from .names import partial
from .network import Network, hyper_parameters
from .policy import Policy

HYPER_LATEX = {"momentum": r"\mu", "rho": r"\rho", "beta1": r"\beta_{1}", "beta2": r"\beta_{2}",
               "epsilon": r"\epsilon", "weight_decay": r"\lambda"}
STATE_LATEX = {"v": "v", "m": "m", "mhat": r"\hat{m}", "vhat": r"\hat{v}"}


def l2_in_loss(network: Network) -> bool:
    """Weight decay as an L2 term in the loss: every optimizer but adamw, which decouples it."""
    return "weight_decay" in hyper_parameters(network.spec) and network.spec.optimizer.name != "adamw"


def penalty_id(updates: int) -> str:
    """sumsq(w)': the sum of the squared parameters after `updates` updates, weight decay's L2 term."""
    return "sumsq(w)" + primes(updates)


def state_id(name: str, iteration: int, parameter: str) -> str:
    """m2[w1]: the optimizer's state `name` of parameter w1 after iteration 2."""
    return f"{name}{iteration}[{parameter}]"


class _Trainer:
    def __init__(self, network: Network):
        self.network = network
        self.samples = len(network.samples)
        self.l2 = l2_in_loss(network)
        self.builder = StepBuilder(network, batched=self.samples > 1 or self.l2)
        self.hyper = {
            field: self.builder.primitive(HYPER_SYMBOLS[field], value, HYPER_LATEX[field])
            for field, value in hyper_parameters(network.spec).items()
        }

    def sample_passes(self, updates: int) -> list[Pass]:
        if not self.builder.batched:
            return [Pass(updates)]
        return [Pass(updates, sample) for sample in range(1, self.samples + 1)]

    def parameters(self, updates: int) -> list[sympy.Symbol]:
        return [self.builder.sym(self.builder.parameter(p.name, updates)) for p in self.network.parameters]

    def batch_loss(self, updates: int, role: str) -> None:
        """L = (1/n)·ΣL(s) (or the sum), + λ/2·‖w‖² when weight decay is in the loss, with
        ‖w‖² = Σw² a step of its own (sumsq(w)), so that its long sum can break across rows."""
        b, loss = self.builder, self.network.loss_symbol
        losses = [b.sym(where.node(loss)) for where in self.sample_passes(updates)]
        terms: list[sympy.Expr] = [self.reduced(losses)]
        if self.l2:
            squares = [sympy.Pow(w, 2, evaluate=False) for w in self.parameters(updates)]
            norm = b.add(penalty_id(updates), "loss", role, _sum(squares),
                         rf"\lVert {marked_latex('w', updates)} \rVert^{{2}}").symbol
            terms.append(Mul(self.hyper["weight_decay"] / 2, norm, evaluate=False))
        where = Pass(updates)
        b.add(where.node(loss), "loss", role, _sum(terms), where.node_latex(self.network.latex(loss)))

    def reduced(self, terms: list[sympy.Expr]) -> sympy.Expr:
        total = _sum(terms)
        if self.network.spec.reduction == "sum" or len(terms) == 1:
            return total
        return Mul(Rational(1, len(terms)), total, evaluate=False)

    def batch_gradients(self, updates: int) -> None:
        """dL/dw1 = (1/n)·Σ dL(s)/dw1 (or the sum), + λ·w1 with weight decay in the loss."""
        b = self.builder
        loss = Pass(updates).node(self.network.loss_symbol)
        for parameter in self.network.parameters:
            name = b.parameter(parameter.name, updates)
            per_sample = [b.sym(f"d{where.node(self.network.loss_symbol)}/d{name}") for where in self.sample_passes(updates)]
            terms = [self.reduced(per_sample)]
            if self.l2:
                terms.append(Mul(self.hyper["weight_decay"], b.sym(name), evaluate=False))
            b.add(f"d{loss}/d{name}", "gradient", "batch", _sum(terms), partial(b.latex_of(loss), b.latex_of(name)),
                  of=loss, wrt=name)

    def iteration(self, t: int) -> None:
        b = self.builder
        b.iteration = t
        for where in self.sample_passes(t - 1):
            b.forward(where)
            b.backward(where)
        if b.batched:
            self.batch_loss(t - 1, "loss")
            self.batch_gradients(t - 1)
        for parameter in self.network.parameters:
            self.update(t, parameter.name)

    def after(self, updates: int) -> None:
        """The forward pass and the loss with the parameters after the last update."""
        for where in self.sample_passes(updates):
            self.builder.forward(where, "after")
        if self.builder.batched:
            self.batch_loss(updates, "after")

    def state(self, name: str, t: int, parameter: str, expression: sympy.Expr) -> sympy.Symbol:
        b = self.builder
        latex = rf"{STATE_LATEX[name]}_{{{t}}}[{b.latex_of(parameter)}]"
        return b.add(state_id(name, t, parameter), "gradient", "state", expression, latex).symbol

    def update(self, t: int, parameter: str) -> None:
        """The optimizer's state for iteration t and the parameter's new value, as torch.optim
        computes them (see the module's docstring)."""
        b, h = self.builder, self.hyper
        eta = b.primitives[LEARNING_RATE]
        w_id = b.parameter(parameter, t - 1)
        w = b.sym(w_id)
        g = b.sym(f"d{Pass(t - 1).node(self.network.loss_symbol)}/d{w_id}")
        name = self.network.spec.optimizer.name
        before = (lambda state: b.sym(state_id(state, t - 1, parameter))) if t > 1 else None

        def average(state: str, decay: sympy.Symbol, value: sympy.Expr) -> sympy.Symbol:
            fresh = Mul(Add(1, -decay, evaluate=False), value, evaluate=False)
            if before is None:
                return self.state(state, t, parameter, fresh)
            return self.state(state, t, parameter, Add(Mul(decay, before(state), evaluate=False), fresh, evaluate=False))

        step: sympy.Expr
        if name == "sgd":
            step = g
        elif name in ("momentum", "nesterov"):
            mu = h["momentum"]
            v = self.state("v", t, parameter, g if before is None else Add(Mul(mu, before("v"), evaluate=False), g, evaluate=False))
            step = v if name == "momentum" else Add(g, Mul(mu, v, evaluate=False), evaluate=False)
        elif name == "rmsprop":
            v = average("v", h["rho"], sympy.Pow(g, 2, evaluate=False))
            step = Mul(g, sympy.Pow(Add(sympy.sqrt(v), h["epsilon"], evaluate=False), -1, evaluate=False), evaluate=False)
        else:  # adam, adamw
            m = average("m", h["beta1"], g)
            v = average("v", h["beta2"], sympy.Pow(g, 2, evaluate=False))
            m_hat = self.state("mhat", t, parameter, Mul(m, sympy.Pow(_correction(h["beta1"], t), -1, evaluate=False), evaluate=False))
            v_hat = self.state("vhat", t, parameter, Mul(v, sympy.Pow(_correction(h["beta2"], t), -1, evaluate=False), evaluate=False))
            step = Mul(m_hat, sympy.Pow(Add(sympy.sqrt(v_hat), h["epsilon"], evaluate=False), -1, evaluate=False), evaluate=False)
        terms = [w]
        if name == "adamw" and "weight_decay" in h:
            terms.append(Mul(-1, eta, h["weight_decay"], w, evaluate=False))
        terms.append(Mul(-1, eta, step, evaluate=False))
        new_id = b.parameter(parameter, t)
        b.add(new_id, "weight", "update", Add(*terms, evaluate=False), marked_latex(self.network.latex(parameter), t))


# Every iteration is worked step by step; past this many steps a key takes minutes.
MOST_STEPS = 100_000


def _correction(decay: sympy.Symbol, t: int) -> sympy.Expr:
    """1 - β^t, Adam's bias correction after t steps."""
    return Add(1, Mul(-1, sympy.Pow(decay, Integer(t), evaluate=False), evaluate=False), evaluate=False)


def _sum(terms: list[sympy.Expr]) -> sympy.Expr:
    return terms[0] if len(terms) == 1 else Add(*terms, evaluate=False)


def derive(network: Network, policy: Policy, origin: str = "spec") -> Derivation:
    """Every iteration of `steps`, every sample's passes, the batch's steps and the
    optimizer's, then the pass after the last update; evaluated when the spec is numeric."""
    trainer = _Trainer(network)
    iterations = network.spec.steps
    for t in range(1, iterations + 1):
        trainer.iteration(t)
        if t == 1 and len(trainer.builder.steps) * iterations > MOST_STEPS:
            raise SpecError(
                f"{origin}: steps: {iterations} iterations of this network are about {len(trainer.builder.steps) * iterations:,} "
                f"named steps, and at most {MOST_STEPS:,} are worked one by one; use fewer steps, or the matrix "
                "form (derive key SPEC --notation matrix), which trains for any number of steps."
            )
    trainer.after(iterations)
    b = trainer.builder
    derivation = Derivation(network, policy, b.steps, b.primitives, b.givens, b.primitive_latex,
                            chain=b.mode, batched=b.batched)
    if derivation.is_numeric:
        _fill_values(derivation)
    return derivation


def _fill_values(derivation: Derivation) -> None:
    exact, shown, _ = derivation.evaluate()
    for step in derivation.steps:
        step.exact = exact[step.symbol]
        step.value = shown[step.symbol]
    network = derivation.network
    iterations = derivation.iterations
    derivation.loss_history = [derivation[Pass(updates).node(network.loss_symbol)].value  # type: ignore[misc]
                               for updates in range(iterations + 1)]
    derivation.history = [
        {p.name: derivation[StepBuilder.parameter(p.name, t)].value for p in network.parameters}  # type: ignore[misc]
        for t in range(1, iterations + 1)
    ]
