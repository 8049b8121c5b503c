"""Seed 004's cost slide, reproduced: the numbers are the seed's own."""

from __future__ import annotations

from derive.engine.cost import CircuitCost, Cost, cost_table

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


def test_cost_of_a_computational_graph() -> None:
    """graph-shared-weight: gates h1 = tanh(w x1), h2 = tanh(w x2), o = v(h1 + h2), L = (o - t)^2,
    counted by hand: 4 gates, 2 + 2 + 3 + 2 = 9 gate inputs, 4 asked leaves (x1, x2, w, v)."""
    result = _run("cost", "examples/graph-shared-weight.yaml", "--samples", "1000", "--lang", "en")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Cost of one gradient of the graph “")
    assert any(line.startswith("gates") and line.endswith(" 4") for line in lines), lines
    assert any(line.startswith("leaves whose gradients are asked") and line.endswith(" 4") for line in lines)
    assert any(line.startswith("output of one sample") and line.endswith(" 9") for line in lines)
    assert any(line.startswith("numerical differentiation") and " 45,000 " in line for line in lines)  # 9 x 1000 x (4 + 1)
    assert any(line.startswith("backpropagation") and " 27,000 " in line for line in lines)  # 9 x 1000 x 3
    assert lines[-1] == "Backpropagation is 1.7 times faster."  # 45,000 / 27,000


def test_cost_of_a_layered_spec_file_is_its_sizes_table() -> None:
    from_file = _run("cost", "examples/2-2-1-linear-mse.yaml", "--lang", "en")
    from_sizes = _run("cost", "2", "2", "1", "--lang", "en")
    assert from_file.returncode == 0 and from_file.stdout == from_sizes.stdout


def test_a_circuit_with_one_asked_leaf_saves_nothing() -> None:
    table = cost_table(CircuitCost("one", 1, 2, 1, 1, 1e9), "en")
    assert table.splitlines()[-1].startswith("With so few leaves asked, numerical differentiation costs no more")


def test_a_size_that_is_not_one_is_one_message() -> None:
    refused = _run("cost", "784", "0", "10")
    assert refused.returncode == 2 and "'0' is not a layer size" in refused.stderr and "Traceback" not in refused.stderr
