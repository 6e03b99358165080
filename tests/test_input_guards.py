"""Inputs a float32 network cannot represent, and cross-entropies on non-probability outputs."""

from __future__ import annotations

import numpy as np
import pytest
import sympy

import anynn


@pytest.mark.parametrize("output", ["identity", "tanh", "relu", "softsign"])
@pytest.mark.parametrize("loss", ["bce", "cce"])
def test_cross_entropy_needs_probability_outputs(backend: str, loss: str, output: str) -> None:
    net = anynn.Network(2, [(3, True, "relu"), (2, True, output)], backend=backend, seed=0)
    with pytest.raises(anynn.AnynnValueError, match=f"loss='{loss}' needs outputs in \\[0, 1\\]"):
        net.fit([[0.0, 1.0]], [[1.0, 0.0]], loss=loss, verbose=0)
    with pytest.raises(anynn.AnynnValueError, match="sigmoid or softmax"):
        net.evaluate([[0.0, 1.0]], [[1.0, 0.0]], loss=loss)


def test_a_handwritten_sigmoid_output_is_accepted_for_bce(backend: str) -> None:
    mine = lambda x: 1 / (1 + sympy.exp(-x))  # noqa: E731 - an activation as math
    net = anynn.Network(2, [(3, True, "tanh"), (1, True, mine)], backend=backend, seed=0)
    history = net.fit([[0.0, 1.0], [1.0, 0.0]], [1.0, 0.0], loss="bce", epochs=2, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))


@pytest.mark.parametrize("call", ["predict", "fit", "evaluate_y"])
def test_values_beyond_float32_range_are_refused(backend: str, call: str) -> None:
    net = anynn.Network(2, [3, 1], backend=backend, seed=0)
    with pytest.raises(anynn.AnynnValueError, match="beyond the float32 range"):
        if call == "predict":
            net.predict([[1e300, 0.0]])
        elif call == "fit":
            net.fit([[1e300, 0.0]], [1.0], verbose=0)
        else:
            net.evaluate([[1.0, 0.0]], [1e300])


def test_float64_networks_take_large_finite_values(backend: str) -> None:
    net = anynn.Network(2, [(3, True, "tanh"), 1], backend=backend, dtype="float64", seed=0)
    assert np.all(np.isfinite(anynn.to_numpy(net.predict([[1e300, 0.0]]))))


def test_softmax_over_one_output_is_refused(backend: str) -> None:
    with pytest.raises(anynn.AnynnValueError, match="softmax over a single output"):
        anynn.Network(2, [(3, True, "relu"), (1, True, "softmax")], backend=backend)


def test_all_zero_sample_weights_are_refused(backend: str) -> None:
    net = anynn.Network(2, [3, 1], backend=backend, seed=0)
    with pytest.raises(anynn.AnynnValueError, match="every sample weight 0"):
        net.fit([[0.0, 1.0], [1.0, 0.0]], [0.0, 1.0], sample_weight=[0.0, 0.0], verbose=0)
