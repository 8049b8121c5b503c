"""Documents of training beyond one step: the first iteration in full with each sample's
passes and the batch's steps, the optimizer's state on the page (blank on the worksheet,
boxed in the key), later iterations compact or in full, and the convention named."""

from __future__ import annotations

import derive
from derive.engine.policy import format_number
from derive.views.documents import render
from derive.views.blocks import item_id_latex

from ..conftest import EXAMPLES

ADAM = EXAMPLES / "2-2-1-adam.yaml"
BATCH = EXAMPLES / "2-3-2-minibatch.yaml"


def _label(step_id: str) -> str:
    return rf"\mathtt{{{item_id_latex(step_id)}}}"


def test_the_worksheet_blanks_the_state_and_every_iterations_steps_and_the_key_boxes_them() -> None:
    problem = derive.load(ADAM)
    d = problem.derivation
    worksheet, key, handout = (render(problem, kind, "md", "en") for kind in ("worksheet", "key", "handout"))
    for step_id in ("m1[w1]", "vhat1[w6]", "w1'", "mhat2[w3]", "w1'''", "L'''"):
        assert _label(step_id) in worksheet and _label(step_id) in key, step_id
        assert _label(step_id) not in handout
    printed = format_number(d["m1[w1]"].value, d.policy, "gradient")  # -0.0001834
    assert f"= {printed}" in handout and f"= {printed}" not in worksheet and f"\\boxed{{{printed}}}" in key
    assert "torch.optim.Adam" in handout and r"\hat{m}_t &= \frac{m_t}{1 - \beta_{1}^t}" in handout


def test_later_iterations_are_compact_unless_all_are_asked_for() -> None:
    problem = derive.load(ADAM)
    compact = render(problem, "handout", "md", "en")
    full = render(problem, "handout", "md", "en", iterations="all")
    # the second iteration's forward pass is worked (its weighted sum from the updated weights) only in full
    assert r"z_{1}' &= w_{1}' \cdot x_{1}" not in compact
    assert r"z_{1}' &= w_{1}' \cdot x_{1}" in full
    assert "Iteration 2" in compact and "Iteration 3" in compact


def test_a_mini_batch_shows_each_samples_signals_and_the_batch_gradient_and_says_where_decay_sits() -> None:
    problem = derive.load(BATCH)
    for language, sample, batch in (("en", "Sample 2", "Mini-batch gradient (mean)"), ("ko", "샘플 2", "미니배치 기울기 (평균)")):
        page = render(problem, "handout", "md", language)
        assert sample in page and batch in page
        assert r"\frac{\partial L}{\partial w_{1}} &= \frac{1}{2}" in page
        assert r"\lVert w \rVert^{2}" in page
    english = render(problem, "handout", "md", "en")
    assert "L2 term" in english and "torch.optim.SGD(momentum)" in english


def test_the_worksheets_blanks_are_the_keys_graded_items() -> None:
    """Iteration 1 in full, later iterations as their compact form shows them: the blanks
    and the graded items are one set."""
    import re

    from derive.views.key import grading_key

    for spec in (ADAM, BATCH):
        problem = derive.load(spec)
        worksheet = render(problem, "worksheet", "tex", "en")
        labels = set(re.findall(r"\\mathtt\{([^}]*)\}", worksheet))
        graded = {item_id_latex(item["id"]) for item in grading_key(problem)["items"] if item["graded"]}
        assert labels == graded
        assert item_id_latex("z1'") not in graded and item_id_latex("mhat2[w1]" if spec == ADAM else "v2[w1]") in graded
