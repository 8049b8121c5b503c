"""The matrix form agrees with the per-scalar chain-rule derivation where both run, and with
central finite differences on networks too large for the per-scalar one."""

from __future__ import annotations

import zlib

import numpy as np
import pytest

import derive
from derive.engine.matrix import MatrixNetwork, parameter_names, random_network
from derive.spec.schema import parse_spec

from ..conftest import HIDDEN_ACTIVATIONS, OUTPUT_AND_LOSS, random_spec



def dense(sizes: list[int], activations: list[str], loss: str, seed: int) -> MatrixNetwork:
    """A matrix network of the given sizes with weights drawn from the seed, no biases."""
    spec = parse_spec({"layers": [{"units": n, "activation": a} for n, a in zip(sizes[1:], activations)], "loss": loss,
                       "data": {"inputs": "x.npy", "targets": "y.npy"}, "weight_seed": seed, "learning_rate": 0.1})
    return random_network(spec, sizes, seed)


CASES = [(hidden, output, loss) for hidden in HIDDEN_ACTIVATIONS for output, loss in OUTPUT_AND_LOSS]


@pytest.mark.parametrize(("hidden", "output", "loss"), CASES)
def test_matrix_gradients_equal_the_per_scalar_derivation(hidden: str, output: str, loss: str) -> None:
    spec = random_spec(zlib.crc32(f"matrix{hidden}{output}{loss}".encode()), hidden, output, loss, 2)
    problem = derive.load(spec)
    result = problem.matrix.gradients
    assert result.loss == pytest.approx(problem.derivation[problem.network.loss_symbol].exact, rel=1e-12)
    for name, (kind, layer, place) in parameter_names(problem.network).items():
        expected = problem.derivation[f"dL/d{name}"].exact
        found = (result.weights if kind == "W" else result.biases)[layer][place]
        assert found == pytest.approx(expected, rel=1e-10, abs=1e-13), name


@pytest.mark.parametrize(("activation", "output", "loss"), [("sigmoid", "softmax", "cross_entropy"), ("tanh", "identity", "mse"), ("leaky_relu", "sigmoid", "binary_cross_entropy")])
def test_matrix_gradients_match_finite_differences_on_a_wide_batch(activation: str, output: str, loss: str) -> None:
    sizes = [30, 20, 15, 5]
    network = dense(sizes, [activation, activation, output], loss, seed=3)
    rng = np.random.default_rng(4)
    x = rng.normal(size=(30, 8))
    if loss == "cross_entropy":
        y = np.eye(5)[:, rng.integers(0, 5, size=8)]
    else:
        y = rng.uniform(0.1, 0.9, size=(5, 8))
    result = network.gradients(x, y)
    h = 1e-6
    for layer, (row, column) in [(0, (3, 7)), (1, (10, 2)), (2, (4, 14))]:
        weights = network.weights[layer]
        saved = weights[row, column]
        weights[row, column] = saved + h
        plus = network.gradients(x, y).loss
        weights[row, column] = saved - h
        minus = network.gradients(x, y).loss
        weights[row, column] = saved
        # A central difference is good to its truncation error (about h^2 times the third
        # derivative) plus the round-off of two loss evaluations divided by 2h: each loss is a
        # sum of 40 terms near |L|, so allow 64 ulps of |L| per evaluation.
        round_off = 64 * np.finfo(float).eps * max(abs(plus), abs(minus)) / h
        assert abs(result.weights[layer][row, column] - (plus - minus) / (2 * h)) <= round_off + 10 * h**2
    assert [w.shape for w in result.weights] == [(20, 30), (15, 20), (5, 15)]
    assert network.forward(x)[1][-1].shape == (5, 8)


def test_matrix_notation_lines_are_seed_001s_equations() -> None:
    from derive.views.matrix_document import general_lines

    from derive.engine.functions import activation

    lines = general_lines([2, 3, 1], [activation("sigmoid"), activation("identity")], "squared_error")
    assert lines["forward"] == [
        r"z^{(1)} &= W^{(1)} a^{(0)} + b^{(1)}", r"a^{(1)} &= \sigma\left(z^{(1)}\right)",
        r"z^{(2)} &= W^{(2)} a^{(1)} + b^{(2)}", r"a^{(2)} &= z^{(2)}",
    ]
    assert lines["backward"][1] == r"\delta^{(1)} &= \left(\left(W^{(2)}\right)^{T} \delta^{(2)}\right) \circ \sigma'(z^{(1)})"
    assert lines["gradients"][0] == r"\frac{\partial L}{\partial W^{(1)}} &= \delta^{(1)} \left(a^{(0)}\right)^{T}"
    softmax = general_lines([2, 3], [activation("softmax")], "cross_entropy")
    assert softmax["backward"] == [r"\delta^{(1)} &= \frac{\partial L}{\partial z^{(1)}} = a^{(1)} - y"]


