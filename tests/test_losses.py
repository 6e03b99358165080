"""Losses: values against NumPy formulas, conventions, fused forms, stability."""

from __future__ import annotations

import numpy as np
import pytest

import anynn
from anynn import losses
from anynn.backend import Backend


def _on(backend: str, *arrays: np.ndarray) -> tuple[Backend, list[object]]:
    b = Backend(backend, "float64")
    return b, [b.asarray(a) for a in arrays]


def test_mse_is_mean_over_all_elements(backend: str) -> None:
    a, y = np.array([[0.0, 1.0], [2.0, 4.0]]), np.array([[1.0, 1.0], [0.0, 0.0]])
    b, (a_d, y_d) = _on(backend, a, y)
    value = float(losses.get("mse").value(a_d, y_d, b.xp))
    assert value == pytest.approx((1 + 0 + 4 + 16) / 4)


def test_mse_gradient_is_two_diff_over_size(backend: str) -> None:
    a, y = np.array([[0.5, 1.0, -1.0]]), np.array([[0.0, 0.0, 1.0]])
    b, (a_d, y_d) = _on(backend, a, y)
    grad = anynn.to_numpy(losses.get("mse").gradient(a_d, y_d, b.xp))
    np.testing.assert_allclose(grad, 2.0 * (a - y) / a.size)


def test_bce_value_matches_formula(backend: str) -> None:
    a, y = np.array([[0.2], [0.9], [0.6]]), np.array([[0.0], [1.0], [1.0]])
    b, (a_d, y_d) = _on(backend, a, y)
    want = -np.mean(y * np.log(a) + (1 - y) * np.log(1 - a))
    assert float(losses.get("bce").value(a_d, y_d, b.xp)) == pytest.approx(want, rel=1e-12)


def test_cce_value_is_mean_over_samples(backend: str) -> None:
    a = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])
    y = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    b, (a_d, y_d) = _on(backend, a, y)
    want = -(np.log(0.7) + np.log(0.8)) / 2
    assert float(losses.get("cce").value(a_d, y_d, b.xp)) == pytest.approx(want, rel=1e-12)


@pytest.mark.parametrize(
    "loss,output,y",
    [("bce", "sigmoid", [[0.0], [1.0], [1.0], [0.0]]), ("cce", "softmax", [0, 2, 1, 2])],
)
def test_fused_value_equals_unfused_value(backend: str, loss: str, output: str, y: list) -> None:
    n_out = 1 if loss == "bce" else 3
    net = anynn.Network(2, [(n_out, True, output)], backend=backend, dtype="float64", seed=0)
    X = np.random.default_rng(0).normal(size=(4, 2))
    loss_obj = losses.get(loss)
    Y = net.prepare_targets(np.asarray(y), loss_obj, 4)
    a = net.predict(X)
    unfused = float(loss_obj.value(a, Y, net.backend.xp))
    assert net.evaluate(X, y, loss=loss) == pytest.approx(unfused, rel=1e-10)


def test_cce_accepts_integer_labels_like_one_hot(backend: str) -> None:
    net = anynn.Network(3, [(4, True, "softmax")], backend=backend, dtype="float64", seed=2)
    X = np.random.default_rng(2).normal(size=(5, 3))
    labels = np.array([0, 3, 1, 1, 2])
    one_hot = np.eye(4)[labels]
    assert net.evaluate(X, labels, loss="cce") == pytest.approx(
        net.evaluate(X, one_hot, loss="cce"), rel=1e-14
    )


def test_bce_fused_is_finite_for_saturated_outputs(backend: str) -> None:
    """Logits of +-1000: the sigmoid saturates to exactly 0/1, the fused loss stays finite."""
    net = anynn.Network(1, [(1, True, "sigmoid")], backend=backend, seed=0)
    net.layers[0].weights = np.array([[1000.0]])
    X = np.array([[1.0], [-1.0]])
    wrong = net.evaluate(X, [0.0, 1.0], loss="bce")  # confidently wrong: loss ~ 1000
    right = net.evaluate(X, [1.0, 0.0], loss="bce")
    assert np.isfinite(wrong) and wrong == pytest.approx(1000.0, rel=1e-3)
    assert np.isfinite(right) and right == pytest.approx(0.0, abs=1e-6)


def test_cce_fused_is_finite_for_huge_logits(backend: str) -> None:
    net = anynn.Network(1, [(2, True, "softmax")], backend=backend, seed=0)
    net.layers[0].weights = np.array([[1000.0, -1000.0]])
    X = np.array([[1.0]])
    assert net.evaluate(X, [1], loss="cce") == pytest.approx(2000.0, rel=1e-3)
    assert net.evaluate(X, [0], loss="cce") == pytest.approx(0.0, abs=1e-6)


def test_training_with_fused_losses_stays_finite_on_extreme_logits(backend: str) -> None:
    net = anynn.Network(1, [(1, True, "sigmoid")], backend=backend, seed=0)
    net.layers[0].weights = np.array([[500.0]])
    history = net.fit([[1.0], [-1.0]], [0.0, 1.0], epochs=2, lr=0.01, batch_size=2, loss="bce")
    assert all(np.isfinite(history.history["loss"]))
    assert np.all(np.isfinite(anynn.to_numpy(net.layers[0].weights)))


@pytest.mark.parametrize(
    "name,cls",
    [
        ("mse", losses.MeanSquaredError),
        ("MSE", losses.MeanSquaredError),
        ("mean_squared_error", losses.MeanSquaredError),
        ("bce", losses.BinaryCrossEntropy),
        ("binary_crossentropy", losses.BinaryCrossEntropy),
        ("cce", losses.CategoricalCrossEntropy),
        ("categorical_crossentropy", losses.CategoricalCrossEntropy),
    ],
)
def test_loss_names_resolve(name: str, cls: type) -> None:
    assert isinstance(losses.get(name), cls)


def test_loss_object_passes_through() -> None:
    loss = losses.BinaryCrossEntropy()
    assert losses.get(loss) is loss


def test_only_matching_output_activations_fuse() -> None:
    from anynn.activations import sigmoid, softmax, tanh

    assert losses.get("bce").can_fuse(sigmoid)
    assert losses.get("cce").can_fuse(softmax)
    assert not losses.get("bce").can_fuse(tanh)
    assert not losses.get("cce").can_fuse(sigmoid)
    assert not losses.get("mse").can_fuse(sigmoid)
