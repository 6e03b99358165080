"""Learning: the experiments the library descends from reach their targets.

Seeds are fixed because small networks started at random do not always escape local
minima (the article's 2-2-2-1 XOR network with seed 1 stalls at loss ~0.13); the
thresholds leave a margin over what the fixed seeds reach, so they are robust to
floating-point reordering across backends.
"""

from __future__ import annotations

import numpy as np
import pytest

import anynn
from anynn import LayerSpecNBF, Network
from anynn.activations import sigmoid, tanh

X_GATE = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])


def accuracy(net: Network, X: np.ndarray, y: np.ndarray) -> float:
    predicted = anynn.to_numpy(net.predict(X)).reshape(-1) > 0.5
    return float(np.mean(predicted == (np.asarray(y).reshape(-1) > 0.5)))


def test_article_xor_call_reaches_full_accuracy(backend: str) -> None:
    y = np.array([[0], [1], [1], [0]])
    # Seed 0 converges; seed 1 settles in the classic XOR local minimum.
    nn = Network(
        inputs=2,
        specs=[
            LayerSpecNBF(2, True, tanh),
            LayerSpecNBF(2, True, tanh),
            LayerSpecNBF(1, True, sigmoid),
        ],
        backend=backend,
        seed=0,
    )
    history = nn.train(X_GATE, y, epochs=1000, lr=0.1)
    assert accuracy(nn, X_GATE, y) == 1.0
    assert history.history["loss"][-1] < 0.02


@pytest.mark.parametrize("hidden", [[2], [4, 3]], ids=["2-2-1", "2-4-3-1"])
def test_xnor_full_batch_reaches_full_accuracy(backend: str, hidden: list[int]) -> None:
    y = np.array([[1], [0], [0], [1]])
    # Seed 0 converges for both architectures within 3000 epochs (the article runs
    # 10000); seed 3 stalls for 2-2-1 and seed 1 for 2-4-3-1.
    net = Network(inputs=2, layers=[*hidden, 1], activation="sigmoid", backend=backend, seed=0)
    history = net.fit(X_GATE, y, epochs=3000, lr=1.0, batch_size=4, shuffle=False)
    assert accuracy(net, X_GATE, y) == 1.0
    assert history.history["loss"][-1] < 0.01


def sine_data(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    X = rng.uniform(-1, 1, (n, 2))
    return X, np.sin(np.pi * X[:, 0]) * X[:, 1]


def test_sine_regression_reaches_low_mse(backend: str) -> None:
    rng = np.random.default_rng(0)
    (X, y), (X_test, y_test) = sine_data(rng, 192), sine_data(rng, 256)
    net = Network(
        2, [(16, True, "tanh"), (16, True, "tanh"), (1, True, "identity")],
        backend=backend, seed=0,
    )
    net.fit(X, y, epochs=150, lr=0.1, batch_size=16)
    mse = net.evaluate(X_test, y_test, loss="mse")
    # The target's variance is ~0.16: a low MSE means the shape was learnt.
    assert mse < 0.02, mse
    assert mse < 0.1 * float(np.var(y_test))


def test_circle_boundary_reaches_high_accuracy(backend: str) -> None:
    rng = np.random.default_rng(0)
    X, X_test = rng.uniform(-1, 1, (320, 2)), rng.uniform(-1, 1, (320, 2))
    y, y_test = ((A[:, 0] ** 2 + A[:, 1] ** 2 > 0.5).astype(float) for A in (X, X_test))
    net = Network(2, [(16, True, "tanh"), (1, True, "sigmoid")], backend=backend, seed=0)
    net.fit(X, y, epochs=150, lr=0.3, batch_size=16, loss="bce")
    assert accuracy(net, X_test, y_test) >= 0.9


def test_softmax_classifier_learns_three_blobs(backend: str) -> None:
    rng = np.random.default_rng(1)
    centres = np.array([[2.0, 0.0], [-1.0, 1.7], [-1.0, -1.7]])
    labels = rng.integers(0, 3, 240)
    X = centres[labels] + 0.5 * rng.normal(size=(240, 2))
    net = Network(2, [(8, True, "relu"), (3, True, "softmax")], backend=backend, seed=1)
    net.fit(X, labels, epochs=30, lr=0.1, batch_size=16, loss="cce")
    predicted = np.argmax(anynn.to_numpy(net.predict(X)), axis=1)
    assert float(np.mean(predicted == labels)) >= 0.95
