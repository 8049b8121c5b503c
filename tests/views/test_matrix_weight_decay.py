"""The matrix handout states weight decay where the per-weight handout does: its L2 term in
the loss line (and λW in each gradient), and the values of η and the optimizer's settings,
so a reader can redo W <- W - η·dL/dW from the page alone."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

import derive
from derive.views.matrix_document import matrix_context

MINIBATCH = Path(__file__).parents[2] / "examples" / "2-3-2-minibatch.yaml"


def _context(language: str = "en", **changes: object) -> dict:
    spec = copy.deepcopy(yaml.safe_load(MINIBATCH.read_text()))
    spec.update(changes)
    return matrix_context(derive.load(spec), language)


def test_the_l2_term_is_in_the_loss_line_with_the_batch_mean():
    general = _context()["general"]
    assert general["forward"][-1] == (
        r"L &= \frac{1}{2}\sum_{s=1}^{2} \ell\left(a^{(2)}_{s}, y_{s}\right) + \frac{\lambda}{2} \sum_{l=1}^{2} "
        r"\left(\lVert W^{(l)} \rVert^{2} + \lVert b^{(l)} \rVert^{2}\right)")
    assert general["gradients"][0].endswith(r"+ \lambda W^{(1)}")


def test_a_sum_over_the_batch_has_no_mean_and_one_sample_no_sum():
    assert r"&= \sum_{s=1}^{2} \ell" in _context(reduction="sum")["general"]["forward"][-1]
    spec = yaml.safe_load(MINIBATCH.read_text())
    one = {"inputs": spec["samples"][0]["inputs"], "targets": spec["samples"][0]["targets"]}
    line = _context(samples=None, **one)["general"]["forward"][-1]
    assert line.startswith(r"L &= \ell\left(a^{(2)}, y\right) + \frac{\lambda}{2}")


@pytest.mark.parametrize("optimizer", [{"name": "adamw", "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8, "weight_decay": 0.01},
                                       {"name": "momentum", "momentum": 0.9}])
def test_no_l2_line_without_decay_in_the_loss(optimizer):
    """AdamW decouples its decay (it is in the update, not the loss); no decay, no term."""
    general = _context(optimizer=optimizer)["general"]
    assert not any(r"\lambda}{2}" in line for line in general["forward"])
    assert not any(r"\lambda W" in line for line in general["gradients"])


def test_the_hyper_parameters_are_given_with_the_numbers():
    context = _context()
    assert context["numbers"][0] == r"\eta &= 0.5, \quad \mu = 0.9, \quad \lambda = 0.01"


@pytest.mark.parametrize(("language", "samples", "reduction", "sentence"), [
    ("en", 2, "mean", "Mean loss over 2 samples, before and after the update:"),
    ("en", 2, "sum", "Summed loss over 2 samples, before and after the update:"),
    ("en", 1, "mean", "The loss before and after the update:"),  # not "Mean loss over 1 samples"
    ("ko", 1, "sum", "업데이트 전과 후의 손실:"),
])
def test_the_loss_sentence_fits_the_number_of_samples(language, samples, reduction, sentence):
    spec = yaml.safe_load(MINIBATCH.read_text())
    one = {"samples": None, **spec["samples"][0]} if samples == 1 else {}
    context = _context(language=language, reduction=reduction, **one)
    assert context["words"]["batch"].format(samples=context["samples"]) == sentence
