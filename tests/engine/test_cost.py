"""Seed 004's cost slide, reproduced: the numbers are the seed's own."""

from __future__ import annotations

from derive.engine.cost import Cost, cost_table

from ..test_cli import _run


def test_seed_004_numbers() -> None:
    cost = Cost((784, 100, 10), 60_000, 850_000_000)
    assert cost.weights == 784 * 100 + 100 * 10 == 79_400
    assert cost.biases == 110
    assert cost.loss_over_data == 4_764_000_000
    assert cost.numerical == 4_764_000_000 * 79_511 == 378_790_404_000_000
    assert int(cost.numerical / cost.rate) == 445_635  # the seed's 445,635 s, about 123 hours


def test_table_in_both_languages() -> None:
    korean = cost_table(Cost((784, 100, 10), 60_000, 850_000_000), "ko")
    assert "378,790,404,000,000  445,636 초 (123.8 시간)" in korean
    assert "역전파가 26,504배 빠릅니다." in korean
    assert "Backpropagation is" in cost_table(Cost((2, 2, 1), 1, 1e9), "en")


def test_cost_command_and_its_bad_input() -> None:
    result = _run("cost", "784", "100", "10")
    assert result.returncode == 0 and "79,400" in result.stdout
    refused = _run("cost", "784")
    assert refused.returncode == 2 and "give at least two layer sizes" in refused.stderr
