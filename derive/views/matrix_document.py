"""The handout in matrix notation (`derive worksheet --notation matrix`), as seeds 001 and
003 write backpropagation: one line per layer instead of one per weight.

The general equations are built from SymPy matrix symbols and printed by SymPy; the
numbers come from the problem's matrix form (derive/engine/matrix.py), shown as matrices under the
spec's rounding policy. Templates only lay the lines out."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import sympy
from sympy import HadamardProduct, MatrixSymbol

from ..engine.names import default_latex
from ..engine.policy import format_number
from ..engine.training import HYPER_LATEX
from .iterations import rule_rows

if TYPE_CHECKING:
    import numpy as np

    from ..engine.functions import Activation
    from ..engine.optimizers import Training
    from ..engine.problem import Problem

WORDS = {
    "ko": {"shapes": "층별 크기", "layer": "층", "units": "유닛 수", "forward": "순전파", "backward": "역전파",
           "gradients": "기울기", "update": "파라미터 업데이트", "numbers": "숫자로 계산", "after": "업데이트 후 손실",
           "general": "일반식", "delta": "오차 신호", "exact": "숫자는 전체 정밀도로 계산하고 표시할 때만 반올림했습니다.",
           "batch": "샘플 {samples}개에 대한 평균 손실, 업데이트 전과 후:", "notation": "핸드아웃 (행렬 표기)",
           "batch_sum": "샘플 {samples}개에 대한 손실의 합, 업데이트 전과 후:", "one_sample": "업데이트 전과 후의 손실:"},
    "en": {"shapes": "Layer sizes", "layer": "layer", "units": "units", "forward": "Forward propagation", "backward": "Backpropagation",
           "gradients": "Gradients", "update": "Parameter update", "numbers": "With numbers", "after": "Loss after the update",
           "general": "General form", "delta": "error signals", "exact": "The numbers are computed at full precision and rounded only for display.",
           "batch": "Mean loss over {samples} samples, before and after the update:", "notation": "Handout (matrix notation)",
           "batch_sum": "Summed loss over {samples} samples, before and after the update:",
           "one_sample": "The loss before and after the update:"},
}


def _slope_name(activation: Activation) -> str:
    return activation.latex or "g"


def general_lines(sizes: list[int], activations: list[Activation], loss: str, loss_symbol: str = "L",
                  biased: list[bool] | None = None) -> dict[str, list[str]]:
    """z^(l) = W^(l) a^(l-1) + b^(l), ..., delta^(l) = (W^(l+1))^T delta^(l+1) o g'(z^(l)), ...,
    with the loss named as the spec names it (seed 004 calls it C); + b^(l) and dL/db^(l)
    only for layers that have biases."""
    depth = len(sizes) - 1
    biased = biased if biased is not None else [True] * depth
    weight = {l: MatrixSymbol(f"W^{{({l})}}", sizes[l], sizes[l - 1]) for l in range(1, depth + 1)}
    bias = {l: MatrixSymbol(f"b^{{({l})}}", sizes[l], 1) for l in range(1, depth + 1)}
    activation = {l: MatrixSymbol(f"a^{{({l})}}", sizes[l], 1) for l in range(0, depth + 1)}
    delta = {l: MatrixSymbol(rf"\delta^{{({l})}}", sizes[l], 1) for l in range(1, depth + 1)}
    slope = {l: MatrixSymbol(f"{_slope_name(activations[l - 1])}'(z^{{({l})}})", sizes[l], 1) for l in range(1, depth + 1)}
    forward = []
    for l in range(1, depth + 1):
        weighted = weight[l] * activation[l - 1] + bias[l] if biased[l - 1] else weight[l] * activation[l - 1]
        forward.append(rf"z^{{({l})}} &= {sympy.latex(weighted)}")
        name = activations[l - 1].latex
        forward.append(rf"a^{{({l})}} &= {name}\left(z^{{({l})}}\right)" if name else rf"a^{{({l})}} &= z^{{({l})}}")
    target = MatrixSymbol("y", sizes[-1], 1)
    if activations[-1].name == "softmax" and loss == "cross_entropy":
        backward = [rf"\delta^{{({depth})}} &= \frac{{\partial {loss_symbol}}}{{\partial z^{{({depth})}}}} = {sympy.latex(activation[depth] - target)}"]
    elif activations[-1].name == "softmax":
        jacobian = MatrixSymbol(rf"J_{{\mathrm{{softmax}}}}(z^{{({depth})}})", sizes[-1], sizes[-1])
        gradient = MatrixSymbol(rf"\nabla_{{a^{{({depth})}}}} {loss_symbol}", sizes[-1], 1)
        backward = [rf"\delta^{{({depth})}} &= \frac{{\partial {loss_symbol}}}{{\partial z^{{({depth})}}}} = {sympy.latex(jacobian.T * gradient)}"]
    else:
        gradient = MatrixSymbol(rf"\nabla_{{a^{{({depth})}}}} {loss_symbol}", sizes[-1], 1)
        backward = [rf"\delta^{{({depth})}} &= \frac{{\partial {loss_symbol}}}{{\partial z^{{({depth})}}}} = {sympy.latex(HadamardProduct(gradient, slope[depth]))}"]
    for l in range(depth - 1, 0, -1):
        backward.append(rf"\delta^{{({l})}} &= {sympy.latex(HadamardProduct(weight[l + 1].T * delta[l + 1], slope[l]))}")
    gradients = []
    updates = []
    for l in range(1, depth + 1):
        gradients.append(rf"\frac{{\partial {loss_symbol}}}{{\partial W^{{({l})}}}} &= {sympy.latex(delta[l] * activation[l - 1].T)}")
        updates.append(rf"W^{{({l})}} &\leftarrow W^{{({l})}} - \eta \frac{{\partial {loss_symbol}}}{{\partial W^{{({l})}}}}")
        if biased[l - 1]:
            gradients.append(rf"\frac{{\partial {loss_symbol}}}{{\partial b^{{({l})}}}} &= {sympy.latex(delta[l])}")
            updates.append(rf"b^{{({l})}} &\leftarrow b^{{({l})}} - \eta \frac{{\partial {loss_symbol}}}{{\partial b^{{({l})}}}}")
    return {"forward": forward, "backward": backward, "gradients": gradients, "updates": updates}


def _matrix(values: np.ndarray, problem: Problem, kind: str) -> str:
    rows = [" & ".join(format_number(problem.policy.round(float(v), kind)) for v in row) for row in values]
    return r"\begin{pmatrix} " + r" \\ ".join(rows) + r" \end{pmatrix}"


def loss_definition(loss_symbol: str, depth: int, samples: int, reduction: str, biased: list[bool]) -> str:
    """L = (1/n)·Σ_s ℓ(a_s, y_s) + λ/2·Σ_l (‖W‖² + ‖b‖²): the loss weight decay's L2 term is
    part of, written once in general so the handout's L (and its λW) is not a surprise; the
    biases are in the sum as torch's weight_decay decays them."""
    if samples == 1:
        data = rf"\ell\left(a^{{({depth})}}, y\right)"
    else:
        mean = rf"\frac{{1}}{{{samples}}}" if reduction == "mean" else ""
        data = rf"{mean}\sum_{{s=1}}^{{{samples}}} \ell\left(a^{{({depth})}}_{{s}}, y_{{s}}\right)"
    norms = r"\lVert W^{(l)} \rVert^{2}" + (r" + \lVert b^{(l)} \rVert^{2}" if any(biased) else "")
    penalty = rf"\frac{{\lambda}}{{2}} \sum_{{l=1}}^{{{depth}}} \left({norms}\right)" if any(biased) else \
        rf"\frac{{\lambda}}{{2}} \sum_{{l=1}}^{{{depth}}} {norms}"
    return rf"{loss_symbol} &= {data} + {penalty}"


