"""The grader on training's new steps: a mini-batch's per-sample and batch steps and an
optimizer's state are graded from their own expressions, with error carried forward. The
expected numbers are worked by hand from the key's gradients (which the torch.optim test
checks) and the rules as lecture notes write them."""

from __future__ import annotations

import pytest

import derive
from derive.classroom.answers import Submission, parse_answer
from derive.classroom.grading import grade
from derive.views.key import asked_ids, grading_key

from ..conftest import EXAMPLES

ADAM = EXAMPLES / "2-2-1-adam.yaml"
BATCH = EXAMPLES / "2-3-2-minibatch.yaml"


def _answers(problem: derive.Problem) -> dict[str, str]:
    """The key's own value for every item asked for."""
    asked = set(asked_ids(problem.derivation))
    return {s.id: repr(s.value) for s in problem.derivation.steps if s.id in asked}


def _grade(problem: derive.Problem, answers: dict[str, str]):  # type: ignore[no-untyped-def]
    parsed = {item: parse_answer(text) for item, text in answers.items()}
    return grade(problem.derivation, Submission(2, "s", None, parsed))


@pytest.mark.parametrize("spec", [ADAM, BATCH])
def test_the_key_scores_full_marks_and_asks_for_the_new_steps(spec) -> None:  # type: ignore[no-untyped-def]
    problem = derive.load(spec)
    result = _grade(problem, _answers(problem))
    assert result.score == 100.0, {k: v for k, v in result.items.items() if v.status != "correct"}
    graded = {item["id"] for item in grading_key(problem)["items"] if item["graded"]}
    expected = {"m1[w1]", "vhat3[w6]", "w1'''"} if spec == ADAM else {"dL(2)/dw1", "dL/dw1", "v2[b2]", "sumsq(w)'", "L''"}
    assert expected <= graded


def test_an_adam_moment_without_its_one_minus_beta_is_wrong_and_carried_forward() -> None:
    problem = derive.load(ADAM)
    d = problem.derivation
    answers = _answers(problem)
    g = d["dL/dw1"].value
    answers["m1[w1]"] = repr(g)  # m = g, the (1 - beta1) left out
    answers["mhat1[w1]"] = repr(g / (1 - 0.9))  # then bias-corrected right: 10 g
    result = _grade(problem, answers)
    assert result.items["m1[w1]"].status == "wrong"
    assert result.items["mhat1[w1]"].status == "carried"
    assert result.items["mhat1[w1]"].carried_from == pytest.approx(10 * g)


def test_a_batch_gradient_summed_instead_of_averaged_is_wrong_and_carried_forward() -> None:
    problem = derive.load(BATCH)
    d = problem.derivation
    answers = _answers(problem)
    summed = d["dL(1)/dw1"].value + d["dL(2)/dw1"].value + 0.01 * 0.2  # the mean's 1/2 left out
    answers["dL/dw1"] = f"{summed:.3g}"
    answers["v1[w1]"] = f"{summed:.3g}"  # v1 = g, the momentum buffer's start
    answers["w1'"] = f"{0.2 - 0.5 * float(f'{summed:.3g}'):.3g}"
    result = _grade(problem, answers)
    assert result.items["dL/dw1"].status == "wrong"
    assert [result.items[i].status for i in ("v1[w1]", "w1'")] == ["carried", "carried"]


def test_versions_of_a_mini_batch_draw_every_sample() -> None:
    import yaml

    from derive.classroom.variants import make_variants

    spec = yaml.safe_load(BATCH.read_text())
    spec["randomize"] = {"inputs": {"min": -0.9, "max": 0.9}}
    versions = make_variants(derive.load(spec), 2, 7)
    drawn = [[sample.inputs for sample in version.problem.spec.samples] for version in versions]
    assert all(first != second for first, second in drawn)  # the second sample drawn too, not copied
    assert drawn[0] != drawn[1]
    for version in versions:  # each version's own key scores full marks
        assert _grade(version.problem, _answers(version.problem)).score == 100.0
