"""Dense layers: forward pass, one SGD step against an independent NumPy reference,
initialisation, and parameter assignment."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

import anynn

HostFn = Callable[[np.ndarray], np.ndarray]


# -- an independent NumPy reference (float64, written from the maths, not from anynn) ----
def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


REFERENCE: dict[str, tuple[HostFn, HostFn]] = {
    "identity": (lambda z: z, np.ones_like),
    "sigmoid": (_sigmoid, lambda z: _sigmoid(z) * (1.0 - _sigmoid(z))),
    "tanh": (np.tanh, lambda z: 1.0 - np.tanh(z) ** 2),
    "relu": (lambda z: np.maximum(z, 0.0), lambda z: (z > 0).astype(float)),
}


def reference_sgd_step(
    weights: list[np.ndarray],
    biases: list[np.ndarray],
    names: list[str],
    X: np.ndarray,
    Y: np.ndarray,
    lr: float,
    loss: str,
) -> tuple[float, list[np.ndarray], list[np.ndarray]]:
    """One full-batch SGD step; returns the loss before the step and the new parameters.

    ``mse``: L = mean((a - y)^2), so dL/da = 2 (a - y) / a.size.
    ``cce`` with a softmax output: L = -sum(y log a) / n, so dL/dz = (a - y) / n.
    """
    xs, zs = [X], []
    for W, b, name in zip(weights, biases, names, strict=True):
        zs.append(xs[-1] @ W + b)
        xs.append(_softmax(zs[-1]) if name == "softmax" else REFERENCE[name][0](zs[-1]))
    a = xs[-1]
    if loss == "mse":
        value = float(np.mean((a - Y) ** 2))
        delta = 2.0 * (a - Y) / a.size * REFERENCE[names[-1]][1](zs[-1])
    else:
        assert loss == "cce" and names[-1] == "softmax"
        value = float(-np.sum(Y * np.log(a)) / a.shape[0])
        delta = (a - Y) / a.shape[0]
    new_w, new_b = [w.copy() for w in weights], [b.copy() for b in biases]
    for i in range(len(weights) - 1, -1, -1):
        dW, db = xs[i].T @ delta, delta.sum(axis=0)
        if i > 0:
            delta = (delta @ weights[i].T) * REFERENCE[names[i - 1]][1](zs[i - 1])
        new_w[i] -= lr * dW
        new_b[i] -= lr * db
    return value, new_w, new_b


def _host_params(net: anynn.Network) -> tuple[list[np.ndarray], list[np.ndarray]]:
    return (
        [anynn.to_numpy(layer.weights).astype(np.float64) for layer in net.layers],
        [anynn.to_numpy(layer.biases).astype(np.float64) for layer in net.layers],
    )


def _tolerance(backend: str) -> float:
    return 1e-10 if backend == "cupy" else 1e-12  # cuBLAS sums in another order


@pytest.mark.parametrize("hidden", ["sigmoid", "tanh"])
def test_one_sgd_step_mse_matches_numpy_reference(backend: str, hidden: str) -> None:
    rng = np.random.default_rng(0)
    names = [hidden, hidden, hidden]
    net = anynn.Network(
        3, [(5, True, names[0]), (4, True, names[1]), (2, True, names[2])],
        backend=backend, dtype="float64", seed=0,
    )
    for layer in net.layers:  # non-zero biases so their update is exercised
        layer.biases = rng.normal(size=layer.n_out)
    X, Y = rng.normal(size=(7, 3)), rng.normal(size=(7, 2))
    weights, biases = _host_params(net)
    value, new_w, new_b = reference_sgd_step(weights, biases, names, X, Y, 0.3, "mse")

    history = net.fit(X, Y, epochs=1, lr=0.3, batch_size=7, loss="mse", shuffle=False)

    assert history.history["loss"] == pytest.approx([value], rel=1e-12)
    got_w, got_b = _host_params(net)
    for want, got in zip(new_w + new_b, got_w + got_b, strict=True):
        np.testing.assert_allclose(got, want, rtol=0, atol=_tolerance(backend))


def test_one_sgd_step_softmax_cce_matches_numpy_reference(backend: str) -> None:
    rng = np.random.default_rng(1)
    names = ["tanh", "softmax"]
    net = anynn.Network(
        4, [(6, True, "tanh"), (3, True, "softmax")], backend=backend, dtype="float64", seed=1
    )
    for layer in net.layers:
        layer.biases = rng.normal(size=layer.n_out)
    X = rng.normal(size=(8, 4))
    labels = rng.integers(0, 3, 8)
    Y = np.eye(3)[labels]
    weights, biases = _host_params(net)
    value, new_w, new_b = reference_sgd_step(weights, biases, names, X, Y, 0.5, "cce")

    history = net.fit(X, labels, epochs=1, lr=0.5, batch_size=8, loss="cce", shuffle=False)

    assert history.history["loss"] == pytest.approx([value], rel=1e-12)
    got_w, got_b = _host_params(net)
    for want, got in zip(new_w + new_b, got_w + got_b, strict=True):
        np.testing.assert_allclose(got, want, rtol=0, atol=_tolerance(backend))


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_forward_matches_numpy_reference(backend: str, name: str) -> None:
    rng = np.random.default_rng(2)
    net = anynn.Network(3, [(4, True, name), (2, False, name)], backend=backend, dtype="float64")
    net.layers[0].biases = rng.normal(size=4)
    X = rng.normal(size=(6, 3))
    W0, W1 = (anynn.to_numpy(layer.weights) for layer in net.layers)
    f = REFERENCE[name][0]
    want = f(f(X @ W0 + anynn.to_numpy(net.layers[0].biases)) @ W1)
    np.testing.assert_allclose(anynn.to_numpy(net.predict(X)), want, rtol=1e-12, atol=1e-12)


def test_layer_without_bias_has_no_biases(backend: str) -> None:
    net = anynn.Network(2, [(3, False, "tanh"), (1, True, "sigmoid")], backend=backend)
    assert net.layers[0].biases is None
    assert len(net.layers[0].parameters()) == 1
    assert len(net.layers[1].parameters()) == 2
    assert net.n_parameters == 2 * 3 + 3 * 1 + 1


def test_parameter_shapes_and_zero_biases(backend: str) -> None:
    net = anynn.Network(5, [7, 3], backend=backend, seed=0)
    assert tuple(net.layers[0].weights.shape) == (5, 7)
    assert tuple(net.layers[1].weights.shape) == (7, 3)
    assert tuple(net.layers[1].biases.shape) == (3,)
    for layer in net.layers:
        np.testing.assert_array_equal(anynn.to_numpy(layer.biases), 0.0)


@pytest.mark.parametrize(
    "activation,expected_std",
    [("relu", np.sqrt(2.0 / 400)), ("tanh", np.sqrt(2.0 / (400 + 300)))],
    ids=["he-for-relu", "glorot-for-tanh"],
)
def test_initialisation_scale(activation: str, expected_std: float) -> None:
    net = anynn.Network(400, [(300, True, activation)], seed=0)
    weights = anynn.to_numpy(net.layers[0].weights)
    assert abs(float(weights.mean())) < 0.05 * expected_std
    assert float(weights.std()) == pytest.approx(expected_std, rel=0.02)


def test_assigning_host_arrays_converts_to_backend_and_dtype(backend: str) -> None:
    net = anynn.Network(2, [(3, True, "tanh")], backend=backend)  # float32
    net.layers[0].weights = np.arange(6, dtype=np.float64).reshape(2, 3)
    net.layers[0].biases = [1, 2, 3]
    w, b = net.layers[0].weights, net.layers[0].biases
    assert net.backend.owns(w) and net.backend.owns(b)
    assert w.dtype == net.backend.dtype and b.dtype == net.backend.dtype
    np.testing.assert_array_equal(anynn.to_numpy(w), np.arange(6).reshape(2, 3))
    np.testing.assert_array_equal(anynn.to_numpy(b), [1, 2, 3])
    out = anynn.to_numpy(net.predict([[1.0, 0.0]]))
    np.testing.assert_allclose(out, np.tanh([[1.0, 3.0, 5.0]]), rtol=1e-6)