def _with_training(general: dict[str, list[str]], training: Training, loss_symbol: str, samples: int,
                   biased: list[bool]) -> dict[str, list[str]]:
    """The general lines under the spec's optimizer: its rules (m_t, v_t, ...) for every W and
    b in place of plain gradient descent, with weight decay in the loss its term in the loss
    line and + λW in each gradient, and the decoupled decay in AdamW's rule."""
    if training.l2:
        general["forward"] = [*general["forward"], loss_definition(loss_symbol, len(biased), samples, training.reduction, biased)]
        general["gradients"] = [f"{line} + \\lambda {_parameter_of(line)}" for line in general["gradients"]]
    if training.name != "sgd":
        each = rf"g_t &= \frac{{\partial {loss_symbol}}}{{\partial W}} \ \text{{for each }} W^{{(l)}}, b^{{(l)}}"
        general["updates"] = [each, *rule_rows(training.name)]
    return general


def _parameter_of(line: str) -> str:
    """W^{(2)} from the gradient line dL/dW^{(2)} &= ..."""
    match = re.search(r"\\partial ((?:W|b)\^\{\(\d+\)\})\}", line)
    assert match is not None, line
    return match.group(1)


def matrix_context(problem: Problem, language: str) -> dict[str, object]:
    """The lines of the matrix handout, printed from the problem's matrix form."""
    import numpy as np

    form = problem.matrix
    network, result = form.network, form.gradients
    sizes = network.sizes
    zs, activations = form.forward
    biased = [bias is not None for bias in network.biases]
    functions = [layer.activation for layer in network.layers]
    loss_symbol = problem.spec.latex.get(problem.spec.loss_symbol) or default_latex(problem.spec.loss_symbol)
    given = ", \\quad ".join(f"{HYPER_LATEX[field]} = {format_number(value)}" for field, value in form.training.hyper.items())
    numbers = [rf"\eta &= {format_number(form.learning_rate)}" + (rf", \quad {given}" if given else ""),
               rf"a^{{(0)}} = x &= {_matrix(form.x, problem, 'weighted_sum')}"]  # one column per sample
    for l in range(1, len(sizes)):
        numbers.append(rf"W^{{({l})}} &= {_matrix(network.weights[l - 1], problem, 'weight')}")
        bias = network.biases[l - 1]
        if bias is not None:
            numbers.append(rf"b^{{({l})}} &= {_matrix(bias, problem, 'weight')}")
        numbers.append(rf"z^{{({l})}} &= {_matrix(zs[l - 1], problem, 'weighted_sum')}")
        numbers.append(rf"a^{{({l})}} &= {_matrix(activations[l], problem, 'activation')}")
    backward_numbers = [rf"\delta^{{({l})}} &= {_matrix(result.deltas[l - 1], problem, 'factor')}" for l in range(len(sizes) - 1, 0, -1)]
    update_numbers = []
    for l in range(1, len(sizes)):
        backward_numbers.append(rf"\frac{{\partial {loss_symbol}}}{{\partial W^{{({l})}}}} &= {_matrix(result.weights[l - 1], problem, 'gradient')}")
        update_numbers.append(rf"W^{{({l})}} &\leftarrow {_matrix(form.after.weights[l - 1], problem, 'weight')}")
        gradient, after = result.biases[l - 1], form.after.biases[l - 1]
        if gradient is not None and after is not None:
            backward_numbers.append(rf"\frac{{\partial {loss_symbol}}}{{\partial b^{{({l})}}}} &= {_matrix(gradient, problem, 'gradient')}")
            update_numbers.append(rf"b^{{({l})}} &\leftarrow {_matrix(after, problem, 'weight')}")
    loss_value = format_number(problem.policy.round(result.loss, "loss"))
    after_value = format_number(problem.policy.round(form.loss_after, "loss"))
    return {
        "title": problem.spec.title,
        "language": language,
        # reduction: sum says the loss is the batch's sum, not its mean; one sample has neither
        "words": {**WORDS[language], "batch": WORDS[language]["one_sample" if form.samples == 1 else
                                                              "batch_sum" if form.training.reduction == "sum" else "batch"]},
        "shapes": [(l, sizes[l], f"{sizes[l]} \\times {sizes[l - 1]}" if l else "", functions[l - 1].name if l else "") for l in range(len(sizes))],
        "general": _with_training(general_lines(sizes, functions, problem.spec.loss if isinstance(problem.spec.loss, str) else "custom",
                                                loss_symbol, biased), form.training, loss_symbol,
                                  form.samples, biased),
        "numbers": numbers,
        "backward_numbers": backward_numbers,
        "update_numbers": update_numbers,
        "loss_line": rf"{loss_symbol} = {loss_value}",
        "after_line": rf"{loss_symbol}' = {after_value}",
        # the same two lines as rows of an aligned block
        "loss_row": rf"{loss_symbol} &= {loss_value}",
        "after_row": rf"{loss_symbol}' &= {after_value}",
        "show_numbers": max(sizes) <= 8 and form.samples <= 8 and bool(np.isfinite(result.loss)),
        "samples": form.samples,
    }