def test_matrix_handout_shows_seed_004s_corrected_numbers(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from derive.views.documents import render_matrix

    from ..conftest import EXAMPLES
    from ..test_cli import _run

    text = render_matrix(derive.load(EXAMPLES / "2-2-1-sigmoid-mse.yaml"), "md", "ko")
    assert r"\frac{\partial C}{\partial W^{(1)}} &= \begin{pmatrix} -0.0106 & -0.00633 \\ -0.00887 & -0.00532 \end{pmatrix}" in text
    assert r"W^{(1)} &\leftarrow W^{(1)} - \eta \frac{\partial C}{\partial W^{(1)}}" in text  # seed 004 names its loss C
    assert "#### 파라미터 업데이트" in text and "built-in method" not in text
    assert r"W^{(1)} &\leftarrow \begin{pmatrix} 0.7011 & 0.4006 \\ 0.3009 & 0.6005 \end{pmatrix}" in text
    result = _run("worksheet", str(EXAMPLES / "2-2-1-sigmoid-mse.yaml"), "--notation", "matrix", "--format", "md,tex,html", "-o", str(tmp_path))
    assert result.returncode == 0, result.stderr
    folder = tmp_path / "2-2-1-sigmoid-mse"
    assert sorted(p.name for p in folder.iterdir()) == [".derive", "matrix.html", "matrix.md", "matrix.tex"]
    page = (folder / "matrix.html").read_text(encoding="utf-8")
    # the HTML page's math is MathML: the updated W(1) as a matrix of the same four numbers
    assert "←" in page and "<mtable" in page and all(f"<mn>{v}</mn>" in page for v in ("0.7011", "0.4006", "0.3009", "0.6005"))


@pytest.mark.parametrize("suffix", [".npy", ".csv"])
def test_a_spec_with_data_files_and_a_weight_seed_works_at_mnist_size(tmp_path, suffix: str) -> None:  # type: ignore[no-untyped-def]
    import yaml

    from ..test_cli import _run

    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 784))
    y = np.eye(10)[rng.integers(0, 10, 64)]
    for name, values in (("x", x), ("y", y)):
        if suffix == ".npy":
            np.save(tmp_path / f"{name}.npy", values)
        else:
            np.savetxt(tmp_path / f"{name}.csv", values, delimiter=",")
    spec = {"title": "MNIST", "language": "en", "loss": "cross_entropy", "learning_rate": 0.1, "weight_seed": 3,
            "layers": [{"units": 100, "activation": "sigmoid"}, {"units": 10, "activation": "softmax"}],
            "data": {"inputs": f"x{suffix}", "targets": f"y{suffix}"}}
    (tmp_path / "mnist.yaml").write_text(yaml.safe_dump(spec), encoding="utf-8")
    result = _run("worksheet", str(tmp_path / "mnist.yaml"), "--notation", "matrix", "--format", "md", "-o", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    expected = dense([784, 100, 10], ["sigmoid", "softmax"], "cross_entropy", 3).gradients(x.T, y.T).loss
    text = (tmp_path / "out" / "mnist" / "matrix.md").read_text(encoding="utf-8")
    assert f"L = {float(f'{expected:.3g}'):g}" in text and "Mean loss over 64 samples" in text
    keyed = _run("key", str(tmp_path / "mnist.yaml"), "-o", str(tmp_path / "mnist.npz"))
    assert keyed.returncode == 0, keyed.stderr
    arrays = np.load(tmp_path / "mnist.npz")
    assert float(arrays["L"]) == pytest.approx(expected, rel=1e-12)
    assert arrays["W1"].shape == (100, 784) and arrays["dL/dW2"].shape == (10, 100) and "b1" not in arrays


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"data": {"inputs": "missing.npy", "targets": "y.npy"}}, "data.inputs: no such file"),
        ({"data": {"inputs": "x.npy", "targets": "x.npy"}}, "data.targets: expected 5 rows of 2 values"),
        ({"data": {"inputs": "x.txt", "targets": "y.npy"}}, "data.inputs: expected text that is a file name ending in .npy or .csv"),
        ({"weight_seed": None}, "weight_seed: a spec with data files needs weight_seed"),
    ],
)
def test_bad_data_files_are_one_clear_message(tmp_path, change: dict, message: str) -> None:  # type: ignore[no-untyped-def]
    import yaml

    from ..test_cli import _run

    np.save(tmp_path / "x.npy", np.ones((5, 3)))
    np.save(tmp_path / "y.npy", np.ones((5, 2)) / 2)
    spec = {"layers": [{"units": 4, "activation": "tanh"}, {"units": 2, "activation": "sigmoid"}], "loss": "mse",
            "learning_rate": 0.1, "weight_seed": 1, "data": {"inputs": "x.npy", "targets": "y.npy"}}
    spec.update(change)
    spec = {k: v for k, v in spec.items() if v is not None}
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(spec), encoding="utf-8")
    result = _run("worksheet", str(tmp_path / "s.yaml"), "--notation", "matrix", "--format", "md", "-o", str(tmp_path / "out"))
    assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr, result.stderr
    assert not (tmp_path / "out").exists()


