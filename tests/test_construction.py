"""The original article's constructor in full, and networks too big to build."""

from __future__ import annotations

import numpy as np
import pytest

import anynn as nn
from anynn import activations, architecture


def test_layers_may_be_existing_dense_layers(backend: str) -> None:
    source = nn.Network(2, [(3, True, "tanh"), (1, False, "sigmoid")], seed=0)
    net = nn.Network(2, source.layers, backend=backend)
    X = np.array([[0.5, -1.0], [2.0, 0.1]])
    np.testing.assert_allclose(nn.to_numpy(net.predict(X)), nn.to_numpy(source.predict(X)),
                               rtol=1e-6)
    assert [(layer.activation.name, layer.has_bias) for layer in net.layers] == [
        ("tanh", True), ("sigmoid", False)]
    assert net.layers[0] is not source.layers[0]  # copied: training one leaves the other
    net.fit(X, [0.0, 1.0], epochs=2, verbose=0)
    assert not np.array_equal(nn.to_numpy(net.layers[0].weights),
                              nn.to_numpy(source.layers[0].weights))


def test_dense_layers_and_specs_mix_with_dropout() -> None:
    backend = nn.Backend("numpy", "float64")
    first = nn.Dense(2, 4, activations.relu, backend, weights=np.ones((2, 4)))
    net = nn.Network(2, [first, nn.Dropout(0.5), (1, True, "identity")], dtype="float64",
                     seed=0)
    assert net.dropout == [0.5, 0.0]
    np.testing.assert_array_equal(nn.to_numpy(net.layers[0].weights), np.ones((2, 4)))


def test_a_dense_layer_of_the_wrong_width_is_refused() -> None:
    source = nn.Network(3, [4, 2], seed=0)
    with pytest.raises(nn.AnynnValueError, match=r"layers\[1\]: the Dense layer takes 4"):
        nn.Network(3, [5, source.layers[1]])
    with pytest.raises(nn.AnynnValueError, match=r"layers\[0\]: the Dense layer takes 3"):
        nn.Network(2, source.layers)


def test_a_network_too_big_is_refused_before_allocating() -> None:
    with pytest.raises(nn.AnynnValueError) as caught:
        nn.Network(10**6, [10**6])
    message = str(caught.value)
    assert "1,000,001,000,000 float32 parameters" in message
    assert "needs about 10.91 TiB" in message and "Use narrower layers" in message


def test_the_memory_check_counts_the_device_copy_and_the_host_draw(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(architecture, "host_memory", lambda: 10_000)
    # 25*25 float32 parameters (2,500 bytes) + the float64 draw (5,000 bytes) fit
    nn.Network(25, [(25, False, "tanh")])
    with pytest.raises(nn.AnynnValueError, match=r"needs about 9.86 KiB.*has 9.77 KiB in all"):
        nn.Network(29, [(29, False, "tanh")])  # 3,364 + 6,728 = 10,092 bytes > 10,000
