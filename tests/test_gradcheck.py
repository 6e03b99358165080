"""Central-difference gradient checks of the hand-written backpropagation (float64).

Every built-in activation (``anynn.activations.BUILTINS``, so later built-ins are
included automatically) is checked as a hidden and as an output activation, under every
loss that is meaningful for that output, with and without bias, on every backend.
"""

from __future__ import annotations

import numpy as np
import pytest

import anynn
from anynn.activations import BUILTINS

N_SAMPLES, N_INPUTS, N_HIDDEN, N_OUTPUTS = 5, 3, 4, 2
TOLERANCE = 1e-6
KINK_MARGIN = 1e-3  # pre-activations closer than this to 0 could straddle a relu-like kink
SATURATION = 1e-3  # probability outputs closer than this to 0 or 1 make bce/cce ill-conditioned

ACTIVATIONS = sorted(BUILTINS)
PROBABILITY_OUTPUTS = {"sigmoid", "softmax"}  # outputs in (0, 1): usable with bce and cce


HEADS = [("mse", "identity"), ("bce", "sigmoid"), ("cce", "softmax")]
"""(loss, output activation) pairs every hidden activation is checked under."""


def combinations() -> list[tuple[str, str, str]]:
    """(hidden, loss, output) triples: linear in the number of built-ins, not quadratic.

    Every activation is checked as a hidden layer under each head of ``HEADS``, and as
    the output layer under every loss defined on its outputs (mse always; bce and cce
    for outputs in (0, 1)), behind a tanh hidden layer.
    """
    cases = {(hidden, loss, output) for hidden in ACTIVATIONS for loss, output in HEADS}
    for output in ACTIVATIONS:
        cases.add(("tanh", "mse", output))
        if output in PROBABILITY_OUTPUTS:
            cases.update({("tanh", "bce", output), ("tanh", "cce", output)})
    return sorted(cases)


def targets(loss: str, rng: np.random.Generator) -> np.ndarray:
    """Targets valid for ``loss``: one-hot for cce, probabilities for bce, reals for mse."""
    if loss == "cce":
        return np.eye(N_OUTPUTS)[rng.integers(0, N_OUTPUTS, N_SAMPLES)]
    if loss == "bce":
        return rng.uniform(0.05, 0.95, (N_SAMPLES, N_OUTPUTS))
    return rng.normal(size=(N_SAMPLES, N_OUTPUTS))


def checked_network(
    hidden: str, output: str, bias: bool, backend: str, seed: int
) -> tuple[anynn.Network, np.ndarray]:
    """A float64 3-4-2 network with random (non-zero) biases, and inputs away from kinks."""
    rng = np.random.default_rng(seed)
    net = anynn.Network(
        N_INPUTS,
        [(N_HIDDEN, bias, hidden), (N_OUTPUTS, bias, output)],
        backend=backend,
        dtype="float64",
        seed=seed,
    )
    if bias:
        for layer in net.layers:
            layer.biases = rng.uniform(-0.5, 0.5, layer.n_out)
    for _ in range(50):  # redraw the inputs until no pre-activation sits near a kink
        X = rng.normal(size=(N_SAMPLES, N_INPUTS))
        if away_from_kinks(net, X):
            return net, X
    raise AssertionError("no input draw kept every pre-activation away from 0")


def away_from_kinks(net: anynn.Network, X: np.ndarray) -> bool:
    """Whether every pre-activation is clear of 0 (where relu-like activations kink) and
    probability outputs are clear of 0 and 1 (where log amplifies rounding errors).

    Exact zeros come from all-zero (dead relu) inputs and stay zero under perturbation.
    """
    a = net.backend.asarray(X)
    for layer in net.layers:
        z = layer.pre_activation(a)
        magnitude = np.abs(anynn.to_numpy(z))
        if not np.all((magnitude > KINK_MARGIN) | (magnitude == 0.0)):
            return False
        a = layer.activate(z)
    if net.layers[-1].activation.name in PROBABILITY_OUTPUTS:
        out = anynn.to_numpy(a)
        return bool(np.all((out > SATURATION) & (out < 1.0 - SATURATION)))
    return True


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "nobias"])
@pytest.mark.parametrize("hidden,loss,output", combinations())
def test_gradcheck_every_combination(
    backend: str, hidden: str, loss: str, output: str, bias: bool
) -> None:
    seed = 1 + ACTIVATIONS.index(hidden) + 7 * ACTIVATIONS.index(output)
    net, X = checked_network(hidden, output, bias, backend, seed)
    y = targets(loss, np.random.default_rng(seed + 100))
    error = anynn.gradcheck(net, X, y, loss=loss)
    assert error < TOLERANCE, f"{hidden}->{output} with {loss}: relative error {error:.2e}"


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "nobias"])
def test_gradcheck_cce_with_integer_labels(backend: str, bias: bool) -> None:
    net, X = checked_network("tanh", "softmax", bias, backend, seed=3)
    labels = np.array([0, 1, 1, 0, 1])
    assert anynn.gradcheck(net, X, labels, loss="cce") < TOLERANCE


def test_gradcheck_deep_network(backend: str) -> None:
    rng = np.random.default_rng(11)
    net = anynn.Network(
        3, [(5, True, "tanh"), (4, True, "sigmoid"), (3, False, "tanh"), (1, True, "identity")],
        backend=backend, dtype="float64", seed=11,
    )
    X = rng.normal(size=(6, 3))
    y = rng.normal(size=(6, 1))
    assert anynn.gradcheck(net, X, y, loss="mse") < TOLERANCE


def test_gradcheck_custom_sympy_activation(backend: str) -> None:
    import sympy

    rng = np.random.default_rng(5)
    net = anynn.Network(
        2, [(3, True, lambda x: x * sympy.tanh(x)), (1, True, "sigmoid")],
        backend=backend, dtype="float64", seed=5,
    )
    X = rng.normal(size=(4, 2))
    y = rng.uniform(0.1, 0.9, (4, 1))
    assert anynn.gradcheck(net, X, y, loss="bce") < TOLERANCE


def test_gradcheck_leaves_the_network_unchanged(backend: str) -> None:
    net, X = checked_network("tanh", "sigmoid", True, backend, seed=2)
    before = [anynn.to_numpy(p.value).copy() for p in net.parameters()]
    anynn.gradcheck(net, X, np.zeros((N_SAMPLES, N_OUTPUTS)), loss="mse")
    for old, p in zip(before, net.parameters(), strict=True):
        np.testing.assert_array_equal(old, anynn.to_numpy(p.value))


def test_gradcheck_detects_a_wrong_gradient(backend: str) -> None:
    """The check is not vacuous: a loss whose gradient lies is caught."""

    class WrongMSE(anynn.losses.MeanSquaredError):
        def gradient(self, a, y, xp):  # type: ignore[no-untyped-def]
            return super().gradient(a, y, xp) * 1.5

    net, X = checked_network("tanh", "identity", True, backend, seed=4)
    y = np.ones((N_SAMPLES, N_OUTPUTS))
    assert anynn.gradcheck(net, X, y, loss=WrongMSE()) > 0.1