def test_the_layer_level_key_lists_every_layer_with_the_spec_s_loss_symbol(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import json

    from ..conftest import EXAMPLES
    from ..test_cli import _run

    spec = EXAMPLES / "2-2-1-sigmoid-mse.yaml"
    result = _run("key", str(spec), "--notation", "matrix")
    assert result.returncode == 0, result.stderr
    key = json.loads(result.stdout)
    items = {item["id"]: item for item in key["items"]}
    assert list(items) == ["C", "W1", "dC/dW1", "W1'", "W2", "dC/dW2", "W2'", "C'"]  # seed 004 calls its loss C; no biases
    problem = derive.load(spec)
    derivation = problem.derivation
    for name, (kind, layer, (row, column)) in parameter_names(problem.network).items():
        assert kind == "W"
        assert items[f"W{layer + 1}"]["exact"][row][column] == problem.derivation.network.spec.weights[name]
        assert items[f"dC/dW{layer + 1}"]["exact"][row][column] == pytest.approx(derivation[f"dC/d{name}"].exact, rel=1e-12)
        assert items[f"W{layer + 1}'"]["exact"][row][column] == pytest.approx(derivation[f"{name}'"].exact, rel=1e-12)
    assert items["dC/dW1"]["value"] == [[-0.0106, -0.00633], [-0.00887, -0.00532]]  # 3 significant digits, as the policy says
    assert items["C'"]["value"] == 0.124 and key["loss_history"][0] == pytest.approx(derivation["C"].exact, rel=1e-12)
    npz = _run("key", str(spec), "--notation", "matrix", "-o", str(tmp_path / "key.npz"))
    assert npz.returncode == 0, npz.stderr
    arrays = np.load(tmp_path / "key.npz")
    assert sorted(arrays.files) == sorted(items)
    assert arrays["dC/dW1"].tolist() == items["dC/dW1"]["exact"]


def test_biases_are_items_of_the_layer_level_key_where_the_layers_have_them() -> None:
    from derive.views.key import matrix_key

    spec = random_spec(5, "tanh", "sigmoid", "binary_cross_entropy", 1)
    spec["layers"][0]["bias"], spec["layers"][1]["bias"] = "shared", "per_unit"
    n_hidden, n_out = spec["layers"][0]["units"], spec["layers"][1]["units"]
    spec["biases"] = {f"b{i + 1}": 0.1 * (i + 1) for i in range(1 + n_out)}
    problem = derive.load(spec)
    items = {item["id"]: item for item in matrix_key(problem)["items"]}
    assert items["b1"]["exact"] == [pytest.approx(0.1)] and len(items["b2"]["exact"]) == n_out
    assert items["dL/db1"]["exact"][0] == pytest.approx(problem.derivation["dL/db1"].exact, rel=1e-12)
    assert len(items["W1"]["exact"]) == n_hidden


@pytest.mark.parametrize(
    ("targets", "message"),
    [
        ([[1.7, 0.0], [0.0, 1.0]], "data.targets: row 1, column 1 is 1.7; cross-entropy compares each output with a probability"),
        ([[0.7, 0.7], [0.0, 1.0]], "data.targets: row 1 sums to 1.4; cross-entropy compares two distributions"),
    ],
)
def test_data_file_targets_outside_the_loss_s_domain_are_refused(tmp_path, targets, message) -> None:  # type: ignore[no-untyped-def]
    import yaml

    from ..test_cli import _run

    np.save(tmp_path / "x.npy", np.ones((2, 3)))
    np.save(tmp_path / "y.npy", np.array(targets))
    spec = {"layers": [{"units": 4, "activation": "tanh"}, {"units": 2, "activation": "softmax"}], "loss": "cross_entropy",
            "learning_rate": 0.1, "weight_seed": 1, "data": {"inputs": "x.npy", "targets": "y.npy"}}
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(spec), encoding="utf-8")
    result = _run("key", str(tmp_path / "s.yaml"), "-o", str(tmp_path / "key.json"))
    assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr, result.stderr
    assert not (tmp_path / "key.json").exists()


def test_a_matrix_step_that_overflows_is_named_and_nothing_is_written(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from ..conftest import EXAMPLES
    from ..test_cli import _run

    import yaml

    spec = yaml.safe_load((EXAMPLES / "2-2-1-linear-mse.yaml").read_text(encoding="utf-8"))
    spec["weights"] = {name: 1e154 for name in spec["weights"]}  # z3 ~ 1e308 * 1e154 overflows in the loss
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(spec), encoding="utf-8")
    result = _run("key", str(tmp_path / "s.yaml"), "--notation", "matrix", "-o", str(tmp_path / "key.json"))
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert "is not finite" in result.stderr or "cannot be computed" in result.stderr
    assert not (tmp_path / "key.json").exists()
